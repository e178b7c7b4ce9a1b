#!/usr/bin/env python3
"""Regenerates models.json (obs's built-in price table) from LiteLLM's
model_prices_and_context_window JSON.

Usage:
    python3 from_litellm.py path/to/model_prices_and_context_window.json LITELLM_VERSION AS_OF > models.json

Get the map of a pinned LiteLLM release without installing it:
    pip download litellm==1.109.1 --no-deps -d /tmp/ll
    unzip -o /tmp/ll/litellm-*.whl 'litellm/model_prices_and_context_window_backup.json' -d /tmp/ll

Takes every chat, completion, responses and embedding entry priced per token,
under LiteLLM's own key (the key says the host: `together_ai/..`, `azure/..`,
`bedrock` ids; obs's resolution rules in `obs_shared::model` find them from
the names each provider's API takes). Prices are USD per 1M tokens.

Billing rules the map leaves implicit are written out here, as data, each
with the rule that decides it (see RULES below and the README):
  * OpenAI and Anthropic batch APIs halve every rate, cached and
    cache-write tokens included, and above a context tier too;
  * xAI's "200k and above" tiers include their bound;
  * Fireworks bills cached prompt tokens at half the input rate;
  * DeepSeek's off-peak windows (LiteLLM's `off_peak_pricing`).

Also writes obs-macros/src/models.txt: `name<TAB>provider<TAB>input<TAB>output`
a line, sorted, the names the macros accept as literal `model = ".."` values
(checked equal to models.json's keys by a test in obs-runtime's pricing
module); the prices let a "did you mean" show what the suggestion costs.
"""
import json
import os
import sys

MACRO_MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "obs-macros", "src", "models.txt")

MODES = {"chat", "completion", "responses", "embedding"}

# LiteLLM `litellm_provider` -> GenAI `gen_ai.provider.name` where they differ
# (same table as obs_shared::provider::from_litellm).
GENAI = {
    "gemini": "gcp.gemini",
    "vertex_ai-language-models": "gcp.gemini",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "text-completion-openai": "openai",
    "cohere_chat": "cohere",
    "vertex_ai": "gcp.vertex_ai",
    "watsonx": "ibm.watsonx.ai",
}

# LiteLLM field (USD per token) -> obs field (USD per 1M tokens)
FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
    "input_cost_per_token_batches": "batch_input",
    "output_cost_per_token_batches": "batch_output",
    "cache_read_input_token_cost_batches": "batch_cache_read",
    "cache_creation_input_token_cost_batches": "batch_cache_write",
}

# Providers whose batch API halves every rate (OpenAI: "Batch API: 50% off
# inputs and outputs", cached inputs included; Anthropic: "Batch processing:
# 50% discount", cache reads and writes included).
HALF_PRICE_BATCH = {"openai", "text-completion-openai", "anthropic"}
# Providers whose context tiers start AT the bound ("200k tokens and above").
INCLUSIVE_TIERS = {"xai"}
# Providers that bill cached prompt tokens at half the input rate when the
# map has no cache rate (Fireworks: "cached input tokens: 50% of input").
HALF_PRICE_CACHE = {"fireworks_ai"}


def per_million(v):
    # Round away binary-float noise: prices have at most 6 decimals per 1M tokens.
    return round(v * 1_000_000, 6)


def threshold(n):
    n = n.lower()
    return int(float(n[:-1]) * 1000) if n.endswith("k") else int(n)


def tiers_of(e):
    tiers = {}
    for f, v in e.items():
        # `input_cost_per_token_above_200k_tokens_batches`: the batch rate of a tier.
        batch = f.endswith("_tokens_batches")
        f = f[: -len("_batches")] if batch else f
        if not isinstance(v, (int, float)) or "_above_" not in f or not f.endswith("_tokens"):
            continue
        base, n = f[: -len("_tokens")].rsplit("_above_", 1)
        # `cache_creation_input_token_cost_above_1hr_above_200k_tokens`
        if base == "cache_creation_input_token_cost_above_1hr":
            key = "cache_write_1h"
        elif base in FIELDS and FIELDS[base] in ("input", "output", "cache_read", "cache_write"):
            key = FIELDS[base]
        else:
            continue  # priority / flex / audio tiers: not token rates obs prices
        if batch:
            key = "batch_" + key
        try:
            t = threshold(n)
        except ValueError:
            continue
        tiers.setdefault(t, {})[key] = per_million(v)
    for r in e.get("tiered_pricing") or []:
        lo = int(r.get("range", [0])[0])
        if lo == 0:
            continue
        t = tiers.setdefault(lo, {})
        for f, o in (("input_cost_per_token", "input"), ("output_cost_per_token", "output")):
            if f in r:
                t[o] = per_million(r[f])
    return tiers


def windows(op):
    """LiteLLM's off-peak windows -> [[weekday mask (bit 0 = Monday), start minute, end minute], ..]."""
    out = []
    for w in op.get("windows", []):
        mask = sum(1 << (d - 1) for d in w.get("weekdays", []))
        hours = w.get("hours_utc", [])
        for h in [hours] if isinstance(hours, str) else hours:
            a, b = h.split("-")
            start = int(a[:2]) * 60 + int(a[3:])
            end = int(b[:2]) * 60 + int(b[3:])
            out.append([mask, start, end if end > start else 1440])
    return out


def entry(e, lprov):
    m = {}
    for f, o in FIELDS.items():
        if isinstance(e.get(f), (int, float)):
            m[o] = per_million(e[f])
    tiers = tiers_of(e)
    if lprov in HALF_PRICE_CACHE and "cache_read" not in m:
        m["cache_read"] = round(m["input"] / 2, 6)
    if lprov in HALF_PRICE_BATCH and e.get("mode") in ("chat", "responses", "completion", "embedding"):
        for rate in ("input", "output", "cache_read", "cache_write"):
            if rate in m and "batch_" + rate not in m:
                m["batch_" + rate] = round(m[rate] / 2, 6)
        for t in tiers.values():
            for rate in ("input", "output", "cache_read", "cache_write"):
                if rate in t and "batch_" + rate not in t:
                    t["batch_" + rate] = round(t[rate] / 2, 6)
    # A batch input rate without a batch output rate: the batch program
    # discounts output alike (Azure: "50% less than global standard").
    if "batch_input" in m and "batch_output" not in m and m["input"] > 0:
        ratio = m["batch_input"] / m["input"]
        ratio = 0.5 if abs(ratio - 0.5) < 0.01 else ratio  # 0.083 for 0.165 is "half", rounded
        m["batch_output"] = round(m["output"] * ratio, 6)
    if tiers:
        inclusive = lprov in INCLUSIVE_TIERS
        m["tiers"] = [
            dict(above_input_tokens=n, **({"inclusive": True} if inclusive else {}), **r)
            for n, r in sorted(tiers.items())
        ]
    op = e.get("off_peak_pricing")
    if isinstance(op, dict) and op.get("windows"):
        m["off_peak"] = {o: per_million(op[f]) for f, o in FIELDS.items() if isinstance(op.get(f), (int, float))}
        m["off_peak"]["windows"] = windows(op)
    if e.get("mode") not in (None, "chat"):
        m["mode"] = e["mode"]
    if e.get("deprecation_date"):
        m["deprecation_date"] = e["deprecation_date"]
    return m


def main():
    src, version, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
    data = json.load(open(src))
    models = {}
    for key, e in data.items():
        if key == "sample_spec" or not isinstance(e, dict) or e.get("mode") not in MODES:
            continue
        if not isinstance(e.get("input_cost_per_token"), (int, float)):
            continue  # priced per character, second or request: not a token model
        e = dict(e)
        e.setdefault("output_cost_per_token", 0.0)  # embeddings
        lprov = e.get("litellm_provider", "")
        m = {"provider": GENAI.get(lprov, lprov)}
        m.update(entry(e, lprov))
        models[key] = m
    out = {
        "format": "obs-pricing/1",
        "as_of": as_of,
        "source": f"LiteLLM {version} model_prices_and_context_window_backup.json",
        "unit": "USD per 1M tokens",
        "models": dict(sorted(models.items())),
    }
    # One entry a line: compact, and a price change is a one-line diff.
    sys.stdout.write('{"format":"obs-pricing/1","as_of":%s,"source":%s,"unit":%s,"models":{\n' % (
        json.dumps(out["as_of"]), json.dumps(out["source"]), json.dumps(out["unit"])))
    lines = [json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in out["models"].items()]
    sys.stdout.write(",\n".join(lines))
    sys.stdout.write("\n}}\n")
    with open(MACRO_MODELS, "w") as f:
        for k, v in out["models"].items():
            f.write(f"{k}\t{v['provider']}\t{v['input']:g}\t{v['output']:g}\n")


if __name__ == "__main__":
    main()
