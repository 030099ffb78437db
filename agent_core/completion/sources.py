"""Where suggestions come from: one server, asked the best way it understands.

:class:`ServerSource` talks to one server through up to three endpoints, best first:

* ``infill``: llama.cpp's ``POST /infill`` (the embedded model, or any llama.cpp server). It lays
  out the FIM tokens itself, takes other files' chunks as ``input_extra``, reuses its prompt
  cache (``cache_prompt``), stops generating after ``t_max_predict_ms`` once a line is done, and
  at a line indented less than ``n_indent``.
* ``completions``: ``POST /v1/completions`` with the model family's FIM tokens
  (:mod:`agent_core.completion.fim`), for Ollama, vLLM and friends serving a code model.
* ``chat``: a chat prompt asking for the insertion only (:mod:`agent_core.completion.prompts`),
  through the project's own providers (OpenAI-compatible or Anthropic).

With ``endpoint: auto`` the first that the server has is found once (a 404, 405 or 501 means "not
here") and remembered. Failures become :class:`CompletionProblem` with the providers' own
readable messages (:mod:`agent_core.errors`); a model still loading is :class:`ModelLoading`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from agent_core.completion.config import CompletionConfig
from agent_core.completion.context import FimContext
from agent_core.completion.fim import FimFamily, fim_prompt
from agent_core.completion.prompts import chat_messages, strip_echo
from agent_core.errors import ErrorContext, classify_status, classify_transport
from agent_core.events import TextDelta
from agent_core.providers.base import ChatRequest, Provider, ProviderError
from agent_core.providers.closing import closing

log = logging.getLogger(__name__)

#: Statuses meaning "this server has no such endpoint".
_NOT_HERE = frozenset({404, 405, 501})


class CompletionProblem(Exception):
    """A source failed in a way the user should hear about once (message says what to do)."""


class ModelLoading(Exception):
    """The model is still loading: answer empty now, it is being started in the background."""


class _NotSupported(Exception):
    """The server has no such endpoint."""


@dataclass(frozen=True)
class Connection:
    """How to reach an OpenAI-compatible server. ``base_url`` is awaited per request, so a local
    server can start late (it raises :class:`ModelLoading` meanwhile)."""

    base_url: Callable[[], Awaitable[str]]
    label: str
    api_key: str | None = None
    key_env: str | None = None
    #: Like ``base_url`` but waits for a server that is starting (used to warm it).
    started: Callable[[], Awaitable[str]] | None = None
    #: The server's state for ``agent.status`` ("loading", "ready", ...), when it has one.
    state: Callable[[], str] | None = None


def fixed_url(url: str) -> Callable[[], Awaitable[str]]:
    async def base_url() -> str:
        return url

    return base_url


class ServerSource:
    """Suggestions from one server (see the module docstring)."""

    def __init__(
        self,
        name: str,
        model: str,
        config: CompletionConfig,
        *,
        connection: Connection | None,
        chat: Provider | None,
        family: FimFamily | None,
        endpoints: tuple[str, ...],
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self._config = config
        self._connection = connection
        self._chat = chat
        self._family = family
        self._candidates = endpoints
        self._own_http = http is None
        #: Made on the first request, so a source never used has nothing to close.
        self._http_client = http
        #: The endpoint found to work (fixed when the settings name one).
        self.endpoint: str | None = endpoints[0] if len(endpoints) == 1 else None

    def describe(self) -> dict[str, Any]:
        state = self._connection.state() if self._connection and self._connection.state else "ready"
        return {"source": self.name, "model": self.model, "endpoint": self.endpoint, "state": state}

    async def complete(self, ctx: FimContext) -> str:
        """The raw suggestion text (not cleaned yet)."""
        order = [self.endpoint] if self.endpoint else list(self._candidates)
        for endpoint in order:
            try:
                text = await self._call(endpoint, ctx)
            except _NotSupported:
                if self.endpoint is not None:
                    raise CompletionProblem(
                        f"{self._where()} has no {endpoint} endpoint; set completion.endpoint to 'auto' or another one"
                    ) from None
                log.info("%s has no %s endpoint; trying the next", self._where(), endpoint)
                continue
            if self.endpoint is None:
                log.info("completions from %s through its %s endpoint", self._where(), endpoint)
            self.endpoint = endpoint
            return text
        raise CompletionProblem(
            f"{self._where()} cannot fill in the middle with {self.model} (tried "
            f"{', '.join(order)}); set completion.source or completion.baseUrl"
        )

    async def warm(self, ctx: FimContext) -> None:
        """Fill the server's prompt cache for ``ctx`` (llama.cpp only: ``n_predict: 0``)."""
        if self._connection is None or self.endpoint not in (None, "infill") or "infill" not in self._candidates:
            return
        if self._connection.started is not None:
            await self._connection.started()
        try:
            await self._post(await self._root() + "/infill", {**infill_body(ctx, self._config), "n_predict": 0})
        except (_NotSupported, CompletionProblem) as exc:
            log.info("warming %s skipped: %s", self._where(), exc)

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._http_client is None:
            self._http_client = httpx.AsyncClient()
        return self._http_client

    async def aclose(self) -> None:
        if self._chat is not None:
            await self._chat.aclose()
        if self._own_http and self._http_client is not None:
            await self._http_client.aclose()

    # -- the endpoints --------------------------------------------------------------------------

    async def _call(self, endpoint: str, ctx: FimContext) -> str:
        if endpoint == "infill":
            data = await self._post(await self._root() + "/infill", infill_body(ctx, self._config))
            return _text(data, "content")
        if endpoint == "completions":
            if self._family is None:
                raise _NotSupported
            data = await self._post(
                await self._base() + "/completions",
                {
                    "model": self.model,
                    "prompt": fim_prompt(self._family, ctx.before, ctx.suffix),
                    "max_tokens": self._config.max_tokens,
                    "temperature": 0,
                    "stream": False,
                    "stop": list(self._family.stop),
                },
            )
            choices = data.get("choices") if isinstance(data, dict) else None
            return _text(choices[0] if isinstance(choices, list) and choices else None, "text")
        return await self._ask_chat(ctx)

    async def _ask_chat(self, ctx: FimContext) -> str:
        if self._chat is None:
            raise _NotSupported
        request = ChatRequest(messages=chat_messages(ctx), max_tokens=self._config.max_tokens)
        parts: list[str] = []
        try:
            async with closing(self._chat.stream(request)) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
        except ProviderError as exc:
            if exc.status in _NOT_HERE and exc.status != 404:
                raise _NotSupported from exc
            raise CompletionProblem(exc.message) from exc
        return strip_echo("".join(parts), ctx)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _base(self) -> str:
        assert self._connection is not None
        return (await self._connection.base_url()).rstrip("/")

    async def _root(self) -> str:
        """llama.cpp serves ``/infill`` beside ``/v1``, at the server's root."""
        return (await self._base()).removesuffix("/v1")

    async def _post(self, url: str, body: dict[str, Any]) -> Any:
        if self._connection is None:
            raise _NotSupported
        ctx = ErrorContext(
            provider=self._connection.label,
            model=self.model,
            base_url=url,
            key_env=self._connection.key_env,
            secret=self._connection.api_key,
        )
        headers = {"Authorization": f"Bearer {self._connection.api_key}"} if self._connection.api_key else {}
        try:
            response = await self._http.post(
                url, json=body, headers=headers, timeout=httpx.Timeout(10.0, read=self._config.timeout)
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise CompletionProblem(classify_transport(exc, ctx).message) from exc
        if response.status_code in _NOT_HERE:
            raise _NotSupported
        if response.status_code != 200:
            raise CompletionProblem(
                classify_status(response.status_code, response.text, response.headers, ctx, time.time).message
            )
        try:
            return response.json()
        except ValueError:
            raise CompletionProblem(f"{self._where()} answered something that is not JSON") from None

    def _where(self) -> str:
        return self._connection.label if self._connection else f"the {self.name} model"


def infill_body(ctx: FimContext, config: CompletionConfig) -> dict[str, Any]:
    """llama.cpp's ``/infill`` request for ``ctx`` (public for the benchmark, which sends the same
    request to the server directly)."""
    return {
        "input_prefix": ctx.prefix,
        "prompt": ctx.middle,
        "input_suffix": ctx.suffix,
        "input_extra": [{"filename": c.filename, "text": c.text} for c in ctx.extra],
        "n_predict": config.max_tokens,
        "n_indent": ctx.indent,
        "t_max_predict_ms": config.time_budget_ms,
        "cache_prompt": True,
        "samplers": ["top_k", "top_p", "infill"],
        "top_k": 40,
        "top_p": 0.99,
        # The same context gets the same suggestion (and typing through it stays consistent).
        "seed": 0,
        "stream": False,
    }


def _text(data: Any, key: str) -> str:
    """``data[key]`` when it is a string; any other answer shape is garbage, worth one notice."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise CompletionProblem(f"the completion server answered an unexpected shape: {json.dumps(data)[:120]}")
    return value
