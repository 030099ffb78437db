"""The engine's latency and feedback rules, against the fake LLM server's /infill."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from agent_core.completion.config import CompletionConfig
from agent_core.completion.engine import CompletionEngine, CompletionRequest
from agent_core.completion.select import create_source
from agent_core.config import AgentConfig
from tests.completion.test_sources import StubServer
from tests.fakes.clock import FakeClock
from tests.fakes.llm_server import FakeLLM

DOC = "def add(a, b):\n    \n"
END = len("def add(a, b):\n    ")


def make(
    llm: FakeLLM, problems: list[str] | None = None, clock: FakeClock | None = None, **settings: object
) -> CompletionEngine:
    config = CompletionConfig.model_validate({"debounceMs": 0, **settings})
    source = create_source("local", config, AgentConfig(), {}, StubServer(llm.base_url))
    return CompletionEngine(config, source, on_problem=(problems if problems is not None else []).append, clock=clock)


def request(text: str = DOC, offset: int = END, **kw: object) -> CompletionRequest:
    return CompletionRequest(document="file:///w/calc.py", path="calc.py", text=text, offset=offset, **kw)  # type: ignore[arg-type]


async def test_a_suggestion_is_cleaned_and_typing_through_it_needs_no_model_call(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "return a + b\n\n\ndef sub(a, b):<|endoftext|>"})
    engine = make(fake_llm)
    first = await engine.complete(request())
    assert [s.text for s in first.suggestions] == ["return a + b"] and first.how == "model"
    typed = DOC[:END] + "retu" + DOC[END:]
    second = await engine.complete(request(typed, END + 4))
    assert [s.text for s in second.suggestions] == ["rn a + b"] and second.how == "cache"
    assert len(fake_llm.requests) == 1
    assert engine.status()["cacheHits"] == 1 and engine.status()["modelCalls"] == 1


async def test_a_newer_request_cancels_the_model_call_of_the_older(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "too late", "hold": True}, {"text": "return a + b"})
    engine = make(fake_llm)
    older = asyncio.ensure_future(engine.complete(request()))
    await asyncio.to_thread(fake_llm.wait_for_requests, 1)
    typed = DOC[:END] + "r" + DOC[END:]
    newer = await engine.complete(request(typed, END + 1))
    assert (await older).how == "superseded" and (await older).suggestions == []
    assert [s.text for s in newer.suggestions] == ["return a + b"]
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1)


class GatedClock(FakeClock):
    """Debounce waits last until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.waiting += 1
        await self.gate.wait()


async def until(predicate: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not predicate():  # noqa: ASYNC110 - bounded polling of another task's state
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 5)


async def test_an_automatic_trigger_is_debounced(fake_llm: FakeLLM) -> None:
    fake_llm.default = {"text": "return a + b"}
    clock = GatedClock()
    engine = make(fake_llm, clock=clock, debounceMs=200)
    first = asyncio.ensure_future(engine.complete(request(automatic=True)))
    await until(lambda: clock.waiting == 1)
    typed = DOC[:END] + "r" + DOC[END:]
    second = asyncio.ensure_future(engine.complete(request(typed, END + 1, automatic=True)))
    await until(lambda: clock.waiting == 2)
    clock.gate.set()
    assert (await first).how == "superseded"
    assert (await second).how == "model"
    assert clock.sleeps == [0.2, 0.2]
    assert len(fake_llm.requests) == 1  # the superseded keystroke never reached the model
    # An explicit request (a key the user pressed) is not debounced.
    await engine.complete(request(offset=END - 1))
    assert clock.sleeps == [0.2, 0.2]


async def test_a_failing_source_answers_empty_and_is_reported_once(fake_llm: FakeLLM) -> None:
    fake_llm.default = {"status": 500, "error_message": "model crashed"}
    problems: list[str] = []
    engine = make(fake_llm, problems)
    for offset in (END, END - 1, END - 2):
        result = await engine.complete(request(offset=offset))
        assert result.suggestions == [] and result.how == "problem"
    assert len(problems) == 1 and "500" in problems[0]
    assert engine.status()["problem"] == problems[0]
    fake_llm.default = {"text": "return a"}
    assert (await engine.complete(request(offset=END - 3))).suggestions
    assert engine.status()["problem"] is None


async def test_a_model_slower_than_the_timeout_answers_empty(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "late", "hold": True})
    problems: list[str] = []
    engine = make(fake_llm, problems, timeout=0.2)
    assert (await engine.complete(request())).how == "problem"
    assert "completion.timeout" in problems[0]
    fake_llm.release()


async def test_accepted_text_seeds_the_ring_and_is_counted(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "return a + b"})
    engine = make(fake_llm)
    result = await engine.complete(request(text="import os\nimport sys\n" + DOC, offset=END + 20))
    (suggestion,) = result.suggestions
    assert engine.accepted(suggestion.id)
    assert not engine.accepted(suggestion.id)  # counted once
    assert engine.status()["accepted"] == 1 and engine.status()["shown"] == 1
    assert engine.ring.queued == 1
    engine.ring.commit()
    assert "return a + b" in engine.ring.chunks[0].text


async def test_opened_documents_become_extra_context(fake_llm: FakeLLM) -> None:
    fake_llm.default = {"text": "x"}
    engine = make(fake_llm)
    engine.opened("util.py", "".join(f"def helper_{i}():\n    return {i}\n" for i in range(20)))
    await engine.complete(request())
    extra = fake_llm.requests[-1]["input_extra"]
    assert [e["filename"] for e in extra] == ["util.py"] and "def helper_0" in extra[0]["text"]


async def test_the_first_opened_document_warms_a_local_model(fake_llm: FakeLLM) -> None:
    fake_llm.default = {"text": ""}
    engine = make(fake_llm)
    engine.opened("calc.py", DOC)
    engine.opened("other.py", DOC)  # warmed once only
    (request,) = await asyncio.to_thread(fake_llm.wait_for_requests, 1)
    assert request["_path"] == "/infill" and request["n_predict"] == 0 and request["cache_prompt"] is True
    engine.opened("third.py", DOC, warm=False)
    await engine.aclose()
    assert len(fake_llm.requests) == 1
