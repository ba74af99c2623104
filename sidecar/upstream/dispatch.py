"""Dispatch: a flat loop over the plan's candidates, bounded by ``server.deadline``.

For each candidate: skip it when its protocol has no translator, it is cooling
down, or its window is not larger than one that already overflowed; otherwise
try it (keys in turn, brief retries with backoff) and classify each failure
(``providers.classify_*``). The client response is committed only when the
first upstream event with content arrived; after that nothing is retried and a
failure becomes the protocol's error event. The plan is never changed.

Ownership: every upstream response is released (or closed, when not read to
the end) in ``finally``; a cancelled handler (client gone) closes it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson
from aiohttp import (
    ClientError,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    web,
)
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode, Tracer

from sidecar.config import Config, ModelConfig, ProviderConfig
from sidecar.errors import InvalidRequest, UpstreamFailed, error_body, stream_error_event
from sidecar.exchange import Attempt
from sidecar.protocols.tap import Tap, make_tap
from sidecar.routing.plan import RoutePlan
from sidecar.telemetry.spans import client_span_attributes, finish_client_span, inject_trace
from sidecar.upstream import relay
from sidecar.upstream.call import Call
from sidecar.upstream.expiry import Expiry
from sidecar.upstream.health import Health
from sidecar.upstream.outcome import exhausted, response_headers
from sidecar.upstream.prompt_cache import with_breakpoints_bytes
from sidecar.upstream.providers import (
    Failure,
    classify_event_error,
    classify_exception,
    classify_status,
    endpoint_url,
    not_a_stream,
)
from sidecar.upstream.target import (
    EventStream,
    Held,
    Target,
    headers_for,
    read_stream,
    read_whole,
    send_whole,
    timeout_phase,
    traced,
    write_eof_quietly,
    write_quietly,
)
from sidecar.upstream.translators import AttemptInfo, TranslatorPair, next_sequence

_log = logging.getLogger("tierline.dispatch")
_SKIPS = {
    "protocol_mismatch": "no translator from the client's protocol to this provider",
    "cooldown": "cooling down after repeated failures",
    "context_length": "context window not larger than one that overflowed",
    "config": "provider is not configured",
}


class Dispatcher:
    """Owns nothing but references; one per app, built at startup inside the running
    loop (kept: Python 3.11's ``get_running_loop`` makes a ``getpid`` system call)."""

    def __init__(
        self,
        config: Config,
        session: ClientSession,
        health: Health,
        tracer: Tracer,
        translators: Mapping[tuple[str, str], TranslatorPair],
        proxies: Mapping[str, str | None] | None = None,
    ) -> None:
        """``proxies``: provider name -> outbound proxy URL (see ``providers.proxy_for``)."""
        self._server = config.server
        self._providers = config.providers
        self._session = session
        self._health = health
        self._tracer = tracer
        self._urls: dict[tuple[str, str], str] = {}  # (provider, endpoint) -> URL
        self._propagate_trace = config.telemetry.propagate_trace
        self._translators = translators
        self.proxies: Mapping[str, str | None] = proxies or {}
        self._timeout = ClientTimeout(total=None, sock_connect=config.server.connect_timeout)
        self._loop = asyncio.get_running_loop()

    async def run(
        self, request: web.Request, call: Call, plan: RoutePlan, body: Mapping[str, Any]
    ) -> web.StreamResponse:
        """The client's response; raises a ``TierlineError`` when every candidate failed."""
        deadline = self._loop.time() + self._server.deadline
        min_window = 0
        created = int(time.time())
        for model in plan.candidates:
            provider = self._providers.get(model.provider)
            pair = self._translators.get((call.protocol, provider.kind)) if provider else None
            skip = self._skip(model, provider, pair, min_window)
            if skip or provider is None or pair is None:
                call.attempts.append(Attempt(model.name, model.provider, None, skip, _SKIPS[skip]))
                continue
            sent = plan.body_for(call.protocol, model, body)  # clamp_max_tokens
            info = AttemptInfo(model, provider.name, call.stream, call.request_id, created, sent)
            data, client_usage = pair.request(sent, info)
            if provider.prompt_cache == "auto" and provider.kind == "anthropic":
                data = with_breakpoints_bytes(data)  # after translation: every client
            target = Target(
                request, call, plan, model, provider, pair, info,
                self._url(provider), data, client_usage,
            )  # fmt: skip
            outcome = await self._candidate(target, deadline)
            if isinstance(outcome, web.StreamResponse):
                return outcome
            if outcome == "context_length":
                min_window = max(min_window, model.context_window)
            elif outcome == "deadline":
                break
        raise exhausted(call, plan)

    def _url(self, provider: ProviderConfig) -> str:
        """The provider's generation endpoint, computed once per provider (config is frozen)."""
        endpoint = "messages" if provider.kind == "anthropic" else "chat"
        url = self._urls.get((provider.name, endpoint))
        if url is None:
            url = self._urls[(provider.name, endpoint)] = endpoint_url(provider, endpoint)
        return url

    def _span(self, t: Target) -> Span:
        """The attempt's CLIENT span (a shared non-recording one when traces are off)."""
        if not traced(self._tracer):
            return INVALID_SPAN
        return self._tracer.start_span(
            "chat " + t.model.name,
            kind=SpanKind.CLIENT,
            attributes=client_span_attributes(
                t.plan, t.model, t.provider, t.url, t.call.request_id
            ),
        )

    def _skip(
        self,
        model: ModelConfig,
        provider: ProviderConfig | None,
        pair: TranslatorPair | None,
        min_window: int,
    ) -> str:
        if provider is None:
            return "config"
        if pair is None:
            return "protocol_mismatch"
        if min_window and model.context_window <= min_window:
            return "context_length"
        if self._health.cooling(model.name):
            return "cooldown"
        return ""

    async def _candidate(self, t: Target, deadline: float) -> web.StreamResponse | str:
        """Try one candidate: keys in turn, brief retries; a response or why to move on."""
        loop = self._loop
        keys = self._health.keys(t.provider, t.model.upstream)
        if not keys:
            message = "every key is cooling down"
            t.call.attempts.append(
                Attempt(t.model.name, t.provider.name, None, "cooldown", message)
            )
            return "next"
        position = retries = 0
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                t.call.attempts.append(Attempt(t.model.name, t.provider.name, None, "deadline"))
                return "deadline"
            index, key = keys[position]
            result: web.StreamResponse | Failure = await self._attempt(t, key, remaining)
            if not isinstance(result, Failure):
                self._health.success(t.model.name)
                return result
            reason = result.reason
            if reason == "rate_limited":
                upstream = t.model.upstream
                self._health.cool_key(t.provider.name, index, result.retry_after, upstream)
            elif reason == "auth":
                self._health.cool_key(t.provider.name, index)
            if reason in ("rate_limited", "auth") and position + 1 < len(keys):
                position += 1
                continue
            if reason == "bad_request":
                return self._passthrough(t, result)
            if reason in ("auth", "context_length", "not_found"):
                return reason
            delay = self._backoff(retries, result.retry_after)
            if retries < self._server.retries_per_candidate and delay is not None:
                if loop.time() + delay < deadline:
                    retries += 1
                    await asyncio.sleep(delay)
                    continue
            if reason != "rate_limited":
                self._health.failure(t.model.name)
            return "next"

    def _backoff(self, retries: int, retry_after: float | None) -> float | None:
        """Seconds before the next try; None when the provider asks for longer than the cap."""
        cap = self._server.backoff_max
        if retry_after is not None:
            return retry_after if retry_after <= cap else None
        jitter: float = 0.5 + random.random() / 2
        return min(self._server.backoff_base * float(2**retries) * jitter, cap)

    async def _attempt(self, t: Target, key: str | None, remaining: float) -> Any:
        """One HTTP try: the client's response, or a ``Failure`` (recorded in attempts)."""
        started = time.perf_counter()
        span = self._span(t)
        held = Held()
        try:
            headers = headers_for(t, key)
            if self._propagate_trace:
                inject_trace(headers, span)
            try:
                loop = self._loop
                first_byte = min(self._server.first_byte_timeout, remaining)
                with Expiry(loop, asyncio.current_task(loop), loop.time() + first_byte):
                    opened = await self._open(t, headers, held)
            except (ClientError, TimeoutError) as exc:
                return self._failed(
                    t, span, started, classify_exception(exc, timeout_phase(exc, held))
                )
            if isinstance(opened, Failure):
                return self._failed(t, span, started, opened)
            if isinstance(opened, bytes):
                answer = self._complete(t, span, started, opened)
                if not isinstance(answer, Failure):  # out before the connection is released
                    await send_whole(t.request, answer, t.call)
                return answer
            assert held.resp is not None
            response, held.clean = await self._relay(t, span, started, held.resp, opened)
            return response
        finally:
            held.release()
            if span.is_recording():
                finish_client_span(span, t.call, t.model)
            span.end()

    async def _open(self, t: Target, headers: dict[str, str], held: Held) -> Any:
        """Send; then the error (a Failure), the whole body (bytes) or the primed stream."""
        resp = held.resp = await self._session.post(
            t.url,
            data=t.body,
            headers=headers,
            timeout=self._timeout,
            proxy=self.proxies.get(t.provider.name),
        )
        if resp.status != 200:
            raw = await resp.read()
            held.clean = True
            return classify_status(resp.status, raw, resp.headers, t.provider.api_keys)
        if not t.call.stream:
            raw = await resp.read()
            held.clean = True
            return raw
        if resp.content_type == "application/json":  # an error (or a refusal to stream)
            raw = await resp.read()
            held.clean = True
            return not_a_stream(raw, t.provider.api_keys)
        tap = make_tap(t.provider.kind)
        encoder = t.pair.stream(t.info, t.client_usage)
        return await relay.prime(resp, tap, encoder, t.provider.api_keys)

    def _failed(self, t: Target, span: Any, started: float, failure: Failure) -> Failure:
        t.call.attempts.append(
            Attempt(
                t.model.name, t.provider.name, failure.status, failure.reason, failure.message,
                time.perf_counter() - started, failure.retry_after,
            )
        )  # fmt: skip
        span.set_attribute("error.type", failure.reason)
        span.set_status(Status(StatusCode.ERROR, failure.reason))
        return failure

    def _succeeded(self, t: Target, span: Any, started: float, tap: Tap) -> None:
        call = t.call
        call.attempts.append(
            Attempt(t.model.name, t.provider.name, 200, "", "", time.perf_counter() - started)
        )
        call.model = t.model
        call.provider = t.provider.name
        if tap.model:
            span.set_attribute("gen_ai.response.model", tap.model)

    def _complete(
        self, t: Target, span: Any, started: float, raw: bytes
    ) -> web.Response | Failure:
        """A whole JSON answer, rewritten once, for the client; the tap reads it after it
        has gone out (``Call.settle``), or now for a recording span's attributes."""
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            obj = None
        if not isinstance(obj, dict):
            failure = Failure("server_error", True, "the provider answered with invalid JSON", 200)
            return self._failed(t, span, started, failure)
        error = obj.get("error")
        if error and "choices" not in obj and "content" not in obj:  # an error sent as a 200
            detail = error if isinstance(error, dict) else {"message": str(error)}
            failure = classify_event_error(detail, t.provider.api_keys)
            return self._failed(t, span, started, failure)
        tap = make_tap(t.provider.kind)
        if span.is_recording():
            read_whole(t.call, tap, obj)
        else:
            t.call.settle = partial(read_whole, t.call, tap, obj)
        body = t.pair.response(raw, obj, t.info)
        self._succeeded(t, span, started, tap)
        headers = response_headers(t.request, t.call, t.plan)
        headers["Content-Type"] = "application/json"
        return web.Response(body=body, headers=headers)

    async def _relay(
        self, t: Target, span: Any, started: float, resp: ClientResponse, primed: relay.Primed
    ) -> tuple[web.StreamResponse, bool]:
        """Commit the client response and pump; returns it and whether upstream was drained."""
        call = t.call
        self._succeeded(t, span, started, primed.tap)
        call.ttft_s = call.elapsed()
        headers = response_headers(t.request, call, t.plan)
        headers["Content-Type"] = "text/event-stream; charset=utf-8"
        headers["Cache-Control"] = "no-cache"
        response = EventStream(headers=headers)
        ending: relay.Ending = "client"
        last = b""  # sent with the end of the chunked body
        gone = False  # the client left before the end of the body reached it
        try:
            await response.prepare(t.request)
            if resp.content.at_eof():  # all of it came with the first read: one write
                ending = "ok"
            else:
                await response.write(b"".join(primed.pending))
                primed.pending.clear()
                stall = self._server.stall_timeout
                ending = await relay.pump(resp, response, primed, stall, self._loop)
            if ending == "ok":  # every byte is known: to the client before the tap catches up
                last = b"".join(primed.pending) + relay.owed(primed)
                gone = not await write_eof_quietly(response, last) and bool(last)
        except ConnectionError:
            ending = "client"
        except Exception:  # a bug while re-encoding: the headers are gone, end the stream cleanly
            _log.exception("stream relay failed", extra={"request_id": call.request_id})
            ending = "upstream"
        finally:
            if ending != "ok" or gone:
                read_stream(call, primed, False)
            elif span.is_recording():  # its end attributes read the tap: now
                read_stream(call, primed, True)
            else:  # the client has it all: the tap reads the rest afterwards (Call.settle)
                call.settle = partial(read_stream, call, primed, True)
        if ending == "client" or gone:
            call.fail(499, "client_disconnected")
            return response, gone
        if ending != "ok":
            what = "went silent" if ending == "stall" else "failed"
            err = UpstreamFailed(f"the provider {t.provider.name} {what} mid-stream")
            call.fail(502, "stream_" + ending)
            span.set_status(Status(StatusCode.ERROR, "stream_" + ending))
            sequence = next_sequence(primed.encoder)
            await write_quietly(response, stream_error_event(call.protocol, err, sequence))
            await write_eof_quietly(response)
        return response, ending == "ok"

    def _passthrough(self, t: Target, failure: Failure) -> web.StreamResponse:
        """A plain 400 goes back as the provider said it (in the client's shape)."""
        if failure.body:
            status, body = t.pair.error(failure.status or 400, failure.body)
        else:  # the error came inside a 200 or an event: only its message is known
            status = 400
            body = orjson.dumps(error_body(t.call.protocol, InvalidRequest(failure.message)))
        t.call.fail(status, "invalid_request_error")
        headers = response_headers(t.request, t.call, t.plan)
        headers["Content-Type"] = "application/json"
        headers["x-should-retry"] = "false"
        return web.Response(status=status, body=body, headers=headers)

