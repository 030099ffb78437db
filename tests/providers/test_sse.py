"""SSE framing edge cases, chunk by chunk, through the real :func:`open_events` code path.

The bytes come from an httpx mock transport whose body is an iterator of exact chunks, so each
test decides precisely where the network splits the stream (the fake server proves the same over
real loopback in test_fault_cases.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest

from agent_core.errors import ErrorContext
from agent_core.providers.base import ProviderError
from agent_core.providers.sse import ServerSentEvent, open_events

CTX = ErrorContext(provider="the test server", model="m", base_url="http://127.0.0.1:1")


async def events_from(
    chunks: Iterable[bytes], *, status: int = 200, content_type: str = "text/event-stream"
) -> list[ServerSentEvent]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"content-type": content_type}, content=body())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return [
            e
            async for e in open_events(
                http, "http://test/x", body={}, headers={}, timeout=httpx.Timeout(5), ctx=CTX, wall=time.time
            )
        ]


def one_byte_chunks(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
async def test_each_line_ending_frames_the_same_events(newline: bytes) -> None:
    raw = b"event: a" + newline + b"data: 1" + newline + newline + b"data: 2" + newline + newline
    events = await events_from([raw])
    assert [(e.event, e.data) for e in events] == [("a", "1"), ("message", "2")]


async def test_crlf_split_across_chunks_is_one_line_break() -> None:
    # Were the CR and LF taken as two line breaks, the LF would be a blank line that dispatches
    # "a" alone, and "b" would be a second event.
    events = await events_from([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert [e.data for e in events] == ["a\nb"]


async def test_a_cr_ending_a_chunk_then_another_cr_is_two_line_breaks() -> None:
    # CR CR is a line break and a blank line (the event ends), also when split after the first.
    events = await events_from([b"data: a\r", b"\rdata: b\r\r"])
    assert [e.data for e in events] == ["a", "b"]


async def test_a_long_line_in_small_chunks_is_joined_whole() -> None:
    payload = "x" * 5000
    events = await events_from([b"data: ", *one_byte_chunks(payload.encode()), b"\n", b"\n"])
    assert [e.data for e in events] == [payload]


async def test_a_field_without_a_colon_and_unknown_fields() -> None:
    # "data" alone is an empty data line; id, retry and unknown fields are ignored.
    events = await events_from([b"id: 7\nretry: 10\nfoo: bar\ndata\ndata:x\n\nevent: only\n\n"])
    assert [(e.event, e.data) for e in events] == [("message", "\nx"), ("only", "")]


async def test_utf8_character_split_across_chunks_is_decoded_whole() -> None:
    raw = "data: héllo 😀 wörld\n\n".encode()
    cut = raw.index("😀".encode()) + 2  # inside the 4-byte emoji
    events = await events_from([raw[:cut], raw[cut:]])
    assert [e.data for e in events] == ["héllo 😀 wörld"]


async def test_one_byte_per_chunk_with_crlf_emoji_multiline_and_comments() -> None:
    raw = ": keep-alive\r\nevent: x\r\ndata: first 😀\r\ndata:second\r\n\r\n: ping\r\n\r\ndata: [DONE]\r\n\r\n"
    events = await events_from(one_byte_chunks(raw.encode()))
    assert [(e.event, e.data) for e in events] == [("x", "first 😀\nsecond"), ("message", "[DONE]")]


async def test_comment_lines_are_ignored_and_do_not_end_an_event() -> None:
    events = await events_from([b"data: a\n: comment in the middle\ndata: b\n\n"])
    assert [e.data for e in events] == ["a\nb"]


async def test_an_event_is_complete_only_at_a_blank_line() -> None:
    events = await events_from([b"data: whole\n\n", b"data: cut off mid-event\n"])
    assert [e.data for e in events] == ["whole"]


async def test_non_200_status_is_classified_with_the_servers_message() -> None:
    body = b'{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}'
    with pytest.raises(ProviderError) as info:
        await events_from([body], status=429, content_type="application/json")
    assert (info.value.kind, info.value.retryable, info.value.status) == ("rate_limit", True, 429)
    assert "slow down" in info.value.message


async def test_a_200_that_is_not_an_event_stream_is_a_clear_non_retryable_error() -> None:
    with pytest.raises(ProviderError) as info:
        await events_from([b"<html>proxy login</html>"], content_type="text/html")
    assert (info.value.kind, info.value.retryable) == ("bad_response", False)
    assert "text/html" in info.value.message


async def test_a_200_json_error_body_is_classified_by_its_error_type() -> None:
    body = b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    with pytest.raises(ProviderError) as info:
        await events_from([body], content_type="application/json")
    assert (info.value.kind, info.value.retryable) == ("overloaded", True)


async def test_connection_refused_is_a_retryable_connect_error() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = ErrorContext(provider="the test server", model="m", base_url=f"http://127.0.0.1:{port}")
    async with httpx.AsyncClient() as http:
        with pytest.raises(ProviderError) as info:
            async for _ in open_events(
                http,
                f"http://127.0.0.1:{port}/x",
                body={},
                headers={},
                timeout=httpx.Timeout(5),
                ctx=ctx,
                wall=time.time,
            ):
                pass
    assert (info.value.kind, info.value.retryable) == ("connect", True)
    assert "Could not connect to the test server" in info.value.message
