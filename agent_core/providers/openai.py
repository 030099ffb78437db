"""The OpenAI Chat Completions provider: one class for OpenAI and every compatible server.

OpenAI, Ollama, llama.cpp's server, vLLM, LM Studio and OpenRouter all speak
``POST {base_url}/chat/completions`` with ``stream: true``; they differ in details this module
absorbs: the usage chunk (``stream_options.include_usage``) whose ``choices`` is empty, tool-call
deltas in odd shapes (:mod:`agent_core.providers.tool_call_assembly`), ``finish_reason: "stop"``
on a reply that made tool calls, and ``error`` objects inside a 200 stream. A stream that ends
without ``[DONE]`` or a ``finish_reason`` is a retryable ``truncated`` error, never a success.
Without an API key no Authorization header is sent, so local servers just work. Small models
that write their tool calls as JSON text get them turned into real calls when
``text_tool_calls`` is on (:mod:`agent_core.providers.text_tool_calls`).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlparse

import httpx

from agent_core.errors import ErrorContext, classify_stream_error, make_error, mark_output_started
from agent_core.events import ProviderEvent, StreamFinished, TextDelta, UsageReported
from agent_core.messages import Message, Usage
from agent_core.providers.base import ChatRequest, ProviderError
from agent_core.providers.closing import closing
from agent_core.providers.sse import json_payload, open_events
from agent_core.providers.text_tool_calls import with_text_tool_calls
from agent_core.providers.tool_call_assembly import ToolCallAssembler

#: finish_reason -> the neutral stop reason of :class:`StreamFinished`.
_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens"}

#: Appended to an interrupted assistant message so the model knows its reply was cut off.
INTERRUPTED_NOTE = "[This reply was interrupted before it was complete.]"


class OpenAIProvider:
    """Streams one Chat Completions request per :meth:`stream` call; never retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        http: httpx.AsyncClient | None = None,
        read_timeout: float = 120.0,
        *,
        name: str = "openai",
        context_window: int | None = None,
        key_env: str | None = "OPENAI_API_KEY",
        label: str | None = None,
        wall: Callable[[], float] = time.time,
        text_tool_calls: bool = False,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        self.name: str = name
        self.model: str = model
        self.context_window: int | None = context_window
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self._own_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = httpx.Timeout(30.0, read=read_timeout)
        self._wall = wall
        self.text_tool_calls = text_tool_calls
        #: Server-specific request fields (llama.cpp's ``cache_prompt``).
        self._extra_body = dict(extra_body or {})
        host = urlparse(self.base_url).hostname or ""
        #: api.openai.com wants max_completion_tokens (reasoning models reject max_tokens);
        #: compatible servers mostly know only max_tokens.
        self._official = host == "api.openai.com"
        default_label = "OpenAI" if self._official else f"the OpenAI-compatible server at {self.base_url}"
        self._ctx = ErrorContext(
            provider=label or default_label,
            model=model,
            base_url=self.base_url,
            key_env=key_env if self._api_key else None,
            secret=self._api_key,
        )

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request`` (public so tests and the benchmark can inspect it)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            ("max_completion_tokens" if self._official else "max_tokens"): request.max_tokens,
            **self._extra_body,
            **request.extra,
        }
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        events = self._events(request)
        if self.text_tool_calls and request.tools:
            events = with_text_tool_calls(events, [tool.name for tool in request.tools])
        return mark_output_started(events)

    async def _events(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        reader = _ChunkReader(self._ctx)
        done = False
        events = open_events(
            self._http,
            self.base_url + "/chat/completions",
            body=self.request_body(request),
            headers=self._headers(),
            timeout=self._timeout,
            ctx=self._ctx,
            wall=self._wall,
        )
        async with closing(events):
            async for sse in events:
                data = sse.data.strip()
                if not data:
                    continue
                if data == "[DONE]":
                    done = True
                    break
                for event in reader.feed(json_payload(data, self._ctx)):
                    yield event
        if not done and reader.finish is None:
            raise make_error("truncated", self._ctx, detail="no finish_reason and no [DONE]")
        for event in reader.end():
            yield event


class _ChunkReader:
    """The state of one response: text is passed on at once, tool calls are assembled, usage
    and finish_reason remembered until the end."""

    def __init__(self, ctx: ErrorContext) -> None:
        self.ctx = ctx
        self.tools = ToolCallAssembler()
        self.usage: Usage | None = None
        self.finish: str | None = None

    def feed(self, chunk: dict[str, Any]) -> list[ProviderEvent]:
        try:
            return self._feed(chunk)
        except (TypeError, ValueError, AttributeError) as exc:  # a field of an unexpected type
            raise make_error(
                "bad_response", self.ctx, detail=f"unexpected chunk ({exc}): {json.dumps(chunk)[:200]}"
            ) from None

    def _feed(self, chunk: dict[str, Any]) -> list[ProviderEvent]:
        if chunk.get("error"):
            raise _stream_error(chunk["error"], self.ctx)
        out: list[ProviderEvent] = []
        if isinstance(chunk.get("usage"), dict):
            self.usage = _usage(chunk["usage"])  # cumulative: the latest value wins, never a sum
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str) and delta["content"]:
                out.append(TextDelta(text=delta["content"]))
            for call_delta in delta.get("tool_calls") or []:
                out.extend(self.tools.add(call_delta))
            if choice.get("finish_reason"):
                self.finish = str(choice["finish_reason"])
        return out

    def end(self) -> list[ProviderEvent]:
        """Complete tool calls, the final usage, and the normalised stop reason."""
        out: list[ProviderEvent] = list(self.tools.finish())
        if self.usage is not None:
            out.append(UsageReported(usage=self.usage))
        stop = _STOP.get(self.finish or "stop", self.finish or "end_turn")
        if self.tools.any and stop == "end_turn":
            stop = "tool_use"  # Ollama and others say "stop" after tool calls
        out.append(StreamFinished(stop_reason=stop))
        return out


def _stream_error(error: Any, ctx: ErrorContext) -> ProviderError:
    if not isinstance(error, dict):
        return classify_stream_error(None, str(error), ctx)
    code = error.get("code")
    err_type = code if isinstance(code, str) and code else error.get("type")
    return classify_stream_error(str(err_type) if err_type else None, str(error.get("message") or ""), ctx)


def _usage(raw: dict[str, Any]) -> Usage:
    return Usage(input_tokens=int(raw.get("prompt_tokens") or 0), output_tokens=int(raw.get("completion_tokens") or 0))


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The neutral conversation in Chat Completions form.

    Tool results become ``role: tool`` messages (an error result says so in its text, the format
    has no flag for it); an interrupted assistant reply carries a note that it was cut off.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant":
            content = m.content
            if m.interrupted:
                content = f"{content}\n\n{INTERRUPTED_NOTE}" if content else INTERRUPTED_NOTE
            entry: dict[str, Any] = {"role": "assistant", "content": content or None}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                    for c in m.tool_calls
                ]
            elif entry["content"] is None:
                entry["content"] = ""
            out.append(entry)
        elif m.role == "tool":
            content = f"Error: {m.content}" if m.is_error else m.content
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": content})
        else:
            out.append({"role": m.role, "content": m.content})
    return out
