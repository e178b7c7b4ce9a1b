//! The application installs its own subscriber first, with its own layer and
//! `obs_runtime::layer()`; `init()` then sends obs's lines through it.

mod composition;

use composition::{builder, run_and_check, AppLayer};
use obs_runtime::export::logs::LogBuffer;
use tracing_subscriber::prelude::*;

#[test]
fn application_subscriber_then_init() {
    let app = AppLayer::default();
    tracing_subscriber::registry().with(app.clone()).with(obs_runtime::layer()).init();
    let buf = LogBuffer::new();
    let mut guard = builder(&buf).init().expect("init");
    let describe = guard.describe().join("\n");
    assert!(describe.contains("through obs_runtime::layer() in the application's subscriber"), "{describe}");
    run_and_check(&app, &buf, &mut guard);
}
