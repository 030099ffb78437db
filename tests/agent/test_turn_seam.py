"""The seam between the agent and a front end: each turn reports to the host it was submitted
with, the turn's start and end are the front end's (the core returns the end and reports
neither), and the agent announces every session switch itself."""

from __future__ import annotations

from pathlib import Path

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import Event, Notice, SessionChanged, TextDelta, ToolFinished, ToolStarted
from agent_core.messages import Message
from tests.fakes.doubles import ALLOW_SESSION, RecordingHost, ScriptedProvider, call, reply


def make_agent(tmp_path: Path, provider: ScriptedProvider, **settings: object) -> tuple[Agent, RecordingHost]:
    host = RecordingHost()
    agent = Agent(tmp_path, AgentConfig.model_validate(settings), host, provider=provider, env={})
    return agent, host


def types_of(events: list[Event]) -> list[str]:
    return [event.type for event in events]


async def test_each_turn_reports_to_its_own_host_and_approvals_ask_it(tmp_path: Path) -> None:
    edit = call("e1", "edit_file", path="notes.txt", new_text="one\n")
    again = call("e2", "edit_file", path="notes.txt", new_text="two\n")
    provider = ScriptedProvider(reply("Editing.", [edit]), reply("Done."), reply("", [again]), reply("Again."))
    agent, own = make_agent(tmp_path, provider)
    agent.restore()
    own.events.clear()

    first = RecordingHost(decisions=[ALLOW_SESSION])
    assert (await agent.submit("write one", host=first)).stop_reason == "end_turn"
    second = RecordingHost()  # no decisions: asking it would fail the test
    assert (await agent.submit("write two", host=second)).stop_reason == "end_turn"

    # The first turn asked its own host, whose "allow for this session" the second turn used.
    assert [r.title for r in first.permission_requests] == ["Create notes.txt"]
    assert second.permission_requests == []
    # Each turn's events, and its edits, went to its host only; the agent's own host heard nothing.
    assert "".join(e.text for e in first.events if isinstance(e, TextDelta)) == "Editing.Done."
    assert "".join(e.text for e in second.events if isinstance(e, TextDelta)) == "Again."
    assert [e.call.id for e in first.events if isinstance(e, ToolStarted)] == ["e1"]
    assert [e.call_id for e in second.events if isinstance(e, ToolFinished)] == ["e2"]
    assert [p.name for p, _, _ in first.edits] == ["notes.txt"] and [p.name for p, _, _ in second.edits] == [
        "notes.txt"
    ]
    assert own.events == []
    assert (tmp_path / "notes.txt").read_text() == "two\n"
    await agent.aclose()


async def test_the_core_returns_the_end_and_reports_no_start_or_end(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("Hello."))
    agent, _ = make_agent(tmp_path, provider)
    agent.restore()
    outcomes = []
    for prompt in ("hi", "/help", "/session load nope"):
        host = RecordingHost()
        ended = await agent.submit(prompt, turn_id=f"turn-{prompt}", host=host)
        outcomes.append((ended.turn_id, ended.stop_reason))
        assert not {"turn_started", "turn_ended"} & set(types_of(host.events)), prompt
    assert outcomes == [("turn-hi", "end_turn"), ("turn-/help", "end_turn"), ("turn-/session load nope", "error")]

    # A turn that never reaches the model (no provider configured) ends the same way.
    unconfigured = Agent(tmp_path / "other", AgentConfig(provider="openai"), RecordingHost(), env={})
    (tmp_path / "other").mkdir()
    host = RecordingHost()
    ended = await unconfigured.submit("hi", host=host)
    assert ended.stop_reason == "error" and "OPENAI_API_KEY" in (ended.error or "")
    assert types_of(host.events) == ["notice"]  # the error, said once
    await agent.aclose()
    await unconfigured.aclose()


async def test_every_session_switch_is_announced_to_the_right_host(tmp_path: Path) -> None:
    provider = ScriptedProvider(reply("An answer."))
    agent, own = make_agent(tmp_path, provider)
    restored = agent.restore()
    await agent.submit("a question")
    first_id = restored.id

    def switches(host: RecordingHost) -> list[SessionChanged]:
        return [e for e in host.events if isinstance(e, SessionChanged)]

    # Start-up: the restored session, with its (empty) history.
    [start] = switches(own)
    assert start.session.id == first_id and start.messages == []

    # A front end switching outside a turn: the agent's own host hears it.
    fresh = agent.new_session()
    loaded = agent.load_session(first_id)
    forked = agent.fork_session(first_id)
    announced = switches(own)[1:]
    assert [e.session.id for e in announced] == [fresh.id, first_id, forked.id]
    assert [m.content for m in announced[1].messages] == ["a question", "An answer."]
    assert loaded.id == first_id

    # A slash command switching inside a turn: that turn's host hears it, before the command's notice.
    turn_host = RecordingHost()
    await agent.submit("/clear", host=turn_host)
    [cleared] = switches(turn_host)
    assert cleared.session.id == agent.session.id != forked.id and cleared.messages == []
    assert types_of(turn_host.events) == ["session_changed", "notice"]
    assert len(switches(own)) == 4  # nothing more reached the agent's own host
    await agent.aclose()


async def test_a_switch_reports_what_loading_repaired_before_announcing_it(tmp_path: Path) -> None:
    agent, _ = make_agent(tmp_path, ScriptedProvider())
    session = agent.restore()
    session.append(Message(role="user", content="kept"))
    path = session.path
    agent.new_session()
    with path.open("ab") as handle:
        handle.write(b'{"torn')  # a crash in the middle of an append
    host = RecordingHost()
    agent.load_session(session.id, host=host)
    assert types_of(host.events) == ["notice", "session_changed"]
    assert isinstance(host.events[0], Notice) and host.events[0].level == "warning"
    assert [m.content for m in host.events[1].messages] == ["kept"]  # type: ignore[union-attr]
    await agent.aclose()
