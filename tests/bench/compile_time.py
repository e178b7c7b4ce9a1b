#!/usr/bin/env python3
"""Compile time and code size of instrumentation: generates one crate per
variant with N functions (default 200) under `#[traced]`, `#[track_tool]`,
`#[track_llm_call]`, `#[tracing::instrument(skip_all)]` (alone, and in a
program that also links obs-runtime) and none, builds
each (debug), then rebuilds it `--runs` times after touching its source and
prints the median wall time of the crate alone (its dependencies are built
once, before timing). With `--size`, also the release binary's size per
function (a `main` calling every function once).

    python3 tests/bench/compile_time.py                  # 200 fns, median of 3
    python3 tests/bench/compile_time.py --fns 50 --runs 1
    python3 tests/bench/compile_time.py --size           # + release size per fn

The crates live in <target>/compile-bench/ and share the workspace's target
directory and Cargo.lock, so obs-runtime and its dependencies are the ones
the workspace already built (no second copy).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VARIANTS = {
    "none": ("", ""),
    "tracing_instrument": ("#[tracing::instrument(skip_all)]", ""),
    # The same, in a program that also links obs-runtime (its `main` calls
    # `obs_runtime::init()`): the reference for what the expansion itself
    # costs, since any program with obs's macros links the runtime (its
    # exporters are most of the link time of a debug build).
    "tracing_instrument_obs": ("#[tracing::instrument(skip_all)]", "let _obs = obs_runtime::init();"),
    "traced": ("#[obs_runtime::traced]", ""),
    "track_tool": ('#[obs_runtime::track_tool(name = "t{i}")]', ""),
    "track_llm_call": ('#[obs_runtime::track_llm_call(model = "gpt-4o", usage = none)]', ""),
}


def generate(base, variant, fns, binary):
    attr, prelude = VARIANTS[variant]
    d = os.path.join(base, variant)
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write(f"""[package]
name = "compile-bench-{variant.replace('_', '-')}"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
obs-runtime = {{ path = "{ROOT}/obs-runtime" }}
tracing = "0.1"

[[bin]]
name = "compile-bench-{variant.replace('_', '-')}"
path = "src/main.rs"
""")
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(d, "Cargo.lock"))
    body = []
    for i in range(fns):
        a = attr.replace("{i}", str(i))
        # Sync and async alternate, as in real code.
        if i % 2 == 0:
            body.append(f"{a}\npub fn f{i}(x: u64) -> Result<u64, std::fmt::Error> {{ Ok(x + {i}) }}\n")
        else:
            body.append(f"{a}\npub async fn f{i}(x: u64) -> Result<u64, std::fmt::Error> {{ Ok(x * {i}) }}\n")
    calls = []
    for i in range(fns):
        if i % 2 == 0:
            calls.append(f"    s = s.wrapping_add(f{i}(s).unwrap_or(0));")
        else:
            calls.append(f"    s = s.wrapping_add(poll(f{i}(s)).unwrap_or(0));")
    main = ("\n".join(body) + """
fn poll<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn main() {
    """ + prelude + """
    let mut s = std::env::args().count() as u64;
""" + "\n".join(calls) + """
    println!("{s}");
}
""")
    with open(os.path.join(d, "src", "main.rs"), "w") as f:
        f.write(main)
    return d


def build(d, target, release=False):
    cmd = ["cargo", "build", "--quiet", "--manifest-path", os.path.join(d, "Cargo.toml")]
    if release:
        cmd.append("--release")
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    t = time.monotonic()
    subprocess.run(cmd, check=True, env=env)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fns", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", action="store_true", help="also the release binary size per function")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args()
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                                     check=True, capture_output=True, text=True).stdout)
    target = meta["target_directory"]
    base = os.path.join(target, "compile-bench")
    variants = a.variants.split(",")
    results = {}
    for v in variants:
        d = generate(base, v, a.fns, a.size)
        print(f"== {v}: warming dependencies", file=sys.stderr, flush=True)
        build(d, target)
        times = []
        for _ in range(a.runs):
            os.utime(os.path.join(d, "src", "main.rs"))
            times.append(build(d, target))
        size = None
        if a.size:
            build(d, target, release=True)
            name = f"compile-bench-{v.replace('_', '-')}"
            size = os.path.getsize(os.path.join(target, "release", name))
        results[v] = (statistics.median(times), size)
    ref = results.get("tracing_instrument", (None, None))
    ref_obs = results.get("tracing_instrument_obs", (None, None))
    floor = results.get("none", (None, None))
    print(f"| {a.fns} fns, debug build of the crate alone | median s | x tracing::instrument "
          "| x tracing::instrument, obs-runtime linked | release bytes/fn over none |")
    print("|---|---:|---:|---:|---:|")
    for v, (t, size) in results.items():
        r = f"{t / ref[0]:.2f}x" if ref[0] else "-"
        r_obs = f"{t / ref_obs[0]:.2f}x" if ref_obs[0] else "-"
        per = f"{(size - floor[1]) / a.fns:,.0f}" if size and floor[1] else "-"
        print(f"| {v} | {t:.2f} | {r} | {r_obs} | {per} |")


if __name__ == "__main__":
    main()
