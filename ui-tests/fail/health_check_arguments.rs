use obs_runtime::health_check;

#[health_check(critcal, timeout = "2", name = "")]
fn database() -> bool {
    true
}

#[health_check(timeout = "10m", critical = "yes")]
fn cache() -> bool {
    true
}

fn main() {}
