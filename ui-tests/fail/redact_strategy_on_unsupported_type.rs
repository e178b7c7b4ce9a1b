use obs_runtime::Redact;

#[derive(Redact)]
struct Payment {
    #[redact(partial(last = 4))]
    amount: f64,
    #[redact(hash)]
    tags: Vec<String>,
}

fn main() {}
