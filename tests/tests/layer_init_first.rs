//! `init()` runs first and installs obs's subscriber (tracing allows one
//! global subscriber per process, so the application's later global install
//! fails with tracing's own error); a subscriber the application then sets as
//! its default, with its own layer and `obs_runtime::layer()`, gets both.

mod composition;

use composition::{builder, run_and_check, AppLayer};
use obs_runtime::export::logs::LogBuffer;
use tracing_subscriber::prelude::*;

#[test]
fn init_then_application_subscriber() {
    let buf = LogBuffer::new();
    let mut guard = builder(&buf).init().expect("init");
    assert!(!guard.describe().join("\n").contains("application"), "{:?}", guard.describe());
    let app = AppLayer::default();
    let late_global = tracing_subscriber::registry().with(AppLayer::default()).with(obs_runtime::layer()).try_init();
    assert!(late_global.is_err(), "init() owns the global subscriber");
    let subscriber = tracing_subscriber::registry().with(app.clone()).with(obs_runtime::layer());
    tracing::subscriber::with_default(subscriber, || run_and_check(&app, &buf, &mut guard));
}
