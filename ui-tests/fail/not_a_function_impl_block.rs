use obs_runtime::traced;

pub struct Planner;

#[traced]
impl Planner {
    pub fn plan(&self) {}
}

fn main() {}
