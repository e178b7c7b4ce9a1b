//! Conversations through the real Prometheus endpoint: three conversations
//! of known turns, model calls and cost (a model priced by the test), timed
//! by the test's clock (`testing::set_conversation_clock`, so nothing waits
//! on wall-clock time). While they run, `conversations_active` and
//! `/summary` show them; the idle timeout then ends them one by one, and the
//! turns, duration and cost histograms and `/summary` hold the exact figures.

use obs_runtime::pricing::{self, ModelPrice, Rates};
use obs_runtime::{track_execution, track_llm_call, RequestContext, TokenUsage};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
struct Failed;

#[track_llm_call(model = "conv-test-model", provider = "acme")]
async fn chat(input: u64, output: u64) -> Result<TokenUsage, Failed> {
    Ok(TokenUsage::new(input, output))
}

/// One turn of the support agent: `calls` model calls of 1000 in, 500 out
/// ($0.002 each at the test's price).
#[track_execution(agent = "support")]
async fn support(calls: usize) -> Result<(), Failed> {
    for _ in 0..calls {
        chat(1000, 500).await?;
    }
    Ok(())
}

/// One turn of the sales agent: one call of 10000 in, 5000 out ($0.02).
#[track_execution(agent = "sales")]
async fn sales() -> Result<(), Failed> {
    chat(10_000, 5_000).await.map(|_| ())
}

const IDLE: Duration = Duration::from_secs(600);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn at(secs: u64) {
    obs_runtime::testing::set_conversation_clock(Some(t0() + Duration::from_secs(secs)));
}

/// One turn: its own request context, the conversation's id.
async fn turn<F: std::future::Future<Output = Result<(), Failed>>>(conversation: &str, f: F) {
    RequestContext::new().with_conversation_id(conversation).scope(f).await.expect("turn");
}

fn page(addr: SocketAddr, path: &str) -> String {
    let r = obs_tests::http_get(addr, path).expect("GET");
    assert_eq!(r.status, 200, "{path}: {r:?}");
    r.body
}

/// The value of the series `name{labels}` on a Prometheus page.
fn metric(page: &str, name: &str, labels: &str) -> Option<String> {
    let key = if labels.is_empty() { name.to_string() } else { format!("{name}{{{labels}}}") };
    page.lines().find_map(|l| l.strip_prefix(&key).and_then(|v| v.strip_prefix(' ')).map(str::to_string))
}

fn summary(addr: SocketAddr) -> Value {
    let v: Value = serde_json::from_str(&page(addr, "/summary")).expect("JSON");
    v["conversations"].clone()
}

fn row<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["conversations"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {s:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_conversations_end_on_the_idle_timeout_with_exact_figures() {
    let mut rates = Rates::default();
    rates.input = 1_000_000; // $1 per 1M input tokens
    rates.output = 2_000_000; // $2 per 1M output tokens
    pricing::set_price("conv-test-model", ModelPrice::new("acme", rates));
    let guard = obs_runtime::Builder::new()
        .exporters(&["prometheus"])
        .prometheus_addr("127.0.0.1:0")
        .conversation_idle_timeout(IDLE)
        .init()
        .expect("init");
    let addr = guard.prometheus_addr().expect("endpoint");

    // c1: three turns of 1, 2 and 1 calls at 0 s, 60 s and 120 s ($0.008);
    // c2: one turn of one call at 30 s ($0.002);
    // c3 (sales): two turns at 0 s and 300 s ($0.04).
    at(0);
    turn("c1", support(1)).await;
    turn("c3", sales()).await;
    at(30);
    turn("c2", support(1)).await;
    at(60);
    turn("c1", support(2)).await;
    at(120);
    turn("c1", support(1)).await;
    at(300);
    turn("c3", sales()).await;
    // A call outside any conversation counts in none.
    support(1).await.unwrap();

    // All three are active.
    let p = page(addr, "/metrics");
    assert_eq!(metric(&p, "conversations_active", r#"agent="support""#).as_deref(), Some("2"), "{p}");
    assert_eq!(metric(&p, "conversations_active", r#"agent="sales""#).as_deref(), Some("1"));
    assert_eq!(metric(&p, "conversation_turns_count", r#"agent="support""#), None, "none ended yet");
    let s = summary(addr);
    assert_eq!((s["active"].as_u64(), s["ended"].as_u64()), (Some(3), Some(0)), "{s:#}");
    assert_eq!(s["idle_timeout_seconds"], 600.0);
    let c1 = row(&s, "c1");
    assert_eq!((c1["state"].as_str(), c1["agent"].as_str()), (Some("active"), Some("support")));
    assert_eq!((c1["turns"].as_u64(), c1["calls"].as_u64()), (Some(3), Some(4)));
    assert_eq!((c1["cost_usd"].as_f64(), c1["duration_seconds"].as_f64()), (Some(0.008), Some(120.0)));
    // Most recently active first.
    let ids: Vec<&str> = s["conversations"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["c3", "c1", "c2"]);

    // One millisecond short of c2's idle timeout (its last call was at 30 s):
    // nothing ends; at it, c2 ends.
    obs_runtime::testing::set_conversation_clock(Some(
        t0() + Duration::from_secs(30) + IDLE - Duration::from_millis(1),
    ));
    assert_eq!(summary(addr)["active"], 3);
    at(30 + IDLE.as_secs());
    let s = summary(addr);
    assert_eq!((s["active"].as_u64(), s["ended"].as_u64()), (Some(2), Some(1)), "{s:#}");
    assert_eq!((row(&s, "c2")["state"].as_str(), row(&s, "c1")["state"].as_str()), (Some("ended"), Some("active")));
    // At c1's, c1 ends; c3 is still active.
    at(120 + IDLE.as_secs());
    let p = page(addr, "/metrics");
    assert_eq!(metric(&p, "conversations_active", r#"agent="support""#).as_deref(), Some("0"), "{p}");
    assert_eq!(metric(&p, "conversations_active", r#"agent="sales""#).as_deref(), Some("1"));
    assert_eq!(metric(&p, "conversation_turns_count", r#"agent="support""#).as_deref(), Some("2"));
    assert_eq!(metric(&p, "conversation_turns_sum", r#"agent="support""#).as_deref(), Some("4"));
    assert_eq!(metric(&p, "conversation_turns_bucket", r#"agent="support",le="1""#).as_deref(), Some("1"));
    assert_eq!(metric(&p, "conversation_turns_bucket", r#"agent="support",le="3""#).as_deref(), Some("2"));
    assert_eq!(metric(&p, "conversation_duration_seconds_sum", r#"agent="support""#).as_deref(), Some("120"));
    assert_eq!(metric(&p, "conversation_duration_seconds_bucket", r#"agent="support",le="10""#).as_deref(), Some("1"));
    assert_eq!(metric(&p, "conversation_duration_seconds_bucket", r#"agent="support",le="120""#).as_deref(), Some("2"));
    assert_eq!(metric(&p, "conversation_cost_usd_sum", r#"agent="support""#).as_deref(), Some("0.01"));
    assert_eq!(metric(&p, "conversation_cost_usd_bucket", r#"agent="support",le="0.005""#).as_deref(), Some("1"));
    assert_eq!(metric(&p, "conversation_cost_usd_bucket", r#"agent="support",le="0.01""#).as_deref(), Some("2"));
    let s = summary(addr);
    assert_eq!((s["active"].as_u64(), s["ended"].as_u64()), (Some(1), Some(2)), "{s:#}");
    assert_eq!(row(&s, "c2")["state"], "ended");
    assert_eq!((row(&s, "c2")["turns"].as_u64(), row(&s, "c2")["duration_seconds"].as_f64()), (Some(1), Some(0.0)));

    // Then c3 ends too.
    at(300 + IDLE.as_secs());
    let p = page(addr, "/metrics");
    assert_eq!(metric(&p, "conversations_active", r#"agent="sales""#).as_deref(), Some("0"));
    assert_eq!(metric(&p, "conversation_turns_sum", r#"agent="sales""#).as_deref(), Some("2"));
    assert_eq!(metric(&p, "conversation_duration_seconds_sum", r#"agent="sales""#).as_deref(), Some("300"));
    assert_eq!(metric(&p, "conversation_cost_usd_sum", r#"agent="sales""#).as_deref(), Some("0.04"));
    let s = summary(addr);
    assert_eq!((s["active"].as_u64(), s["ended"].as_u64()), (Some(0), Some(3)), "{s:#}");
    assert_eq!(s["avg_turns"], 2.0);
    assert_eq!(s["avg_duration_seconds"], 140.0);
    assert_eq!(s["avg_cost_usd"], 0.05 / 3.0);
    let c3 = row(&s, "c3");
    assert_eq!(
        (
            c3["state"].as_str(),
            c3["agent"].as_str(),
            c3["turns"].as_u64(),
            c3["calls"].as_u64(),
            c3["cost_usd"].as_f64()
        ),
        (Some("ended"), Some("sales"), Some(2), Some(2), Some(0.04))
    );
    let ids: Vec<&str> = s["conversations"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["c3", "c1", "c2"], "most recently ended first");

    // A call in c1 after it ended starts a new conversation.
    at(1000 + IDLE.as_secs());
    turn("c1", support(1)).await;
    let s = summary(addr);
    assert_eq!((s["active"].as_u64(), s["ended"].as_u64()), (Some(1), Some(3)));
    assert_eq!((row(&s, "c1")["state"].as_str(), row(&s, "c1")["turns"].as_u64()), (Some("active"), Some(1)));
    // The model calls themselves counted as always (6 + 2 + 1 + 1 in all).
    let calls = metric(
        &page(addr, "/metrics"),
        "llm_calls_total",
        r#"agent="support",model="conv-test-model",provider="acme",status="success""#,
    );
    assert_eq!(calls.as_deref(), Some("7"));
    obs_runtime::testing::set_conversation_clock(None);
}
