//! Streamed model calls: time to first token, usage from the final chunk,
//! the call ending with the stream, and an interrupted stream marked
//! `incomplete` instead of zero tokens.

use futures::StreamExt;
use obs_runtime::testing::{self, snapshot, SpanCapture};
use obs_runtime::{track_llm_call, BoxedStream, LlmChunk, TokenUsage};
use std::time::Duration;

#[derive(Debug)]
struct E;

#[derive(Clone, Debug)]
struct Chunk {
    text: &'static str,
    usage: Option<TokenUsage>,
    finish: Option<&'static str>,
}

impl LlmChunk for Chunk {
    fn has_content(&self) -> bool {
        !self.text.is_empty()
    }
    fn usage(&self) -> Option<TokenUsage> {
        self.usage
    }
    fn finish_reason(&self) -> Option<&str> {
        self.finish
    }
}

fn chunks(with_usage: bool) -> Vec<Chunk> {
    let mut v = vec![
        Chunk { text: "", usage: None, finish: None }, // role-only first chunk: not content
        Chunk { text: "Hel", usage: None, finish: None },
        Chunk { text: "lo", usage: None, finish: Some("stop") },
    ];
    if with_usage {
        // stream_options.include_usage: a last chunk with usage and no choices.
        v.push(Chunk { text: "", usage: Some(TokenUsage::openai(1_000, 200, Some(400), None)), finish: None });
    }
    v
}

/// Waits `delay_ms` before the first chunk, like a model thinking.
fn delayed(items: Vec<Chunk>, delay_ms: u64) -> impl futures::Stream<Item = Chunk> {
    futures::stream::unfold((items.into_iter(), true), move |(mut it, first)| async move {
        if first {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        it.next().map(|c| (c, (it, false)))
    })
}

#[track_llm_call(model = "gpt-4o-mini", stream)]
fn stream_impl(with_usage: bool) -> impl futures::Stream<Item = Chunk> {
    delayed(chunks(with_usage), 30)
}

#[track_llm_call(model = "claude-haiku-4-5", stream)]
async fn stream_boxed(fail: bool) -> Result<BoxedStream<'static, Result<Chunk, E>>, E> {
    if fail {
        return Err(E);
    }
    Ok(Box::pin(delayed(chunks(true), 5).map(Ok)))
}

fn labels<'a>(model: &'a str, provider: &'a str, status: &'a str) -> [(&'a str, &'a str); 4] {
    [("agent", "none"), ("model", model), ("provider", provider), ("status", status)]
}

#[tokio::test(flavor = "current_thread")]
async fn complete_stream_records_ttft_usage_and_ends_with_the_stream() {
    testing::enable();
    let cap = SpanCapture::new();
    let _g = cap.set_default();
    let s = stream_impl(true);
    // Nothing is recorded until the stream ends.
    assert_eq!(snapshot().counter("llm_calls_total", &labels("gpt-4o-mini", "openai", "success")), Some(0));
    let texts: Vec<&str> = s.map(|c| c.text).collect().await;
    assert_eq!(texts.concat(), "Hello");
    let m = snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("gpt-4o-mini", "openai", "success")), Some(1));
    let tok = |t| {
        m.counter(
            "llm_tokens_total",
            &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("type", t)],
        )
    };
    assert_eq!((tok("input"), tok("output"), tok("cache_read")), (Some(1_000), Some(200), Some(400)));
    // 600 * $0.15 + 400 * $0.075 + 200 * $0.60 per 1M = 90,000 + 30,000 + 120,000 pico-USD... times 1e3.
    assert_eq!(
        m.raw("llm_cost_usd_total", &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai")]),
        Some(240_000_000)
    );
    let ttft =
        m.histogram("llm_time_to_first_token_seconds", &[("model", "gpt-4o-mini"), ("provider", "openai")]).unwrap();
    assert_eq!(ttft.count, 1);
    assert!(ttft.sum >= 0.030, "first content after the 30 ms delay: {}", ttft.sum);
    let d = m
        .histogram(
            "llm_call_duration_seconds",
            &[("model", "gpt-4o-mini"), ("provider", "openai"), ("status", "success")],
        )
        .unwrap();
    assert!(d.sum >= ttft.sum, "the call lasts until the stream ends");
    let span = cap.find("chat gpt-4o-mini").unwrap();
    assert!(span.closed);
    assert_eq!(span.field("gen_ai.usage.input_tokens"), Some("1000"));
    assert_eq!(span.field("gen_ai.response.finish_reasons"), Some("[\"stop\"]"));
    let t: f64 = span.field("gen_ai.response.time_to_first_chunk").unwrap().parse().unwrap();
    assert!(t >= 0.030, "{t}");
    assert_eq!(span.field("obs.status"), Some("success"));
}

#[tokio::test(flavor = "current_thread")]
async fn interrupted_stream_is_incomplete_not_zero() {
    testing::enable();
    let cap = SpanCapture::new();
    let _g = cap.set_default();
    let mut s = Box::pin(stream_impl(true));
    let first_two: Vec<Chunk> = s.as_mut().take(2).collect().await;
    assert_eq!(first_two.len(), 2);
    drop(s); // the consumer gives up before the usage chunk
             // Other tests of this file may run in this process: compare before and after.
    let input = || {
        snapshot().counter(
            "llm_tokens_total",
            &[("agent", "none"), ("model", "gpt-4o-mini"), ("provider", "openai"), ("type", "input")],
        )
    };
    let m = snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("gpt-4o-mini", "openai", "cancelled")), Some(1));
    let span =
        cap.find_all("chat gpt-4o-mini").into_iter().find(|s| s.field("obs.status") == Some("cancelled")).unwrap();
    assert_eq!(span.field("obs.usage"), Some("incomplete"));
    assert_eq!(
        m.counter(
            "llm_calls_without_usage_total",
            &[("model", "gpt-4o-mini"), ("provider", "openai"), ("usage", "incomplete")]
        ),
        Some(1)
    );
    // A complete stream that never sends usage is "missing", not zero.
    let before = input();
    let all: Vec<Chunk> = stream_impl(false).collect().await;
    assert_eq!(all.len(), 3);
    let m = snapshot();
    assert_eq!(
        m.counter(
            "llm_calls_without_usage_total",
            &[("model", "gpt-4o-mini"), ("provider", "openai"), ("usage", "missing")]
        ),
        Some(1)
    );
    assert_eq!(input(), before, "no tokens invented");
    let rec = obs_runtime::ledger::recent();
    assert!(rec.iter().any(|r| r.model == "gpt-4o-mini" && r.usage_incomplete && r.status == "cancelled"));
}

#[tokio::test(flavor = "current_thread")]
async fn boxed_result_streams_and_errors() {
    testing::enable();
    let s = stream_boxed(false).await.unwrap();
    let n = s.filter(|c| futures::future::ready(c.is_ok())).count().await;
    assert_eq!(n, 4);
    assert!(stream_boxed(true).await.is_err());
    let m = snapshot();
    assert_eq!(m.counter("llm_calls_total", &labels("claude-haiku-4-5", "anthropic", "success")), Some(1));
    assert_eq!(m.counter("llm_calls_total", &labels("claude-haiku-4-5", "anthropic", "error")), Some(1));
    assert_eq!(
        m.counter(
            "llm_tokens_total",
            &[("agent", "none"), ("model", "claude-haiku-4-5"), ("provider", "anthropic"), ("type", "output")]
        ),
        Some(200)
    );
}
