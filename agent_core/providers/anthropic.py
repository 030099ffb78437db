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
from typing import Any

import httpx

from agent_core.errors import ErrorContext, classify_stream_error, make_error, mark_output_started
from agent_core.events import ProviderEvent, StreamFinished, TextDelta, ToolCallReady, ToolCallStarted, UsageReported
from agent_core.messages import Message, ToolCall, Usage, new_id
from agent_core.providers.base import ChatRequest
from agent_core.providers.closing import closing
from agent_core.providers.openai import INTERRUPTED_NOTE
from agent_core.providers.sse import json_payload, open_events
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
        self.name: str = "anthropic"
        self.model: str = model
        self.context_window: int | None = context_window
        base = base_url.rstrip("/")
        # ANTHROPIC_BASE_URL has no /v1 (the SDK adds it); accept one given with it too.
        self.base_url = base[: -len("/v1")] if base.endswith("/v1") else base
        self._api_key = api_key or None
        self._own_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = httpx.Timeout(30.0, read=read_timeout)
        self._wall = wall
        self._ctx = ErrorContext(
            provider="Anthropic",
            model=model,
            base_url=self.base_url,
            key_env=key_env if self._api_key else None,
            secret=self._api_key,
        )

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
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools
            ]
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        return mark_output_started(self._events(request))

    async def _events(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        reader = _EventReader(self._ctx)
        events = open_events(
            self._http,
            self.base_url + "/v1/messages",
            body=self.request_body(request),
            headers=self._headers(),
            timeout=self._timeout,
            ctx=self._ctx,
            wall=self._wall,
        )
        async with closing(events):
            async for sse in events:
                if not sse.data.strip():
                    continue
                for event in reader.feed(sse.event, json_payload(sse.data, self._ctx)):
                    yield event
                if reader.finished:
                    break
        if not reader.finished:
            raise make_error("truncated", self._ctx, detail="no message_stop")
        for event in reader.end():
            yield event


class _EventReader:
    """The state of one response: open tool_use blocks, cumulative usage, the stop reason."""

    def __init__(self, ctx: ErrorContext) -> None:
        self.ctx = ctx
        self.usage = Usage()
        self.got_usage = False
        self.stop: str | None = None
        self.finished = False
        #: Open tool_use blocks by content index: (id, name, json fragments).
        self.open_tools: dict[int, tuple[str, str, list[str]]] = {}
        self.tool_count = 0

    def feed(self, event_name: str, data: dict[str, Any]) -> list[ProviderEvent]:
        try:
            return self._feed(str(data.get("type") or event_name), data)
        except (TypeError, ValueError, AttributeError) as exc:  # a field of an unexpected type
            raise make_error(
                "bad_response", self.ctx, detail=f"unexpected event ({exc}): {json.dumps(data)[:200]}"
            ) from None

    def _feed(self, kind: str, data: dict[str, Any]) -> list[ProviderEvent]:
        if kind == "content_block_delta":  # once per token: tested first
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [TextDelta(text=str(delta["text"]))]
            entry = self.open_tools.get(int(data.get("index", -1)))
            if delta.get("type") == "input_json_delta" and entry is not None:
                entry[2].append(str(delta.get("partial_json") or ""))
        elif kind == "message_start":
            self._usage((data.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            return self._block_start(int(data.get("index", -1)), data.get("content_block") or {})
        elif kind == "content_block_stop":
            entry = self.open_tools.pop(int(data.get("index", -1)), None)
            if entry is not None:
                call_id, name, fragments = entry
                return [
                    ToolCallReady(call=ToolCall(id=call_id, name=name, arguments=parse_arguments("".join(fragments))))
                ]
        elif kind == "message_delta":
            self.stop = (data.get("delta") or {}).get("stop_reason") or self.stop
            self._usage(data.get("usage") or {})
        elif kind == "message_stop":
            self.finished = True
        elif kind == "error":
            error = data.get("error") or {}
            raise classify_stream_error(error.get("type"), str(error.get("message") or ""), self.ctx)
        # ping, thinking blocks and event types added later are ignored on purpose.
        return []

    def _block_start(self, index: int, block: dict[str, Any]) -> list[ProviderEvent]:
        if block.get("type") == "text" and block.get("text"):
            return [TextDelta(text=str(block["text"]))]
        if block.get("type") != "tool_use":
            return []
        call_id = str(block.get("id") or "toolu_" + new_id())
        name = str(block.get("name") or "")
        initial = block.get("input")
        self.open_tools[index] = (call_id, name, [json.dumps(initial)] if isinstance(initial, dict) and initial else [])
        self.tool_count += 1
        return [ToolCallStarted(index=self.tool_count - 1, id=call_id, name=name)]

    def _usage(self, raw: dict[str, Any]) -> None:
        if raw:
            self.usage, self.got_usage = _merge_usage(self.usage, raw), True

    def end(self) -> list[ProviderEvent]:
        out: list[ProviderEvent] = [UsageReported(usage=self.usage)] if self.got_usage else []
        out.append(StreamFinished(stop_reason=str(self.stop or ("tool_use" if self.tool_count else "end_turn"))))
        return out


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
        return "user", [
            {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id or "",
                "content": m.content or "(no output)",
                "is_error": m.is_error,
            }
        ]
    text = m.content
    if m.role == "assistant" and m.interrupted:
        text = f"{text}\n\n{INTERRUPTED_NOTE}" if text else INTERRUPTED_NOTE
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
    if m.role == "assistant":
        blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
    return m.role, blocks
