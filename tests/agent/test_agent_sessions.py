"""The Agent's session operations as the LSP server calls them, a second window on the same
workspace, and /compact failures that must leave the history alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import Notice
from agent_core.exceptions import AgentBusy
from agent_core.messages import Message, Usage
from agent_core.providers.base import ProviderError
from agent_core.sessions import SessionError
from tests.fakes.doubles import Hold, RecordingHost, ScriptedProvider, reply


def make_agent(tmp_path: Path, provider: ScriptedProvider) -> tuple[Agent, RecordingHost]:
    host = RecordingHost()
    agent = Agent(tmp_path, AgentConfig(), host, provider=provider, env={})
    agent.restore()
    return agent, host


async def test_fork_export_record_and_status(tmp_path: Path) -> None:
    agent, _ = make_agent(tmp_path, ScriptedProvider(reply("the answer")))
    await agent.submit("the question")
    original = agent.session.id
    agent.record(Message(role="user", content="that edit was wrong", kind="edit_feedback"))
    info = agent.save_session()
    assert info.title == "the question"  # default title: the first prompt

    fork = agent.fork_session(original)
    assert agent.session is fork and fork.id != original
    assert [m.content for m in fork.messages] == ["the question", "the answer", "that edit was wrong"]
    markdown = agent.export_session(original)
    assert "the question" in markdown and "the answer" in markdown

    status = agent.status()
    assert status.provider == "scripted" and status.session is not None and status.session.id == fork.id
    assert status.usage == Usage(input_tokens=10, output_tokens=5) and status.running is False
    assert status.local_model is None
    await agent.aclose()


async def test_switching_sessions_during_a_turn_is_refused(tmp_path: Path) -> None:
    provider = ScriptedProvider([Hold()])
    agent, _ = make_agent(tmp_path, provider)
    turn = asyncio.create_task(agent.submit("think hard"))
    await asyncio.wait_for(provider.holding.wait(), 5)
    for switch in (agent.new_session, lambda: agent.load_session(agent.session.id)):
        with pytest.raises(AgentBusy):
            switch()
    agent.cancel()
    await asyncio.wait_for(turn, 5)
    await agent.aclose()


async def test_a_second_window_gets_its_own_session_and_a_read_only_view(tmp_path: Path) -> None:
    first, _ = make_agent(tmp_path, ScriptedProvider(reply("one")))
    await first.submit("from the first window")
    second, host = make_agent(tmp_path, ScriptedProvider(reply("two")))
    assert second.session.id != first.session.id  # the busy latest session was not taken over
    second.load_session(first.session.id)
    assert second.session.read_only
    assert any(isinstance(e, Notice) and "read-only" in e.text for e in host.events)
    ended = await second.submit("may I write here?")
    assert ended.stop_reason == "error" and "read-only" in (ended.error or "")
    assert [m.content for m in first.session.messages] == ["from the first window", "one"]
    with pytest.raises(SessionError):
        second.delete_session(first.session.id)
    await second.aclose()
    await first.aclose()


async def test_compact_failure_or_cancel_leaves_the_history_alone(tmp_path: Path) -> None:
    failing = ProviderError("The provider is overloaded (529).", kind="overloaded", retryable=True)
    provider = ScriptedProvider(reply("answer"), [failing], [Hold()])
    agent, _host = make_agent(tmp_path, provider)
    await agent.submit("question")
    ended = await agent.submit("/compact")
    assert ended.stop_reason == "error" and "overloaded" in (ended.error or "")
    compacting = asyncio.create_task(agent.submit("/compact"))
    await asyncio.wait_for(provider.holding.wait(), 5)
    assert agent.cancel()
    ended = await asyncio.wait_for(compacting, 5)
    assert ended.stop_reason == "cancelled"
    assert [m.kind for m in agent.session.messages] == ["chat", "chat"]
    assert not agent.busy
    await agent.aclose()


async def test_status_names_the_selected_provider_without_creating_it(tmp_path: Path) -> None:
    agent = Agent(tmp_path, AgentConfig(), RecordingHost(), env={"ANTHROPIC_API_KEY": "ak-test"})
    status = agent.status()
    assert (status.provider, status.model, status.session) == ("anthropic", "claude-sonnet-4-5", None)
    agent.restore()
    session = agent.status().session
    assert session is not None and session.message_count == 0
    await agent.aclose()


async def test_an_unusable_session_folder_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / ".agent-lsp").write_text("a file where the sessions folder should be")
    agent = Agent(tmp_path, AgentConfig(), RecordingHost(), provider=ScriptedProvider(reply("never sent")), env={})
    for prompt in ("hello", "/session", "/session new"):
        ended = await agent.submit(prompt)
        assert ended.stop_reason == "error" and "sessions folder" in (ended.error or ""), prompt
    await agent.aclose()
