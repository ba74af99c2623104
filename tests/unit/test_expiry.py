"""Expiry: asyncio.timeout's contract (TimeoutError when the deadline passes, an outside
cancellation stays a CancelledError, nothing left armed after the block)."""

from __future__ import annotations

import asyncio

import pytest

from sidecar.upstream.expiry import Expiry


async def test_a_passed_deadline_raises_timeout_error_in_the_block() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    with pytest.raises(TimeoutError):
        with Expiry(loop, asyncio.current_task(), loop.time()):
            await never
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await asyncio.sleep(0)  # the task is not cancelled later either


async def test_expire_cancels_now_and_a_block_that_finishes_leaves_nothing_armed() -> None:
    loop = asyncio.get_running_loop()
    gate: asyncio.Future[None] = loop.create_future()
    with pytest.raises(TimeoutError):
        with Expiry(loop, asyncio.current_task(), None) as expiry:
            loop.call_soon(expiry.expire)
            await gate
    done: asyncio.Future[int] = loop.create_future()
    with Expiry(loop, asyncio.current_task(), loop.time() + 60) as expiry:
        loop.call_soon(done.set_result, 7)
        assert await done == 7
    assert not expiry.expired and expiry._handle is None


async def test_an_outside_cancellation_stays_a_cancellation() -> None:
    loop = asyncio.get_running_loop()
    inside = asyncio.Event()
    seen: list[type[BaseException]] = []

    async def guarded() -> None:
        try:
            with Expiry(loop, asyncio.current_task(), loop.time() + 60):
                inside.set()
                await loop.create_future()
        except BaseException as exc:
            seen.append(type(exc))
            raise

    task = asyncio.create_task(guarded())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [asyncio.CancelledError]


async def test_both_at_once_the_outside_cancellation_wins() -> None:
    """The deadline fires and the client leaves in the same turn: not a timeout."""
    loop = asyncio.get_running_loop()
    inside = asyncio.Event()

    async def guarded() -> None:
        with Expiry(loop, asyncio.current_task(), None) as expiry:
            inside.set()
            waiter = loop.create_future()
            loop.call_soon(expiry.expire)
            await waiter

    task = asyncio.create_task(guarded())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_it_needs_a_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError):
            Expiry(loop, None, None)
    finally:
        loop.close()
