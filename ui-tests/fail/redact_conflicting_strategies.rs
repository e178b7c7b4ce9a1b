use obs_runtime::Redact;

#[derive(Redact)]
struct Account {
    #[redact(hash, partial(last = 4))]
    iban: String,
    #[redact]
    #[redact(fixed)]
    pin: String,
    #[redact(allow, hash)]
    password: String,
}

fn main() {}
