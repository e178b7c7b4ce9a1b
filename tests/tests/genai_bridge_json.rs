//! GenAI bridge, json logs (format Json, filter `info`): a line's `agent` is
//! the innermost agent, obs's or a foreign `invoke_agent` span's, the same
//! in every format (see `obs_tests::genai_logs`).

use obs_runtime::export::logs::LogFormat;
use obs_tests::genai_logs::{self, line};

#[test]
fn lines_name_the_innermost_agent() {
    let buf = genai_logs::run(LogFormat::Json, "info");
    genai_logs::assert_bridged();
    let outer = line(&buf, "outer line");
    let inner = line(&buf, "inner line");
    let agent = |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap()["agent"].clone();
    assert_eq!(agent(&outer), "em_outer", "{outer}");
    assert_eq!(agent(&inner), "obs_inner", "{inner}");
}
