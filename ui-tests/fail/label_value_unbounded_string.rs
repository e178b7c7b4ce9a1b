use obs_runtime::track_execution;

pub struct Agent {
    name: String,
}

impl Agent {
    #[track_execution(agent = self.name)]
    fn run(&self) {}
}

fn main() {}
