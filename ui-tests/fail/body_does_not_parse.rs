use obs_runtime::traced;

#[traced]
fn rank(n: u32) -> u32 {
    let x = n +;
    x
}

fn main() {}
