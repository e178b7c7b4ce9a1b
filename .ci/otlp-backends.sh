#!/usr/bin/env bash
# Installs the OTLP backends that the end-to-end tests (tests/tests/otlp_*.rs)
# start on 127.0.0.1: one Python venv each for Arize Phoenix, MLflow and Rotel,
# under ${OBS_BACKENDS_DIR:-$HOME/.cache/obs-backends}. The tests read the same
# variable. Idempotent: a venv that is present and answers for the pinned
# version is kept; a broken or outdated one is rebuilt. The three installs run
# in parallel (Phoenix and MLflow take minutes on a busy machine).
#
# Usage: .ci/otlp-backends.sh            (.ci/run calls it before the tests)
set -euo pipefail

dir="${OBS_BACKENDS_DIR:-$HOME/.cache/obs-backends}"
python="${PYTHON:-python3}"

# name|pip requirement|distribution|version (one place to bump a pin)
backends=(
    "phoenix|arize-phoenix==20.26.1|arize-phoenix|20.26.1"
    "mlflow|mlflow==3.17.2|mlflow|3.17.2"
    "rotel|rotel==0.0.1a15|rotel|0.0.1a15"
)

# Whether the venv at $1 has distribution $2 at version $3 and its command.
# (Importing Phoenix to prove more takes a minute on a busy machine; a broken
# install shows in the tests, whose panic names this script.)
working() {
    local venv=$1 dist=$2 version=$3
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" - "$dist" "$version" <<'EOF' >/dev/null 2>&1 || return 1
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version(sys.argv[1]) == sys.argv[2] else 1)
EOF
    case "$dist" in
        arize-phoenix) [ -x "$venv/bin/phoenix" ] ;;
        mlflow) [ -x "$venv/bin/mlflow" ] ;;
        rotel) "$(rotel_agent "$venv")" --version >/dev/null 2>&1 ;;
    esac
}

# The collector binary the rotel wheel ships.
rotel_agent() {
    local found
    found=$(ls "$1"/lib/python3*/site-packages/rotel/rotel-agent 2>/dev/null | head -n 1)
    echo "${found:-$1/lib/python3/site-packages/rotel/rotel-agent}"
}

install() {
    local name=$1 requirement=$2 dist=$3 version=$4
    local venv="$dir/$name" log="$dir/$name.install.log"
    if working "$venv" "$dist" "$version"; then
        echo "$name: already installed ($dist $version in $venv)"
        return 0
    fi
    echo "$name: installing $requirement into $venv (log: $log)"
    local start=$SECONDS
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" &&
        "$venv/bin/pip" install -q --disable-pip-version-check "$requirement"; } >"$log" 2>&1; then
        echo "$name: install FAILED after $((SECONDS - start)) s; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    if ! working "$venv" "$dist" "$version"; then
        echo "$name: installed, but $dist $version does not import or run; see $log" >&2
        return 1
    fi
    echo "$name: installed in $((SECONDS - start)) s ($(du -sh "$venv" | cut -f1))"
}

mkdir -p "$dir"
pids=()
for b in "${backends[@]}"; do
    IFS='|' read -r name requirement dist version <<<"$b"
    install "$name" "$requirement" "$dist" "$version" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "some OTLP backends failed to install (see above); the otlp_* tests need them" >&2
    exit 1
fi
echo "OTLP backends ready in $dir"
