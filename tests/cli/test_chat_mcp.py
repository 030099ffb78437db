"""MCP servers through ``agent-lsp chat``: a workspace's ``.vscode/mcp.json`` is trusted on the
terminal, its tool approved there, and its result reaches the model; the trust is remembered for
a later run without a terminal; ``--mcp-config`` names the user's own servers."""

from __future__ import annotations

import json
import os
import pty
from pathlib import Path

import pytest

from tests.cli.chat_process import ChatProcess, chat_env, openai_args, run_chat
from tests.fakes.llm_server import FakeLLM
from tests.mcp.servers import START, stdio

pytestmark = pytest.mark.timeout(240)


def tool_messages(llm: FakeLLM, index: int) -> list[str]:
    return [str(m["content"]) for m in llm.requests[index]["messages"] if m["role"] == "tool"]


def test_a_workspace_server_is_trusted_and_its_tool_approved_on_the_terminal(fake_llm: FakeLLM, tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    (workspace / ".vscode").mkdir(parents=True)
    entry = stdio()
    (workspace / ".vscode" / "mcp.json").write_text(
        json.dumps({"servers": {"repo": {**entry, "args": [*entry["args"], "--marker", "${workspaceFolder}"]}}})
    )
    env = chat_env(OPENAI_API_KEY="sk-test", XDG_STATE_HOME=str(tmp_path / "state"))
    where = {"tool_calls": [{"id": "w1", "name": "repo__where", "arguments": {}}]}
    fake_llm.script(where, {"text": "It runs in the repo."})

    controller, terminal = pty.openpty()
    chat = ChatProcess(*openai_args(fake_llm, workspace, "where does it run?"), env=env, stdin=terminal)
    os.close(terminal)
    try:
        chat.wait_for(
            lambda c: (
                "Start 1 MCP server(s) configured by this workspace?" in c.stderr and "Allow? [y] once" in c.stderr
            ),
            timeout=START,
        )
        assert f"--marker {workspace}" in chat.stderr
        os.write(controller, b"a\n")  # trust it, and remember
        chat.wait_for(lambda c: "MCP repo: where" in c.stderr and c.stderr.count("Allow? [y] once") == 2, timeout=START)
        os.write(controller, b"y\n")
        assert chat.finish(timeout=START) == 0, chat.stderr
    finally:
        chat.kill()
        os.close(controller)
    assert chat.stdout == "It runs in the repo.\n"
    assert tool_messages(fake_llm, 1) == [str(workspace)]
    assert "[tool] repo__where" in chat.stderr

    # Later, without a terminal: the trust is remembered; --yes allows the tool.
    fake_llm.script(where, {"text": "Again."})
    again = run_chat(*openai_args(fake_llm, workspace, "--yes", "where?"), env=env, timeout=START)
    assert again.returncode == 0, again.stderr
    assert tool_messages(fake_llm, 3)[-1] == str(workspace)


def test_without_a_terminal_an_untrusted_workspace_server_is_not_started(fake_llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"repo": stdio()}}))
    fake_llm.script({"text": "no tools"})
    done = run_chat(
        *openai_args(fake_llm, tmp_path, "--yes", "hi"),
        timeout=START,
        env=chat_env(OPENAI_API_KEY="sk-test", XDG_STATE_HOME=str(tmp_path / "state")),
    )
    assert done.returncode == 0, done.stderr
    assert "MCP servers of this workspace not started: repo (not trusted: there is no terminal" in done.stderr
    assert not any("__" in t["function"]["name"] for t in fake_llm.requests[0]["tools"])


def test_mcp_config_names_the_users_own_servers(fake_llm: FakeLLM, tmp_path: Path) -> None:
    config = tmp_path / "my-mcp.json"
    config.write_text(json.dumps({"mcpServers": {"mine": stdio()}}))
    fake_llm.script(
        {"tool_calls": [{"id": "e1", "name": "mine__echo", "arguments": {"text": "own"}}]}, {"text": "done"}
    )
    done = run_chat(
        *openai_args(fake_llm, tmp_path, "--yes", "--mcp-config", str(config), "echo"),
        timeout=START,
        env=chat_env(OPENAI_API_KEY="sk-test", XDG_STATE_HOME=str(tmp_path / "state")),
    )
    assert done.returncode == 0, done.stderr
    assert tool_messages(fake_llm, 1) == ["echo: own"]
    bad = run_chat(*openai_args(fake_llm, tmp_path, "--mcp-config", str(tmp_path / "none.json"), "x"))
    assert bad.returncode == 2 and "--mcp-config: cannot read" in bad.stderr
