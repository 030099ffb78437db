"""Fault cases 1-9 of the reliability notes, each against the fake server over loopback HTTP.

Each test runs a real provider (both wire formats where the case applies), wrapped in the real
RetryingProvider wherever retrying is part of the case, with a FakeClock so no test waits for a
retry. The providers get the fake clock's ``wall`` too, so an HTTP-date ``retry-after`` is exact.
Case 5's "partial kept, marked interrupted" is the agent loop's half (tests/loop); here the
provider side is proven: no replay, and the error carries ``output_started``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import pytest

from agent_core.config import RetryConfig
from agent_core.events import StreamFinished, ToolCallReady, ToolCallStarted, UsageReported
from agent_core.providers.anthropic import AnthropicProvider
from agent_core.providers.base import Provider
from agent_core.providers.openai import OpenAIProvider
from agent_core.retry import RetryingProvider
from tests.fakes.clock import FakeClock
from tests.fakes.llm_server import FakeLLM
from tests.providers.collect import collect, retries, text_of

WIRES = ["openai", "anthropic"]


def make_provider(wire: str, llm: FakeLLM, clock: FakeClock, read_timeout: float = 10.0) -> Provider:
    if wire == "openai":
        return OpenAIProvider(llm.base_url + "/v1", "sk-test", "gpt-test", read_timeout=read_timeout, wall=clock.wall)
    return AnthropicProvider(llm.base_url, "sk-ant-test", "claude-test", read_timeout=read_timeout, wall=clock.wall)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(random_values=[0.0])


@pytest.fixture(params=WIRES)
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def provider(wire: str, fake_llm: FakeLLM, clock: FakeClock) -> AsyncIterator[RetryingProvider]:
    inner = make_provider(wire, fake_llm, clock)
    yield RetryingProvider(inner, RetryConfig(max_attempts=3), clock)
    await inner.aclose()


# -- 1. 429 and its retry-after headers ----------------------------------------------------------


async def test_1_429_retry_after_ms_is_honoured(
    provider: RetryingProvider, fake_llm: FakeLLM, clock: FakeClock
) -> None:
    fake_llm.script({"status": 429, "headers": {"retry-after-ms": "1500"}}, {"text": "recovered"})
    events, err = await collect(provider)
    assert err is None and text_of(events) == "recovered"
    assert clock.sleeps == [1.5] and retries(events)[0].delay == 1.5
    assert "rate limiting" in retries(events)[0].reason


async def test_1_429_retry_after_over_the_cap_gives_up(
    provider: RetryingProvider, fake_llm: FakeLLM, clock: FakeClock
) -> None:
    fake_llm.script({"status": 429, "headers": {"retry-after": "3600"}}, {"text": "never sent"})
    events, err = await collect(provider)
    assert err is not None and "asked to wait 3600 s" in err.message and "retry.maxRetryAfter" in err.message
    assert len(fake_llm.requests) == 1 and clock.sleeps == [] and events == []


async def test_1_429_retry_after_http_date(provider: RetryingProvider, fake_llm: FakeLLM, clock: FakeClock) -> None:
    fake_llm.script(
        {"status": 429, "headers": {"retry-after": formatdate(clock.wall() + 30, usegmt=True)}}, {"text": "later"}
    )
    _events, err = await collect(provider)
    assert err is None and clock.sleeps == [30.0]


async def test_1_429_garbage_retry_after_falls_back_to_backoff(
    provider: RetryingProvider, fake_llm: FakeLLM, clock: FakeClock
) -> None:
    fake_llm.script({"status": 429, "headers": {"retry-after": "soon-ish", "retry-after-ms": "x"}}, {"text": "ok"})
    _events, err = await collect(provider)
    assert err is None and clock.sleeps == [0.5]  # min(0.5 * 2**0, 8) * (1 - 0.25 * 0.0)


# -- 2. x-should-retry overrides the status ------------------------------------------------------


async def test_2_503_with_should_retry_false_is_not_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 503, "headers": {"x-should-retry": "false"}}, {"text": "no"})
    _, err = await collect(provider)
    assert err is not None and err.status == 503 and not err.retryable
    assert len(fake_llm.requests) == 1


async def test_2_400_with_should_retry_true_is_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 400, "headers": {"x-should-retry": "true"}}, {"text": "second time lucky"})
    events, err = await collect(provider)
    assert err is None and text_of(events) == "second time lucky" and len(fake_llm.requests) == 2


# -- 3. permanent failures -----------------------------------------------------------------------


async def test_3_401_is_not_retried_and_names_the_key_variable(
    provider: RetryingProvider, fake_llm: FakeLLM, wire: str
) -> None:
    fake_llm.script({"status": 401})
    _, err = await collect(provider)
    assert err is not None and err.kind == "auth" and len(fake_llm.requests) == 1
    assert ("OPENAI_API_KEY" if wire == "openai" else "ANTHROPIC_API_KEY") in err.message
    assert "sk-test" not in err.message and "sk-ant-test" not in err.message


async def test_3_400_is_not_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 400, "error_message": "messages: field required"})
    _, err = await collect(provider)
    assert err is not None and err.kind == "bad_request" and "messages: field required" in err.message
    assert len(fake_llm.requests) == 1


async def test_3_context_overflow_is_not_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 400, "error_message": "prompt is too long: 250000 tokens > 200000 maximum"})
    _, err = await collect(provider)
    assert err is not None and err.kind == "context_overflow" and "/compact" in err.message
    assert len(fake_llm.requests) == 1


async def test_3_permanent_429_stops_at_the_attempt_limit(
    provider: RetryingProvider, fake_llm: FakeLLM, clock: FakeClock
) -> None:
    fake_llm.default = {"status": 429}
    events, err = await collect(provider)
    assert err is not None and "gave up after 3 attempts" in err.message
    assert len(fake_llm.requests) == 3 and len(retries(events)) == 2 and clock.sleeps == [0.5, 1.0]


# -- 4. error inside a 200 stream before any content ---------------------------------------------


async def test_4_in_stream_error_before_content_is_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "unseen", "error_event": "overloaded"}, {"text": "fresh answer"})
    events, err = await collect(provider)
    assert err is None and text_of(events) == "fresh answer"
    assert len(retries(events)) == 1 and "Overloaded" in retries(events)[0].reason


# -- 5. ... and after content: never replayed silently -------------------------------------------


async def test_5_in_stream_error_after_text_is_not_replayed(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"text": "half an answer", "error_event": "overloaded", "error_after_text": True}, {"text": "a replay"}
    )
    events, err = await collect(provider)
    assert err is not None and err.output_started and err.retryable
    assert text_of(events) == "half an answer" and retries(events) == []
    assert len(fake_llm.requests) == 1


async def test_5_in_stream_error_after_a_started_tool_call_is_not_replayed(
    provider: RetryingProvider, fake_llm: FakeLLM
) -> None:
    fake_llm.script(
        {
            "tool_calls": [{"id": "call_1", "name": "read_file", "arguments": {"path": "a.py"}}],
            "error_event": "overloaded",
            "error_after_text": True,
        }
    )
    events, err = await collect(provider)
    assert err is not None and err.output_started
    assert [e.id for e in events if isinstance(e, ToolCallStarted)] == ["call_1"]
    assert not any(isinstance(e, ToolCallReady) for e in events)  # incomplete: never run
    assert len(fake_llm.requests) == 1


# -- 6. dropped connections and truncated streams ------------------------------------------------


async def test_6_connection_dropped_before_content_is_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "lost", "drop_after_bytes": 20}, {"text": "complete"})
    events, err = await collect(provider)
    assert err is None and text_of(events) == "complete"
    assert "broke during the response" in retries(events)[0].reason


async def test_6_connection_dropped_mid_text_is_an_interrupted_error(
    provider: RetryingProvider, fake_llm: FakeLLM, wire: str
) -> None:
    cut = 900 if wire == "openai" else 1100  # somewhere in the middle of the text deltas
    fake_llm.script({"text": "word " * 40, "drop_after_bytes": cut})
    events, err = await collect(provider)
    assert err is not None and err.kind == "connection_lost" and err.output_started
    assert text_of(events) and not any(isinstance(e, StreamFinished) for e in events)


async def test_6_stream_ending_without_end_marker_is_truncated_not_success(
    wire: str, fake_llm: FakeLLM, clock: FakeClock
) -> None:
    fake_llm.script({"text": "cut short", "no_done": True})
    inner = make_provider(wire, fake_llm, clock)
    events, err = await collect(inner)
    await inner.aclose()
    assert err is not None and err.kind == "truncated" and err.retryable and err.output_started
    assert not any(isinstance(e, StreamFinished) for e in events)


async def test_6_truncated_before_content_is_retried(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"no_done": True}, {"text": "whole"})
    events, err = await collect(provider)
    assert err is None and text_of(events) == "whole" and len(retries(events)) == 1


async def test_6_a_stall_is_a_retryable_timeout(wire: str, fake_llm: FakeLLM, clock: FakeClock) -> None:
    fake_llm.script({"hold": True})  # headers and the first events, then silence
    inner = make_provider(wire, fake_llm, clock, read_timeout=0.3)
    _, err = await collect(inner)
    await inner.aclose()
    assert err is not None and (err.kind, err.retryable) == ("timeout", True)
    fake_llm.wait_for_disconnects(1)


# -- 7. hostile chunking ---------------------------------------------------------------------------


async def test_7_one_byte_chunks_crlf_and_emoji(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    text = "naïve café 😀 — done"
    fake_llm.script(
        {
            "text": text,
            "chunk_bytes": 1,
            "newline": "\r\n",
            "tool_calls": [{"id": "t1", "name": "edit_file", "arguments": {"note": "日本語 ✓"}}],
        }
    )
    events, err = await collect(provider)
    assert err is None and text_of(events) == text
    ready = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert [(c.id, c.arguments) for c in ready] == [("t1", {"note": "日本語 ✓"})]


async def test_7_multiline_data_and_comments_openai(fake_llm: FakeLLM, clock: FakeClock) -> None:
    raw = (
        ": keep-alive\r\n\r\n"
        'data: {"choices": [{"index": 0,\r\ndata:  "delta": {"content": "two lines"}}]}\r\n\r\n'
        ": another comment\r\n"
        'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\r\n\r\n'
        "data: [DONE]\r\n\r\n"
    )
    fake_llm.script({"raw_sse": raw, "chunk_bytes": 1})
    provider = make_provider("openai", fake_llm, clock)
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None and text_of(events) == "two lines"


async def test_7_multiline_data_and_comments_anthropic(fake_llm: FakeLLM, clock: FakeClock) -> None:
    raw = (
        'event: message_start\ndata: {"type": "message_start",\ndata: "message": {"usage": {"input_tokens": 3}}}\n\n'
        ": keep-alive\n\n"
        'event: content_block_start\ndata: {"type": "content_block_start", "index": 0, '
        '"content_block": {"type": "text", "text": ""}}\n\n'
        'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0,\n'
        'data: "delta": {"type": "text_delta", "text": "joined"}}\n\n'
        'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    fake_llm.script({"raw_sse": raw, "chunk_bytes": 2})
    provider = make_provider("anthropic", fake_llm, clock)
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None and text_of(events) == "joined"


# -- 8. tool-call deltas in odd shapes -------------------------------------------------------------

CALLS: list[dict[str, Any]] = [
    {"id": "call_a", "name": "read_file", "arguments": {"path": "src/a.py"}},
    {"id": "call_b", "name": "search_text", "arguments": {"pattern": "def \\w+", "glob": "*.py"}},
]


@pytest.mark.parametrize("shape", ["standard", "no_index", "same_index", "interleaved", "id_every_delta"])
async def test_8_openai_tool_call_shapes(fake_llm: FakeLLM, clock: FakeClock, shape: str) -> None:
    fake_llm.script({"text": "Looking.", "tool_calls": CALLS, "shape": shape})
    provider = make_provider("openai", fake_llm, clock)
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None
    started = [(e.index, e.id, e.name) for e in events if isinstance(e, ToolCallStarted)]
    assert started == [(0, "call_a", "read_file"), (1, "call_b", "search_text")]
    ready = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert [(c.id, c.name, c.arguments) for c in ready] == [(c["id"], c["name"], c["arguments"]) for c in CALLS]
    assert events[-1] == StreamFinished(stop_reason="tool_use")


async def test_8_anthropic_tool_calls_with_empty_first_fragment(fake_llm: FakeLLM, clock: FakeClock) -> None:
    fake_llm.script(
        {"text": "Looking.", "tool_calls": [*CALLS, {"id": "call_c", "name": "list_files", "arguments": {}}]}
    )
    provider = make_provider("anthropic", fake_llm, clock)
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None
    ready = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert [(c.id, c.arguments) for c in ready] == [
        ("call_a", CALLS[0]["arguments"]),
        ("call_b", CALLS[1]["arguments"]),
        ("call_c", {}),
    ]
    assert events[-1] == StreamFinished(stop_reason="tool_use")


# -- 9. usage ----------------------------------------------------------------------------------


async def test_9_usage_only_chunk_with_empty_choices(fake_llm: FakeLLM, clock: FakeClock) -> None:
    fake_llm.script({"text": "counted", "usage": {"input_tokens": 123, "output_tokens": 45}})
    provider = make_provider("openai", fake_llm, clock)
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None
    assert fake_llm.requests[0]["stream_options"] == {"include_usage": True}
    usage = [e.usage for e in events if isinstance(e, UsageReported)]
    assert [(u.input_tokens, u.output_tokens) for u in usage] == [(123, 45)]


async def test_9_repeated_cumulative_usage_is_not_summed(provider: RetryingProvider, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "a b c d e f", "usage": {"input_tokens": 100, "output_tokens": 6}, "repeat_usage": True})
    events, err = await collect(provider)
    assert err is None
    usage = [e.usage for e in events if isinstance(e, UsageReported)]
    assert usage and (usage[-1].input_tokens, usage[-1].output_tokens) == (100, 6)
