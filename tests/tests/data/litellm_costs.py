#!/usr/bin/env python3
"""LiteLLM's cost of every model of obs's built-in table under a set of
usage shapes, for tests/tests/pricing_litellm.rs.

Usage: litellm_costs.py path/to/obs-runtime/pricing/models.json
Prints one JSON object a line: {"model", "shape", "prompt", "completion",
"cached", "creation", "reasoning", "batch", "usd" | "error", "flags"}.
Needs the `litellm` package of the version the table was generated from
(see .ci/run, which installs it into .ci/venv-litellm).
"""
import json
import logging
import os
import sys
import warnings

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # the packaged map, no network
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)

import litellm  # noqa: E402
from litellm.cost_calculator import batch_cost_calculator, cost_per_token  # noqa: E402
from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper, Usage  # noqa: E402

litellm.suppress_debug_info = True


def usage(prompt, completion, cached=0, creation=0, reasoning=0):
    # OpenAI-style counts: prompt includes cached and cache-write tokens,
    # completion includes reasoning (LiteLLM's normalised Usage).
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=cached or None),
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=reasoning or None),
        cache_creation_input_tokens=creation or None,
        cache_read_input_tokens=cached or None,
    )


def shapes(entry):
    yield "plain", dict(prompt=1000, completion=500)
    yield "cached", dict(prompt=10000, completion=500, cached=6000)
    yield "reasoning", dict(prompt=1000, completion=3000, reasoning=2000)
    yield "cache_write", dict(prompt=10000, completion=100, creation=4000)
    yield "batch", dict(prompt=1000, completion=500, batch=True)
    yield "batch_cached", dict(prompt=10000, completion=500, cached=6000, batch=True)
    for t in entry.get("tiers", []):
        n = t["above_input_tokens"]
        yield f"at_tier_{n}", dict(prompt=n, completion=1000)
        yield f"above_tier_{n}", dict(prompt=n + 1000, completion=1000, cached=500)
        yield f"batch_above_tier_{n}", dict(prompt=n + 1000, completion=1000, batch=True)


def flags(key):
    e = litellm.model_cost.get(key, {})
    has = lambda f: isinstance(e.get(f), (int, float))  # noqa: E731
    return {
        "provider": e.get("litellm_provider", ""),
        "cache_read": has("cache_read_input_token_cost"),
        "batch_input": has("input_cost_per_token_batches"),
        "batch_cache_read": has("cache_read_input_token_cost_batches"),
        "tier_batch": any(k.endswith("_tokens_batches") for k in e),
        "reasoning_rate": has("output_cost_per_reasoning_token"),
    }


def main():
    table = json.load(open(sys.argv[1]))["models"]
    out = sys.stdout
    for key, entry in table.items():
        fl = flags(key)
        for name, s in shapes(entry):
            row = dict(model=key, shape=name, cached=0, creation=0, reasoning=0, batch=False)
            row.update(s)
            row["flags"] = fl
            u = usage(row["prompt"], row["completion"], row["cached"], row["creation"], row["reasoning"])
            try:
                if row["batch"]:
                    p, c = batch_cost_calculator(u, key, fl["provider"] or None)
                else:
                    p, c = cost_per_token(model=key, custom_llm_provider=fl["provider"] or None, usage_object=u)
                row["usd"] = p + c
            except Exception as e:  # noqa: BLE001 - reported per row
                row["error"] = f"{type(e).__name__}: {str(e)[:200]}"
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
