use obs_runtime::Redact;

#[derive(Redact)]
struct Card {
    #[redact(parital(last = 4))]
    number: String,
    #[redact(mask)]
    cvv: String,
    #[redact(with = "mask_email")]
    email: String,
}

fn main() {}
