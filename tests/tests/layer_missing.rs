//! An application subscriber without obs's layer: `init()` succeeds, writes
//! no line of its own, and says through the application's subscriber what is
//! lost and the one line to add.

#[allow(dead_code)] // the shared module also serves the other layer_* tests
mod composition;

use composition::{builder, AppLayer};
use obs_runtime::export::logs::LogBuffer;
use tracing_subscriber::prelude::*;

#[test]
fn init_says_what_is_lost_and_the_line_to_add() {
    let app = AppLayer::default();
    tracing_subscriber::registry().with(app.clone()).init();
    let buf = LogBuffer::new();
    let mut guard = builder(&buf).init().expect("init");
    let describe = guard.describe().join("\n");
    assert!(describe.starts_with("logs: off: the application's tracing subscriber has no obs layer"), "{describe}");
    let events = app.events.lock().unwrap().clone();
    let warning = events.iter().find(|e| e.contains("has no obs layer")).unwrap_or_else(|| panic!("{events:?}"));
    assert!(warning.contains("add `.with(obs_runtime::layer())` to that subscriber"), "{warning}");
    tracing::info!("an application line");
    guard.flush();
    assert_eq!(buf.contents(), "", "obs writes nothing when its layer is not in the subscriber");
}
