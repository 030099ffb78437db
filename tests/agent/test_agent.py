"""The Agent facade with a scripted provider: saving, prompt context, system prompt, truncation in
the loop, config errors, one turn at a time, cancel, close and restore."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import Notice, TextDelta
from agent_core.exceptions import AgentBusy
from agent_core.messages import ToolCall
from agent_core.prompt import PromptContext
from agent_core.sessions import SessionStore
from tests.fakes.doubles import Hold, RecordingHost, ScriptedProvider, reply


def make_agent(tmp_path: Path, scripted: ScriptedProvider | None, **settings: object) -> tuple[Agent, RecordingHost]:
    host = RecordingHost()
    agent = Agent(tmp_path, AgentConfig.model_validate(settings), host, provider=scripted, env={})
    agent.restore()
    return agent, host


def stored(tmp_path: Path) -> list[tuple[str, str]]:
    """(role, content) of the workspace's latest session as a second process would load it."""
    store = SessionStore(tmp_path)
    session = store.open(store.list()[0].id)
    try:
        return [(m.role, m.content) for m in session.messages]
    finally:
        session.close()


async def test_user_message_saved_before_the_request_and_replies_as_they_complete(tmp_path: Path) -> None:
    seen_on_disk: list[list[tuple[str, str]]] = []
    call = ToolCall(id="c1", name="list_files", arguments={})
    provider = ScriptedProvider(reply("", [call]), reply("All done."))
    original_stream = provider.stream

    def stream(request):  # type: ignore[no-untyped-def]
        seen_on_disk.append(stored(tmp_path))
        return original_stream(request)

    provider.stream = stream  # type: ignore[method-assign]
    agent, _host = make_agent(tmp_path, provider)
    ended = await agent.submit("list the files")
    assert ended.stop_reason == "end_turn"
    # Before the first request the prompt was on disk; before the second, the call and its result.
    assert seen_on_disk[0] == [("user", "list the files")]
    assert [role for role, _ in seen_on_disk[1]] == ["user", "assistant", "tool"]
    assert [role for role, _ in stored(tmp_path)] == ["user", "assistant", "tool", "assistant"]
    await agent.aclose()


async def test_system_prompt_is_sent_every_request_but_never_stored(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("hi"), reply("again"))
    agent, _ = make_agent(tmp_path, provider)
    await agent.submit("hello")
    first = provider.requests[0].messages[0]
    assert first.role == "system" and "read_file" in first.content and tmp_path.name in first.content
    agent.update_config(AgentConfig(system_prompt="Answer in French."))
    await agent.submit("hello again")
    assert provider.requests[1].messages[0].content == "Answer in French."
    assert all(role != "system" for role, _ in stored(tmp_path))
    await agent.aclose()


async def test_prompt_context_is_rendered_into_the_user_message(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("ok"))
    agent, _ = make_agent(tmp_path, provider)
    context = PromptContext(
        path="src/app.py",
        selection="x = 1\nprint(```)\n",
        start_line=3,
        end_line=4,
        diagnostics=["3: undefined name 'y'"],
    )
    await agent.submit("fix this", context=context)
    sent = provider.requests[0].messages[-1].content
    assert sent.startswith("fix this\n")
    assert "Selected text in `src/app.py` lines 3-4:" in sent
    assert "````py\nx = 1\nprint(```)\n````" in sent  # a longer fence than the one inside
    assert "Diagnostics:\n- 3: undefined name 'y'" in sent
    assert stored(tmp_path)[0] == ("user", sent)
    await agent.aclose()


async def test_a_config_error_ends_the_turn_with_a_clear_message(tmp_path: Path) -> None:
    agent, host = make_agent(tmp_path, None, provider="openai")
    ended = await agent.submit("hello")
    assert ended.stop_reason == "error"
    assert "OPENAI_API_KEY" in (ended.error or "")
    notices = [e for e in host.events if isinstance(e, Notice) and e.level == "error"]
    assert notices and notices[0].text == ended.error
    assert not agent.busy
    await agent.aclose()


async def test_one_turn_at_a_time_and_cancel_keeps_the_partial_reply(tmp_path: Path) -> None:
    provider = ScriptedProvider([TextDelta(text="Half an ans"), Hold()], reply("fine"))
    agent, _host = make_agent(tmp_path, provider)
    turn = asyncio.create_task(agent.submit("long question"))
    await asyncio.wait_for(provider.holding.wait(), 5)
    assert agent.busy and agent.status().running
    with pytest.raises(AgentBusy):
        await agent.submit("another")
    assert agent.cancel()
    ended = await asyncio.wait_for(turn, 5)
    assert ended.stop_reason == "cancelled"
    history = agent.session.messages
    assert history[-1].content == "Half an ans" and history[-1].interrupted
    # The next turn works on the same session and sends the interrupted text along.
    assert (await agent.submit("go on")).stop_reason == "end_turn"
    assert any(m.interrupted for m in provider.requests[1].messages)
    await agent.aclose()


async def test_truncation_runs_before_every_request_without_touching_the_history(tmp_path: Path) -> None:
    replies = [reply("r" * 400) for _ in range(6)]
    provider = ScriptedProvider(*replies)
    agent, host = make_agent(
        tmp_path, provider, truncation={"contextWindow": 2000, "reserveTokens": 200, "minRecentMessages": 2}
    )
    for n in range(6):
        await agent.submit(f"question {n} " + "q" * 400)
    last = provider.requests[-1].messages
    assert last[0].role == "system"
    assert any(m.kind == "omission" for m in last)
    assert last[-1].content.startswith("question 5")
    assert "question 0" in last[1].content  # the first message is always kept
    assert len(agent.session.messages) == 12 and all(m.kind == "chat" for m in agent.session.messages)
    assert any(isinstance(e, Notice) and "left out" in e.text for e in host.events)
    await agent.aclose()


async def test_a_prompt_too_big_for_the_window_is_refused_before_it_is_saved(tmp_path: Path) -> None:
    """Saved, it would be the session's first message, which is never left out of a request:
    every later turn would fail the same way. Refused, the session stays usable."""
    provider = ScriptedProvider(reply("small answer"))
    agent, host = make_agent(tmp_path, provider, truncation={"contextWindow": 3000, "reserveTokens": 1000})
    ended = await agent.submit("paste " * 3000)
    assert ended.stop_reason == "error"
    error = ended.error or ""
    assert "Your message was not sent: it is about 4504 tokens, more than the 1230 this model" in error
    assert "context window 3000" in error and "750 reserved for the reply" in error
    assert provider.requests == []  # nothing sent
    assert agent.session.messages == [] and SessionStore(tmp_path).list() == []  # nothing saved
    assert any(isinstance(e, Notice) and e.level == "error" and "not sent" in e.text for e in host.events)

    ended = await agent.submit("a small question")
    assert ended.stop_reason == "end_turn", ended.error
    assert stored(tmp_path) == [("user", "a small question"), ("assistant", "small answer")]
    await agent.aclose()


async def test_a_prompt_that_does_not_fit_with_the_kept_history_is_refused_unsaved(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("first answer"))
    agent, _ = make_agent(tmp_path, provider, truncation={"contextWindow": 3000, "reserveTokens": 1000})
    assert (await agent.submit("long task " * 400)).stop_reason == "end_turn"  # about 1000 tokens
    ended = await agent.submit("more detail " * 400)  # fits alone, not beside the first message
    assert ended.stop_reason == "error"
    assert "Your message was not sent" in (ended.error or "") and "/compact" in (ended.error or "")
    assert len(provider.requests) == 1
    assert [role for role, _ in stored(tmp_path)] == ["user", "assistant"]
    await agent.aclose()


async def test_close_releases_the_session_and_restore_continues_it(tmp_path: Path) -> None:
    agent, _ = make_agent(tmp_path, ScriptedProvider(reply("one")))
    await agent.submit("first")
    session_id = agent.session.id
    await agent.aclose()
    again, _ = make_agent(tmp_path, ScriptedProvider(reply("two")))
    assert again.session.id == session_id and not again.session.read_only
    await again.submit("second")
    assert [c for _, c in stored(tmp_path)] == ["first", "one", "second", "two"]
    await again.aclose()


async def test_a_small_window_keeps_room_for_the_conversation(tmp_path: Path) -> None:
    """A 4k-token local model with the default 4096-token reserve: the reserve is capped (at
    max_tokens and a quarter of the window) instead of leaving no room at all."""
    provider = ScriptedProvider(reply("hello"))
    agent, _ = make_agent(tmp_path, provider, truncation={"contextWindow": 4096})
    ended = await agent.submit("hi")
    assert ended.stop_reason == "end_turn", ended.error
    await agent.aclose()
