"""Codex's freeform ``exec`` tool: the nested tool calls in its JavaScript, and its output.

Codex CLI (0.169, with a model it has metadata for) offers the model one freeform
tool, ``exec``, whose input is a JavaScript program calling the real tools on a
``tools`` object: ``await tools.apply_patch("*** Begin Patch ...")``,
``await tools.exec_command({cmd: "git commit -m x"})``, ``tools.shell({command:
[...]})``. Several calls may sit in one program.

``nested_calls(source)`` reads the program with a small, strict scanner (no
evaluation): comments, string, template and regex literals are skipped, and at
each ``tools.NAME(`` outside them the first argument is read if it is static:

- a string literal (``'...'``, ``"..."``, or a template literal without
  ``${...}``; escapes ``\\n \\t \\r \\b \\f \\v \\0 \\xHH \\uHHHH \\u{H..}``, quotes,
  backslashes and line continuations), or several of them joined with ``+``;
- an object literal (keys plain, quoted or numeric) whose values are such
  strings, numbers, ``true``/``false``/``null``, arrays or objects of them; a
  property whose value is anything else is left out of the object;
- an array of such values (an element that is not static drops the array).

Anything else (a variable, a call, an interpolated template, ``String.raw``) is
dynamic: that call is left out, and so is a literal with more than 20,000 rare
escapes (``\\x41``, ``\\u0041``, ``\\0``...: decoded one by one, ~1 µs each).
Malformed or oversized programs give what was read before the problem, never an
exception. What ``exec`` returned is read by ``exec_output``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = ["MAX_CALLS", "MAX_SOURCE", "nested_calls"]

MAX_SOURCE = 512 * 1024  # characters of program read; the rest is ignored
MAX_CALLS = 64  # nested tool calls read per program
_MAX_DEPTH = 8  # nesting of object/array literals
_MAX_SLOW_ESCAPES = 20_000  # escapes decoded one by one (JSON-compatible literals: no limit)

# The next thing the scanner must look at: a literal, a slash, or a ``tools.NAME(`` call.
_NEXT = re.compile(r"""['"`/]|(?<![\w$.])tools\s*\.\s*([A-Za-z_$][\w$]*)\s*\(""")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)")
_WS = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
# A whole '...' / "..." literal, and a template's text up to its closing backtick or
# first ``${`` (unrolled loops: the regex engine, not Python, walks long patches).
_QUOTED = {
    '"': re.compile(r'"([^"\\\n\r]*(?:\\[\s\S][^"\\\n\r]*)*)"'),
    "'": re.compile(r"'([^'\\\n\r]*(?:\\[\s\S][^'\\\n\r]*)*)'"),
}
_TEMPLATE_TEXT = re.compile(r"[^`\\$]*(?:(?:\\[\s\S]|\$(?!\{))[^`\\$]*)*")
_ESCAPE = re.compile(r'(?<!\\)(?:\\\\)*\\[^"\\/bfnrtu]|[\x00-\x1f]')
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0",
            "\r\n": "", "\r": "", "\n": "", "\u2028": "", "\u2029": ""}
_SIMPLE_ESCAPES = (
    ("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r"), ("\\'", "'"), ('\\"', '"'), ("\\`", "`"),
    ("\\$", "$"), ("\\/", "/"),
)
_PARKED = "\ue000"  # stands in for an escaped backslash while the others are decoded
_REGEX_BEFORE = frozenset("(,=:[!&|?{};+-*%<>~^")
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


class _NotStatic(Exception):
    """The expression at hand is not a static literal (or the source is malformed)."""


def nested_calls(source: str) -> list[tuple[str, Any]]:
    """``(tool name, static first argument)`` of each ``tools.NAME(...)`` call, in order.

    Calls whose argument is dynamic are left out; never raises.
    """
    src = source[:MAX_SOURCE]
    calls: list[tuple[str, Any]] = []
    i = 0
    while len(calls) < MAX_CALLS:
        match = _NEXT.search(src, i)
        if match is None:
            break
        if match.group(1) is not None:
            arg, end = _argument(src, match.end())
            if arg is not _DYNAMIC:
                calls.append((match.group(1), arg))
            i = end  # a dynamic argument's literals are skipped by the branches below
            continue
        try:
            i = _skip_token(src, match.start())
        except RecursionError:  # templates nested hundreds deep
            break
        if i < 0:
            break  # unterminated literal or comment: nothing after it can be trusted
    return calls


_DYNAMIC: Any = object()  # immutable sentinel: "this argument is not static"


def _argument(src: str, i: int) -> tuple[Any, int]:
    """The static first argument at ``i`` and the index after it, or ``(_DYNAMIC, i)``."""
    try:
        value, end = _value(src, i, 0)
        end = _ws(src, end)
        if src[end] not in ",)":
            return _DYNAMIC, i
        return value, end
    except (_NotStatic, IndexError, RecursionError):
        return _DYNAMIC, i


def _skip_token(src: str, i: int) -> int:
    """Index after the literal or comment starting at ``i`` (or ``i + 1``); -1 if unterminated."""
    c = src[i]
    if c in "'\"`":
        return _skip_string(src, i)
    nxt = src[i + 1 : i + 2]
    if nxt == "/":
        end = src.find("\n", i)
        return len(src) if end < 0 else end
    if nxt == "*":
        end = src.find("*/", i + 2)
        return -1 if end < 0 else end + 2
    before = _previous(src, i)
    if before == "" or before in _REGEX_BEFORE:
        return _skip_regex(src, i)
    return i + 1  # division


def _previous(src: str, i: int) -> str:
    """The last non-blank character before ``i`` ('' at the start)."""
    j = i - 1
    while j >= 0 and src[j] in " \t\r\n":
        j -= 1
    return src[j] if j >= 0 else ""


def _skip_regex(src: str, i: int) -> int:
    j, in_class = i + 1, False
    while j < len(src):
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n":
            return i + 1  # not a regex after all
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            return j + 1
        j += 1
    return i + 1


def _skip_string(src: str, i: int) -> int:
    """Index after the string or template literal at ``i`` (templates may nest); -1 if open."""
    quote = src[i]
    if quote != "`":
        match = _QUOTED[quote].match(src, i)
        return match.end() if match else -1
    j = i + 1
    while True:
        j = _template_text_end(src, j)
        if j >= len(src) or src[j] == "\\":
            return -1
        if src[j] == "`":
            return j + 1
        j = _skip_balanced(src, j + 2, "}")  # at "${"
        if j < 0:
            return -1


def _template_text_end(src: str, i: int) -> int:
    """Index of the closing backtick or ``${`` after template text starting at ``i``."""
    match = _TEMPLATE_TEXT.match(src, i)
    return match.end() if match else i  # the pattern matches '' at least


def _skip_balanced(src: str, i: int, closer: str) -> int:
    """Index after the ``closer`` that ends the bracketed expression opened before ``i``."""
    depth, n = 1, len(src)
    while i < n:
        c = src[i]
        if c in "'\"`":
            i = _skip_string(src, i)
            if i < 0:
                return -1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1 if c == closer else -1
        i += 1
    return -1


def _skip_expression(src: str, i: int) -> int:
    """Index of the ``,`` or closing bracket ending the expression at ``i`` (depth 0)."""
    n = len(src)
    while i < n:
        c = src[i]
        if c in "'\"`":
            i = _skip_string(src, i)
        elif c in "([{":
            i = _skip_balanced(src, i + 1, {"(": ")", "[": "]", "{": "}"}[c])
        elif c in ",)]}":
            return i
        else:
            i += 1
        if i < 0:
            break
    raise _NotStatic


# -- static values ---------------------------------------------------------------------


def _ws(src: str, i: int) -> int:
    match = _WS.match(src, i)
    return match.end() if match else i


def _value(src: str, i: int, depth: int) -> tuple[Any, int]:
    i = _ws(src, i)
    c = src[i]
    if c in "'\"`":
        return _strings(src, i)
    if depth >= _MAX_DEPTH:
        raise _NotStatic
    if c == "{":
        return _object(src, i + 1, depth + 1)
    if c == "[":
        return _array(src, i + 1, depth + 1)
    number = _NUMBER.match(src, i)
    if number:
        digits = number.group()
        return (int(digits, 16) if "x" in digits.lower() else float(digits)), number.end()
    ident = _IDENT.match(src, i)
    if ident and ident.group() in _CONSTANTS:
        return _CONSTANTS[ident.group()], ident.end()
    raise _NotStatic


def _strings(src: str, i: int) -> tuple[str, int]:
    """One string literal, or several joined with ``+``."""
    parts: list[str] = []
    while True:
        text, i = _literal(src, i)
        parts.append(text)
        j = _ws(src, i)
        if src[j : j + 1] != "+":
            return "".join(parts), i
        k = _ws(src, j + 1)
        if src[k : k + 1] not in ("'", '"', "`"):
            raise _NotStatic  # "a" + name
        i = k


def _object(src: str, i: int, depth: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while True:
        i = _ws(src, i)
        if src[i] == "}":
            return out, i + 1
        key, i = _key(src, i)
        i = _ws(src, i)
        if key is not None and src[i] == ":":
            try:
                value, end = _value(src, i + 1, depth)
                end = _ws(src, end)
                if src[end] not in ",}":
                    raise _NotStatic
                out[key] = value
                i = end
            except _NotStatic:
                i = _skip_expression(src, i + 1)  # a dynamic property: left out
        else:
            i = _skip_expression(src, i)  # shorthand, spread, method, computed key
        if src[i] == ",":
            i += 1
        elif src[i] != "}":
            raise _NotStatic


def _key(src: str, i: int) -> tuple[str | None, int]:
    c = src[i]
    if c in "'\"":
        return _literal(src, i)
    match = _IDENT.match(src, i) or _NUMBER.match(src, i)
    if match:
        return match.group(), match.end()
    return None, i


def _array(src: str, i: int, depth: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while True:
        i = _ws(src, i)
        if src[i] == "]":
            return out, i + 1
        value, i = _value(src, i, depth)
        out.append(value)
        i = _ws(src, i)
        if src[i] == ",":
            i += 1
        elif src[i] != "]":
            raise _NotStatic


def _literal(src: str, i: int) -> tuple[str, int]:
    """The text of the string or template literal at ``i`` and the index after it."""
    quote = src[i]
    if quote == "`":
        end = _template_text_end(src, i + 1)
        if src[end] != "`":
            raise _NotStatic  # ${...} (or unterminated: IndexError)
        body = src[i + 1 : end].replace("\r\n", "\n").replace("\r", "\n")
        end += 1
    else:
        match = _QUOTED[quote].match(src, i)
        if match is None:
            raise _NotStatic  # unterminated, or a raw line break
        body, end = match.group(1), match.end()
    return _unescape(body, quote), end


def _unescape(body: str, quote: str) -> str:
    if "\\" not in body:
        return body
    if quote == '"' or (quote == "'" and '"' not in body):
        try:  # JSON's escapes mean the same in JavaScript; JSON.stringify output decodes in C
            text: str = orjson.loads('"' + body + '"')
            return text
        except orjson.JSONDecodeError:
            pass  # \' \x41 \v \0 \u{...}, a raw tab, a lone surrogate: the slow path
    # Backslash pairs first (left to right, as JavaScript reads them), parked on a
    # private-use character; then the common escapes by str.replace; what is left
    # (and everything when the body holds that character) goes through _escape.
    text = body
    if _PARKED not in body:
        text = body.replace("\\\\", _PARKED)
        for escape, char in _SIMPLE_ESCAPES:
            text = text.replace(escape, char)
    if "\\" in text:
        if text.count("\\") > _MAX_SLOW_ESCAPES:
            raise _NotStatic  # bounded work on the event loop: such a literal is not read
        text = _ESCAPE.sub(_escape, text)
    if _PARKED not in body:
        text = text.replace(_PARKED, "\\")
    if _SURROGATE.search(text):  # "\uD83D\uDE00": a pair written as two escapes
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _escape(match: re.Match[str]) -> str:
    """The character(s) one escape sequence stands for (``match.group(1)`` follows ``\\``)."""
    seq = match.group(1)
    if seq in _ESCAPES:
        if seq == "0" and match.string[match.end() : match.end() + 1].isdigit():
            raise _NotStatic  # \01: a legacy octal escape
        return _ESCAPES[seq]
    if seq in "123456789ux" and len(seq) == 1:
        raise _NotStatic  # octal, or \u / \x without their hex digits
    if seq[0] == "u" and len(seq) > 1:
        code = int(seq[2:-1] if seq[1] == "{" else seq[1:], 16)
        if code > 0x10FFFF:
            raise _NotStatic
        return chr(code)
    if seq[0] == "x" and len(seq) == 3:
        return chr(int(seq[1:], 16))
    return seq  # \" \' \\ \` \$ \/ and any other identity escape
