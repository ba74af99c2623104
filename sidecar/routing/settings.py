"""The router's own settings, parsed from the sub-tables ``RoutingConfig`` keeps raw.

``[routing.classifier]``::

    threshold = 0.5          # heuristic confidence under which the LLM classifier may run
    sticky_threshold = 0.55  # a tier change with less confidence than this is ignored
    llm = false              # the LLM classifier (off: it sends prompt text to a model)
    providers = []           # providers whose quick-tier models may classify
    timeout = 3.0            # seconds
    max_chars = 500          # of the user message sent to the classifier
    cache_size = 2048

``[[routing.rules]]`` (evaluated in order; first match acts)::

    [[routing.rules]]
    name = "infra reviews"
    match = { tags = ["terraform"], profile = "reviewer", harness = "claude_code",
              agent = "primary", header = { "x-team" = "infra" }, min_tokens = 0, max_tokens = 1e9 }
    tier = "reasoning"        # or model = "opus", or chain = ["opus", "sonnet"]

``[routing.profiles.NAME]`` (planner, debugger, reviewer, coder, refactorer, assistant)::

    tier = "orchestrator"     # which tier this profile maps to (default: reasoning/coding/quick)
    system_addendum = "..."   # appended after the harness's system prompt (off unless set)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sidecar.config import ConfigError

_AGENTS = ("primary", "subagent", "background", "any")
# What sidecar.sessions.identity.detect_harness produces (rules' match.harness values).
HARNESSES = ("claude_code", "opencode", "codex", "aider", "openhands", "sdk", "unknown")


@dataclass(frozen=True)
class ClassifierSettings:
    threshold: float = 0.5
    sticky_threshold: float = 0.55
    llm: bool = False
    providers: tuple[str, ...] = ()
    timeout: float = 3.0
    max_chars: int = 500
    cache_size: int = 2048


@dataclass(frozen=True)
class Rule:
    name: str
    tags: tuple[str, ...] = ()  # all must be present
    profile: tuple[str, ...] = ()  # any of
    harness: tuple[str, ...] = ()  # any of
    agent: str = "any"
    header: Mapping[str, str] = field(default_factory=dict)  # lower-case name -> value ("*" any)
    min_tokens: int = 0
    max_tokens: int | None = None
    tier: str | None = None
    model: str | None = None
    chain: tuple[str, ...] = ()

    def matches(
        self,
        tags: tuple[str, ...],
        profile: str,
        harness: str,
        agent: str,
        headers: Mapping[str, str],
        tokens: int,
    ) -> bool:
        if self.tags and not set(self.tags) <= set(tags):
            return False
        if self.profile and profile not in self.profile:
            return False
        if self.harness and harness not in self.harness:
            return False
        if self.agent != "any" and agent != self.agent:
            return False
        for key, want in self.header.items():
            got = headers.get(key)
            if got is None or (want != "*" and got != want):
                return False
        return tokens >= self.min_tokens and (self.max_tokens is None or tokens <= self.max_tokens)


@dataclass(frozen=True)
class ProfileSettings:
    tier: str | None = None
    system_addendum: str = ""


def _strs(value: Any, path: str, errors: list[tuple[str, str]]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    errors.append((path, "expected a string or an array of strings"))
    return ()


def parse_classifier(raw: Mapping[str, Any]) -> ClassifierSettings:
    errors: list[tuple[str, str]] = []
    known = ClassifierSettings.__dataclass_fields__
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"routing.classifier.{key}"
        if key not in known:
            errors.append((path, f"unknown key (known keys: {', '.join(known)})"))
        elif key == "providers":
            kwargs[key] = _strs(value, path, errors)
        elif key == "llm":
            if isinstance(value, bool):
                kwargs[key] = value
            else:
                errors.append((path, "expected true or false"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            kwargs[key] = type(getattr(ClassifierSettings(), key))(value)
        else:
            errors.append((path, "expected a number"))
    if errors:
        raise ConfigError(errors)
    return ClassifierSettings(**kwargs)


def _rule(i: int, raw: Mapping[str, Any], errors: list[tuple[str, str]]) -> Rule | None:
    path = f"routing.rules[{i}]"
    match = raw.get("match", {})
    if not isinstance(match, Mapping):
        errors.append((f"{path}.match", "expected a table"))
        return None
    acts = [k for k in ("tier", "model", "chain") if k in raw]
    if len(acts) != 1:
        errors.append((path, "needs exactly one of tier, model, chain"))
        return None
    agent = str(match.get("agent", "any"))
    if agent not in _AGENTS:
        errors.append((f"{path}.match.agent", f"expected one of {', '.join(_AGENTS)}"))
    header = match.get("header", {})
    if not isinstance(header, Mapping):
        errors.append((f"{path}.match.header", "expected a table of header = value"))
        header = {}
    max_tokens = match.get("max_tokens")
    return Rule(
        name=str(raw.get("name", f"rule {i + 1}")),
        tags=_strs(match.get("tags", []), f"{path}.match.tags", errors),
        profile=_strs(match.get("profile", []), f"{path}.match.profile", errors),
        harness=_strs(match.get("harness", []), f"{path}.match.harness", errors),
        agent=agent,
        header={str(k).lower(): str(v) for k, v in header.items()},
        min_tokens=int(match.get("min_tokens", 0)),
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        tier=str(raw["tier"]) if "tier" in raw else None,
        model=str(raw["model"]) if "model" in raw else None,
        chain=_strs(raw.get("chain", []), f"{path}.chain", errors),
    )


def parse_rules(raw: tuple[Mapping[str, Any], ...]) -> tuple[Rule, ...]:
    errors: list[tuple[str, str]] = []
    rules = [_rule(i, r, errors) for i, r in enumerate(raw)]
    if errors:
        raise ConfigError(errors)
    return tuple(r for r in rules if r is not None)


def parse_profiles(raw: Mapping[str, Any]) -> dict[str, ProfileSettings]:
    out: dict[str, ProfileSettings] = {}
    for name, table in raw.items():
        if not isinstance(table, Mapping):
            raise ConfigError([(f"routing.profiles.{name}", "expected a table")])
        tier = table.get("tier")
        out[name] = ProfileSettings(
            tier=str(tier) if tier else None,
            system_addendum=str(table.get("system_addendum", "")),
        )
    return out
