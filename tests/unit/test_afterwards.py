"""Afterwards: the queue of work requests leave for after their responses."""

from __future__ import annotations

import asyncio
import contextvars
import logging

import pytest

from sidecar.ingress.afterwards import Afterwards

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def test_runs_after_the_delay_in_order_in_the_adders_context() -> None:
    later = Afterwards(0.001)
    seen: list[tuple[str, str]] = []
    done = asyncio.Event()
    for name in ("a", "b"):
        VAR.set(name)
        later.add(lambda n: seen.append((n, VAR.get())), name)
    later.add(done.set)
    assert seen == [] and len(later) == 3  # not while the adder runs
    await asyncio.wait_for(done.wait(), 5)
    assert seen == [("a", "a"), ("b", "b")] and len(later) == 0


async def test_flush_runs_now_and_only_once() -> None:
    later = Afterwards(0.001)
    ran: list[int] = []
    later.add(ran.append, 1)
    later.flush()
    assert ran == [1] and len(later) == 0
    done = asyncio.Event()
    later.add(done.set)  # a new batch arms its own timer
    await asyncio.wait_for(done.wait(), 5)
    assert ran == [1]  # the first timer was cancelled: nothing ran twice


async def test_a_failing_call_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    later = Afterwards(3600)
    ran: list[str] = []

    def boom() -> None:
        raise ValueError("bug")

    later.add(boom)
    later.add(ran.append, "after")
    with caplog.at_level(logging.ERROR, logger="tierline.ingress"):
        later.flush()
    assert ran == ["after"]
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is ValueError


async def test_work_queued_while_running_runs_in_the_same_pass() -> None:
    later = Afterwards(3600)
    ran: list[str] = []
    later.add(lambda: later.add(ran.append, "queued by a call"))
    later.flush()
    assert ran == ["queued by a call"] and len(later) == 0
