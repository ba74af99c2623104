"""Which candidates can serve this request, and which is cheapest given a warm cache.

Pure functions over ``ModelConfig`` values and a ``Needs`` summary of the
request. ``fit`` keeps the tier's rank order and drops the models that cannot
serve the request (over 85% of the context window, images without vision,
tools without tool use, thinking without thinking, ``max_tokens`` above the
model's max output unless ``routing.clamp_max_tokens``); when none is left it steps
to the next stronger tier, never to a weaker one (the issue: context, capabilities
and cache only re-rank inside the chosen tier or step up). When nothing fits even
there, it keeps the largest-window candidates of the allowed tiers and says so;
dispatch's context-length handling does the rest.
``keep_warm`` moves the session's current model to the front when its warm
prompt cache makes it cheaper for this request than the first choice. The caller
passes the current model only when it is in the chosen tier or a stronger one.
The comparison is input-side: staying = cached prefix at the model's cache-read
price + the new tokens at its input price; moving = every token at the new
model's input price (its cache-write price when it has one: the move writes a
new cache). Output is left out: the next answer's length is unknown, and
staying on a stronger model is never a quality loss.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sidecar.config import ModelConfig

FIT_RATIO = 0.85
WARM_SECONDS = 300.0  # providers keep a prompt cache ~5 minutes
MIN_CACHED_TOKENS = 4096


@dataclass(frozen=True)
class Needs:
    tokens: int = 0
    images: bool = False
    tools: bool = False
    thinking: bool = False
    max_output: int | None = None


@dataclass(frozen=True)
class Head:
    """A tier's first candidates and what every one of them can serve (``head_of``):
    when a request is within that (``serves``), ``fit`` would keep them all, in order."""

    models: tuple[ModelConfig, ...]
    window: int = 0  # smallest context window
    vision: bool = False
    tools: bool = False
    thinking: bool = False
    max_output: int | None = None  # smallest known max output


def head_of(models: Sequence[ModelConfig], limit: int) -> Head:
    first = tuple(models[:limit])
    outs = [m.max_output for m in first if m.max_output]
    return Head(
        models=first,
        window=min((m.context_window for m in first), default=0),
        vision=all(m.vision for m in first),
        tools=all(m.tools for m in first),
        thinking=all(m.thinking for m in first),
        max_output=min(outs) if outs else None,
    )


def serves(head: Head, needs: Needs, clamp: bool = False) -> bool:
    """Would ``fit`` keep every model of ``head``? (The per-request fast path.)"""
    if not head.models or needs.tokens > FIT_RATIO * head.window:
        return False
    if (needs.images and not head.vision) or (needs.tools and not head.tools):
        return False
    if needs.thinking and not head.thinking:
        return False
    over = needs.max_output and head.max_output and needs.max_output > head.max_output
    return clamp or not over


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def needs_of(protocol: str, body: Mapping[str, Any], tokens: int, images: int) -> Needs:
    """What the request asks of a model (``tokens``/``images`` come from the scan)."""
    thinking = False
    if protocol == "anthropic":
        t = body.get("thinking")
        # "adaptive" (Claude Code's default: think if useful) is no requirement; a
        # non-thinking target gets the request without it. "enabled" (a budget) is one.
        thinking = isinstance(t, Mapping) and t.get("type") == "enabled"
        max_out = _int(body.get("max_tokens"))
    elif protocol == "responses":
        r = body.get("reasoning")
        thinking = isinstance(r, Mapping) and r.get("effort") not in (None, "none", "minimal")
        max_out = _int(body.get("max_output_tokens"))
    else:
        thinking = body.get("reasoning_effort") not in (None, "none", "minimal")
        max_out = _int(body.get("max_completion_tokens")) or _int(body.get("max_tokens"))
    tools = body.get("tools")
    return Needs(tokens, images > 0, bool(tools), thinking, max_out)


def unfit(m: ModelConfig, needs: Needs, clamp: bool = False) -> str | None:
    """Why ``m`` cannot serve the request, or None (``clamp``: a too-large token limit
    is not a reason; the forwarded limit is clamped instead, see ``clamps``)."""
    if needs.tokens > FIT_RATIO * m.context_window:
        share = 100 * needs.tokens // max(1, m.context_window)
        return f"context {share}% of {m.context_window // 1000}k"
    if needs.images and not m.vision:
        return "no vision"
    if needs.tools and not m.tools:
        return "no tools"
    if needs.thinking and not m.thinking:
        return "no thinking"
    if not clamp and over_max_output(m, needs):
        return f"max output {m.max_output}"
    return None


def over_max_output(m: ModelConfig, needs: Needs) -> bool:
    return bool(needs.max_output and m.max_output and needs.max_output > m.max_output)


def clamps(cands: Sequence[ModelConfig], needs: Needs) -> tuple[tuple[str, int], ...]:
    """(model name, its max output) for each candidate whose max output the request's
    token limit exceeds (``routing.clamp_max_tokens``: forward the model's maximum)."""
    return tuple(
        (m.name, m.max_output) for m in cands if m.max_output and over_max_output(m, needs)
    )


def fit(
    tier: str,
    order: Sequence[str],
    candidates: Mapping[str, Sequence[ModelConfig]],
    needs: Needs,
    limit: int = 4,
    clamp: bool = False,
) -> tuple[str, list[ModelConfig], str]:
    """(tier actually used, up to ``limit`` fitting candidates in rank order, note).

    Tries ``tier``, then each stronger tier in turn; never a weaker one.
    """
    start = order.index(tier) if tier in order else 0
    steps = [tier] + [order[i] for i in range(start - 1, -1, -1)]
    skipped: list[str] = []
    for step in steps:
        ok = []
        for m in candidates.get(step, ()):
            why = unfit(m, needs, clamp)
            if why is None:
                ok.append(m)
                if len(ok) >= limit:
                    break
            elif len(skipped) < 4:
                skipped.append(f"{m.name} ({why})")
        if ok:
            note = "skipped " + ", ".join(skipped) if skipped else ""
            if step != tier:
                note += f"; stepped up from {tier} to {step}"
            return step, ok, note.lstrip("; ")
    return _largest(steps, candidates, needs, limit)


def _largest(
    steps: Sequence[str],
    candidates: Mapping[str, Sequence[ModelConfig]],
    needs: Needs,
    limit: int,
) -> tuple[str, list[ModelConfig], str]:
    """Nothing fits: the largest-window candidates of the allowed tiers (stable order)."""
    pool = [(step, m) for step in steps for m in candidates.get(step, ())]
    if not pool:
        return steps[0], [], "no candidate in this tier or a stronger one"
    pool.sort(key=lambda sm: -sm[1].context_window)  # stable: rank order among equals
    seen: dict[str, ModelConfig] = {}
    for _, m in pool:
        seen.setdefault(m.name, m)
    chosen = list(seen.values())[:limit]
    return pool[0][0], chosen, f"no candidate fits {needs.tokens} tokens; largest windows first"


def _cost(m: ModelConfig, cached: int, fresh: int, write: bool) -> float | None:
    p = m.prices
    if p.input is None:
        return None
    read = p.cache_read if p.cache_read is not None else p.input
    fresh_price = (p.cache_write or p.input) if write else p.input
    return (cached * read + fresh * fresh_price) / 1e6


def warm_model(
    name: str,
    cands: Sequence[ModelConfig],
    available: Mapping[str, ModelConfig],
    allowed: Container[str],
    needs: Needs,
    clamp: bool = False,
) -> ModelConfig | None:
    """The session's current model if cache awareness may keep it: a candidate, or a
    model of an ``allowed`` tier (the chosen one or stronger) that can serve the request."""
    if not name:
        return None
    found = next((m for m in cands if m.name == name), None)
    if found is not None:
        return found
    m = available.get(name)
    if m is None or name not in allowed or unfit(m, needs, clamp) is not None:
        return None
    return m


def keep_warm(
    cands: list[ModelConfig],
    current: ModelConfig | None,
    last_prompt_tokens: int,
    idle_seconds: float,
    tokens: int,
) -> tuple[list[ModelConfig], str]:
    """Put ``current`` first while its prompt cache is warm and staying is cheaper
    for this request than ``cands[0]`` (see the module docstring for the estimate)."""
    if not cands or current is None or cands[0].name == current.name:
        return cands, ""
    if idle_seconds > WARM_SECONDS or last_prompt_tokens < MIN_CACHED_TOKENS:
        return cands, ""
    prefix = min(last_prompt_tokens, tokens)
    stay = _cost(current, prefix, tokens - prefix, False)
    move = _cost(cands[0], 0, tokens, cands[0].prices.cache_write is not None)
    if stay is None or move is None or stay > move:
        return cands, ""
    note = (
        f"kept {current.name}: warm cache {prefix // 1000}k tokens, "
        f"${stay:.3f} vs ${move:.3f} on {cands[0].name}"
    )
    return [current] + [m for m in cands if m.name != current.name], note
