"""Coalescing and event mapping of one turn's notifications, on a simulated clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from agent_core.events import (
    Notice,
    RetryScheduled,
    StreamFinished,
    TextDelta,
    ToolCallStarted,
    ToolFinished,
    ToolStarted,
    TurnEnded,
    UsageReported,
)
from agent_core.messages import ToolCall, Usage
from lsp_server import wire
from lsp_server.streaming import DeltaCoalescer, TurnStream


class _Handle:
    def __init__(self, loop: FakeLoop, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False
        self._loop = loop

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """Just enough of an event loop for timers: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[_Handle] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle(self, self.now + delay, callback)
        self.timers.append(handle)
        return handle

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [h for h in self.timers if h.when <= self.now and not h.cancelled]
        self.timers = [h for h in self.timers if h not in due and not h.cancelled]
        for handle in due:
            handle.callback()


def test_a_fast_stream_is_bounded_and_nothing_is_lost() -> None:
    loop = FakeLoop()
    sent: list[tuple[float, str]] = []
    coalescer = DeltaCoalescer(lambda text: sent.append((loop.now, text)), interval=0.05, loop=loop)  # type: ignore[arg-type]
    pieces = [f"t{i} " for i in range(2000)]
    for piece in pieces:  # 2000 deltas over 1 simulated second
        coalescer.add(piece)
        loop.advance(0.0005)
    coalescer.flush()
    assert "".join(text for _, text in sent) == "".join(pieces)
    assert len(sent) <= 1 / 0.05 + 2
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(sent[:-1])]  # the last one is the final flush
    assert all(gap >= 0.05 - 1e-9 for gap in gaps)


def test_the_first_delta_goes_out_at_once() -> None:
    loop = FakeLoop()
    sent: list[str] = []
    coalescer = DeltaCoalescer(sent.append, interval=0.05, loop=loop)  # type: ignore[arg-type]
    coalescer.add("Hello")
    assert sent == ["Hello"]
    coalescer.add(" world")
    assert sent == ["Hello"]  # held for the window
    loop.advance(0.05)
    assert sent == ["Hello", " world"]


Notes = list[tuple[str, dict[str, Any]]]


def recorder(notes: Notes) -> Callable[[wire.Notification], None]:
    """A stream's ``notify`` that keeps what the client would receive: (method, params)."""
    return lambda params: notes.append((params.METHOD, params.wire()))


@pytest.fixture
def stream_and_notes() -> tuple[TurnStream, Notes, FakeLoop]:
    loop = FakeLoop()
    notes: Notes = []
    stream = TurnStream("t1", "chat", recorder(notes), interval=0.05, loop=loop)  # type: ignore[arg-type]
    return stream, notes, loop


def test_the_end_of_a_response_sends_its_text_at_once(stream_and_notes: tuple[TurnStream, Notes, FakeLoop]) -> None:
    # The turn then saves the reply before it ends: the text must not wait for that.
    stream, notes, _ = stream_and_notes
    stream.report(TextDelta(text="a"))
    stream.report(TextDelta(text="b"))  # held for the window
    assert [p["text"] for _, p in notes] == ["a"]
    stream.report(StreamFinished(stop_reason="end_turn"))
    assert [p["text"] for _, p in notes] == ["a", "b"]


def test_other_events_flush_pending_text_first(stream_and_notes: tuple[TurnStream, Notes, FakeLoop]) -> None:
    stream, notes, _ = stream_and_notes
    stream.started("hi")
    stream.report(TextDelta(text="a"))
    stream.report(TextDelta(text="b"))  # held
    call = ToolCall(id="c1", name="read_file", arguments={"path": "x.py"})
    stream.report(ToolCallStarted(index=0, id="c1", name="read_file"))
    stream.report(ToolStarted(call=call))
    stream.report(ToolFinished(call_id="c1", name="read_file", output="text", is_error=False))
    stream.report(TextDelta(text="c"))
    stream.report(RetryScheduled(attempt=1, max_attempts=3, delay=0.5, reason="rate limited"))
    stream.report(Notice(level="warning", text="careful"))
    stream.report(TextDelta(text="d"))
    stream.report(UsageReported(usage=Usage(input_tokens=3, output_tokens=4)))
    stream.end(TurnEnded(turn_id="t1", stop_reason="end_turn", usage=Usage(input_tokens=3, output_tokens=4)))
    methods = [m for m, _ in notes]
    assert methods == [
        "agent/turnStarted",
        "agent/textDelta",
        "agent/textDelta",
        "agent/toolCall",
        "agent/toolCall",
        "agent/toolCall",
        "agent/textDelta",
        "agent/retry",
        "agent/notice",
        "agent/textDelta",
        "agent/turnEnded",
    ]
    texts = [p["text"] for m, p in notes if m == "agent/textDelta"]
    assert texts == ["a", "b", "c", "d"]
    statuses = [p["status"] for m, p in notes if m == "agent/toolCall"]
    assert statuses == ["started", "running", "finished"]
    assert notes[4][1]["arguments"] == {"path": "x.py"}
    assert notes[5][1]["output"] == "text" and notes[5][1]["isError"] is False
    assert notes[7][1] == {"turnId": "t1", "attempt": 1, "maxAttempts": 3, "delay": 0.5, "reason": "rate limited"}
    assert notes[-1][1] == {"turnId": "t1", "stopReason": "end_turn", "usage": {"inputTokens": 3, "outputTokens": 4}}
    assert stream.usage == Usage(input_tokens=3, output_tokens=4)


def test_an_error_end_carries_the_message(stream_and_notes: tuple[TurnStream, Notes, FakeLoop]) -> None:
    stream, notes, _ = stream_and_notes
    stream.end(TurnEnded(turn_id="t1", stop_reason="error", usage=Usage(), error="401: bad key"))
    assert notes == [
        (
            "agent/turnEnded",
            {
                "turnId": "t1",
                "stopReason": "error",
                "usage": {"inputTokens": 0, "outputTokens": 0},
                "error": "401: bad key",
            },
        )
    ]


class _Progress:
    def __init__(self) -> None:
        self.reports: list[str] = []
        self.ended: list[str] = []

    def report(self, message: str) -> None:
        self.reports.append(message)

    def end(self, message: str) -> None:
        self.ended.append(message)


async def test_progress_follows_the_turn() -> None:
    progress = _Progress()
    notes: Notes = []
    stream = TurnStream("t2", "inlineEdit", recorder(notes), progress=progress)
    stream.report(TextDelta(text="x"))
    stream.report(RetryScheduled(attempt=2, max_attempts=3, delay=1.0, reason="overloaded"))
    stream.end(TurnEnded(turn_id="t2", stop_reason="cancelled", usage=Usage()))
    assert progress.reports[0] == "Writing the proposal"
    assert progress.reports[1].startswith("Retry 2/3")
    assert progress.ended == ["Cancelled"]
