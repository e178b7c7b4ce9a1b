//! Calls named at run time join the catalog once recorded: `track` calls and
//! the GenAI spans of other libraries bridged by `obs_runtime::layer()`, one
//! entry per agent, tool and model (bounded), so the Prometheus rules
//! generated from the catalog cover them (and promtool accepts them).

use obs_runtime::{catalog, testing, track, FnKind, TokenUsage};
use obs_tests::genai_emitter::{self as emitter, Chat};
use tracing_subscriber::layer::SubscriberExt;

type Entry =
    (FnKind, &'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>, Option<&'static str>);

fn runtime_entries() -> Vec<Entry> {
    catalog()
        .into_iter()
        .filter(|f| f.module() == "obs_runtime::track")
        .inspect(|f| assert!(f.dynamic().is_empty() && f.file().ends_with("track.rs"), "{f:?}"))
        .map(|f| (f.kind(), f.name(), f.agent(), f.model(), f.provider(), f.tool()))
        .collect()
}

#[test]
fn track_and_bridged_calls_join_the_catalog_and_get_rules() {
    testing::enable();
    let _s = tracing::subscriber::set_default(tracing_subscriber::registry().with(obs_runtime::layer()));
    assert_eq!(runtime_entries(), [], "nothing recorded yet");
    assert!(!obs_runtime::ops::prometheus_rules().contains("rt_search"));

    let run = track::agent("rt_planner");
    run.in_scope(|| {
        track::tool("rt_search").finish();
        // The same name again: still one entry.
        track::tool("rt_search").fail("timeout");
        track::llm("rt-model-1").provider("openai").start().unwrap().finish(TokenUsage::new(10, 2));
    });
    run.finish();
    emitter::agent("rt_bridged_agent", || {
        emitter::tool("rt_bridged_tool", None, || ());
        emitter::chat("rt-bridged-model", "anthropic", &Chat { input: Some(5), output: Some(1), ..Chat::default() });
    });

    assert_eq!(
        runtime_entries(),
        [
            (FnKind::Agent, "track::agent", Some("rt_bridged_agent"), None, None, None),
            (FnKind::Agent, "track::agent", Some("rt_planner"), None, None, None),
            (FnKind::LlmCall, "track::llm", None, Some("rt-bridged-model"), Some("anthropic"), None),
            (FnKind::LlmCall, "track::llm", None, Some("rt-model-1"), Some("openai"), None),
            (FnKind::Tool, "track::tool", None, None, None, Some("rt_bridged_tool")),
            (FnKind::Tool, "track::tool", None, None, None, Some("rt_search")),
        ]
    );

    // The rules now alert on each of them.
    let yaml = obs_runtime::ops::prometheus_rules();
    for (metric, sel) in [
        ("agent_executions_total", "agent=\"rt_planner\""),
        ("agent_executions_total", "agent=\"rt_bridged_agent\""),
        ("llm_calls_total", "model=\"rt-model-1\""),
        ("llm_calls_total", "model=\"rt-bridged-model\""),
        ("tool_calls_total", "tool=\"rt_search\""),
        ("tool_calls_total", "tool=\"rt_bridged_tool\""),
    ] {
        let ratio = if metric == "agent_executions_total" { "0.1" } else { "0.05" };
        let want = format!(
            "description: 'The share of {metric}{{{sel}}} with status error or panic over 5m has been above {ratio} for 5m.'"
        );
        assert!(yaml.contains(&want), "no `{want}` in:\n{yaml}");
    }
    assert!(yaml.contains("description: 'llm_cost_usd_total{model=\"rt-model-1\"} grew at more than 10 USD per hour"));
    let dir = std::env::temp_dir().join(format!("obs-catalog-runtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), &yaml).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["check", "rules", "rules.yml"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}): `apt-get install -y --no-install-recommends prometheus`")
        });
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);

    // Bounded: at most 256 entries; later names are counted, not listed.
    for i in 0..300 {
        track::tool(&format!("rt_bulk_{i}")).finish();
    }
    assert_eq!(runtime_entries().len(), 256);
    assert!(runtime_entries().iter().any(|e| e.5 == Some("rt_bulk_249")));
    assert!(!runtime_entries().iter().any(|e| e.5 == Some("rt_bulk_250")));
    assert_eq!(
        testing::snapshot()
            .counter("tool_calls_total", &[("agent", "none"), ("tool", "rt_bulk_299"), ("status", "success")]),
        Some(1)
    );
}
