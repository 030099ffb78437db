"""MCP tools through the agent, against real MCP servers (tests/fakes/mcp_server.py over stdio):
offered to the model, approved, called, their results in the next request; crash and restart;
cancel and timeout; list_changed; environment; stderr; shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import Notice, ToolStarted
from agent_core.messages import ToolCall
from tests.fakes.clock import FakeClock
from tests.fakes.doubles import ALLOW_ONCE, ALLOW_SESSION, RecordingHost, ScriptedProvider, reject, reply, wait_gone
from tests.mcp.servers import START, stdio, until

pytestmark = pytest.mark.timeout(240)


def agent_with(
    tmp_path: Path,
    provider: ScriptedProvider,
    env: dict[str, str] | None = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> tuple[Agent, RecordingHost]:
    host = RecordingHost()
    environment = {"XDG_STATE_HOME": str(tmp_path / "state"), **(env or {})}
    agent = Agent(
        tmp_path / "ws", AgentConfig.model_validate(settings), host, provider=provider, env=environment, clock=clock
    )
    agent.restore()
    return agent, host


def tool_results(provider: ScriptedProvider, index: int) -> list[str]:
    return [m.content for m in provider.requests[index].messages if m.role == "tool"]


def call(tool: str, call_id: str = "c1", **arguments: Any) -> ToolCall:
    return ToolCall(id=call_id, name=tool, arguments=arguments)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return tmp_path


async def test_the_model_calls_an_mcp_tool_after_approval_and_reads_its_result(workspace: Path) -> None:
    provider = ScriptedProvider(reply("", [call("fake__echo", text="hi there")]), reply("It said hi."))
    agent, host = agent_with(workspace, provider, mcpServers={"fake": stdio()})
    host.decisions = [ALLOW_ONCE]
    ended = await agent.submit("use the echo tool")
    assert ended.stop_reason == "end_turn", ended.error
    first = provider.requests[0]
    [echo] = [t for t in first.tools if t.name == "fake__echo"]
    assert "Return the text" in echo.description and "fake" in echo.description
    assert echo.parameters["properties"]["text"]["type"] == "string"
    assert "fake__echo" in first.messages[0].content  # the system prompt names the MCP tools too
    [asked] = host.permission_requests
    assert asked.tool == "fake__echo" and asked.title == "MCP fake: echo"
    assert "Server: fake (settings:" in asked.detail and "Tool: echo" in asked.detail
    assert '"text": "hi there"' in asked.detail
    assert tool_results(provider, 1) == ["echo: hi there"]
    status = agent.status().mcp_servers
    assert [(s.name, s.source, s.state) for s in status] == [("fake", "settings", "running")] and status[0].tools >= 8
    await agent.aclose()


async def test_rejected_denied_allowed_by_list_and_for_the_session(workspace: Path) -> None:
    provider = ScriptedProvider(
        reply("", [call("fake__echo", "a", text="one")]),
        reply("rejected"),
        reply("", [call("fake__echo", "b", text="two")]),
        reply("allowed for the session"),
        reply("", [call("fake__echo", "c", text="three")]),
        reply("not asked again"),
        reply("", [call("fake__peek", "d")]),
        reply("read-only still asks"),
    )
    agent, host = agent_with(workspace, provider, mcpServers={"fake": stdio()})
    host.decisions = [reject("not that"), ALLOW_SESSION, ALLOW_ONCE]
    for prompt in ("one", "two", "three", "peek"):
        assert (await agent.submit(prompt)).stop_reason == "end_turn"
    assert tool_results(provider, 1) == ["The MCP tool was not run. The user rejected this action: not that"]
    assert tool_results(provider, 3)[-1] == "echo: two"
    assert tool_results(provider, 5)[-1] == "echo: three"
    assert tool_results(provider, 7)[-1] == "peeked"
    asked = [r.tool for r in host.permission_requests]
    assert asked == ["fake__echo", "fake__echo", "fake__peek"]  # the session answer held for echo only
    assert "only reads; that does not skip this question" in host.permission_requests[-1].detail

    # The per-server allow list runs a tool without asking; approval.mcp = deny refuses every one.
    agent.update_config(
        AgentConfig.model_validate({"mcpServers": {"fake": stdio()}, "approval": {"mcpAllow": {"fake": ["where"]}}})
    )
    provider.replies += [reply("", [call("fake__where", "e")]), reply("listed")]
    assert (await agent.submit("where")).stop_reason == "end_turn"
    assert tool_results(provider, 9)[-1] == str(workspace / "ws")  # the default working folder
    agent.update_config(
        AgentConfig.model_validate(
            {"mcpServers": {"fake": stdio()}, "approval": {"mcp": "deny", "mcpAllow": {"fake": ["*"]}}}
        )
    )
    provider.replies += [reply("", [call("fake__where", "f")]), reply("denied")]
    assert (await agent.submit("where again")).stop_reason == "end_turn"
    assert "approval.mcp = deny" in tool_results(provider, 11)[-1]
    assert len(host.permission_requests) == 3
    await agent.aclose()


async def test_a_crashed_server_reports_a_clear_error_and_is_restarted_with_backoff(
    workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent_core.mcp")
    clock = FakeClock()
    provider = ScriptedProvider(
        reply("", [call("fake__crash", "a"), call("fake__echo", "b", text="meanwhile")]),
        reply("it crashed"),
    )
    agent, host = agent_with(workspace, provider, clock=clock, mcpServers={"fake": stdio()}, approval={"mcp": "allow"})
    assert (await agent.submit("crash it")).stop_reason == "end_turn"
    crashed, meanwhile = tool_results(provider, 1)
    assert "stopped during the call (exited with code 3: fatal: crash requested by the test)" in crashed
    assert "is restarting" in meanwhile  # the other tool of the turn gets a clear error, the turn goes on
    assert "[fake] fatal: crash requested by the test" in caplog.text  # stderr went to the log
    connection = agent.mcp._connections["fake"]
    await connection.wait_for_state("running")  # restarted (bounded by the test timeout)
    assert clock.sleeps == [1.0]  # the backoff, on the injected clock
    provider.replies += [reply("", [call("fake__echo", "c", text="back")]), reply("back")]
    assert (await agent.submit("again")).stop_reason == "end_turn"
    assert tool_results(provider, 3)[-1] == "echo: back"
    notices = [e.text for e in host.events if isinstance(e, Notice)]
    assert any("stopped (exited with code 3" in n and "restarting in 1 s" in n for n in notices)
    await agent.aclose()


async def test_cancel_during_a_slow_call_stops_it_on_the_server(workspace: Path) -> None:
    marker = workspace / "marks"
    marker.mkdir()
    provider = ScriptedProvider(reply("", [call("fake__slow", seconds=60)]))
    agent, host = agent_with(
        workspace, provider, mcpServers={"fake": stdio("--marker", str(marker))}, approval={"mcp": "allow"}
    )
    turn = asyncio.ensure_future(agent.submit("be slow"))
    await host.wait_for(lambda e: isinstance(e, ToolStarted), timeout=START)
    await until(lambda: (marker / "slow-started").exists())
    assert agent.cancel()
    ended = await turn
    assert ended.stop_reason == "cancelled"
    await until(lambda: (marker / "slow-cancelled").exists(), timeout=10)  # the server was told
    assert agent.status().mcp_servers[0].state == "running"  # the server itself lives on
    await agent.aclose()


async def test_a_call_timeout_and_tools_added_while_running(workspace: Path) -> None:
    provider = ScriptedProvider(
        reply("", [call("fake__slow", "a", seconds=60)]),
        reply("timed out"),
        reply("", [call("fake__grow", "b")]),
        reply("", [call("fake__fresh", "c")]),
        reply("fresh"),
    )
    agent, _ = agent_with(
        workspace, provider, mcpServers={"fake": stdio()}, approval={"mcp": "allow"}, mcp={"callTimeout": 0.5}
    )
    assert (await agent.submit("slow")).stop_reason == "end_turn"
    assert "no answer within 0.5 s (mcp.callTimeout)" in tool_results(provider, 1)[-1]
    assert (await agent.submit("grow")).stop_reason == "end_turn"
    assert "fake__fresh" not in [t.name for t in provider.requests[2].tools]
    assert "fake__fresh" in [t.name for t in provider.requests[3].tools]  # list_changed, same turn
    assert tool_results(provider, 4)[-1] == "fresh and new"
    await agent.aclose()


async def test_servers_never_see_provider_keys_unless_the_users_settings_pass_them(workspace: Path) -> None:
    env = {
        "OPENAI_API_KEY": "sk-openai",
        "ANTHROPIC_API_KEY": "sk-ant",
        "MY_KEY": "sk-mine",
        "PATH": "/usr/bin:/bin",
        "UNRELATED": "x",
    }
    provider = ScriptedProvider(
        reply(
            "",
            [
                call("plain__env", "a", name="OPENAI_API_KEY"),
                call("plain__env", "b", name="ANTHROPIC_API_KEY"),
                call("plain__env", "c", name="MY_KEY"),
                call("plain__env", "d", name="UNRELATED"),
                call("plain__env", "e", name="PATH"),
                call("given__env", "f", name="OPENAI_API_KEY"),
            ],
        ),
        reply("done"),
    )
    given = {**stdio(), "env": {"OPENAI_API_KEY": "${env:OPENAI_API_KEY}"}}
    agent, _ = agent_with(
        workspace,
        provider,
        env=env,
        apiKeyEnv="MY_KEY",
        approval={"mcp": "allow"},
        mcpServers={"plain": stdio(), "given": given},
    )
    assert (await agent.submit("env")).stop_reason == "end_turn"
    assert tool_results(provider, 1) == ["<unset>", "<unset>", "<unset>", "<unset>", "/usr/bin:/bin", "sk-openai"]
    await agent.aclose()


async def test_faults_are_reported_and_the_other_servers_tools_still_work(workspace: Path) -> None:
    provider = ScriptedProvider(
        reply(
            "", [call("good__big", "a", megabytes=50), call("good__picture", "b"), call("my_db__echo", "c", text="x")]
        ),
        reply("done"),
    )
    agent, host = agent_with(
        workspace,
        provider,
        approval={"mcp": "allow"},
        outputCap=2000,
        mcpServers={
            "good": stdio("--bad-schema"),
            "missing": {"command": str(workspace / "no-such-program")},
            "exits": stdio("--exit-at-start"),
            "my.db": stdio(),
            "my_db": stdio(),
        },
    )
    assert (await agent.submit("go")).stop_reason == "end_turn"
    big, picture, clash = tool_results(provider, 1)
    assert len(big) < 3000 and "characters of MCP tool output omitted" in big
    assert picture.startswith("[image content: image/png")
    assert clash == "echo: x"  # served by my.db, the first of the two
    notices = "\n".join(e.text for e in host.events if isinstance(e, Notice))
    assert f"MCP server 'missing' failed: its command does not exist: {workspace / 'no-such-program'}" in notices
    assert "MCP server 'exits' failed: exited with code 2: cannot start: missing configuration" in notices
    assert "MCP tool 'broken' of server 'good' is left out: its input schema is invalid" in notices
    assert (
        "MCP server 'my_db': 10 tool(s) left out, their names clash with tools of server 'my.db': my_db__echo,"
        in notices
    )
    states = {s.name: (s.state, s.error) for s in agent.status().mcp_servers}
    assert states["missing"][0] == "failed" and "does not exist" in (states["missing"][1] or "")
    assert states["good"] == ("running", None)
    await agent.aclose()


async def test_a_server_that_never_answers_initialize_times_out(workspace: Path) -> None:
    provider = ScriptedProvider(reply("fine without it"))
    silent = {"command": sys.executable, "args": ["-c", "import time; time.sleep(600)"]}
    agent, host = agent_with(workspace, provider, mcpServers={"silent": silent}, mcp={"startTimeout": 1})
    assert (await agent.submit("hello")).stop_reason == "end_turn"
    [notice] = [e for e in host.events if isinstance(e, Notice)]
    assert notice.level == "error"
    assert "'silent' failed: it did not answer initialize and tools/list within 1 s (mcp.startTimeout)" in notice.text
    assert [t.name for t in provider.requests[0].tools if "__" in t.name] == []
    await agent.aclose()


async def test_closing_the_agent_stops_the_whole_process_group(workspace: Path) -> None:
    provider = ScriptedProvider(reply("", [call("fake__echo", text="x")]), reply("ok"))
    agent, _ = agent_with(workspace, provider, mcpServers={"fake": stdio()}, approval={"mcp": "allow"})
    assert (await agent.submit("go")).stop_reason == "end_turn"
    process = agent.mcp._connections["fake"]._process
    assert process is not None
    pid = process.pid
    await agent.aclose()
    assert await wait_gone(pid)
    assert [s.state for s in agent.status().mcp_servers] == ["stopped"]


def test_settings_example_is_json() -> None:
    # The docs' example config must be what the parser accepts.
    AgentConfig.model_validate(json.loads('{"mcpServers": {"db": {"command": "db-mcp", "args": ["--ro"]}}}'))


async def test_a_workspace_config_asks_for_trust_first_and_the_answer_is_remembered(workspace: Path) -> None:
    ws = workspace / "ws"
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "mcp.json").write_text(
        json.dumps(
            {
                "servers": {
                    "repo": {
                        "command": sys.executable,
                        "args": [str(Path(stdio()["args"][0])), "--marker", "${workspaceFolder}"],
                    }
                }
            }
        )
    )
    # A hostile repository's own "trust record" is never read.
    (ws / ".agent-lsp").mkdir()
    (ws / ".agent-lsp" / "mcp-trust.json").write_text('{"version": 1, "trusted": {}}')

    provider = ScriptedProvider(reply("not started"), reply("", [call("repo__echo", text="t")]), reply("ok"))
    agent, host = agent_with(workspace, provider, approval={"mcp": "allow"})
    host.decisions = [reject("no")]
    assert (await agent.submit("first")).stop_reason == "end_turn"
    [asked] = host.permission_requests
    assert asked.tool == "mcp_servers" and "Start 1 MCP server(s)" in asked.title
    assert f"repo (.vscode/mcp.json): run {sys.executable}" in asked.detail and f"--marker {ws}" in asked.detail
    assert not any("__" in t.name for t in provider.requests[0].tools)
    assert [(s.name, s.state) for s in agent.status().mcp_servers] == [("repo", "declined")]
    assert any("not started: repo (not trusted: no;" in e.text for e in host.events if isinstance(e, Notice))
    await agent.aclose()

    # A new agent asks again; "allow for this session" starts them and remembers the config.
    agent, host = agent_with(workspace, provider, approval={"mcp": "allow"})
    host.decisions = [ALLOW_SESSION]
    assert (await agent.submit("second")).stop_reason == "end_turn"
    assert tool_results(provider, 2) == ["echo: t"]
    await agent.aclose()
    agent, host = agent_with(workspace, ScriptedProvider(reply("again")), approval={"mcp": "allow"})
    assert (await agent.submit("third")).stop_reason == "end_turn"
    assert host.permission_requests == []  # remembered, in the user's state folder
    assert (workspace / "state" / "agent-lsp" / "mcp-trust.json").exists()
    await agent.aclose()

    # A changed config is asked about again.
    (ws / ".vscode" / "mcp.json").write_text(json.dumps({"servers": {"repo": stdio()}}))
    agent, host = agent_with(workspace, ScriptedProvider(reply("changed")), approval={"mcp": "allow"})
    host.decisions = [reject()]
    assert (await agent.submit("fourth")).stop_reason == "end_turn"
    assert len(host.permission_requests) == 1
    await agent.aclose()


async def test_the_mcp_command_lists_servers_and_problems(workspace: Path) -> None:
    (workspace / "ws" / ".mcp.json").write_text('{"mcpServers": {"broken": ')
    provider = ScriptedProvider(reply("hello"))
    agent, host = agent_with(
        workspace,
        provider,
        mcpServers={"missing": {"command": "/no/such/mcp"}, "off": {"command": "x"}},
        mcp={"disabled": ["off"]},
    )
    assert (await agent.submit("/mcp")).stop_reason == "end_turn"  # nothing started by a command
    assert (await agent.submit("hello")).stop_reason == "end_turn"
    assert (await agent.submit("/mcp")).stop_reason == "end_turn"
    listing = [e.text for e in host.events if isinstance(e, Notice)][-1]
    assert "missing  [settings]  failed, 0 tool(s)  (its command does not exist: /no/such/mcp)" in listing
    assert "off  [settings]  disabled, 0 tool(s)" in listing
    assert "Config problem: .mcp.json: not valid JSON" in listing
    assert (await agent.submit("/mcp restart nothing")).stop_reason == "error"
    assert (await agent.submit("/mcp restart")).stop_reason == "end_turn"
    await agent.aclose()


async def test_stopping_during_the_restart_backoff_is_prompt(workspace: Path) -> None:
    class WaitingClock(FakeClock):
        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            await asyncio.Event().wait()  # a backoff that would never end by itself

    clock = WaitingClock()
    provider = ScriptedProvider(reply("", [call("fake__crash")]), reply("crashed"))
    agent, _ = agent_with(workspace, provider, clock=clock, mcpServers={"fake": stdio()}, approval={"mcp": "allow"})
    assert (await agent.submit("crash")).stop_reason == "end_turn"
    await until(lambda: clock.sleeps == [1.0], timeout=10)  # waiting to restart
    started = asyncio.get_running_loop().time()
    await agent.aclose()
    assert asyncio.get_running_loop().time() - started < 1.5


async def test_a_bug_in_the_mcp_client_does_not_cost_the_turn(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = ScriptedProvider(reply("answered anyway"))
    agent, host = agent_with(workspace, provider, mcpServers={"fake": stdio()})

    async def broken(*args: Any) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(agent.mcp, "prepare", broken)
    ended = await agent.submit("hello")
    assert ended.stop_reason == "end_turn"
    assert any(
        isinstance(e, Notice) and e.level == "error" and "MCP servers could not be started (KeyError" in e.text
        for e in host.events
    )
    await agent.aclose()
