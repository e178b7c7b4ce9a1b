use obs_runtime::track_llm_call;

#[track_llm_call(model = "gpt-4o", stream, usage = none)]
fn ask() -> obs_runtime::BoxedStream<'static, Result<u8, ()>> {
    unimplemented!()
}

fn main() {}
