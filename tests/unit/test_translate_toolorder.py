"""ToolOrder: interleaved parallel tool-call pieces become contiguous calls, none dropped."""

from __future__ import annotations

import pytest

from sidecar.protocols.translate_toolorder import ToolOrder, complete

Piece = tuple[int, str]  # (OpenAI index, argument piece)


def _run(pieces: list[Piece]) -> list[tuple[str, int, str]]:
    order = ToolOrder()
    steps = []
    for index, text in pieces:
        steps += order.feed(index, f"id{index}", f"tool{index}", text)
    steps += order.flush()
    return [(s.kind, s.call.index, s.text) for s in steps]


CASES: list[tuple[str, list[Piece], list[tuple[str, int, str]]]] = [
    (
        "one call in pieces: all live",
        [(0, '{"a"'), (0, ": 1}")],
        [("open", 0, ""), ("args", 0, '{"a"'), ("args", 0, ": 1}"), ("close", 0, "")],
    ),
    (
        "sequential calls: the next opens live once the first is complete",
        [(0, '{"a": 1}'), (1, '{"b"'), (1, ": 2}")],
        [
            ("open", 0, ""), ("args", 0, '{"a": 1}'), ("close", 0, ""),
            ("open", 1, ""), ("args", 1, '{"b"'), ("args", 1, ": 2}"), ("close", 1, ""),
        ],
    ),
    (
        "interleaved: 0 stays live, 1 is held and follows whole",
        [(0, '{"a"'), (1, '{"b"'), (0, ": 1"), (1, ": 2}"), (0, "}")],
        [
            ("open", 0, ""), ("args", 0, '{"a"'), ("args", 0, ": 1"), ("args", 0, "}"),
            ("close", 0, ""), ("open", 1, ""), ("args", 1, '{"b": 2}'), ("close", 1, ""),
        ],
    ),
    (
        "a held call becomes live when the live one completes, then streams live",
        [(0, '{"a"'), (1, '{"b"'), (0, ": 1}"), (1, ": 2"), (1, "}")],
        [
            ("open", 0, ""), ("args", 0, '{"a"'), ("args", 0, ": 1}"),
            ("close", 0, ""), ("open", 1, ""), ("args", 1, '{"b"'),
            ("args", 1, ": 2"), ("args", 1, "}"), ("close", 1, ""),
        ],
    ),
    (
        "three calls, held in order of first appearance",
        [(0, "{"), (2, '{"c": 3}'), (1, '{"b": 2}'), (0, "}")],
        [
            ("open", 0, ""), ("args", 0, "{"), ("args", 0, "}"), ("close", 0, ""),
            ("open", 2, ""), ("args", 2, '{"c": 3}'), ("close", 2, ""),
            ("open", 1, ""), ("args", 1, '{"b": 2}'), ("close", 1, ""),
        ],
    ),
    (
        "a call with no arguments at all",
        [(0, ""), (1, "{}")],
        [("open", 0, ""), ("close", 0, ""), ("open", 1, ""), ("args", 1, "{}"), ("close", 1, "")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("pieces", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_order(pieces: list[Piece], expected: list[tuple[str, int, str]]) -> None:
    steps = _run(pieces)
    assert steps == expected
    sent: dict[int, str] = {}
    for kind, index, text in steps:
        if kind == "args":
            sent[index] = sent.get(index, "") + text
    for index in {i for i, _ in pieces}:  # nothing dropped, nothing reordered within a call
        assert sent.get(index, "") == "".join(t for i, t in pieces if i == index)


def test_a_piece_after_the_call_was_sent_is_kept_and_counted() -> None:
    order = ToolOrder()
    order.feed(0, "id0", "t", "{}")
    order.flush()
    assert order.feed(0, "", "", " ") == []
    assert order.calls[0].arguments == "{} " and order.calls[0].late == 1


@pytest.mark.parametrize(
    ("text", "whole"),
    [("{}", True), ('{"a": [1, 2]}', True), ('{"a": "}"', False), ("1", False), ("", False)],
)
def test_complete(text: str, whole: bool) -> None:
    assert complete(text) is whole


def test_an_index_reused_with_a_new_id_after_a_complete_call_is_a_new_call() -> None:
    order = ToolOrder()
    steps = order.feed(0, "call_a", "Read", '{"path": "a"}')
    steps += order.feed(0, "call_b", "Read", '{"path"')
    steps += order.feed(0, "", "", ': "b"}')
    steps += order.flush()
    assert [(s.kind, s.call.call_id, s.text) for s in steps] == [
        ("open", "call_a", ""), ("args", "call_a", '{"path": "a"}'), ("close", "call_a", ""),
        ("open", "call_b", ""), ("args", "call_b", '{"path"'), ("args", "call_b", ': "b"}'),
        ("close", "call_b", ""),
    ]  # fmt: skip
