"""agent_core.inline_edit: the prompt, fence stripping while streaming, and propose()."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent_core.events import Event, ProviderEvent, RetryScheduled, StreamFinished, TextDelta, UsageReported
from agent_core.host import EditResult, PermissionRequest, PermissionResult
from agent_core.inline_edit import (
    CONTEXT_LINES,
    FenceFilter,
    InlineEditError,
    InlineEditRequest,
    build_messages,
    propose,
)
from agent_core.messages import Usage
from agent_core.providers.base import ChatRequest


def run_filter(chunks: list[str], selection: str) -> str:
    fences = FenceFilter(selection)
    return "".join([fences.feed(c) for c in chunks] + [fences.finish()])


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_a_wrapping_fence_is_removed_however_the_stream_is_split(size: int) -> None:
    answer = "```python\ndef f():\n    return 1\n```\n"
    assert run_filter(split(answer, size), "def f():\n    pass\n") == "def f():\n    return 1\n"
    assert run_filter(split(answer, size), "def f(): pass") == "def f():\n    return 1"


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_text_without_fences_passes_unchanged(size: int) -> None:
    code = "x = `a` + 1  # `quoted`\ny = 2\n"
    assert run_filter(split(code, size), "x = 0\ny = 0\n") == code


def test_selection_that_is_itself_fenced_keeps_the_fence() -> None:
    answer = "```\nnew\n```\n"
    assert run_filter(split(answer, 2), "```\nold\n```\n") == answer


def test_a_trailing_newline_follows_the_selection() -> None:
    assert run_filter(["value"], "old\n") == "value\n"
    assert run_filter(["value\n\n"], "old") == "value"
    assert run_filter(["```\nvalue\n```"], "old\r\n") == "value\n"  # the model's own break is kept
    assert run_filter(["value"], "old\r\n") == "value\r\n"


def test_prompt_holds_context_region_feedback_and_instruction() -> None:
    before = "".join(f"b{i}\n" for i in range(200))
    request = InlineEditRequest(
        instruction="rename x to y",
        path="src/a.py",
        before=before,
        selection="x = 1\n",
        after="print(x)\n",
        language="python",
        feedback=("too verbose",),
    )
    system, user = build_messages(request)
    assert system.role == "system" and "only" in system.content
    assert "src/a.py (python)" in user.content
    assert "<region>x = 1\n</region>" in user.content
    assert "b199" in user.content and "b0\n" not in user.content
    assert user.content.count("\nb") <= CONTEXT_LINES
    assert "too verbose" in user.content
    assert user.content.rstrip().endswith("Instruction: rename x to y")


class ScriptedProvider:
    """A provider that yields the given events (the wire formats are tested with the fake server)."""

    name = "scripted"
    model = "m"
    context_window = None

    def __init__(self, events: list[ProviderEvent]) -> None:
        self.events = events
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        for event in self.events:
            yield event

    async def aclose(self) -> None:
        pass


class RecordingHost:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def read_file(self, path: Path) -> str | None:
        return None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        raise AssertionError("an inline edit proposal never edits")

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        raise AssertionError("an inline edit uses no tools")

    def report(self, event: Event) -> None:
        self.events.append(event)


REQUEST = InlineEditRequest(instruction="double it", path="a.py", before="", selection="x = 1\n", after="")


async def test_propose_streams_filtered_deltas_that_add_up_to_the_result() -> None:
    provider = ScriptedProvider(
        [
            RetryScheduled(attempt=1, max_attempts=3, delay=0.0, reason="overloaded"),
            TextDelta(text="```py"),
            TextDelta(text="\nx = "),
            TextDelta(text="2\n``"),
            TextDelta(text="`"),
            UsageReported(usage=Usage(input_tokens=10, output_tokens=5)),
            StreamFinished(stop_reason="end_turn"),
        ]
    )
    host = RecordingHost()
    result = await propose(provider, REQUEST, host)
    assert result == "x = 2\n"
    deltas = [e.text for e in host.events if isinstance(e, TextDelta)]
    assert "".join(deltas) == result
    assert isinstance(host.events[0], RetryScheduled)  # no start event: the front end owns the turn
    assert any(isinstance(e, RetryScheduled) for e in host.events)
    assert any(isinstance(e, UsageReported) for e in host.events)
    assert provider.requests[0].tools == []


async def test_a_proposal_cut_by_the_output_limit_is_an_error() -> None:
    provider = ScriptedProvider([TextDelta(text="x = "), StreamFinished(stop_reason="max_tokens")])
    with pytest.raises(InlineEditError, match="maxTokens"):
        await propose(provider, REQUEST, RecordingHost())
