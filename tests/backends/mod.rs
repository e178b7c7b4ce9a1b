//! Real OTLP backends for the end-to-end tests: Arize Phoenix, MLflow and
//! Rotel, each started from its venv on free 127.0.0.1 ports, in its own
//! process group, and stopped by that group when dropped.
//!
//! The venvs live in `$OBS_BACKENDS_DIR` (default `~/.cache/obs-backends`);
//! `.ci/otlp-backends.sh` installs them (`.ci/run` calls it). A missing venv
//! is a panic naming that command. Start-up is slow (Phoenix takes 15 s idle,
//! up to minutes on a busy machine), so a test file starts one backend and
//! runs every variant of the program against it.
//!
//! ```no_run
//! let rotel = obs_tests::backends::Rotel::start();
//! // ... run a program with OTEL_EXPORTER_OTLP_ENDPOINT = rotel.http_endpoint() ...
//! let got = rotel.wait_for(std::time::Duration::from_secs(30), |r| !r.spans.is_empty());
//! assert_eq!(got.spans[0].name, "invoke_agent planner");
//! ```

pub mod expect;
pub mod http;
pub mod mlflow;
pub mod phoenix;
mod process;
pub mod program;
pub mod rotel;

pub use mlflow::Mlflow;
pub use phoenix::Phoenix;
pub use process::{free_port, ServerProcess};
pub use program::{run, Run};
pub use rotel::Rotel;

use std::path::PathBuf;

/// The command that installs the backends' venvs.
pub const INSTALL_COMMAND: &str = ".ci/otlp-backends.sh";

/// Where the backends' venvs are: `$OBS_BACKENDS_DIR`, else
/// `$HOME/.cache/obs-backends` (what `.ci/otlp-backends.sh` uses).
pub fn backends_dir() -> PathBuf {
    match std::env::var_os("OBS_BACKENDS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/obs-backends"),
    }
}

/// The venv of `name`, or a panic saying how to install it.
pub(crate) fn venv(name: &str, what: &str) -> PathBuf {
    let v = backends_dir().join(name);
    if !v.join("bin/python").exists() {
        panic!(
            "{what} is not installed: no venv at {}. Install the OTLP backends with `{INSTALL_COMMAND}` \
             from the repository root (`.ci/run` does), or point OBS_BACKENDS_DIR at their directory",
            v.display()
        );
    }
    v
}

/// An executable inside a venv, or a panic saying how to install it.
pub(crate) fn venv_file(venv: &std::path::Path, rel: &str, what: &str) -> PathBuf {
    let p = venv.join(rel);
    if !p.exists() {
        panic!("{what}: {} is missing (broken or partial install). Reinstall with `{INSTALL_COMMAND}`", p.display());
    }
    p
}
