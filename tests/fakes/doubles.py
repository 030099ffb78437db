"""Test doubles for the agent loop: a scripted in-memory provider and a recording host.

The provider yields real provider events (no HTTP), so loop tests can script any reply shape,
including a stream that stops mid-way (``Hold``) or fails (an exception), and can check that a
cancelled stream really was closed. The host records every event and call, applies edits to the
disk only when the original still matches, and answers permission requests from a script.
``Harness`` wires both into a real loop and tool registry; ``read_fifo`` and ``wait_gone`` let
command tests wait for a process event with a bound instead of sleeping.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.approvals import Approvals
from agent_core.config import AgentConfig
from agent_core.events import (
    Event,
    ProviderEvent,
    StreamFinished,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
    TurnEnded,
    UsageReported,
)
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult
from agent_core.loop import AgentLoop
from agent_core.messages import Message, ToolCall, Usage
from agent_core.providers.base import ChatRequest, Provider
from agent_core.tools import ToolRegistry


class Hold:
    """A script step: stop yielding and wait (until the stream is cancelled)."""


Step = ProviderEvent | Exception | Hold


def reply(text: str = "", calls: list[ToolCall] | None = None, *, usage: tuple[int, int] = (10, 5)) -> list[Step]:
    """The events of one complete reply: text deltas, tool calls, usage, end marker."""
    events: list[Step] = []
    if text:
        half = len(text) // 2
        events += [TextDelta(text=text[:half]), TextDelta(text=text[half:])]
    for index, call in enumerate(calls or []):
        events += [ToolCallStarted(index=index, id=call.id, name=call.name), ToolCallReady(call=call)]
    events.append(UsageReported(usage=Usage(input_tokens=usage[0], output_tokens=usage[1])))
    events.append(StreamFinished(stop_reason="tool_use" if calls else "end_turn"))
    return events


class ScriptedProvider:
    """A :class:`agent_core.providers.base.Provider` that plays scripted replies in order."""

    name = "scripted"
    model = "scripted-1"
    context_window: int | None = None

    def __init__(self, *replies: list[Step]) -> None:
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []
        #: Set once a stream that reached a ``Hold`` step has been closed (cancelled).
        self.closed = asyncio.Event()
        self.holding = asyncio.Event()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError("the scripted provider ran out of replies")
        try:
            for step in self.replies.pop(0):
                if isinstance(step, Hold):
                    self.holding.set()
                    await asyncio.Event().wait()
                elif isinstance(step, Exception):
                    raise step
                else:
                    yield step
        finally:
            self.closed.set()

    async def aclose(self) -> None:
        pass


@dataclass
class RecordingHost:
    """A :class:`agent_core.host.Host` for tests.

    ``buffers`` are "open editor buffers" (returned by ``read_file`` instead of the disk);
    ``decisions`` answer permission requests in order (``hold_permission`` makes the next request
    wait until cancelled); ``refuse_edits`` makes ``apply_edit`` fail with that reason.
    """

    buffers: dict[Path, str] = field(default_factory=dict)
    decisions: list[PermissionResult] = field(default_factory=list)
    refuse_edits: str | None = None
    hold_permission: bool = False
    events: list[Event] = field(default_factory=list)
    permission_requests: list[PermissionRequest] = field(default_factory=list)
    edits: list[tuple[Path, str | None, str]] = field(default_factory=list)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    _waiters: list[tuple[Callable[[Event], bool], asyncio.Future[Event]]] = field(default_factory=list)

    async def read_file(self, path: Path) -> str | None:
        return self.buffers.get(path)

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        self.edits.append((path, original, new_text))
        if self.refuse_edits is not None:
            return EditResult(False, self.refuse_edits)
        current = self.buffers.get(path)
        if current is None and path.exists():
            current = path.read_bytes().decode()
        if current != original:
            return EditResult(False, "the file changed since it was read")
        if path in self.buffers:
            self.buffers[path] = new_text
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(new_text.encode())
        return EditResult(True)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        self.permission_requests.append(request)
        self.asked.set()
        if self.hold_permission:
            await asyncio.Event().wait()
        if not self.decisions:
            raise AssertionError(f"unexpected permission request: {request.title}")
        return self.decisions.pop(0)

    def report(self, event: Event) -> None:
        self.events.append(event)
        for matches, future in list(self._waiters):
            if not future.done() and matches(event):
                future.set_result(event)

    async def wait_for(self, matches: Callable[[Event], bool], timeout: float = 5.0) -> Event:
        """The first reported event (past or future) that ``matches``, waiting at most ``timeout``."""
        for event in self.events:
            if matches(event):
                return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiters.append((matches, future))
        return await asyncio.wait_for(future, timeout)

    def of_type(self, kind: str) -> list[Any]:
        return [event for event in self.events if event.type == kind]


ALLOW_ONCE = PermissionResult(Decision.ALLOW_ONCE)
ALLOW_SESSION = PermissionResult(Decision.ALLOW_SESSION)


def reject(reason: str | None = None) -> PermissionResult:
    return PermissionResult(Decision.REJECT, reason)


def call(call_id: str, name: str = "read_file", **arguments: object) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments)


class Harness:
    """A loop on a temporary workspace, recording what was saved and when."""

    def __init__(
        self,
        workspace: Path,
        provider: Provider,
        config: AgentConfig | None = None,
        prepare: Callable[[list[Message]], list[Message]] | None = None,
        host: RecordingHost | None = None,
    ) -> None:
        self.host = host or RecordingHost()
        self.config = config or AgentConfig()
        self.provider = provider
        self.saved: list[tuple[Message, int]] = []  # each saved message with the requests sent by then
        tools = ToolRegistry(workspace, self.host, self.config, Approvals(self.config.approval, self.host))
        self.loop = AgentLoop(provider, tools, self.host, self.config, self.save, prepare)
        self.messages = [Message(role="user", content="hello")]

    def save(self, message: Message) -> None:
        self.saved.append((message, len(getattr(self.provider, "requests", []))))

    async def turn(self) -> TurnEnded:
        return await self.loop.run_turn(self.messages, "t1")


def process_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (gone, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        # ProcessLookupError: reaped between open() and read() (the file then reads ESRCH).
        return True


async def wait_gone(*pids: int, timeout: float = 2.0) -> bool:
    """Wait (bounded) until every pid is gone: SIGKILL is delivered asynchronously by the kernel,
    so a process killed a moment ago may still be scheduled out for a few milliseconds."""
    deadline = time.monotonic() + timeout
    while not all(process_gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def read_fifo(path: Path, timeout: float = 10.0) -> str:
    """What a command writes into the named pipe ``path``: an event, not a poll. If nothing comes
    within ``timeout``, the blocked reader thread is released (else it would hang the test run)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(path.read_text), timeout)
    except TimeoutError:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        raise
