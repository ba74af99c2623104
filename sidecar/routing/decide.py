"""The routing decision as a pure function of what the router knows about a request.

Precedence, highest first (issue 3):

1. explicit choices: ``x-tierline-tier`` header, a directive in the last user
   message, the session lock, a virtual or configured model named by the client
   (directly or through an alias);
2. ``[[routing.rules]]`` (first match);
3. background requests and exploration subagents -> the quick tier (a title or
   a summary never needs the heavy model, so this sits above tags);
4. ``heavy_tags`` -> ``heavy_model``, ``ui_tags`` -> ``ui_model``;
5. the classifier (heuristic, phase, LLM) with stickiness;
6. the primary-agent floor: a coding agent's own requests never go below the coding
   tier (plain SDK clients have no floor).

The result is a ``Decision``: either a tier (candidates come from the tier
table, then fit / review alternation / cache awareness re-rank inside it) or a
model / chain chosen outright.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sidecar.routing.agents import AgentRole
from sidecar.routing.classifier import Classification
from sidecar.routing.settings import Rule


class Decision(NamedTuple):
    method: str
    tier: str | None = None
    model: str | None = None
    chain: tuple[str, ...] = ()
    profile: str | None = None
    confidence: float = 1.0
    override: str | None = None
    why: str = ""


class Policy(NamedTuple):
    """What the decision reads from the config: fixed for a router's life."""

    order: tuple[str, ...]  # tiers, strongest first
    profile_tier: Mapping[str, str]  # profile -> tier
    models: frozenset[str]  # names that can be chosen outright
    rules: tuple[Rule, ...]
    heavy_tags: tuple[str, ...]
    heavy_model: str | None
    ui_tags: tuple[str, ...]
    ui_model: str | None
    sticky_threshold: float


class Facts(NamedTuple):
    """Everything the decision reads about one request (no I/O, no state mutation)."""

    policy: Policy
    header_tier: str | None  # x-tierline-tier
    directive_profile: str | None
    lock: str | None
    named: Decision | None  # ``named_choice`` of the requested model
    tags: tuple[str, ...]
    role: AgentRole
    harness: str
    headers: Mapping[str, str]
    tokens: int
    session_tier: str | None


def _target(p: Policy, value: str) -> tuple[str | None, str | None, str | None]:
    """(tier, model, profile) a header/lock value names: a tier, a profile or a model."""
    if value in p.order:
        return value, None, None
    if value == "auto":
        return None, None, None
    if value in p.profile_tier:
        return p.profile_tier[value], None, value
    if value in p.models:
        return None, value, None
    return None, None, None


def explicit(
    p: Policy,
    header_tier: str | None,
    directive_profile: str | None,
    lock: str | None,
    named: Decision | None,
) -> Decision | None:
    """The explicit choice (step 1), if any, from the ``Facts`` fields of the same names;
    it needs no classification of the turn and no other fact, so a caller may build
    ``Facts`` and classify the turn only when this returns None."""
    if header_tier:
        tier, model, profile = _target(p, header_tier)
        if tier or model:
            why = f"x-tierline-tier: {header_tier}"
            return Decision("header", tier, model, (), profile, 1.0, "header", why)
    if directive_profile:
        tier = p.profile_tier[directive_profile]
        why = f"directive for this message -> {directive_profile}"
        return Decision("directive", tier, None, (), directive_profile, 1.0, "directive", why)
    if lock:
        tier, model, profile = _target(p, lock)
        if tier or model:
            why = f"session locked to {lock} (/auto clears it)"
            return Decision("lock", tier, model, (), profile, 1.0, "lock", why)
    return named


def named_choice(named: tuple[str, str] | None, via: str) -> Decision | None:
    """The choice the client's model name makes, if any (``named``: ("tier"|"model",
    value) the name or the alias ``via`` leads to; ``via``: "" or that alias). The last
    explicit choice; pure, so a caller may memoize it by model name."""
    if not named:
        return None
    kind, value = named
    method = "alias" if via else "explicit"
    why = f"client asked for {value}" + (f" (alias {via})" if via else "")
    if kind == "tier":
        return Decision(method, value, None, (), None, 1.0, "model", why)
    return Decision(method, None, value, (), None, 1.0, "model", why)


def _rule(facts: Facts, verdict: Classification) -> Decision | None:
    agent = facts.role.kind
    for rule in facts.policy.rules:
        if rule.matches(
            facts.tags, verdict.profile, facts.harness, agent, facts.headers, facts.tokens
        ):
            why = f"rule {rule.name!r}"
            return Decision(
                "rule", rule.tier, rule.model, rule.chain, verdict.profile, 1.0, None, why
            )
    return None


def _tags(facts: Facts, verdict: Classification) -> Decision | None:
    if not facts.tags:
        return None
    p = facts.policy
    for tags, model, kind in (
        (p.heavy_tags, p.heavy_model, "heavy"),
        (p.ui_tags, p.ui_model, "ui"),
    ):
        hit = [t for t in facts.tags if t in tags]
        if hit and model:
            why = f"{kind} tag {hit[0]} -> {model}"
            return Decision("tag", None, model, (), verdict.profile, 1.0, None, why)
    return None


def _classified(facts: Facts, v: Classification) -> Decision:
    p = facts.policy
    tier = p.profile_tier[v.profile]
    why = f"{v.method}: {v.profile} ({v.confidence:.2f})"
    current = facts.session_tier
    if current and current in p.order and current != tier and v.confidence < p.sticky_threshold:
        why += f"; kept {current}: not sure enough to switch from it"
        return Decision("sticky", current, None, (), v.profile, v.confidence, None, why)
    return Decision(v.method, tier, None, (), v.profile, v.confidence, None, why)


AGENT_HARNESSES = frozenset({"claude_code", "opencode", "codex", "aider", "openhands"})


def _floor(facts: Facts, d: Decision) -> Decision:
    """A coding agent's primary requests never go below the coding tier (a plain SDK
    call is not an agent: its one-line questions may go to the quick tier)."""
    if facts.role.kind != "primary" or d.tier is None or facts.harness not in AGENT_HARNESSES:
        return d
    floor = facts.policy.profile_tier["coder"]
    order = facts.policy.order
    if d.tier in order and floor in order and order.index(d.tier) > order.index(floor):
        why = d.why + f"; primary agent floor -> {floor}"
        return Decision("floor", floor, None, (), d.profile, d.confidence, None, why)
    return d


def decide(facts: Facts, verdict: Classification) -> Decision:
    """The routing decision (see the module docstring for precedence); ``verdict``: the
    classifier's answer for this turn (heuristic, phase, LLM)."""
    f = facts
    found = explicit(f.policy, f.header_tier, f.directive_profile, f.lock, f.named) or _rule(
        facts, verdict
    )
    if found:
        return found
    if facts.role.quick:
        quick = facts.policy.profile_tier["assistant"]
        why = f"{facts.role.kind} request ({facts.role.what}) -> {quick}"
        return Decision("agent", quick, None, (), "assistant", 0.9, None, why)
    return _tags(facts, verdict) or _floor(facts, _classified(facts, verdict))
