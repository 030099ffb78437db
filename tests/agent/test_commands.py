"""Slash commands through Agent.submit: each reports its output as a notice, none reaches the
model unless it needs to (/compact), and mistakes get a helpful message."""

from __future__ import annotations

from pathlib import Path

from agent_core.agent import Agent
from agent_core.commands import HELP
from agent_core.config import AgentConfig
from agent_core.events import Notice
from tests.fakes.doubles import RecordingHost, ScriptedProvider, reply


def make_agent(tmp_path: Path, provider: ScriptedProvider | None = None, **env: str) -> tuple[Agent, RecordingHost]:
    host = RecordingHost()
    agent = Agent(tmp_path, AgentConfig(), host, provider=provider, env=env)
    agent.restore()
    return agent, host


async def run(agent: Agent, host: RecordingHost, line: str) -> tuple[str, str]:
    """Submit ``line``; return (stop_reason, the last notice's text)."""
    ended = await agent.submit(line)
    notice = [e for e in host.events if isinstance(e, Notice)][-1]
    return ended.stop_reason, notice.text


async def test_help_and_unknown_commands_never_call_the_model(tmp_path: Path) -> None:
    provider = ScriptedProvider()
    agent, host = make_agent(tmp_path, provider)
    assert await run(agent, host, "/help") == ("end_turn", HELP)
    reason, text = await run(agent, host, "/frobnicate now")
    assert reason == "error"
    assert text.startswith("Unknown command /frobnicate; nothing was sent to the model.")
    assert "/save, /session, /clear, /compact, /model, /mcp, /rewind, /help" in text
    assert provider.requests == []
    assert agent.session.messages == []  # commands are not conversation
    await agent.aclose()


async def test_save_list_new_load_rename_delete(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("hi there"), reply("second"))
    agent, host = make_agent(tmp_path, provider)
    await agent.submit("first session prompt")
    first_id = agent.session.id
    reason, text = await run(agent, host, "/save Parser work")
    assert reason == "end_turn" and "Parser work" in text

    reason, text = await run(agent, host, "/session new")
    second_id = agent.session.id
    assert second_id != first_id and second_id in text
    await agent.submit("second session prompt")

    _, listing = await run(agent, host, "/session")
    lines = listing.splitlines()
    assert lines[1].startswith(f"* {second_id}") and "second session prompt" in lines[1]
    assert lines[2].startswith(f"  {first_id}") and "Parser work" in lines[2]

    reason, text = await run(agent, host, f"/session load {first_id[:5]}")  # a prefix is enough
    assert reason == "end_turn" and agent.session.id == first_id
    assert [m.content for m in agent.session.messages] == ["first session prompt", "hi there"]

    assert (await run(agent, host, f"/session rename {second_id} Other work"))[0] == "end_turn"
    assert (await run(agent, host, "/session rename Better title"))[0] == "end_turn"
    titles = {info.id: info.title for info in agent.list_sessions()}
    assert titles == {first_id: "Better title", second_id: "Other work"}

    reason, text = await run(agent, host, f"/session delete {first_id}")
    assert reason == "error" and "open session" in text
    assert (await run(agent, host, f"/session delete {second_id}"))[0] == "end_turn"
    assert [info.id for info in agent.list_sessions()] == [first_id]

    reason, text = await run(agent, host, "/session load nosuchid")
    assert reason == "error" and "No session with id 'nosuchid'" in text
    await agent.aclose()


async def test_clear_starts_an_empty_session_and_keeps_the_old_one(tmp_path: Path) -> None:
    agent, host = make_agent(tmp_path, ScriptedProvider(reply("ok")))
    await agent.submit("hello")
    old = agent.session.id
    reason, text = await run(agent, host, "/clear")
    assert reason == "end_turn" and old in text
    assert agent.session.id != old and agent.session.messages == []
    assert old in [info.id for info in agent.list_sessions()]
    await agent.aclose()


async def test_model_shows_and_switches(tmp_path: Path) -> None:
    agent, host = make_agent(tmp_path, None, OPENAI_API_KEY="sk-test")
    reason, text = await run(agent, host, "/model")
    assert reason == "end_turn" and "openai" in text
    reason, text = await run(agent, host, "/model gpt-test-mini")
    assert reason == "end_turn" and "gpt-test-mini" in text
    assert agent.provider.model == "gpt-test-mini"
    assert agent.status().model == "gpt-test-mini"
    await agent.aclose()


async def test_compact_appends_a_summary_boundary_and_later_requests_start_there(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("answer one"), reply("Summary: user asked one thing."), reply("answer two"))
    agent, host = make_agent(tmp_path, provider)
    await agent.submit("question one")
    reason, text = await run(agent, host, "/compact")
    assert reason == "end_turn" and "Compacted 2 messages" in text
    summary_request = provider.requests[1]
    assert summary_request.tools == []
    assert "User: question one" in summary_request.messages[-1].content
    assert "Assistant: answer one" in summary_request.messages[-1].content

    history = agent.session.messages
    assert [m.kind for m in history] == ["chat", "chat", "summary"]  # appended, nothing rewritten
    await agent.submit("question two")
    sent = provider.requests[2].messages
    assert [m.role for m in sent] == ["system", "user"]
    assert "Summary: user asked one thing." in sent[1].content and sent[1].content.endswith("question two")
    assert "answer one" not in sent[1].content
    await agent.aclose()


async def test_compact_with_nothing_to_compact(tmp_path: Path) -> None:
    provider = ScriptedProvider()
    agent, host = make_agent(tmp_path, provider)
    reason, text = await run(agent, host, "/compact")
    assert reason == "end_turn" and "Nothing to compact" in text and provider.requests == []
    await agent.aclose()
