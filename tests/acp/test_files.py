"""A client offering fs/read_text_file and fs/write_text_file: the agent reads the editor's
unsaved text and edits through the editor; newer text in the editor is never overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.acp.harness import run_agent
from tests.fakes.llm_server import FakeLLM


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"id": call_id, "name": name, "arguments": arguments}]}


def tool_result(request: dict[str, Any], call_id: str) -> str:
    [result] = [m for m in request["messages"] if m.get("role") == "tool" and m.get("tool_call_id") == call_id]
    return str(result["content"])


async def test_reads_and_writes_go_through_the_client(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        call("read-1", "read_file", path="app.py"),
        call("edit-1", "edit_file", path="app.py", old_text="x = 10", new_text="x = 20"),
        {"text": "Done."},
    )
    async with run_agent(tmp_path, fake_llm, fs=True) as agent:
        path = agent.workspace / "app.py"
        path.write_text("x = 1\n")
        agent.client.buffers[str(path)] = "x = 10  # unsaved\n"
        session_id = await agent.new_session()
        response = await agent.prompt(session_id, "double x")

        assert response.stop_reason == "end_turn"
        assert "x = 10  # unsaved" in tool_result(fake_llm.requests[1], "read-1")
        assert agent.client.writes == [(str(path), "x = 20  # unsaved\n")]
        assert path.read_text() == "x = 1\n", "the edit went through the editor, not behind it"
        [(asked, _)] = agent.client.permission_requests
        assert asked.content[0].old_text == "x = 10  # unsaved\n"
        read = agent.client.tool_updates(session_id, "read-1")
        assert read[-1].status == "completed" and "x = 10  # unsaved" in read[-1].content[0].content.text
        assert any(u.locations and u.locations[0].path == str(path) for u in read)


async def test_an_edit_is_refused_when_the_editor_text_changed_meanwhile(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        call("edit-1", "edit_file", path="app.py", old_text="x = 1", new_text="x = 2"), {"text": "It changed under me."}
    )
    async with run_agent(tmp_path, fake_llm, fs=True) as agent:
        path = agent.workspace / "app.py"
        agent.client.buffers[str(path)] = "x = 1\n"

        def user_types() -> None:
            agent.client.buffers[str(path)] = "x = 1\ny = 5\n"

        agent.client.while_asked = user_types
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "set x")).stop_reason == "end_turn"

        assert agent.client.writes == []
        assert agent.client.buffers[str(path)] == "x = 1\ny = 5\n"
        result = tool_result(fake_llm.requests[1], "edit-1")
        assert "was not applied" in result and "changed since the agent read it" in result


async def test_without_the_capability_the_disk_is_used(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(call("edit-1", "edit_file", path="new/file.txt", new_text="hello\n"), {"text": "Created."})
    async with run_agent(tmp_path, fake_llm, fs=False) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "create it")).stop_reason == "end_turn"
        assert (agent.workspace / "new" / "file.txt").read_text() == "hello\n"
        assert agent.client.reads == [] and agent.client.writes == []
        [(asked, _)] = agent.client.permission_requests
        assert asked.title == "Create new/file.txt" and asked.content[0].old_text is None
