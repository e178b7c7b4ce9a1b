use obs_runtime::Redact;

#[derive(Redact)]
struct Query {
    text: String,
    limit: u32,
}

fn main() {}
