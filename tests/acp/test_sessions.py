"""Sessions over ACP: history kept across prompts, session/load replaying a session the LSP front
end wrote (text, tool calls and their results), session/list, and one writer per session."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from acp import RequestError
from acp.schema import (
    AgentMessageChunk,
    AvailableCommandsUpdate,
    ToolCallProgress,
    ToolCallStart,
    UserMessageChunk,
)
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agent_core.messages import Message
from agent_core.sessions import SessionStore
from tests.acp.harness import WAIT, agent_env, fake_settings, run_agent
from tests.fakes.llm_server import FakeLLM


async def test_two_prompts_in_a_row_keep_the_history(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "Hi Ada."}, {"text": "Your name is Ada."})
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "My name is Ada.")).stop_reason == "end_turn"
        assert (await agent.prompt(session_id, "What is my name?")).stop_reason == "end_turn"
        second = [(m["role"], m.get("content")) for m in fake_llm.requests[1]["messages"] if m["role"] != "system"]
        assert second == [("user", "My name is Ada."), ("assistant", "Hi Ada."), ("user", "What is my name?")]


async def run_lsp(workspace: Path, llm: FakeLLM, prompt: str | None) -> Any:
    """The real LSP server (``python -m lsp_server``) on ``workspace``: one chat turn to its end
    when ``prompt`` is given; returns the ``agent/sessionRestored`` it sent at start-up."""
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=agent_env())
    client = await config.start()
    assert isinstance(client, LanguageClient)
    loop = asyncio.get_running_loop()
    restored: asyncio.Future[Any] = loop.create_future()
    ended: asyncio.Future[Any] = loop.create_future()

    @client.feature("agent/sessionRestored")
    def session_restored(ls: LanguageClient, params: Any) -> None:
        if not restored.done():
            restored.set_result(params)

    @client.feature("agent/turnEnded")
    def turn_ended(ls: LanguageClient, params: Any) -> None:
        if not ended.done():
            ended.set_result(params)

    settings = fake_settings(llm, approval={"runCommand": "allow"})
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
            initialization_options=settings,
        )
    )
    first = await asyncio.wait_for(restored, WAIT)
    if prompt is not None:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="agent.chat", arguments=[{"prompt": prompt}])
        )
        assert (await asyncio.wait_for(ended, WAIT)).stopReason == "end_turn"
    await asyncio.wait_for(client.shutdown_session(), WAIT)
    await client.stop()
    return first


async def test_load_replays_a_session_the_lsp_server_wrote(tmp_path: Path, fake_llm: FakeLLM) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("buy milk\n")
    fake_llm.script(
        {
            "text": "Let me look.",
            "tool_calls": [
                {"id": "read-1", "name": "read_file", "arguments": {"path": "notes.txt"}},
                {"id": "run-1", "name": "run_command", "arguments": {"command": "wc -l notes.txt"}},
            ],
        },
        {"text": "The note says: buy milk."},
    )
    await run_lsp(workspace, fake_llm, "What do my notes say?")

    fake_llm.script({"text": "You asked about your notes."})
    async with run_agent(tmp_path, fake_llm, workspace=workspace) as agent:
        listed = await agent.conn.list_sessions(cwd=str(agent.workspace))
        [info] = listed.sessions
        assert info.cwd == str(agent.workspace) and "What do my notes say?" in (info.title or "")
        await agent.conn.load_session(cwd=str(agent.workspace), session_id=info.session_id, mcp_servers=[])
        session_id = info.session_id
        kinds = [type(u).__name__ for s, u in agent.client.updates if s == session_id]
        assert kinds[:2] == ["UserMessageChunk", "AgentMessageChunk"]
        assert agent.client.user_text(session_id) == "What do my notes say?"
        assert agent.client.text(session_id) == "Let me look.The note says: buy milk."
        read = agent.client.tool_updates(session_id, "read-1")
        assert isinstance(read[0], ToolCallStart) and read[0].title == "Read notes.txt" and read[0].kind == "read"
        assert read[0].locations[0].path == str(agent.workspace / "notes.txt")
        assert isinstance(read[-1], ToolCallProgress) and read[-1].status == "completed"
        assert "buy milk" in read[-1].content[0].content.text
        run = agent.client.tool_updates(session_id, "run-1")
        assert run[0].kind == "execute" and run[-1].status == "completed" and "[exit code 0]" in run[-1].raw_output
        # Replayed in order: the prompt, the text, the calls, their results, the final answer.
        order = [
            type(u).__name__
            for s, u in agent.client.updates
            if s == session_id and isinstance(u, (UserMessageChunk, AgentMessageChunk, ToolCallStart, ToolCallProgress))
        ]
        assert order == [
            "UserMessageChunk",
            "AgentMessageChunk",
            "ToolCallStart",
            "ToolCallStart",
            "ToolCallProgress",
            "ToolCallProgress",
            "AgentMessageChunk",
        ]
        assert agent.client.of(session_id, AvailableCommandsUpdate)

        # The loaded session goes on with its whole history.
        assert (await agent.prompt(session_id, "What did I ask?")).stop_reason == "end_turn"
        roles = [m["role"] for m in fake_llm.requests[-1]["messages"] if m["role"] != "system"]
        assert roles == ["user", "assistant", "tool", "tool", "assistant", "user"]


async def test_a_session_written_over_acp_is_restored_by_the_lsp_server(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "Answered in Zed."})
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "Asked in Zed")).stop_reason == "end_turn"
        workspace = agent.workspace

    restored = await run_lsp(workspace, fake_llm, None)
    assert restored.session.id == session_id
    assert [(m.role, m.content) for m in restored.transcript] == [
        ("user", "Asked in Zed"),
        ("assistant", "Answered in Zed."),
    ]


async def test_load_of_an_unknown_session_is_a_clear_error(tmp_path: Path, fake_llm: FakeLLM) -> None:
    async with run_agent(tmp_path, fake_llm) as agent:
        for session_id, expected in (
            ("0123456789abcdef", "no session 0123456789abcdef"),
            ("../../etc/passwd", "session/list"),
        ):
            try:
                await agent.conn.load_session(cwd=str(agent.workspace), session_id=session_id, mcp_servers=[])
                raise AssertionError("loading an unknown session must fail")
            except Exception as error:
                assert expected in str(error), str(error)
        listed = await agent.conn.list_sessions(cwd=str(agent.workspace))
        assert listed.sessions == []


async def test_a_session_written_elsewhere_opens_read_only_and_says_so(tmp_path: Path, fake_llm: FakeLLM) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    other_window = SessionStore(workspace).new()  # this process holds the writer lock
    other_window.append(Message(role="user", content="started in VS Code"))
    try:
        async with run_agent(tmp_path, fake_llm, workspace=workspace) as agent:
            await agent.conn.load_session(cwd=str(agent.workspace), session_id=other_window.id, mcp_servers=[])
            assert agent.client.user_text(other_window.id) == "started in VS Code"
            assert "read-only here" in agent.client.text(other_window.id)
            try:
                await agent.prompt(other_window.id, "go on")
                raise AssertionError("a prompt in a read-only session cannot be saved")
            except RequestError as error:
                assert "read-only" in str(error)
            assert fake_llm.requests == []
    finally:
        other_window.close()
    assert [m.content for m in SessionStore(workspace).open(other_window.id).messages] == ["started in VS Code"]
