//! GenAI bridge, console logs (format Console, filter `info`): a line's `agent` is
//! the innermost agent, obs's or a foreign `invoke_agent` span's, the same
//! in every format (see `obs_tests::genai_logs`).

use obs_runtime::export::logs::LogFormat;
use obs_tests::genai_logs::{self, line};

#[test]
fn lines_name_the_innermost_agent() {
    let buf = genai_logs::run(LogFormat::Console, "info");
    genai_logs::assert_bridged();
    let outer = line(&buf, "outer line");
    let inner = line(&buf, "inner line");
    assert_eq!(genai_logs::console_agent(&outer), Some("em_outer"), "{outer}");
    // The obs agent's span is off in console mode; the line still names it,
    // not the foreign agent span around it.
    assert_eq!(genai_logs::console_agent(&inner), Some("obs_inner"), "{inner}");
}
