use obs_runtime::traced;

#[traced]
pub extern "C" fn callback(n: u32) -> u32 {
    n
}

fn main() {}
