"""What one client request did: the record handed from dispatch to telemetry.

Dispatch fills an ``Exchange`` as the request runs (attempts, usage read by the
tap, tool calls the model made); when the response has completed (stream end,
error or client disconnect) it is frozen and given to the recorder once.

The records are ``NamedTuple``s: immutable like frozen dataclasses, but built in C.
A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
(~1,400 instructions a field, measured); four of these records are built per
request, so they cost ~60,000 instructions as dataclasses and ~8,000 as tuples.
Copies with changes: ``record._replace(field=value)``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Protocol = Literal["openai", "anthropic", "responses"]


class Usage(NamedTuple):
    """Token counts as the provider reported them, normalised.

    ``input_tokens`` excludes cached tokens (OpenAI's prompt_tokens minus
    cached_tokens; Anthropic's input_tokens as is), so the four counts add up
    to the whole prompt plus the output and nothing is priced twice.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0  # 5-minute writes
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0  # included in output_tokens
    estimated: bool = False  # True when no usage came back and we counted ourselves

    @property
    def prompt_tokens(self) -> int:
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.cache_write_1h_tokens
        )


class ToolCall(NamedTuple):
    """A tool call the model made in a response (arguments as the raw JSON text)."""

    id: str
    name: str
    arguments: str


class Attempt(NamedTuple):
    """One try of one candidate. ``reason`` is the failure class, '' on success."""

    model: str
    provider: str
    status: int | None  # HTTP status; None for connection errors / timeouts / skips
    reason: str  # "" | "rate_limited" | "server_error" | "timeout" | "connection"
    #              | "context_length" | "auth" | "not_found" | "bad_request"
    #              | "protocol_mismatch" | "cooldown" | "deadline" | "stream_error"
    message: str = ""  # provider's message, secrets scrubbed
    duration_s: float = 0.0
    retry_after_s: float | None = None


class Exchange(NamedTuple):
    request_id: str
    session_id: str
    client_protocol: Protocol
    stream: bool
    requested_model: str
    model: str | None  # configured model that answered (None: none did)
    provider: str | None
    upstream_model: str | None  # the provider's id for it
    attempts: tuple[Attempt, ...]
    usage: Usage = Usage()
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    error_type: str | None = None  # None on success; taxonomy name otherwise
    status: int = 200
    started_at: float = 0.0  # time.time()
    duration_s: float = 0.0
    ttft_s: float | None = None
    harness: str = "unknown"  # claude_code | opencode | codex | aider | openhands | sdk | unknown
    subagent: bool = False
