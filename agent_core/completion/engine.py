"""One workspace's completion engine: windows, ring, cache, source, and the latency rules.

The front end hands over a document, a cursor offset and how the request was triggered; the
engine answers with suggestions, applying in order:

* the typing-through cache (no model call when the user types what was suggested);
* the debounce of automatic triggers (a keystroke arriving meanwhile wins, the model is not asked);
* one request in flight per document: a newer request cancels the model call of the older one,
  which answers empty (the HTTP request is closed, so the server stops generating);
* a model still loading, a source that fails or times out: an empty answer at once, the problem
  reported once through ``on_problem`` and kept in :meth:`status`.

It also keeps the ring of extra chunks fed (opened, saved, accepted), warms the local model on the
first opened document, and counts suggestions shown and accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from agent_core.clock import Clock, SystemClock
from agent_core.completion.cache import SuggestionCache, around
from agent_core.completion.config import CompletionConfig
from agent_core.completion.context import FimContext, build_context
from agent_core.completion.quality import clean
from agent_core.completion.ring import RingBuffer
from agent_core.completion.sources import CompletionProblem, ModelLoading, ServerSource
from agent_core.messages import new_id
from agent_core.providers.base import ProviderError

log = logging.getLogger(__name__)

#: Seconds between two commits of the ring (each one invalidates the server's prompt cache).
RING_COMMIT_INTERVAL = 30.0
#: Suggestions remembered for the accept command.
SHOWN_KEPT = 200


@dataclass(frozen=True)
class CompletionRequest:
    #: Identifies the document (its URI): one request in flight and one cache per document.
    document: str
    #: The file as the model is told about it.
    path: str
    text: str
    #: The cursor as a string index of ``text`` (already clamped).
    offset: int
    automatic: bool = False
    language: str | None = None


@dataclass(frozen=True)
class Suggestion:
    id: str
    text: str


@dataclass
class CompletionResult:
    suggestions: list[Suggestion] = field(default_factory=list)
    #: Why there is nothing, or where it came from: "cache", "model", "superseded", "loading",
    #: "disabled", "problem", "empty".
    how: str = "empty"


@dataclass(frozen=True)
class _Shown:
    path: str
    text: str
    #: The lines around the cursor, before and after it (for the ring chunk of an accept).
    before: str
    after: str


class CompletionEngine:
    def __init__(
        self,
        config: CompletionConfig,
        source: ServerSource | None,
        *,
        off_reason: str | None = None,
        planned: str | None = None,
        on_problem: Callable[[str], None] = lambda _m: None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.source = source
        #: Why there is no source, and (when only switched off) which one the settings name.
        self.off_reason = off_reason
        self._planned = planned
        self._on_problem = on_problem
        self._clock = clock or SystemClock()
        self.ring = RingBuffer(config.ring_chunks, config.ring_chunk_lines)
        self.cache = SuggestionCache()
        self._latest: dict[str, int] = {}
        self._inflight: dict[str, asyncio.Task[str]] = {}
        self._shown: OrderedDict[str, _Shown] = OrderedDict()
        self._reported: set[str] = set()
        self._last_commit: float | None = None
        self._warmed = False
        self._background: set[asyncio.Task[Any]] = set()
        self.problem: str | None = None
        self.counts = {"requests": 0, "shown": 0, "accepted": 0, "cacheHits": 0, "modelCalls": 0}

    @property
    def enabled(self) -> bool:
        return self.source is not None

    # -- suggestions ----------------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        if self.source is None:
            return CompletionResult(how="disabled")
        self.counts["requests"] += 1
        generation = self._latest.get(request.document, 0) + 1
        self._latest[request.document] = generation
        before, after = around(request.text, request.offset)
        cached = self.cache.get(request.document, before, after)
        if cached is not None:
            self.counts["cacheHits"] += 1
            return self._show(request, cached, "cache")
        if request.automatic and self.config.debounce_ms:
            await self._clock.sleep(self.config.debounce_ms / 1000)
            if self._latest.get(request.document) != generation:
                return CompletionResult(how="superseded")
        ctx = self._context(request)
        previous = self._inflight.pop(request.document, None)
        if previous is not None:
            previous.cancel()
        call = asyncio.ensure_future(self._ask(ctx))
        self._inflight[request.document] = call
        try:
            raw = await call
        except asyncio.CancelledError:
            if self._latest.get(request.document) != generation:
                return CompletionResult(how="superseded")
            call.cancel()
            raise  # the client cancelled this request itself
        except ModelLoading:
            return CompletionResult(how="loading")
        except CompletionProblem as exc:
            self._report(str(exc))
            return CompletionResult(how="problem")
        finally:
            if self._inflight.get(request.document) is call:
                del self._inflight[request.document]
        self.problem = None
        text = clean(raw, ctx)
        if not text:
            return CompletionResult(how="empty")
        self.cache.put(request.document, before, after, text)
        return self._show(request, text, "model")

    async def _ask(self, ctx: FimContext) -> str:
        assert self.source is not None
        self.counts["modelCalls"] += 1
        try:
            return await asyncio.wait_for(self.source.complete(ctx), self.config.timeout)
        except TimeoutError:
            raise CompletionProblem(
                f"the completion model took longer than {self.config.timeout:g} s "
                "(completion.timeout); suggestions stay empty until it answers faster"
            ) from None

    def _context(self, request: CompletionRequest) -> FimContext:
        ctx = build_context(
            request.text,
            request.offset,
            prefix_lines=self.config.prefix_lines,
            suffix_lines=self.config.suffix_lines,
            path=request.path,
            language=request.language,
        )
        now = self._clock.now()
        due = self._last_commit is None or now - self._last_commit >= RING_COMMIT_INTERVAL
        if due and (self.ring.commit() or self._last_commit is None):
            self._last_commit = now
        return replace(ctx, extra=self.ring.extra(ctx.window_lines()))

    def _show(self, request: CompletionRequest, text: str, how: str) -> CompletionResult:
        suggestion = Suggestion(new_id(), text)
        self.counts["shown"] += 1
        lines = self.config.ring_chunk_lines
        region = build_context(request.text, request.offset, prefix_lines=lines, suffix_lines=lines, path=request.path)
        self._shown[suggestion.id] = _Shown(request.path, text, region.before, region.suffix)
        while len(self._shown) > SHOWN_KEPT:
            self._shown.popitem(last=False)
        return CompletionResult([suggestion], how)

    def _report(self, problem: str) -> None:
        self.problem = problem
        if problem not in self._reported:
            self._reported.add(problem)
            log.warning("completion: %s", problem)
            self._on_problem(problem)

    # -- feedback and context -------------------------------------------------------------------

    def accepted(self, suggestion_id: str, text: str | None = None) -> bool:
        """The user accepted a suggestion (``text``: the part taken, for a partial accept). The
        accepted code, with the lines around it, joins the ring. False for an unknown id."""
        shown = self._shown.pop(suggestion_id, None)
        if shown is None:
            return False
        self.counts["accepted"] += 1
        taken = shown.text if text is None else text
        self.ring.pick(shown.path, shown.before + taken + shown.after, shown.before.count("\n"))
        return True

    def opened(self, path: str, text: str, *, warm: bool = True) -> None:
        """A document was opened: its top joins the ring; the first one warms a local model
        (unless ``warm`` is false: the editor cannot show suggestions)."""
        self.ring.pick(path, text)
        if warm and not self._warmed and self.source is not None and self.source.name == "local":
            self._warmed = True
            ctx = self._context(CompletionRequest(document=path, path=path, text=text, offset=0))
            self._spawn(self._warm(ctx))

    def saved(self, path: str, text: str, line: int | None) -> None:
        """A document was saved: the chunk around its last edit joins the ring."""
        self.ring.pick(path, text, line)

    async def _warm(self, ctx: FimContext) -> None:
        assert self.source is not None
        try:
            await self.source.warm(ctx)
        except (ModelLoading, CompletionProblem, ProviderError) as exc:
            log.info("warming the completion model: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        described = (
            self.source.describe() if self.source else {"source": self._planned, "model": None, "endpoint": None}
        )
        return {
            "enabled": self.source is not None,
            **described,
            "reason": self.off_reason,
            "problem": self.problem,
            "extraChunks": len(self.ring.chunks),
            "queuedChunks": self.ring.queued,
            **self.counts,
        }

    async def aclose(self) -> None:
        for task in [*self._inflight.values(), *self._background]:
            task.cancel()
        if self.source is not None:
            await self.source.aclose()
