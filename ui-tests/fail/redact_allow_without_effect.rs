use obs_runtime::Redact;

#[derive(Redact)]
struct Profile {
    #[redact(allow)]
    user: String,
    #[redact]
    api_key: String,
}

fn main() {}
