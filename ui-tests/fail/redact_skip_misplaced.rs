use obs_runtime::Redact;

#[derive(Redact)]
#[redact(skip)]
struct Whole {
    #[redact]
    key: String,
}

#[derive(Redact)]
enum Event {
    #[redact(skip)]
    Login { password: String },
}

#[derive(Redact)]
struct Pair(#[redact(skip)] String, #[redact] String);

fn main() {}
