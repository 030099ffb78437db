"""The Anthropic Messages provider (``POST {base_url}/v1/messages``, streaming events).

Differences from Chat Completions that this module handles: the system prompt is a top-level
``system`` field; tool calls are ``tool_use`` content blocks whose input streams as
``input_json_delta`` fragments (the first one often ""), complete at ``content_block_stop``; tool
results are ``tool_result`` blocks inside a *user* message, so consecutive results (and any
user text after them) merge into one user message; usage arrives in ``message_start`` and again,
cumulatively, in ``message_delta``, and the later value replaces the earlier one (never summed);
``ping`` and unknown event types are ignored; ``event: error`` is classified like a status error.
A stream that ends without ``message_stop`` is a retryable ``truncated`` error.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import httpx

from agent_core.errors import ErrorContext, classify_stream_error, make_error, mark_output_started
from agent_core.events import ProviderEvent, StreamFinished, TextDelta, ToolCallReady, ToolCallStarted, UsageReported
from agent_core.messages import Message, ToolCall, Usage
from agent_core.providers.base import ChatRequest
from agent_core.providers.openai import INTERRUPTED_NOTE
from agent_core.providers.sse import open_events
from agent_core.providers.tool_call_assembly import parse_arguments

#: The API version this module speaks (the one every SDK still sends).
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider:
    """Streams one Messages request per :meth:`stream` call; never retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        http: httpx.AsyncClient | None = None,
        read_timeout: float = 120.0,
        *,
        context_window: int | None = None,
        key_env: str | None = "ANTHROPIC_API_KEY",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.name = "anthropic"
        self.model = model
        self.context_window = context_window
        base = base_url.rstrip("/")
        # ANTHROPIC_BASE_URL has no /v1 (the SDK adds it); accept one given with it too.
        self.base_url = base[: -len("/v1")] if base.endswith("/v1") else base
        self._api_key = api_key or None
        self._own_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = httpx.Timeout(30.0, read=read_timeout)
        self._wall = wall
        self._ctx = ErrorContext(provider="Anthropic", model=model, base_url=self.base_url,
                                 key_env=key_env if self._api_key else None, secret=self._api_key)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request``."""
        system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": to_anthropic_messages(request.messages),
            "stream": True,
        }
        if system:
            body["system"] = system
        if request.tools:
            body["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                             for t in request.tools]
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        return mark_output_started(self._events(request))

    async def _events(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        usage = Usage()
        got_usage = False
        stop: str | None = None
        finished = False
        #: Open tool_use blocks by content index: (id, name, json fragments).
        open_tools: dict[int, tuple[str, str, list[str]]] = {}
        tool_count = 0
        events = open_events(self._http, self.base_url + "/v1/messages", body=self.request_body(request),
                             headers=self._headers(), timeout=self._timeout, ctx=self._ctx, wall=self._wall)
        async with aclosing(events):
            async for sse in events:
                if not sse.data.strip():
                    continue
                data = self._decode(sse.data)
                kind = data.get("type") or sse.event
                if kind == "message_start":
                    raw = (data.get("message") or {}).get("usage") or {}
                    usage, got_usage = _merge_usage(usage, raw), got_usage or bool(raw)
                elif kind == "content_block_start":
                    block = data.get("content_block") or {}
                    if block.get("type") == "text" and block.get("text"):
                        yield TextDelta(text=str(block["text"]))
                    elif block.get("type") == "tool_use":
                        call_id, name = str(block.get("id") or ""), str(block.get("name") or "")
                        initial = block.get("input")
                        fragments = [json.dumps(initial)] if isinstance(initial, dict) and initial else []
                        open_tools[int(data.get("index", -1))] = (call_id, name, fragments)
                        yield ToolCallStarted(index=tool_count, id=call_id, name=name)
                        tool_count += 1
                elif kind == "content_block_delta":
                    delta = data.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        yield TextDelta(text=str(delta["text"]))
                    elif delta.get("type") == "input_json_delta":
                        entry = open_tools.get(int(data.get("index", -1)))
                        if entry is not None:
                            entry[2].append(str(delta.get("partial_json") or ""))
                elif kind == "content_block_stop":
                    entry = open_tools.pop(int(data.get("index", -1)), None)
                    if entry is not None:
                        call_id, name, fragments = entry
                        yield ToolCallReady(call=ToolCall(id=call_id, name=name,
                                                          arguments=parse_arguments("".join(fragments))))
                elif kind == "message_delta":
                    stop = (data.get("delta") or {}).get("stop_reason") or stop
                    raw = data.get("usage") or {}
                    usage, got_usage = _merge_usage(usage, raw), got_usage or bool(raw)
                elif kind == "message_stop":
                    finished = True
                    break
                elif kind == "error":
                    error = data.get("error") or {}
                    raise classify_stream_error(error.get("type"), str(error.get("message") or ""), self._ctx)
                # ping, thinking blocks and event types added later are ignored on purpose.
        if not finished:
            raise make_error("truncated", self._ctx, detail="no message_stop")
        if got_usage:
            yield UsageReported(usage=usage)
        yield StreamFinished(stop_reason=str(stop or ("tool_use" if tool_count else "end_turn")))

    def _decode(self, data: str) -> dict[str, Any]:
        try:
            value = json.loads(data)
        except ValueError:
            raise make_error("bad_response", self._ctx, detail=f"not JSON: {data[:200]!r}") from None
        if not isinstance(value, dict):
            raise make_error("bad_response", self._ctx, detail=f"not a JSON object: {data[:200]!r}")
        return value


def _merge_usage(current: Usage, raw: dict[str, Any]) -> Usage:
    """Apply a cumulative usage report: fields present replace the old values, never add to them.
    Cached prompt tokens count as input (they are part of what the model read)."""
    input_fields = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    input_tokens = current.input_tokens
    if any(f in raw for f in input_fields):
        input_tokens = sum(int(raw.get(f) or 0) for f in input_fields)
    output_tokens = int(raw["output_tokens"]) if raw.get("output_tokens") is not None else current.output_tokens
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def to_anthropic_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The neutral conversation as Messages API turns.

    System messages go to the top-level ``system`` field instead. Tool results are ``tool_result``
    blocks in a user turn; consecutive turns of the same role are merged (the API wants user and
    assistant to alternate), and empty text blocks, which the API rejects, are left out.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        role, blocks = _blocks(m)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        # tool_result blocks must come first in their user turn.
        turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return out


def _blocks(m: Message) -> tuple[str, list[dict[str, Any]]]:
    if m.role == "tool":
        return "user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or "",
                         "content": m.content or "(no output)", "is_error": m.is_error}]
    text = m.content
    if m.role == "assistant" and m.interrupted:
        text = f"{text}\n\n{INTERRUPTED_NOTE}" if text else INTERRUPTED_NOTE
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
    if m.role == "assistant":
        blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
    return m.role, blocks
