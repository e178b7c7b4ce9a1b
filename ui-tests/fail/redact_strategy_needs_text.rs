use obs_runtime::Redact;

pub struct UserId(u64);

#[derive(Redact)]
struct Payment {
    #[redact(hash)]
    user: UserId,
}

fn main() {}
