"""MCP servers through the language server (over stdio, with the recorded capabilities of Neovim
and VS Code): the fake LLM calls an MCP tool and its result reaches it; approval and trust go
through ``agent/requestPermission`` or the ``showMessageRequest`` fallback; ``agent.status`` lists
the servers; a slow call is cancelled; a streamable HTTP server works the same."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from lsprotocol import types

from tests.fakes.doubles import process_gone, wait_gone
from tests.fakes.llm_server import FakeLLM
from tests.mcp.servers import START, http_server, stdio
from tests.server.harness import StartServer, fake_settings

pytestmark = pytest.mark.timeout(240)


def tool_messages(llm: FakeLLM, index: int) -> list[str]:
    return [str(m["content"]) for m in llm.requests[index]["messages"] if m.get("role") == "tool"]


async def test_an_mcp_tool_from_settings_is_approved_called_and_its_result_reaches_the_model(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.script(
        {"tool_calls": [{"id": "m1", "name": "fake__echo", "arguments": {"text": "from the model"}}]},
        {"text": "The tool answered."},
    )
    settings = fake_settings(fake_llm, mcpServers={"fake": stdio()})
    client = await start_server(
        client_name, settings=settings, permission_request=True, env={"XDG_STATE_HOME": str(tmp_path / "state")}
    )
    turn_id = (await client.command("agent.chat", {"prompt": "echo something"}))["turnId"]
    ended = await client.wait_for("agent/turnEnded", lambda p: p["turnId"] == turn_id, timeout=START)
    assert ended["stopReason"] == "end_turn", ended
    [asked] = client.permission_requests
    assert asked["tool"] == "fake__echo" and asked["title"] == "MCP fake: echo"
    assert '"text": "from the model"' in asked["detail"]
    offered = [t["function"]["name"] for t in fake_llm.requests[0]["tools"]]
    assert "fake__echo" in offered and "read_file" in offered
    assert tool_messages(fake_llm, 1) == ["echo: from the model"]
    running = [p for p in client.of("agent/toolCall", turn_id) if p["status"] == "running"]
    assert running and running[0]["name"] == "fake__echo"

    status = await client.command("agent.status", {})
    [server] = status["mcpServers"]
    assert (server["name"], server["source"], server["transport"], server["state"]) == (
        "fake",
        "settings",
        "stdio",
        "running",
    )
    assert server["tools"] >= 8 and "error" not in server and status["mcpProblems"] == []


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_a_workspace_config_is_trusted_through_the_message_fallback_and_a_rejected_call_is_reported(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    root.mkdir()
    entry = stdio()
    (root / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "repo": {**entry, "args": [*entry["args"], "--marker", "${workspaceFolder}"]},
                    "typo": {"command": "x", "colour": 1},
                }
            }
        )
    )
    fake_llm.script({"tool_calls": [{"id": "m1", "name": "repo__where", "arguments": {}}]}, {"text": "rejected"})
    client = await start_server(
        client_name, settings=fake_settings(fake_llm), root=root, env={"XDG_STATE_HOME": str(tmp_path / "state")}
    )
    client.message_answers = ["Allow for this session", "Reject"]  # the trust question, then the tool
    turn_id = (await client.command("agent.chat", {"prompt": "where are you"}))["turnId"]
    ended = await client.wait_for("agent/turnEnded", lambda p: p["turnId"] == turn_id, timeout=START)
    assert ended["stopReason"] == "end_turn", ended
    trust_question, approval = [params.message for params in client.message_requests]
    assert "Start 2 MCP server(s) configured by this workspace?" in trust_question
    assert f"--marker {root}" in trust_question
    assert "MCP repo: where" in approval
    [rejected] = tool_messages(fake_llm, 1)
    assert rejected.endswith("The MCP tool was not run. The user rejected this action: rejected by the user")
    notices = [p["text"] for p in client.of("agent/notice", turn_id)]
    assert any(".mcp.json: mcpServers.typo.colour: unknown field; ignored" in n for n in notices)
    status = await client.command("agent.status", {})
    states = {s["name"]: s["state"] for s in status["mcpServers"]}
    assert states["repo"] == "running" and states["typo"] == "failed"
    assert any("colour" in p for p in status["mcpProblems"])
    assert (tmp_path / "state" / "agent-lsp" / "mcp-trust.json").exists()  # remembered outside the repository


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_a_slow_call_on_an_http_server_is_cancelled(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.script({"tool_calls": [{"id": "m1", "name": "web__slow", "arguments": {"seconds": 60}}]})
    with http_server(tmp_path) as url:
        settings = fake_settings(fake_llm, mcpServers={"web": {"url": url}}, approval={"mcp": "allow"})
        client = await start_server(client_name, settings=settings, env={"XDG_STATE_HOME": str(tmp_path / "state")})
        turn_id = (await client.command("agent.chat", {"prompt": "be slow"}))["turnId"]
        await client.wait_for(
            "agent/toolCall", lambda p: p["turnId"] == turn_id and p["status"] == "running", timeout=START
        )
        assert (await client.command("agent.cancel", {"turnId": turn_id}))["cancelled"] is True
        ended = await client.turn_ended(turn_id)
        assert ended["stopReason"] == "cancelled"
        [finished] = [p for p in client.of("agent/toolCall", turn_id) if p["status"] == "finished"]
        assert finished["isError"] is True
        status = await client.command("agent.status", {})
        assert [(s["name"], s["transport"], s["state"]) for s in status["mcpServers"]] == [("web", "http", "running")]


@pytest.mark.parametrize("client_name", ["neovim"])
@pytest.mark.parametrize("how", ["sigterm", "folder_removed"])
async def test_sigterm_and_folder_removal_stop_the_servers_process_group(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path, how: str
) -> None:
    fake_llm.script({"tool_calls": [{"id": "p1", "name": "fake__pid", "arguments": {}}]}, {"text": "ok"})
    settings = fake_settings(fake_llm, mcpServers={"fake": stdio()}, approval={"mcp": "allow"})
    client = await start_server(client_name, settings=settings, env={"XDG_STATE_HOME": str(tmp_path / "state")})
    turn_id = (await client.command("agent.chat", {"prompt": "pid"}))["turnId"]
    assert (await client.wait_for("agent/turnEnded", lambda p: p["turnId"] == turn_id, timeout=START))[
        "stopReason"
    ] == "end_turn"
    pids = [int(pid) for pid in tool_messages(fake_llm, 1)[0].split()]
    assert not any(process_gone(pid) for pid in pids)
    if how == "sigterm":
        process = client.client._server
        assert process is not None
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    else:
        client.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[], removed=[types.WorkspaceFolder(uri=client.root.as_uri(), name=client.root.name)]
                )
            )
        )
    assert await wait_gone(*pids, timeout=10)  # the server and the child it started
