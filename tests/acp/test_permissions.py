"""Edits and commands under the ask policy go through session/request_permission: allowed once,
allowed for the session, rejected with a reason the model reads; no clear yes is a rejection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError
from acp.schema import FileEditToolCallContent, ToolCallProgress, ToolCallStart

from tests.acp.harness import Answer, fake_settings, run_agent
from tests.fakes.llm_server import FakeLLM


def edit_call(call_id: str, old: str, new: str) -> dict[str, Any]:
    return {
        "tool_calls": [
            {"id": call_id, "name": "edit_file", "arguments": {"path": "app.py", "old_text": old, "new_text": new}}
        ]
    }


def tool_result(request: dict[str, Any], call_id: str) -> str:
    [result] = [m for m in request["messages"] if m.get("role") == "tool" and m.get("tool_call_id") == call_id]
    return str(result["content"])


async def test_an_allowed_edit_shows_its_diff_and_is_applied(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(edit_call("call-1", "x = 1", "x = 2"), {"text": "Changed it."})
    async with run_agent(tmp_path, fake_llm) as agent:
        (agent.workspace / "app.py").write_text("x = 1\n")
        session_id = await agent.new_session()
        response = await agent.prompt(session_id, "set x to 2")

        assert response.stop_reason == "end_turn"
        assert (agent.workspace / "app.py").read_text() == "x = 2\n"
        [(asked, options)] = agent.client.permission_requests
        assert asked.tool_call_id == "call-1" and asked.title == "Edit app.py" and asked.kind == "edit"
        [diff] = asked.content
        assert isinstance(diff, FileEditToolCallContent)
        assert (diff.path, diff.old_text, diff.new_text) == (str(agent.workspace / "app.py"), "x = 1\n", "x = 2\n")
        assert [(o.option_id, o.kind) for o in options] == [
            ("allow_once", "allow_once"),
            ("allow_always", "allow_always"),
            ("reject", "reject_once"),
        ]

        updates = agent.client.tool_updates(session_id, "call-1")
        assert isinstance(updates[0], ToolCallStart) and updates[0].status == "pending"
        described = next(u for u in updates if u.title == "Edit app.py")
        assert described.kind == "edit" and described.locations[0].path == str(agent.workspace / "app.py")
        assert [u.status for u in updates if u.status] == ["pending", "in_progress", "in_progress", "completed"]
        done = updates[-1]
        assert isinstance(done, ToolCallProgress) and isinstance(done.content[0], FileEditToolCallContent)
        assert "Edited app.py" in done.content[1].content.text
        assert agent.client.text(session_id) == "Changed it."
        assert "Edited app.py" in tool_result(fake_llm.requests[1], "call-1")


async def test_allow_always_holds_for_the_rest_of_the_session(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        edit_call("call-1", "x = 1", "x = 2"), {"text": "one"}, edit_call("call-2", "x = 2", "x = 3"), {"text": "two"}
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        (agent.workspace / "app.py").write_text("x = 1\n")
        agent.client.answers = [Answer("allow_always")]
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "first")).stop_reason == "end_turn"
        assert (await agent.prompt(session_id, "second")).stop_reason == "end_turn"
        assert (agent.workspace / "app.py").read_text() == "x = 3\n"
        assert len(agent.client.permission_requests) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer("reject", reason="use a constant instead"), "The user rejected this action: use a constant instead"),
        (Answer("reject"), "The user rejected this action."),
        (Answer(None), "the question was dismissed in the editor"),
        (Answer(error=RequestError.internal_error({"details": "dialog crashed"})), "permission request failed"),
        (Answer("maybe"), "unknown option 'maybe'"),
    ],
)
async def test_anything_but_an_allow_is_a_rejection_the_model_reads(
    tmp_path: Path, fake_llm: FakeLLM, answer: Answer, expected: str
) -> None:
    fake_llm.script(edit_call("call-1", "x = 1", "x = 2"), {"text": "I will not change it."})
    async with run_agent(tmp_path, fake_llm) as agent:
        (agent.workspace / "app.py").write_text("x = 1\n")
        agent.client.answers = [answer]
        session_id = await agent.new_session()
        response = await agent.prompt(session_id, "set x to 2")

        assert response.stop_reason == "end_turn"
        assert (agent.workspace / "app.py").read_text() == "x = 1\n"
        result = tool_result(fake_llm.requests[1], "call-1")
        assert "was not done" in result and expected in result, result
        assert agent.client.tool_updates(session_id, "call-1")[-1].status == "failed"


async def test_a_command_asks_with_its_command_line_and_runs_once_allowed(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"tool_calls": [{"id": "run-1", "name": "run_command", "arguments": {"command": "echo hi there"}}]},
        {"text": "It printed hi there."},
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        response = await agent.prompt(session_id, "say hi")

        assert response.stop_reason == "end_turn"
        [(asked, _)] = agent.client.permission_requests
        assert asked.title == "Run: echo hi there" and asked.kind == "execute"
        assert "echo hi there" in asked.content[0].content.text
        done = agent.client.tool_updates(session_id, "run-1")[-1]
        assert done.status == "completed" and "hi there" in done.content[0].content.text
        assert "[exit code 0]" in tool_result(fake_llm.requests[1], "run-1")


async def test_no_answer_within_the_approval_timeout_is_a_rejection(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(edit_call("call-1", "x = 1", "x = 2"), {"text": "No answer, so no edit."})
    never = asyncio.Event()
    async with run_agent(tmp_path, fake_llm, settings=fake_settings(fake_llm, approvalTimeout=0.5)) as agent:
        (agent.workspace / "app.py").write_text("x = 1\n")
        agent.client.while_asked = never.wait  # the editor shows the question and never answers
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "set x to 2")).stop_reason == "end_turn"
        assert (agent.workspace / "app.py").read_text() == "x = 1\n"
        result = tool_result(fake_llm.requests[1], "call-1")
        assert "did not answer session/request_permission within 0.5 s (approvalTimeout)" in result, result


async def test_what_a_card_shows_has_nothing_hidden(tmp_path: Path, fake_llm: FakeLLM) -> None:
    spoofed = "printf 'ok\\033[2K\\r'; echo done \u202e"
    fake_llm.script(
        {"tool_calls": [{"id": "run-1", "name": "run_command", "arguments": {"command": spoofed}}]}, {"text": "ran"}
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "run it")).stop_reason == "end_turn"
        [(asked, _)] = agent.client.permission_requests
        updates = agent.client.tool_updates(session_id, "run-1")
        shown = [asked.title, asked.content[0].content.text] + [u.title or "" for u in updates]
        shown += [c.content.text for u in updates for c in (u.content or []) if hasattr(c, "content")]
        assert not any(ch in text for text in shown for ch in "\x1b\r\u202e"), shown
        assert "\\u202e" in asked.title and "\\x1b[2K" in updates[-1].content[0].content.text
