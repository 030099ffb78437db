"""Cancelling a turn: fast (measured against the 100 ms bound), and the conversation stays valid."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from agent_core.config import AgentConfig
from agent_core.conversation import INTERRUPTED_RESULT, NOT_RUN_RESULT, repair
from agent_core.events import TextDelta, ToolCallReady, ToolCallStarted
from agent_core.messages import Message
from tests.fakes.doubles import Harness, Hold, RecordingHost, ScriptedProvider, call, read_fifo, reply, wait_gone

#: The bound the architecture promises between cancel() and the turn having ended.
CANCEL_BOUND = 0.1
ALLOW_ALL = AgentConfig.model_validate({"approval": {"editFile": "allow", "runCommand": "allow"}})


async def cancel_and_time(h: Harness, turn: asyncio.Task) -> tuple[float, object]:
    started = time.perf_counter()
    assert h.loop.cancel()
    ended = await turn
    return time.perf_counter() - started, ended


async def test_cancel_during_stream_keeps_partial_text_within_bound(tmp_path: Path) -> None:
    provider = ScriptedProvider([TextDelta(text="Half an ans"), Hold()])
    h = Harness(tmp_path, provider)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(provider.holding.wait(), 5)
    elapsed, ended = await cancel_and_time(h, turn)
    assert elapsed < CANCEL_BOUND, f"cancel took {elapsed * 1000:.0f} ms"
    assert ended.stop_reason == "cancelled"
    assert provider.closed.is_set()  # the provider's stream was closed, not left running
    partial = h.messages[-1]
    assert partial.role == "assistant" and partial.interrupted and partial.content == "Half an ans"
    assert [m for m, _ in h.saved] == [partial]


async def test_cancel_drops_incomplete_call_and_answers_complete_one(tmp_path: Path) -> None:
    provider = ScriptedProvider(
        [
            ToolCallStarted(index=0, id="c1", name="read_file"),
            ToolCallReady(call=call("c1", path="a")),
            ToolCallStarted(index=1, id="c2", name="edit_file"),
            Hold(),
        ]
    )
    h = Harness(tmp_path, provider)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(provider.holding.wait(), 5)
    _, ended = await cancel_and_time(h, turn)
    assert ended.stop_reason == "cancelled"
    assistant, result = h.messages[1:]
    assert [c.id for c in assistant.tool_calls] == ["c1"] and assistant.interrupted
    assert result.tool_call_id == "c1" and result.interrupted and result.content == NOT_RUN_RESULT
    assert repair(h.messages) == h.messages


async def test_cancel_kills_running_command_and_its_children_within_bound(tmp_path: Path) -> None:
    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    # The shell starts a background sleep (a child) and reports both pids, then waits.
    command = "sleep 30 & echo $$ $! > pids; wait"
    provider = ScriptedProvider(reply("", [call("c1", "run_command", command=command)]))
    h = Harness(tmp_path, provider, ALLOW_ALL)
    turn = asyncio.create_task(h.turn())
    pids = await read_fifo(fifo)
    shell, child = (int(p) for p in pids.split())
    elapsed, ended = await cancel_and_time(h, turn)
    assert elapsed < CANCEL_BOUND, f"cancel took {elapsed * 1000:.0f} ms"
    assert ended.stop_reason == "cancelled"
    result = h.messages[-1]
    assert result.role == "tool" and result.interrupted and result.content == INTERRUPTED_RESULT
    assert await wait_gone(shell, child)


async def test_cancel_while_waiting_for_approval(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    host = RecordingHost(hold_permission=True)
    provider = ScriptedProvider(
        reply(
            "",
            [
                call("c1", path="f.txt"),
                call("c2", "edit_file", path="f.txt", old_text="x", new_text="y"),
                call("c3", path="f.txt"),
            ],
        )
    )
    h = Harness(tmp_path, provider, host=host)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(host.asked.wait(), 5)
    elapsed, ended = await cancel_and_time(h, turn)
    assert elapsed < CANCEL_BOUND and ended.stop_reason == "cancelled"
    results = {m.tool_call_id: m for m in h.messages if m.role == "tool"}
    assert not results["c1"].interrupted and "x" in results["c1"].content
    assert results["c2"].content == INTERRUPTED_RESULT
    assert results["c3"].content == NOT_RUN_RESULT
    assert (tmp_path / "f.txt").read_text() == "x\n"
    assert repair(h.messages) == h.messages


async def test_cancelling_the_callers_task_saves_partial_and_propagates(tmp_path: Path) -> None:
    provider = ScriptedProvider([TextDelta(text="partial"), Hold()])
    h = Harness(tmp_path, provider)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(provider.holding.wait(), 5)
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    assert h.messages[-1].interrupted and h.messages[-1].content == "partial"
    # The interrupted message was the last thing reported; the caller that cancelled ends the turn.
    assert h.host.events[-1].type == "message" and h.host.events[-1].message.interrupted
    assert not h.loop.running


async def test_next_turn_after_cancel_sends_a_valid_conversation(tmp_path: Path) -> None:
    provider = ScriptedProvider(
        [
            TextDelta(text="Working on"),
            ToolCallStarted(index=0, id="c1", name="read_file"),
            ToolCallReady(call=call("c1", path="a")),
            Hold(),
        ],
        reply("fresh start"),
    )
    h = Harness(tmp_path, provider)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(provider.holding.wait(), 5)
    await cancel_and_time(h, turn)
    h.messages.append(Message(role="user", content="go on"))
    ended = await h.turn()
    assert ended.stop_reason == "end_turn"
    sent = provider.requests[1].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent == h.messages[:-1]  # nothing needed repair: the saved conversation was already valid
