use obs_runtime::traced;

#[traced]
struct Planner {
    steps: u32,
}

fn main() {}
