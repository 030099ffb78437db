"""Reading Server-Sent Events from a streaming POST, with every failure classified.

Framing is done by httpx-sse (``EventSource.aiter_sse``), which meets every edge case listed in
the reliability notes, each proven in ``tests/providers/test_sse.py``:

* lines end at CR, LF or CRLF, and a CR at the end of one network chunk is held back until the
  next chunk shows whether an LF follows (so a CRLF split across chunks is one line break);
* bytes are decoded with an incremental UTF-8 decoder, so a multi-byte character split across
  chunks is decoded whole (the same result as decoding per complete line);
* several ``data:`` lines of one event are joined with "\\n"; ``:`` comment lines (keep-alives)
  are ignored; an event is dispatched only at a blank line, so a stream cut mid-event never
  yields half an event.

What it does not do is HTTP status handling and error classification; :func:`open_events` adds
both, so the providers only interpret event payloads. It also moves credentials written into the
URL (``http://user:pass@host``) into an Authorization header, as httpx would, so that they never
appear in httpx's request log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from agent_core.errors import (
    ErrorContext,
    classify_status,
    classify_stream_error,
    classify_transport,
    error_fields,
    make_error,
)
from agent_core.surrogates import valid_json

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
            try:
                async for event in EventSource(response).aiter_sse():
                    yield event
            except SSEError as exc:
                # A 200 that is not an event stream: a server ignoring ``stream`` or a proxy's
                # error page. Its body may still carry a proper error object.
                raw = (await response.aread()).decode("utf-8", "replace")
                err_type, detail = error_fields(raw)
                if err_type or detail:
                    raise classify_stream_error(err_type, detail, ctx) from None
                raise make_error("bad_response", ctx, status=200, detail=str(exc), should_retry=False) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise classify_transport(exc, ctx) from exc


def json_payload(data: str, ctx: ErrorContext) -> dict[str, Any]:
    """An event's ``data`` as a JSON object, or a (retryable) ``bad_response`` error. A lone
    surrogate the model sent (``"\\ud83d"`` is valid JSON) becomes U+FFFD here, before any of
    the text is counted, saved or sent back."""
    try:
        value = valid_json(json.loads(data))
    except ValueError:
        raise make_error("bad_response", ctx, detail=f"not JSON: {data[:200]!r}") from None
    if not isinstance(value, dict):
        raise make_error("bad_response", ctx, detail=f"not a JSON object: {data[:200]!r}")
    return value


def _without_credentials(url: str) -> tuple[httpx.URL | str, httpx.BasicAuth | None]:
    """``url`` without its user and password, and those as Basic auth (None when there are none)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    auth = httpx.BasicAuth(parsed.username, parsed.password)
    return parsed.copy_with(username=None, password=None), auth
