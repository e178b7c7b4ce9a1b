use obs_runtime::{track_llm_call, BoxedStream, LlmChunk};

pub struct Chunk;

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        true
    }
}

#[track_llm_call(model = "gpt-4o", stream, batch)]
async fn ask() -> BoxedStream<'static, Chunk> {
    Box::pin(futures::stream::iter(vec![Chunk]))
}

fn main() {}
