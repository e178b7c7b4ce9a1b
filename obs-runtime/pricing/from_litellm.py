#!/usr/bin/env python3
"""Regenerates models.json (obs's built-in price table) from LiteLLM's
model_prices_and_context_window JSON.

Usage: python3 from_litellm.py path/to/model_prices_and_context_window.json LITELLM_VERSION AS_OF > models.json

Prices are USD per 1M tokens. Only the models listed in MODELS are taken, under
obs's key, with the GenAI `gen_ai.provider.name` of their provider.

Also writes obs-macros/src/models.txt, the sorted model names the macros accept
as literal `model = ".."` values (checked equal to models.json's keys by a
test in obs-runtime's pricing module).
"""
import json
import os
import sys

MACRO_MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "obs-macros", "src", "models.txt")

# obs key -> (LiteLLM key, provider)
MODELS = {
    "gpt-4o": ("gpt-4o", "openai"),
    "gpt-4o-2024-05-13": ("gpt-4o-2024-05-13", "openai"),
    "gpt-4o-2024-08-06": ("gpt-4o-2024-08-06", "openai"),
    "gpt-4o-2024-11-20": ("gpt-4o-2024-11-20", "openai"),
    "gpt-4o-mini": ("gpt-4o-mini", "openai"),
    "gpt-4.1": ("gpt-4.1", "openai"),
    "gpt-4.1-mini": ("gpt-4.1-mini", "openai"),
    "gpt-4.1-nano": ("gpt-4.1-nano", "openai"),
    "gpt-4-turbo": ("gpt-4-turbo", "openai"),
    "gpt-3.5-turbo": ("gpt-3.5-turbo", "openai"),
    "o1": ("o1", "openai"),
    "o3": ("o3", "openai"),
    "o3-mini": ("o3-mini", "openai"),
    "o4-mini": ("o4-mini", "openai"),
    "gpt-5": ("gpt-5", "openai"),
    "gpt-5-mini": ("gpt-5-mini", "openai"),
    "gpt-5-nano": ("gpt-5-nano", "openai"),
    "gpt-5.1": ("gpt-5.1", "openai"),
    "gpt-5.2": ("gpt-5.2", "openai"),
    "gpt-5.4": ("gpt-5.4", "openai"),
    "gpt-5.4-mini": ("gpt-5.4-mini", "openai"),
    "gpt-5.4-nano": ("gpt-5.4-nano", "openai"),
    "gpt-5.5": ("gpt-5.5", "openai"),
    "text-embedding-3-small": ("text-embedding-3-small", "openai"),
    "text-embedding-3-large": ("text-embedding-3-large", "openai"),
    "claude-haiku-4-5": ("claude-haiku-4-5", "anthropic"),
    "claude-sonnet-4-5": ("claude-sonnet-4-5", "anthropic"),
    "claude-sonnet-4-6": ("claude-sonnet-4-6", "anthropic"),
    "claude-opus-4-5": ("claude-opus-4-5", "anthropic"),
    "claude-opus-4-6": ("claude-opus-4-6", "anthropic"),
    "claude-opus-4-7": ("claude-opus-4-7", "anthropic"),
    "gemini-2.5-pro": ("gemini/gemini-2.5-pro", "gcp.gemini"),
    "gemini-2.5-flash": ("gemini/gemini-2.5-flash", "gcp.gemini"),
    "gemini-2.5-flash-lite": ("gemini/gemini-2.5-flash-lite", "gcp.gemini"),
    "gemini-3-flash-preview": ("gemini/gemini-3-flash-preview", "gcp.gemini"),
    "gemini-3.1-pro-preview": ("gemini/gemini-3.1-pro-preview", "gcp.gemini"),
    "gemini-3.1-flash-lite": ("gemini/gemini-3.1-flash-lite", "gcp.gemini"),
    "gemini-3.5-flash": ("gemini/gemini-3.5-flash", "gcp.gemini"),
    "mistral-large-latest": ("mistral/mistral-large-latest", "mistral_ai"),
    "mistral-medium-latest": ("mistral/mistral-medium-latest", "mistral_ai"),
    "mistral-small-latest": ("mistral/mistral-small-latest", "mistral_ai"),
    "codestral-latest": ("mistral/codestral-latest", "mistral_ai"),
    "magistral-medium-latest": ("mistral/magistral-medium-latest", "mistral_ai"),
    "ministral-8b-latest": ("mistral/ministral-8b-latest", "mistral_ai"),
    "open-mistral-nemo": ("mistral/open-mistral-nemo", "mistral_ai"),
    "deepseek-chat": ("deepseek/deepseek-chat", "deepseek"),
    "deepseek-reasoner": ("deepseek/deepseek-reasoner", "deepseek"),
    "deepseek-v3.2": ("deepseek/deepseek-v3.2", "deepseek"),
    "deepseek-v4-pro": ("deepseek/deepseek-v4-pro", "deepseek"),
    "deepseek-v4-flash": ("deepseek/deepseek-v4-flash", "deepseek"),
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together_ai"),
    "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct": ("fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct", "fireworks_ai"),
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
}


def per_million(v):
    # Round away binary-float noise: prices have at most 6 decimals per 1M tokens.
    return round(v * 1_000_000, 6)


def main():
    src, version, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
    data = json.load(open(src))
    out = {"format": "obs-pricing/1", "as_of": as_of, "unit": "USD per 1M tokens", "models": {}}
    for key, (lkey, provider) in MODELS.items():
        e = data[lkey]
        m = {"provider": provider}
        for f, o in FIELDS.items():
            if f in e:
                m[o] = per_million(e[f])
        tiers = {}
        for f, v in e.items():
            for base, o in FIELDS.items():
                prefix = base + "_above_"
                if f.startswith(prefix) and f.endswith("_tokens"):
                    n = f[len(prefix):-len("_tokens")]
                    n = int(n[:-1]) * 1000 if n.endswith("k") else int(n)
                    tiers.setdefault(n, {})[o] = per_million(v)
        if tiers:
            m["tiers"] = [dict(above_input_tokens=n, **r) for n, r in sorted(tiers.items())]
        if "max_input_tokens" in e:
            m["max_input_tokens"] = e["max_input_tokens"]
        m["as_of"] = as_of
        m["source"] = e.get("source", "") + f" (via LiteLLM {version})"
        out["models"][key] = m
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    with open(MACRO_MODELS, "w") as f:
        f.write("".join(k + "\n" for k in sorted(out["models"])))


if __name__ == "__main__":
    main()
