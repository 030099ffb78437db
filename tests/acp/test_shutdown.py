"""The client closing stdin mid-turn, or SIGTERM: the turn is cancelled, its partial reply and
any running command's interruption saved, the process gone well within an editor's grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from agent_core.sessions import SessionStore
from tests.acp.harness import WAIT, RawAgent, run_raw
from tests.fakes.doubles import read_fifo, wait_gone
from tests.fakes.llm_server import FakeLLM

#: Editors wait about 2 s before killing an agent harder.
EXIT_BOUND = 2.0
INIT = {"protocolVersion": 1, "clientCapabilities": {}}


async def start_turn(agent: RawAgent, tmp_path: Path, text: str) -> str:
    assert "result" in await agent.request(1, "initialize", INIT)
    new = await agent.request(2, "session/new", {"cwd": str(tmp_path / "workspace"), "mcpServers": []})
    session_id: str = new["result"]["sessionId"]
    await agent.send(
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "session/prompt",
            "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]},
        }
    )
    return session_id


async def exit_time(agent: RawAgent, started: float) -> float:
    await asyncio.wait_for(agent.process.wait(), WAIT)
    return time.monotonic() - started


async def test_stdin_closed_mid_turn_cancels_and_saves(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "Half of the answer", "hold": True})
    async with run_raw(tmp_path, fake_llm) as agent:
        session_id = await start_turn(agent, tmp_path, "write a lot")
        await asyncio.to_thread(fake_llm.wait_for_requests, 1)
        await agent.wait_for(lambda _m: agent.text(session_id) == "Half of the answer", "the partial text")
        started = time.monotonic()
        assert agent.process.stdin is not None
        agent.process.stdin.close()
        assert await exit_time(agent, started) < EXIT_BOUND
        assert agent.process.returncode == 0

    [message_roles, interrupted] = _saved(tmp_path, session_id)
    assert message_roles == [("user", "write a lot"), ("assistant", "Half of the answer")]
    assert interrupted == [False, True]


async def test_sigterm_mid_command_kills_it_and_saves(tmp_path: Path, fake_llm: FakeLLM) -> None:
    pid_pipe = tmp_path / "pid"
    os.mkfifo(pid_pipe)
    command = f"echo $$ > {pid_pipe}; exec sleep 60"
    fake_llm.script({"tool_calls": [{"id": "run-1", "name": "run_command", "arguments": {"command": command}}]})
    async with run_raw(tmp_path, fake_llm) as agent:
        session_id = await start_turn(agent, tmp_path, "run it")
        permission = await agent.wait_for(
            lambda m: m.get("method") == "session/request_permission", "the permission question"
        )
        await agent.send(
            {
                "jsonrpc": "2.0",
                "id": permission["id"],
                "result": {"outcome": {"outcome": "selected", "optionId": "allow_once"}},
            }
        )
        pid = int(await read_fifo(pid_pipe, WAIT))
        started = time.monotonic()
        agent.process.send_signal(signal.SIGTERM)
        assert await exit_time(agent, started) < EXIT_BOUND
        assert agent.process.returncode == 128 + signal.SIGTERM

    assert await wait_gone(pid), "the command outlived the agent"
    roles, _ = _saved(tmp_path, session_id)
    assert [role for role, _ in roles] == ["user", "assistant", "tool"]
    assert "interrupted" in roles[-1][1].lower()


def _saved(tmp_path: Path, session_id: str) -> tuple[list[tuple[str, str]], list[bool]]:
    session = SessionStore(tmp_path / "workspace").open(session_id)
    try:
        messages = session.messages
        return [(m.role, m.content) for m in messages], [m.interrupted for m in messages]
    finally:
        session.close()
