use obs_runtime::traced;

#[traced]
fn count() -> u32 {
    "three"
}

#[traced]
async fn count_async() -> u32 {
    if true {
        return "three";
    }
    3
}

fn main() {}
