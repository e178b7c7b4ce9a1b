//! GenAI bridge, quiet logs (format Console, filter `warn`): a line's `agent` is
//! the innermost agent, obs's or a foreign `invoke_agent` span's, the same
//! in every format (see `obs_tests::genai_logs`).

use obs_runtime::export::logs::LogFormat;
use obs_tests::genai_logs::{self, line};

#[test]
fn lines_name_the_innermost_agent() {
    let buf = genai_logs::run(LogFormat::Console, "warn");
    genai_logs::assert_bridged();
    let outer = line(&buf, "outer line");
    let inner = line(&buf, "inner line");
    // At `warn` no span reaches obs's log part: the foreign agent span is
    // enabled for the bridge alone, and still names the line.
    assert_eq!(genai_logs::console_agent(&outer), Some("em_outer"), "{outer}");
    assert_eq!(genai_logs::console_agent(&inner), Some("obs_inner"), "{inner}");
}
