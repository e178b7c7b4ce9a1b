use obs_runtime::Redact;

#[derive(Redact)]
struct Card {
    #[redact(partial(last = 0))]
    a: String,
    #[redact(partial(first = "4"))]
    b: String,
    #[redact(partial(last = 100))]
    c: String,
    #[redact(partial)]
    d: String,
    #[redact(partial(first = 2, last = 2))]
    e: String,
    #[redact(partial(middle = 4))]
    f: String,
}

fn main() {}
