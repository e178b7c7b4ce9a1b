use obs_runtime::track_llm_call;

#[track_llm_call(model = model, custom_model, usage = none)]
fn ask(model: &'static str) -> usize {
    model.len()
}

fn main() {}
