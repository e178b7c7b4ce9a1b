use obs_runtime::health_check;

#[health_check]
fn free_connections() -> u32 {
    3
}

fn main() {}
