use obs_runtime::track_execution;

#[track_execution(agent = "researcher")]
async fn research(q: &str) -> usize {
    let n: u32 = q;
    n as usize
}

fn main() {}
