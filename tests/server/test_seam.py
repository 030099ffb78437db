"""The server's side of the seam, unit by unit: the turn registry owns each turn's one start and
one end, a turn's host reports to that turn only, a session switch becomes agent/sessionRestored
in one place, and the command boundary tells a user's error from a bug."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from agent_core.config import AgentConfig
from agent_core.events import Notice, SessionChanged, TextDelta, TurnEnded
from agent_core.exceptions import AgentBusy
from agent_core.messages import Message, Usage
from agent_core.providers.base import ProviderError
from agent_core.sessions import SessionInfo
from lsp_server import commands, wire
from lsp_server.arguments import RequestFailed
from lsp_server.host import LspHost
from lsp_server.streaming import TurnStream
from lsp_server.turns import Turn, TurnRegistry

Sent = list[tuple[str, dict[str, Any]]]


class FakeProgress:
    token = "agent-turn-x"

    def __init__(self) -> None:
        self.ended: list[str] = []

    async def begin(self, title: str, message: str) -> None:
        pass

    def report(self, message: str) -> None:
        pass

    def end(self, message: str) -> None:
        self.ended.append(message)


class FakeServer:
    """Just the part of a pygls server that sends notifications."""

    def __init__(self) -> None:
        self.sent: Sent = []
        self.protocol = SimpleNamespace(notify=lambda method, params: self.sent.append((method, params)))


def recorder(sent: Sent) -> Callable[[wire.Notification], None]:
    return lambda params: sent.append((params.METHOD, params.wire()))


def new_turn(turn_id: str, sent: Sent, cancel: Callable[[str], bool] = lambda _id: False) -> Turn:
    folder = SimpleNamespace(uri="file:///ws", agent=SimpleNamespace(cancel=cancel))
    stream = TurnStream(turn_id, "chat", recorder(sent), interval=0)
    return Turn(id=turn_id, kind="chat", folder=folder, stream=stream, progress=FakeProgress())  # type: ignore[arg-type]


async def finish(registry: TurnRegistry, turn: Turn, body: Callable[[Turn], Awaitable[TurnEnded]]) -> None:
    registry.start(turn, body, "Agent", "a prompt")
    assert turn.task is not None
    await asyncio.wait_for(turn.task, 5)


def ends(sent: Sent, turn_id: str) -> list[dict[str, Any]]:
    return [params for method, params in sent if method == wire.TURN_ENDED and params["turnId"] == turn_id]


async def test_the_registry_sends_one_start_and_one_end_whatever_the_body_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = TurnRegistry()
    sent: Sent = []

    async def returns(turn: Turn) -> TurnEnded:
        turn.stream.report(TextDelta(text="hi"))
        return TurnEnded(turn_id=turn.id, stop_reason="end_turn", usage=Usage(input_tokens=1, output_tokens=2))

    async def user_error(turn: Turn) -> TurnEnded:
        raise ProviderError("the key was refused (HTTP 401)", kind="auth", retryable=False)

    async def bug(turn: Turn) -> TurnEnded:
        raise KeyError("oops")

    with caplog.at_level(logging.INFO, logger="lsp_server"):
        for turn_id, body in (("t1", returns), ("t2", user_error), ("t3", bug), ("t4", returns)):
            await finish(registry, new_turn(turn_id, sent), body)

    for turn_id in ("t1", "t2", "t3", "t4"):
        methods = [m for m, p in sent if p.get("turnId") == turn_id]
        assert methods[0] == wire.TURN_STARTED and methods.count(wire.TURN_STARTED) == 1
        assert methods[-1] == wire.TURN_ENDED and methods.count(wire.TURN_ENDED) == 1, turn_id
    assert ends(sent, "t1") == [
        {"turnId": "t1", "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 2}}
    ]
    assert ends(sent, "t2")[0]["error"] == "the key was refused (HTTP 401)"
    assert ends(sent, "t3")[0]["error"] == "Internal error: KeyError: 'oops'"
    # The user's error is logged as one line; the bug with its traceback.
    user_records = [r for r in caplog.records if "turn t2 failed" in r.getMessage()]
    bug_records = [r for r in caplog.records if "turn t3 failed" in r.getMessage()]
    assert user_records[0].exc_info is None
    assert bug_records[0].exc_info is not None and bug_records[0].exc_info[0] is KeyError
    assert registry.running() == []


async def test_cancel_asks_the_agent_for_that_turn_and_the_end_says_cancelled() -> None:
    registry = TurnRegistry()
    sent: Sent = []
    asked: list[str] = []
    started = asyncio.Event()

    async def held(turn: Turn) -> TurnEnded:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("never released")

    def agent_cancel(turn_id: str) -> bool:
        asked.append(turn_id)
        return False  # the agent is not running it yet (e.g. it waits for start-up)

    turn = new_turn("t1", sent, cancel=agent_cancel)
    registry.start(turn, held, "Agent", "wait")
    await asyncio.wait_for(started.wait(), 5)
    assert registry.cancel("t1")
    assert turn.task is not None
    await asyncio.wait_for(turn.task, 5)
    assert asked == ["t1"]  # the agent was asked to stop exactly this turn, then the task was cancelled
    assert [p["stopReason"] for p in ends(sent, "t1")] == ["cancelled"]


async def test_a_turns_host_reports_to_that_turn_and_a_session_switch_is_sent_once() -> None:
    server = FakeServer()
    folder_host = LspHost(server, Path("/ws"), "file:///ws", AgentConfig)  # type: ignore[arg-type]
    chat: Sent = []
    edit: Sent = []
    chat_host = folder_host.for_turn(TurnStream("chat-1", "chat", recorder(chat), interval=60))
    edit_host = folder_host.for_turn(TurnStream("edit-1", "inlineEdit", recorder(edit), interval=0))

    chat_host.report(TextDelta(text="first "))  # sent at once
    chat_host.report(TextDelta(text="held"))  # held by the coalescing window
    edit_host.report(Notice(level="warning", text="for the edit"))
    info = SessionInfo(id="s2", title="", created=1.0, updated=1.0, message_count=1, preview="hi")
    chat_host.report(SessionChanged(session=info, messages=[Message(role="user", content="hi")]))
    folder_host.report(Notice(level="info", text="outside any turn"))

    assert [p["text"] for m, p in chat if m == wire.TEXT_DELTA] == ["first ", "held"]  # flushed first
    assert edit == [(wire.NOTICE, {"turnId": "edit-1", "level": "warning", "text": "for the edit"})]
    [(method, restored), notice] = server.sent
    assert method == wire.SESSION_RESTORED and restored["folder"] == "file:///ws"
    assert restored["session"]["id"] == "s2" and [m["content"] for m in restored["transcript"]] == ["hi"]
    assert notice == (wire.NOTICE, {"level": "info", "text": "outside any turn"})


async def test_the_command_boundary_tells_a_users_error_from_a_bug(caplog: pytest.LogCaptureFixture) -> None:
    def busy(server: Any, arg: wire.FolderArgs) -> wire.EmptyResult:
        raise AgentBusy("a turn is already running")

    def bug(server: Any, arg: wire.FolderArgs) -> wire.EmptyResult:
        return {"missing": 1}["key"]  # type: ignore[return-value]

    async def fine(server: Any, arg: wire.FolderArgs) -> wire.CancelResult:
        return wire.CancelResult(cancelled=arg.uri == "file:///ws")

    with pytest.raises(RequestFailed, match=r"agent\.status: a turn is already running"):
        commands._bind(None, wire.STATUS, busy)({})  # type: ignore[arg-type]
    with (
        caplog.at_level(logging.ERROR, logger="lsp_server"),
        pytest.raises(JsonRpcInternalError, match=r"agent\.status: internal error \(KeyError: 'key'\)"),
    ):
        commands._bind(None, wire.STATUS, bug)({})  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if r.getMessage() == "agent.status failed"]
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    with pytest.raises(JsonRpcInvalidParams, match="'uri' must be a string"):
        await commands._bind(None, wire.STATUS, fine)({"uri": 3})  # type: ignore[arg-type]
    assert await commands._bind(None, wire.STATUS, fine)({"uri": "file:///ws"}) == {"cancelled": True}  # type: ignore[arg-type]
