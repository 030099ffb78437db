"""Reading Server-Sent Events from a streaming POST, with every failure classified.

The framing follows the HTML standard's event-stream rules, and meets every edge case listed in
the reliability notes, each proven in ``tests/providers/test_sse.py``:

* lines end at CR, LF or CRLF, and a CR at the end of one network chunk followed by an LF at the
  start of the next is one line break, not two;
* bytes are decoded with httpx's incremental UTF-8 decoder, so a multi-byte character split
  across chunks is decoded whole (the same result as decoding per complete line);
* several ``data:`` lines of one event are joined with "\\n"; ``:`` comment lines (keep-alives)
  are ignored; an event is dispatched only at a blank line, so a stream cut mid-event never
  yields half an event.

The framing is done here rather than by httpx-sse because it is the per-token hot path: httpx-sse
passes each line through two more async generators and a per-line decoder call, which cost more
than the provider's own work (``bench/stream_overhead.py``). Here each network chunk is split
into lines at once and the events are yielded from one generator.

:func:`open_events` adds HTTP status handling and error classification, so the providers only
interpret event payloads. It also moves credentials written into the URL
(``http://user:pass@host``) into an Authorization header, as httpx would, so that they never
appear in httpx's request log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from agent_core.errors import (
    ErrorContext,
    classify_status,
    classify_stream_error,
    classify_transport,
    error_fields,
    make_error,
)
from agent_core.surrogates import loads_valid, valid_json

__all__ = ["ServerSentEvent", "json_payload", "open_events"]


async def open_events(
    http: httpx.AsyncClient,
    url: str,
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    timeout: httpx.Timeout,
    ctx: ErrorContext,
    wall: Callable[[], float],
) -> AsyncIterator[ServerSentEvent]:
    """POST ``body`` and yield the response's events; raise a classified ProviderError on a
    non-200 status, a non-SSE answer, or any transport failure (connect, timeout, drop).
    A lone surrogate anywhere in ``body`` is sent as U+FFFD (see :mod:`agent_core.surrogates`).

    ``wall`` (epoch seconds) turns an HTTP-date ``retry-after`` into a wait.
    Closing the generator closes the HTTP response, which is how a cancel stops the stream.
    """
    try:
        target, auth = _without_credentials(url)
        async with http.stream(
            "POST", target, json=valid_json(body), headers=headers, timeout=timeout, auth=auth
        ) as response:
            if response.status_code != 200:
                raw = (await response.aread()).decode("utf-8", "replace")
                raise classify_status(response.status_code, raw, response.headers, ctx, wall)
            content_type = response.headers.get("content-type", "").partition(";")[0]
            if "text/event-stream" not in content_type:
                # A 200 that is not an event stream: a server ignoring ``stream`` or a proxy's
                # error page. Its body may still carry a proper error object.
                raw = (await response.aread()).decode("utf-8", "replace")
                err_type, detail = error_fields(raw)
                if err_type or detail:
                    raise classify_stream_error(err_type, detail, ctx)
                detail = f"expected an event stream (text/event-stream), got {content_type!r}"
                raise make_error("bad_response", ctx, status=200, detail=detail, should_retry=False)
            lines = LineSplitter()
            events = EventDecoder()
            async for text in response.aiter_text():
                for event in events.feed(lines.feed(text)):
                    yield event
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise classify_transport(exc, ctx) from exc


def json_payload(data: str, ctx: ErrorContext) -> dict[str, Any]:
    """An event's ``data`` as a JSON object, or a (retryable) ``bad_response`` error. A lone
    surrogate the model sent (``"\\ud83d"`` is valid JSON) becomes U+FFFD here, before any of
    the text is counted, saved or sent back."""
    try:
        value = loads_valid(data)
    except ValueError:
        raise make_error("bad_response", ctx, detail=f"not JSON: {data[:200]!r}") from None
    if not isinstance(value, dict):
        raise make_error("bad_response", ctx, detail=f"not a JSON object: {data[:200]!r}")
    return value


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` when the stream named none) and its data."""

    event: str
    data: str


class LineSplitter:
    """Complete lines out of decoded text chunks. A line ends at CR, LF or CRLF; a chunk ending
    in CR ends the line at once, and an LF starting the next chunk is then the rest of that CRLF.
    An unfinished line is kept as a list of pieces, so a long line sent in small chunks costs
    linear time."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._after_cr = False

    def feed(self, text: str) -> list[str]:
        if self._after_cr:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]
        ends_in_cr = text.endswith("\r")
        if ends_in_cr:
            self._after_cr = True
            text = text[:-1]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if ends_in_cr:
            text += "\n"
        if "\n" not in text:
            if text:
                self._pieces.append(text)
            return []
        lines = text.split("\n")
        if self._pieces:
            self._pieces.append(lines[0])
            lines[0] = "".join(self._pieces)
            self._pieces = []
        rest = lines.pop()
        if rest:
            self._pieces.append(rest)
        return lines


class EventDecoder:
    """Lines -> events: ``event:`` and ``data:`` fields gathered until a blank line dispatches
    them; comments, ``id:``, ``retry:`` and unknown fields ignored (nothing here reconnects).
    Takes a chunk's lines at once (one call per network read, not per line)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, lines: list[str]) -> list[ServerSentEvent]:
        out: list[ServerSentEvent] = []
        event, data = self._event, self._data
        for line in lines:
            if not line:
                if data or event:
                    out.append(ServerSentEvent(event or "message", "\n".join(data)))
                    event, data = "", []
                continue
            if line.startswith("data: "):  # nearly every line, tested first
                data.append(line[6:])
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            # else a comment (no name), id, retry, or an unknown field
        self._event, self._data = event, data
        return out


def _without_credentials(url: str) -> tuple[httpx.URL | str, httpx.BasicAuth | None]:
    """``url`` without its user and password, and those as Basic auth (None when there are none)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    auth = httpx.BasicAuth(parsed.username, parsed.password)
    return parsed.copy_with(username=None, password=None), auth
