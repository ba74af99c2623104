"""Typed reading of TOML tables into dataclass fields, collecting every problem.

The config loader (``sidecar.config``) uses these helpers so that each section
is checked the same way: a key that is not a field of the target dataclass is
an error with the closest known key suggested; a value is converted according
to the field's annotation (``int``, ``float``, ``bool``, ``str``, ``Literal``,
``X | None``, ``tuple[X, ...]``, ``Mapping[str, X]``, ``Any``) or reported with
its key path. Nothing here raises: problems go into an ``Issues`` collector
and the caller raises ``ConfigError`` once at the end.

Pure: no I/O, no logging, no module-level mutable state.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

# A converter gets (value, key path, issues) and returns the converted value or
# INVALID after recording why.
INVALID: Any = object()
Converter = Callable[[Any, str, "Issues"], Any]
Check = Callable[[Any], "str | None"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

# Keys people write from other tools' configs, mapped to ours (difflib does not
# find these by spelling).
_HINTS: Mapping[str, str] = types.MappingProxyType(
    {
        "auth": "api_keys",
        "api_key": "api_keys",
        "key": "api_keys",
        "keys": "api_keys",
        "url": "base_url",
        "api_base": "base_url",
        "model": "upstream",
        "cheap_default": "default_model",
        "default": "default_model",
        "listen": "host",
    }
)


class Issues:
    """Collects (key path, reason) errors and warnings while a config is read."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []
        # Key paths of tables that were declared but are invalid (already
        # reported): references to them are not reported again.
        self.invalid: set[str] = set()

    def error(self, path: str, reason: str) -> None:
        self.errors.append((path, reason))

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append((path, reason))


def join(path: str, key: str) -> str:
    """``path.key``, quoting ``key`` the TOML way when it is not a bare key."""
    part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.date | datetime.time):
        return "date/time"
    return type(value).__name__


def suggest(key: str, known: Iterable[str]) -> str | None:
    """The known key closest to ``key`` (a hint table first, then spelling)."""
    known = list(known)
    hint = _HINTS.get(key)
    if hint in known:
        return hint
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    # A shortened name: "ttl" for "ttl_seconds", "cache" for "cache_read".
    prefixed = [k for k in known if k.startswith(key + "_")]
    return prefixed[0] if len(prefixed) == 1 else None


def unknown_keys(table: Mapping[str, Any], known: Iterable[str], path: str, issues: Issues) -> None:
    """Record an error for each key of ``table`` that is not in ``known``."""
    known = list(known)
    for key in table:
        if key in known:
            continue
        close = suggest(key, known)
        hint = f" (did you mean {close!r}?)" if close else f" (known keys: {', '.join(known)})"
        issues.error(join(path, key), "unknown key" + hint)


def expect_table(value: Any, path: str, issues: Issues) -> Mapping[str, Any] | None:
    """``value`` if it is a table, else None after recording a type error."""
    if isinstance(value, dict):
        return value
    issues.error(path, f"expected a table, got {toml_type(value)}")
    return None


def convert(value: Any, annotation: Any, path: str, issues: Issues) -> Any:
    """Convert a TOML value to ``annotation`` or return INVALID (reason recorded)."""
    if annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        # TOML has no null: ``X | None`` only means the key may be absent.
        inner = [a for a in args if a is not type(None)]
        return convert(value, inner[0] if len(inner) == 1 else Any, path, issues)
    if origin is Literal:
        if value in args and type(value) is type(args[0]):
            return value
        choices = ", ".join(repr(a) for a in args)
        issues.error(path, f"must be one of {choices} (got {value!r})")
        return INVALID
    if origin is tuple:
        return _convert_tuple(value, args[0], path, issues)
    if origin in (Mapping, dict):
        return _convert_mapping(value, args[1], path, issues)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        table = expect_table(value, path, issues)
        if table is None:
            return INVALID
        return annotation(**read_fields(annotation, table, path, issues))
    return _convert_scalar(value, annotation, path, issues)


def _convert_scalar(value: Any, annotation: Any, path: str, issues: Issues) -> Any:
    if annotation is bool and isinstance(value, bool):
        return value
    if annotation is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if annotation is str and isinstance(value, str):
        return value
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    wanted = names.get(annotation, str(annotation))
    issues.error(path, f"expected {wanted}, got {toml_type(value)}")
    return INVALID


def _convert_tuple(value: Any, item: Any, path: str, issues: Issues) -> Any:
    if not isinstance(value, list):
        issues.error(path, f"expected an array, got {toml_type(value)}")
        return INVALID
    out = [convert(v, item, f"{path}[{i}]", issues) for i, v in enumerate(value)]
    return INVALID if any(v is INVALID for v in out) else tuple(out)


def _convert_mapping(value: Any, item: Any, path: str, issues: Issues) -> Any:
    table = expect_table(value, path, issues)
    if table is None:
        return INVALID
    out = {k: convert(v, item, join(path, k), issues) for k, v in table.items()}
    return INVALID if any(v is INVALID for v in out.values()) else out


def field_names(cls: type, exclude: Iterable[str] = ()) -> list[str]:
    """The TOML keys a dataclass accepts: its field names minus ``exclude``."""
    skip = set(exclude)
    return [f.name for f in dataclasses.fields(cls) if f.name not in skip]


def read_fields(
    cls: type,
    table: Mapping[str, Any],
    path: str,
    issues: Issues,
    *,
    exclude: Iterable[str] = (),
    custom: Mapping[str, Converter] | None = None,
    checks: Mapping[str, Check] | None = None,
    extra_keys: Iterable[str] = (),
) -> dict[str, Any]:
    """Keyword arguments for ``cls`` from the keys present in ``table``.

    Keys absent from ``table`` are left out (the dataclass default applies).
    ``exclude`` names fields that are not TOML keys (e.g. ``name``);
    ``custom`` overrides the annotation-driven converter for a field;
    ``checks`` adds a value check (returns a reason or None) after conversion;
    ``extra_keys`` are accepted but handled by the caller (left out here).
    Invalid values are recorded and left out.
    """
    known = field_names(cls, exclude)
    unknown_keys(table, [*known, *extra_keys], path, issues)
    hints = _type_hints(cls)
    out: dict[str, Any] = {}
    for name in known:
        if name not in table:
            continue
        key_path = join(path, name)
        conv = (custom or {}).get(name)
        if conv is not None:
            value = conv(table[name], key_path, issues)
        else:
            value = convert(table[name], hints[name], key_path, issues)
        if value is INVALID:
            continue
        reason = (checks or {}).get(name, _no_check)(value)
        if reason:
            issues.error(key_path, reason)
            continue
        out[name] = value
    return out


@functools.cache
def _type_hints(cls: type) -> Mapping[str, Any]:
    """Resolved field annotations of a (frozen, import-time) dataclass; read-only."""
    return types.MappingProxyType(typing.get_type_hints(cls))


def _no_check(value: Any) -> str | None:
    return None


# ---- value checks (return a reason or None) ----


def port(value: Any) -> str | None:
    if 0 <= value <= 65535:
        return None
    return f"port must be between 0 and 65535 (got {value})"


def positive(value: Any) -> str | None:
    return None if value > 0 else f"must be greater than 0 (got {value})"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else f"must not be negative (got {value})"


def url(value: Any, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """A reason if ``value`` is not an absolute URL with one of ``schemes``."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in schemes or not parts.hostname:
        want = " or ".join(f"{s}://" for s in schemes)
        return f"must be an absolute {want} URL (got {value!r})"
    if parts.query or parts.fragment:
        return f"must not contain a query or fragment (got {value!r})"
    return None


def as_of(value: Any, path: str, issues: Issues) -> Any:
    """A price date: a TOML date or a string, kept as an ISO string."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    issues.error(path, f"expected a date or a string, got {toml_type(value)}")
    return INVALID
