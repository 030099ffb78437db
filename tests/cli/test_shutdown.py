"""Fault case 15: SIGTERM / SIGINT while the reply streams or while a tool runs.

A real ``agent-lsp chat`` child is signalled mid-turn. It must exit within 2 seconds with
128 + signal, leave the partial reply (marked interrupted) or an interrupted tool result in the
session, and the next request built from that session must be valid for both wire formats: the
session is continued through the OpenAI and then the Anthropic endpoint of the fake server, and
each received request is checked the way those APIs check it.

The tests are ``async`` only for that last step; the child is watched from threads, and the
waits on it are short (the child exits within 2 seconds or the test fails).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.messages import Message
from agent_core.sessions import SessionStore
from tests.cli.chat_process import ChatProcess, chat_env, openai_args
from tests.cli.wire_checks import check_anthropic, check_openai
from tests.fakes.doubles import RecordingHost
from tests.fakes.llm_server import FakeLLM

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]


def env() -> dict[str, str]:
    return chat_env(OPENAI_API_KEY="sk-test", ANTHROPIC_API_KEY="ak-test")


def signal_and_time_exit(chat: ChatProcess, number: int) -> tuple[int, float]:
    started = time.monotonic()
    chat.proc.send_signal(number)
    code = chat.finish(timeout=10)
    return code, time.monotonic() - started


def saved_messages(workspace: Path) -> list[Message]:
    store = SessionStore(workspace)
    [info] = store.list()
    session = store.open(info.id)
    try:
        assert not session.read_only, "the interrupted process did not release its session"
        return list(session.messages)
    finally:
        session.close()


async def continue_with_both_providers(llm: FakeLLM, workspace: Path) -> None:
    """Resume the session through each provider, the way the next ``chat`` would; both requests
    must be valid for that API."""
    llm.script({"text": "continuing (openai)"}, {"text": "continuing (anthropic)"})
    before = len(llm.requests)
    env = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "ak-test"}
    for provider, base_url in (("openai", llm.base_url + "/v1"), ("anthropic", llm.base_url)):
        config = AgentConfig(provider=provider, base_url=base_url, model="fake")
        agent = Agent(workspace, config, RecordingHost(), env=env)
        agent.restore()
        ended = await agent.submit(f"please continue ({provider})")
        await agent.aclose()
        assert ended.stop_reason == "end_turn", ended.error
    openai_body, anthropic_body = llm.requests[before:]
    assert openai_body["_path"].endswith("/chat/completions") and anthropic_body["_path"].endswith("/messages")
    check_openai(openai_body)
    check_anthropic(anthropic_body)


@pytest.mark.parametrize("number", SIGNALS)
async def test_signal_while_streaming(fake_llm: FakeLLM, tmp_path: Path, number: int) -> None:
    fake_llm.script({"text": "Partial answer so far", "hold": True})
    chat = ChatProcess(*openai_args(fake_llm, tmp_path, "tell me everything"), env=env())
    try:
        chat.wait_for(lambda c: "Partial answer so far" in c.stdout)
        code, elapsed = signal_and_time_exit(chat, number)
    finally:
        chat.kill()
    assert code == 128 + number
    assert elapsed < 2.0, f"took {elapsed:.2f}s to exit"
    user, partial = saved_messages(tmp_path)
    assert user.content == "tell me everything"
    assert partial.role == "assistant" and partial.interrupted and partial.content == "Partial answer so far"
    await continue_with_both_providers(fake_llm, tmp_path)


@pytest.mark.parametrize("number", SIGNALS)
async def test_signal_while_a_command_runs(fake_llm: FakeLLM, tmp_path: Path, number: int) -> None:
    marker = f"agent-lsp-test-{uuid.uuid4().hex}"
    command = f'python3 -c "import time; time.sleep(60)" {marker}'
    call = {"id": "call_slow", "name": "run_command", "arguments": {"command": command}}
    fake_llm.script({"text": "Running it.", "tool_calls": [call]})
    chat = ChatProcess(*openai_args(fake_llm, tmp_path, "--yes", "run the slow thing"), env=env())
    try:
        chat.wait_for(lambda c: "[tool] run_command" in c.stderr)
        code, elapsed = signal_and_time_exit(chat, number)
    finally:
        chat.kill()
    assert code == 128 + number
    assert elapsed < 2.0, f"took {elapsed:.2f}s to exit"
    assert await _all_gone(marker), "the command outlived the agent"
    _user, assistant, result = saved_messages(tmp_path)
    assert assistant.tool_calls[0].id == "call_slow"
    assert result.role == "tool" and result.tool_call_id == "call_slow"
    assert result.interrupted and result.is_error
    await continue_with_both_providers(fake_llm, tmp_path)


async def _all_gone(marker: str, timeout: float = 2.0) -> bool:
    """Wait (bounded) until no process carries ``marker``: the agent sends SIGKILL and exits at
    once, and the kernel delivers the kill asynchronously, so on a busy machine the command may
    still be on its way out for a few milliseconds after the agent is gone."""
    deadline = time.monotonic() + timeout
    while _processes_with(marker):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
