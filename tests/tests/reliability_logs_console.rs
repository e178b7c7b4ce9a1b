//! Console log lines against hostile text (issue 13): bidi controls and
//! other invisible format characters are escaped, never written raw to a
//! terminal, and request-context ids are cut like every other value.

use obs_runtime::export::logs::{LogBuffer, LogOutput};
use obs_runtime::RequestContext;
use std::time::{Duration, Instant};

fn line(buf: &LogBuffer, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(l) = buf.lines().into_iter().find(|l| l.contains(needle)) {
            return l;
        }
        assert!(Instant::now() < deadline, "no line with {needle}:\n{}", buf.contents());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn console_lines_escape_bidi_and_cut_context_ids() {
    let buf = LogBuffer::new();
    let _g = obs_runtime::Builder::new()
        .exporters(&["logs"])
        .log_filter("info")
        .log_output(LogOutput::Buffer(buf.clone()))
        .init()
        .unwrap();

    // U+202E (right-to-left override) would make `txt.exe` display as `exe.txt`.
    tracing::info!(file = "invoice\u{202E}txt.exe", "bidi-msg \u{2066}x\u{2069} \u{200B}\u{FEFF}");
    let l = line(&buf, "bidi-msg");
    for raw in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{FEFF}'] {
        assert!(!l.contains(raw), "raw {raw:?} in {l:?}");
    }
    assert!(l.contains(r"bidi-msg \u{2066}x\u{2069} \u{200b}\u{feff}"), "{l}");
    assert!(l.contains(r#"file="invoice\u{202e}txt.exe""#), "{l}");

    // 3 MiB of user id: the line keeps 256 bytes of it, not 3 MiB.
    let huge = "u".repeat(3 << 20);
    let cx = RequestContext::from_request_id("req-1").with_user_id(huge.clone()).with_tenant_id(huge.clone());
    cx.in_scope(|| tracing::info!("ctx-msg"));
    let l = line(&buf, "ctx-msg");
    let kept = "u".repeat(obs_runtime::context::MAX_CONTEXT_ID_BYTES);
    assert!(l.contains(&format!("user_id={kept}… tenant_id={kept}…")), "{}", &l[..l.len().min(400)]);
    assert!(l.len() < 1024, "{} bytes", l.len());
}
