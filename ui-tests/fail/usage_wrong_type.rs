use obs_runtime::track_llm_call;

pub struct Reply {
    pub tokens: u64,
}

#[track_llm_call(model = "gpt-4o", usage = |r: &Reply| r.tokens)]
fn ask() -> Reply {
    Reply { tokens: 3 }
}

fn main() {}
