#!/usr/bin/env python3
"""The public API of obs-runtime, one item per line, from rustdoc's JSON.

    .ci/public-api.py            # print it
    .ci/public-api.py --check    # compare with obs-runtime/public-api.txt; exit 1 on a difference
    .ci/public-api.py --bless    # rewrite obs-runtime/public-api.txt

Items hidden with #[doc(hidden)] (the macros' __private) are not part of it.
rustdoc's JSON output is unstable, hence RUSTC_BOOTSTRAP on the stable
toolchain; only its module tree, item kinds, fields, variants and inherent
and trait-method names are read, which have kept their shape for years.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOT = os.path.join(ROOT, "obs-runtime", "public-api.txt")


def build():
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    subprocess.run(
        ["cargo", "rustdoc", "-q", "-p", "obs-runtime", "--lib", "--", "-Z", "unstable-options", "--output-format", "json"],
        cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL,
    )
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    with open(os.path.join(target, "doc", "obs_runtime.json")) as f:
        return json.load(f)


def lines(doc):
    index = doc["index"]
    out = set()

    def item(i):
        return index.get(str(i))

    def walk_impls(path, impls):
        for impl_id in impls:
            imp = item(impl_id)
            if not imp:
                continue
            inner = imp["inner"]["impl"]
            if inner.get("is_synthetic") or inner.get("blanket_impl") is not None:
                continue
            trait = inner.get("trait")
            if trait:
                out.add(f"impl {trait['path']} for {path}")
                continue
            for m in inner["items"]:
                mi = item(m)
                if mi and mi["visibility"] == "public" and mi.get("name"):
                    kind = next(iter(mi["inner"]))
                    out.add(f"{kind} {path}::{mi['name']}")

    def walk(i, path, seen):
        it = item(i)
        if it is None or i in seen:
            return
        seen = seen | {i}
        kind, inner = next(iter(it["inner"].items()))
        if kind == "use":
            target = inner.get("id")
            name = inner["name"]
            if inner.get("is_glob"):
                t = item(target)
                if t and "module" in t["inner"]:
                    for c in t["inner"]["module"]["items"]:
                        walk(c, path, seen)
                return
            t = item(target) if target is not None else None
            if t is None:
                out.add(f"use {path}::{name} = {inner['source']}")
                return
            it = dict(t, name=name)
            kind, inner = next(iter(it["inner"].items()))
        name = it.get("name")
        here = f"{path}::{name}" if name else path
        if kind == "module":
            out.add(f"mod {here}")
            for c in inner["items"]:
                walk(c, here, seen)
            return
        attrs = " ".join(a for a in (json.dumps(x) for x in it.get("attrs", [])) if "non_exhaustive" in a)
        ne = " #[non_exhaustive]" if attrs else ""
        out.add(f"{kind} {here}{ne}")
        if kind == "struct":
            k = inner["kind"]
            fields = k.get("plain", {}).get("fields", []) if isinstance(k, dict) else []
            for f in fields:
                fi = item(f)
                if fi and fi["visibility"] == "public":
                    out.add(f"field {here}.{fi['name']}")
            walk_impls(here, inner.get("impls", []))
        elif kind == "enum":
            for v in inner["variants"]:
                vi = item(v)
                if vi:
                    out.add(f"variant {here}::{vi['name']}")
            walk_impls(here, inner.get("impls", []))
        elif kind == "trait":
            for m in inner["items"]:
                mi = item(m)
                if mi:
                    out.add(f"trait-item {here}::{mi['name']}")

    for c in index[str(doc["root"])]["inner"]["module"]["items"]:
        walk(c, "obs_runtime", frozenset())
    return sorted(out)


def main():
    api = "\n".join(lines(build())) + "\n"
    if "--bless" in sys.argv:
        with open(SNAPSHOT, "w") as f:
            f.write(api)
        print(f"wrote {SNAPSHOT}: {api.count(chr(10))} items")
    elif "--check" in sys.argv:
        with open(SNAPSHOT) as f:
            want = f.read()
        if want != api:
            import difflib
            sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), api.splitlines(True), "public-api.txt (checked in)", "public API now"))
            print("\nThe public API of obs-runtime changed. If that is deliberate, run `.ci/public-api.py --bless` and commit the file.", file=sys.stderr)
            sys.exit(1)
        print(f"public API unchanged: {api.count(chr(10))} items")
    else:
        sys.stdout.write(api)


if __name__ == "__main__":
    main()
