#!/usr/bin/env python3
"""Instructions per call of the suite's cases, counted by callgrind: a
figure that does not move with the machine's load (wall-clock medians do),
for iterating on the hot path on a shared machine.

    python3 tests/bench/instructions.py --mode metrics obs_tool base_metrics_instant
    python3 tests/bench/instructions.py --mode uninit            # every case of the mode
    python3 tests/bench/instructions.py --mode json obs_tool --annotate   # + where they go

Each case runs twice in the bench binary (`OBS_BENCH_ONLY=case:n`, no
criterion) under `valgrind --tool=callgrind`, with --iters and 3x --iters
calls; the difference of the two totals over the difference of the counts
is the cost of one warm call (start-up, `init()` and the first call cancel
out). Needs valgrind; builds the suite first (`cargo bench --no-run`).
Instructions are not time (a cache miss or a contended atomic costs more
than its one instruction): compare cases, then confirm with table.py.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

MODES = ["uninit", "metrics", "json", "otlp"]
CASES = {
    "uninit": ["uninstrumented", "obs_tool", "obs_tool_async", "obs_llm_usage", "obs_llm_usage_async", "obs_agent",
               "obs_agent_async", "obs_traced", "obs_traced_async", "obs_tool_failed", "obs_llm_failed",
               "obs_tool_runtime_label", "tracing_instrument_no_subscriber", "fastrace_no_reporter"],
    "metrics": ["uninstrumented", "obs_tool", "obs_tool_async", "obs_llm_usage", "obs_llm_usage_async", "obs_agent",
                "obs_traced", "obs_tool_failed", "obs_llm_failed", "obs_tool_runtime_label", "base_metrics_instant",
                "base_metrics_quanta", "base_llm", "base_llm_quanta"],
    "json": ["obs_tool", "obs_tool_async", "obs_llm_usage", "obs_tool_failed", "base_json_tool", "base_json_llm"],
    "otlp": ["obs_tool", "obs_llm_usage", "base_json_tool", "base_json_llm", "base_otel_tool", "base_otel_llm"],
}


def bench_binary():
    out = subprocess.run(["cargo", "bench", "-p", "obs-bench", "--bench", "suite", "--no-run",
                          "--message-format", "json"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "suite" and m.get("executable"):
            return m["executable"]
    sys.exit("no suite executable in cargo's output")


def collected(binary, mode, case, n, out_file=None):
    env = dict(os.environ, OBS_BENCH_MODE=mode, OBS_BENCH_ONLY=f"{case}:{n}")
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=suite::run_only", f"--callgrind-out-file={out_file or os.devnull}"]
    r = subprocess.run(cmd + [binary], env=env, capture_output=True, text=True)
    # Helper processes the binary forks report 0; the largest total is the bench's.
    counts = [int(x) for x in re.findall(r"Collected : (\d+)", r.stderr)]
    if r.returncode != 0 or not counts:
        sys.exit(f"{case}: callgrind failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return max(counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="metrics", choices=MODES)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--annotate", action="store_true", help="print callgrind_annotate of the longer run")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    binary = bench_binary()
    cases = a.cases or CASES[a.mode]
    print(f"| case ({a.mode}) | instructions per call |")
    print("|---|---:|")
    for case in cases:
        lo = collected(binary, a.mode, case, a.iters)
        with tempfile.NamedTemporaryFile(suffix=".callgrind", delete=False) as f:
            path = f.name
        hi = collected(binary, a.mode, case, 3 * a.iters, path if a.annotate else None)
        print(f"| {case} | {(hi - lo) / (2 * a.iters):,.1f} |", flush=True)
        if a.annotate:
            ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True, text=True)
            print("\n".join(ann.stdout.splitlines()[:60]))
        os.unlink(path)


if __name__ == "__main__":
    main()
