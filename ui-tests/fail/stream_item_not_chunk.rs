use obs_runtime::{track_llm_call, BoxedStream};

#[track_llm_call(model = "gpt-4o", stream)]
async fn ask() -> BoxedStream<'static, String> {
    Box::pin(futures::stream::iter(vec![String::new()]))
}

fn main() {}
