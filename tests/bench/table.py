#!/usr/bin/env python3
"""Runs obs's benchmark suite (tests/bench/benches/suite.rs) in its four modes
and prints one table: case, median ns per call, overhead over the bare
function of the same run, ratio to the hand-written equivalent and to the
best peer crate.

    python3 tests/bench/table.py            # full: 3 s per case, about 12 minutes
    python3 tests/bench/table.py --quick    # 1 s per case, about 5 minutes
    python3 tests/bench/table.py --modes metrics --quick
    python3 tests/bench/table.py --no-run   # the table of the last run's results

Each mode is one process (obs's init() is once per process); ratios compare
cases of the same process only. Figures come from criterion's
target/criterion/<group>/<case>/new/estimates.json (the median's point
estimate).
"""

import argparse
import json
import os
import subprocess
import sys

MODES = ["uninit", "metrics", "json", "otlp"]

OBS_CASES = [
    ("obs_tool", "#[track_tool]"),
    ("obs_tool_async", "#[track_tool] async"),
    ("obs_llm_usage", "#[track_llm_call] usage + cost"),
    ("obs_llm_usage_async", "#[track_llm_call] async"),
    ("obs_agent", "#[track_execution]"),
    ("obs_agent_async", "#[track_execution] async"),
    ("obs_traced", "#[traced]"),
    ("obs_traced_async", "#[traced] async"),
    ("obs_tool_failed", "#[track_tool] failed (Err)"),
    ("obs_llm_failed", "#[track_llm_call] failed (Err)"),
    ("obs_tool_runtime_label", "#[track_tool] runtime label"),
]

# Per mode: the hand-written equivalent of each obs case, and the peers.
HAND = {
    "metrics": {
        "obs_tool": "base_metrics_instant",
        "obs_tool_async": "base_metrics_instant",
        "obs_agent": "base_metrics_instant",
        "obs_agent_async": "base_metrics_instant",
        "obs_tool_failed": "base_metrics_instant",
        "obs_llm_usage": "base_llm",
        "obs_llm_usage_async": "base_llm",
        "obs_llm_failed": "base_metrics_instant",
        "obs_tool_runtime_label": "base_metrics_per_call",
    },
    "json": {"obs_tool": "base_json_tool", "obs_tool_async": "base_json_tool", "obs_tool_failed": "base_json_tool",
             "obs_llm_usage": "base_json_llm", "obs_llm_usage_async": "base_json_llm"},
    # The issue-23 baseline: the hand-written span exported through
    # tracing-opentelemetry + opentelemetry-otlp (plus the JSON line and the
    # cached metrics obs's otlp mode also writes).
    "otlp": {"obs_tool": "base_otel_tool", "obs_tool_async": "base_otel_tool", "obs_tool_failed": "base_otel_tool",
             "obs_llm_usage": "base_otel_llm", "obs_llm_usage_async": "base_otel_llm"},
}
PEERS = {
    "uninit": ["tracing_instrument_no_subscriber", "fastrace_no_reporter"],
    "metrics": ["autometrics", "otel_sdk_metrics"],
}
# #[traced] records no metrics by default: its peer is a span.
TRACED_PEERS = {"metrics": ["tracing_instrument_registry"], "uninit": PEERS["uninit"]}
BASELINES = {
    "uninit": PEERS["uninit"],
    "metrics": ["base_metrics_instant", "base_metrics_quanta", "base_metrics_per_call", "base_llm",
                "base_llm_quanta", "autometrics", "otel_sdk_metrics", "tracing_instrument_registry"],
    "json": ["base_json_tool", "base_json_llm"],
    "otlp": ["base_otel_tool", "base_otel_llm", "base_json_tool", "base_json_llm"],
}
CONTENTION = ["uninstrumented", "base_metrics_instant", "obs_tool", "base_llm", "obs_llm_usage"]


def target_dir():
    if os.environ.get("CARGO_TARGET_DIR"):
        return os.environ["CARGO_TARGET_DIR"]
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          check=True, capture_output=True, text=True)
    return json.loads(meta.stdout)["target_directory"]


def median(root, *path):
    f = os.path.join(root, "criterion", *path, "new", "estimates.json")
    try:
        with open(f) as fh:
            return json.load(fh)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt_ns(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:,.2f} ms"
    return f"{v:,.1f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def run(modes, quick):
    env = dict(os.environ)
    if quick:
        env["OBS_BENCH_QUICK"] = "1"
    for mode in modes:
        env["OBS_BENCH_MODE"] = mode
        print(f"== mode {mode}", file=sys.stderr, flush=True)
        subprocess.run(["cargo", "bench", "-p", "obs-bench", "--bench", "suite"], env=env, check=True,
                       stdout=sys.stderr)


def table(root, modes):
    rows = [("case", "median ns", "overhead ns", "x hand-written", "x best peer")]
    for mode in modes:
        floor = median(root, mode, "uninstrumented")
        m = lambda case: median(root, mode, case)
        rows.append((f"**{mode}**", "", "", "", ""))
        rows.append(("uninstrumented", fmt_ns(floor), "0", "", ""))
        for case, label in OBS_CASES:
            v = m(case)
            if v is None:
                continue
            hand = HAND.get(mode, {}).get(case)
            peers = (TRACED_PEERS if case.startswith("obs_traced") else PEERS).get(mode, [])
            peer_vals = [p for p in (m(p) for p in peers) if p is not None]
            best = min(peer_vals) if peer_vals else None
            over = None if floor is None else v - floor
            rows.append((label, fmt_ns(v), fmt_ns(over), ratio(v, m(hand)) if hand else "-", ratio(v, best)))
        for b in BASELINES.get(mode, []):
            v = m(b)
            if v is not None:
                rows.append((f"_{b}_", fmt_ns(v), fmt_ns(None if floor is None else v - floor), "", ""))
        if mode == "metrics":
            for threads in ["1t", "2t"]:
                for case in CONTENTION:
                    v = median(root, "contention", case, threads)
                    if v is None:
                        continue
                    hand = {"obs_tool": "base_metrics_instant", "obs_llm_usage": "base_llm"}.get(case)
                    h = median(root, "contention", hand, threads) if hand else None
                    one = median(root, "contention", case, "1t")
                    note = f" (2t/1t {ratio(v, one)})" if threads == "2t" else ""
                    rows.append((f"contention {threads}: {case}{note}", fmt_ns(v), "", ratio(v, h) if h else "", ""))
            o = median(root, "render", "obs_render_10k")
            p = median(root, "render", "metrics_exporter_prometheus_render_10k")
            if o is not None:
                rows.append(("render 10,000 series: obs", fmt_ns(o), "", "", ratio(o, p)))
                rows.append(("_render 10,000 series: metrics-exporter-prometheus_", fmt_ns(p), "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for n, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 s per case instead of 3")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    ap.add_argument("--no-run", action="store_true", help="print the table of the last results only")
    a = ap.parse_args()
    modes = [x for x in a.modes.split(",") if x]
    bad = [x for x in modes if x not in MODES]
    if bad:
        ap.error(f"unknown mode {bad}: expected some of {MODES}")
    if not a.no_run:
        run(modes, a.quick)
    print(table(target_dir(), modes))
    print("\nmedian ns per call; overhead = median - uninstrumented of the same mode (process); "
          "x hand-written / x best peer = ratio of medians; contention: wall time per call per thread; "
          f"machine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
