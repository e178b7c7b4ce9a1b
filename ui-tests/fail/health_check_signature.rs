use obs_runtime::health_check;

#[health_check]
fn with_argument(url: &str) -> bool {
    !url.is_empty()
}

#[health_check]
async fn returns_nothing() {}

#[health_check]
fn generic<T: Default>() -> bool {
    true
}

fn main() {}
