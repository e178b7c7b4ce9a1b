#!/usr/bin/env bash
# Installs what the live view's browser test (tests/tests/ui_browser.rs)
# drives: Debian's chromium (apt) and Playwright for Python in a venv under
# ${OBS_BACKENDS_DIR:-$HOME/.cache/obs-backends}/playwright, the cache the
# OTLP backends use. Playwright never downloads a browser here: the test
# launches /usr/bin/chromium (OBS_CHROMIUM) through `executable_path`.
# Idempotent: kept when present at the pinned version.
#
# Usage: .ci/browser.sh            (.ci/run calls it before the tests)
set -euo pipefail

dir="${OBS_BACKENDS_DIR:-$HOME/.cache/obs-backends}"
python="${PYTHON:-python3}"
version="1.65.3"
venv="$dir/playwright"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

if command -v chromium >/dev/null 2>&1; then
    echo "chromium: already installed ($(command -v chromium))"
else
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

working() {
    [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$version" <<'PY' >/dev/null 2>&1
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version("playwright") == sys.argv[1] else 1)
PY
}

if working; then
    echo "playwright: already installed (playwright $version in $venv)"
else
    echo "playwright: installing playwright==$version into $venv (the Python package only, no browser)"
    mkdir -p "$dir"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$venv/bin/pip" install -q --disable-pip-version-check "playwright==$version"
    working || { echo "playwright $version does not import from $venv" >&2; exit 1; }
fi
echo "browser test ready: chromium and $venv"
