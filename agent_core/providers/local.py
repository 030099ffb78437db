"""The embedded local model as a provider: no key, no network.

:class:`LocalProvider` talks to the process's shared llama.cpp server for its model
(:mod:`agent_core.providers.model_server`, started on first use) through
:class:`~agent_core.providers.openai.OpenAIProvider`, the same code that serves every
OpenAI-compatible server, with what a small model on a CPU needs on top:

* the compact prompt (:mod:`agent_core.compact_prompt`): tools with one-line descriptions, and
  ``prompt_style = "compact"`` telling the agent to send the short system prompt;
* tool calls written as JSON text turned into real calls (:mod:`agent_core.providers.text_tool_calls`),
  and the first reply of each turn constrained to be one (llama.cpp's ``json_schema``): the model
  then always looks at the project before it answers about it;
* ``cache_prompt``, and the fixed prefix primed once per server start, restored from disk when it
  was saved before (:mod:`agent_core.providers.prompt_cache`); :meth:`LocalProvider.warm` does that
  ahead of the first request;
* a :class:`~agent_core.events.Notice` when a request has to wait (the model is being prepared or
  loaded, or is answering another request), so a turn never looks hung;
* one clear error when the server cannot start or dies during a reply; the next request starts it
  again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent_core.compact_prompt import compact_tools
from agent_core.errors import ErrorContext, make_error
from agent_core.events import Notice, ProviderEvent
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest, ProviderError
from agent_core.providers.closing import closing
from agent_core.providers.local_models import LocalModel
from agent_core.providers.model_files import is_verified
from agent_core.providers.model_server import ModelServer, ModelServerError, ModelStatus, shared_server
from agent_core.providers.openai import OpenAIProvider
from agent_core.providers.prompt_cache import Outcome, prime
from agent_core.providers.text_tool_calls import call_schema

#: Seconds a CPU model may take to read a long prompt before its first token.
DEFAULT_READ_TIMEOUT = 600.0
#: Sent with every request: llama.cpp reuses the cached prefix, and a low temperature keeps a small
#: model on the tool-call format and on the facts it was just shown (measured by bench/local_model.py).
SAMPLING: dict[str, Any] = {"cache_prompt": True, "temperature": 0.2}
#: Failures that may mean the server process died (then the turn says so instead).
_BROKEN = frozenset({"connect", "connection_lost", "truncated", "bad_response", "timeout"})


class LocalProvider:
    """A :class:`Provider` backed by the shared llama.cpp server of one embedded model."""

    name: str = "local"
    #: Small models get the compact system prompt and tool descriptions.
    prompt_style: str = "compact"

    def __init__(
        self,
        model: LocalModel,
        *,
        server: ModelServer | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        text_tool_calls: bool = True,
        save_prefix: bool = True,
    ) -> None:
        self.local_model = model
        self.model: str = model.name
        self.context_window: int | None = model.n_ctx
        self.server = server or shared_server(model)
        self._read_timeout = read_timeout
        self._text_tool_calls = text_tool_calls
        self._save_prefix = save_prefix
        self._held = False
        self._inner: OpenAIProvider | None = None
        self._primed_generation = 0
        self._prime_lock = asyncio.Lock()
        self._ctx = ErrorContext(provider="the local model server", model=model.name, base_url="127.0.0.1")

    @property
    def base_url(self) -> str | None:
        """The running server's OpenAI base URL (None before first use)."""
        return self._inner.base_url if self._inner is not None else None

    def status(self) -> ModelStatus:
        return self.server.status()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        if not self.server.ready:
            yield Notice(level="info", text=self._waiting_text())
        inner = await self._ready_inner()
        tools = compact_tools(request.tools)
        # The first reply of a turn must be a tool call: a 1.5B model otherwise often describes the
        # call in prose or guesses what a file holds (measured by bench/local_model.py). Later
        # rounds, after a tool result, are free to answer.
        first_round = bool(tools) and bool(request.messages) and request.messages[-1].role == "user"
        request = ChatRequest(
            messages=request.messages,
            tools=tools,
            max_tokens=request.max_tokens,
            extra={"json_schema": call_schema(tools)} if first_round else {},
        )
        if self._prime_lock.locked():
            yield Notice(
                level="info",
                text=f"The local model ({self.model}) is still reading the agent's "
                "instructions (warm-up); the reply starts right after.",
            )
        await self._prime(inner, request)
        busy = self.server.begin_request()
        try:
            if busy:
                yield Notice(
                    level="info",
                    text=f"The local model ({self.model}) is answering another request "
                    "(another folder or an inline edit); this one waits for it.",
                )
            async with closing(inner.stream(request)) as events:
                async for event in events:
                    yield event
        except ProviderError as error:
            if error.kind not in _BROKEN or not await asyncio.to_thread(self.server.died):
                raise
            stopped = make_error("local_stopped", self._ctx, detail=self.server.describe_exit())
            stopped.output_started = error.output_started
            raise stopped from error
        finally:
            self.server.end_request()

    async def start(self) -> str:
        """Start the server if needed (without a request); returns its base URL."""
        inner = await self._ready_inner()
        return inner.base_url.removesuffix("/v1")

    async def warm(self, request: ChatRequest) -> Outcome | None:
        """Start the server and get ``request``'s fixed prefix into its cache, ahead of the first
        request (the LSP server does this in the background when a workspace opens); None when
        it was already done for this server."""
        inner = await self._ready_inner()
        request = ChatRequest(messages=request.messages, tools=compact_tools(request.tools), max_tokens=1)
        return await self._prime(inner, request)

    async def aclose(self) -> None:
        """Close this provider's connections and let go of the shared server (the last one to let
        go stops it)."""
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
        if self._held:
            self._held = False
            await asyncio.to_thread(self.server.release)

    def _waiting_text(self) -> str:
        status = self.server.status()
        if status.state in ("loading", "verifying", "assembling"):
            return f"Waiting for the local model ({self.model}) to finish {status.state}..."
        if not is_verified(self.local_model, self.server.folder) and not self.local_model.in_place:
            return (
                f"Preparing the local model {self.model} for its first use: assembling "
                f"{self.local_model.size / 1e9:.1f} GB into {self.server.folder}, then loading it..."
            )
        return f"Loading the local model {self.model}..."

    async def _ready_inner(self) -> OpenAIProvider:
        if not self._held:
            self._held = True
            self.server.acquire()
        try:
            address = await self.server.start()
        except ModelServerError as exc:
            raise make_error("local_start", self._ctx, detail=str(exc)) from exc
        base_url = address + "/v1"
        if self._inner is None or self._inner.base_url != base_url:
            if self._inner is not None:  # the server was started again on another port
                await self._inner.aclose()
            self._inner = OpenAIProvider(
                base_url,
                None,
                self.model,
                read_timeout=self._read_timeout,
                name="local",
                context_window=self.context_window,
                key_env=None,
                label="the local model server",
                text_tool_calls=self._text_tool_calls,
                extra_body=SAMPLING,
            )
        return self._inner

    async def _prime(self, inner: OpenAIProvider, request: ChatRequest) -> Outcome | None:
        """Once per server start, before its first agent request: the fixed prefix restored or
        warmed (requests without tools, such as inline edits, have another prefix)."""
        if not request.tools:
            return None
        async with self._prime_lock:
            generation = self.server.generation
            if self._primed_generation == generation:
                return None
            self._primed_generation = generation
            if not self.server.claim_prime(generation):
                return None
            body = _warm_body(inner, request)
            address = inner.base_url.removesuffix("/v1")
            self.server.begin_request()
            try:
                async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=self._read_timeout)) as http:
                    return await prime(
                        http, address, self.server.slot_folder, self.local_model, body, save=self._save_prefix
                    )
            finally:
                self.server.end_request()


def _warm_body(inner: OpenAIProvider, request: ChatRequest) -> dict[str, Any]:
    """The request's fixed prefix (system prompt and tools) as a one-token request."""
    system = [m for m in request.messages[:1] if m.role == "system"]
    prefix = ChatRequest(messages=[*system, Message(role="user", content="")], tools=request.tools, max_tokens=1)
    body = inner.request_body(prefix)
    body["stream"] = False
    body.pop("stream_options", None)
    return body
