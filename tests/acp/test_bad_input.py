"""Bad input gets a JSON-RPC error that says what is wrong, and the agent keeps serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.acp.harness import RawAgent, run_raw
from tests.fakes.llm_server import FakeLLM

INIT = {"protocolVersion": 1, "clientCapabilities": {}}


async def test_malformed_messages_are_answered_and_the_agent_keeps_serving(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "still here"})
    async with run_raw(tmp_path, fake_llm) as agent:
        await agent.send("this is not json")
        assert (await agent.response(None))["error"]["code"] == -32700
        await agent.send("[1, 2]")
        batch = await agent.response(None)
        assert batch["error"]["code"] == -32600 and "batches" in batch["error"]["message"]
        await agent.send('{"jsonrpc": "2.0", "id": {"no": 1}, "method": "initialize"}')
        assert (await agent.response(None))["error"]["code"] == -32600
        await agent.send('{"jsonrpc": "1.0", "id": 3, "method": "initialize"}')
        assert (await agent.response(3))["error"]["code"] == -32600
        await agent.send('{"jsonrpc": "2.0", "id": 4, "method": 42}')
        assert (await agent.response(4))["error"]["code"] == -32600
        assert (await agent.request(5, "no/such/method", {}))["error"]["code"] == -32601
        early = await agent.request(6, "session/new", {"cwd": str(tmp_path), "mcpServers": []})
        assert "initialize first" in early["error"]["message"]
        assert (await agent.request(7, "initialize", "not an object"))["error"]["code"] == -32602

        initialized = await agent.request(8, "initialize", {**INIT, "protocolVersion": 7})
        assert initialized["result"]["protocolVersion"] == 1, "a newer client is offered ours"
        assert initialized["result"]["agentCapabilities"]["loadSession"] is True
        await _keeps_serving(agent, tmp_path)


async def test_an_unsupported_protocol_version_is_refused_clearly(tmp_path: Path, fake_llm: FakeLLM) -> None:
    async with run_raw(tmp_path, fake_llm) as agent:
        refused = await agent.request(1, "initialize", {**INIT, "protocolVersion": 0})
        assert refused["error"]["code"] == -32602
        assert "protocol version 1" in refused["error"]["message"] and "version 0" in refused["error"]["message"]


async def test_bad_session_requests_are_refused_clearly(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "slow", "hold": True}, {"text": "still here"})
    async with run_raw(tmp_path, fake_llm) as agent:
        assert "result" in await agent.request(1, "initialize", INIT)
        unknown = await agent.request(2, "session/prompt", {"sessionId": "nope", "prompt": []})
        assert unknown["error"]["code"] == -32602 and "Unknown session 'nope'" in unknown["error"]["message"]
        relative = await agent.request(3, "session/new", {"cwd": "workspace", "mcpServers": []})
        assert "absolute path" in relative["error"]["message"]
        missing = await agent.request(4, "session/new", {"mcpServers": []})
        assert missing["error"]["code"] == -32602
        session_id = (await agent.request(5, "session/new", {"cwd": str(tmp_path / "workspace"), "mcpServers": []}))[
            "result"
        ]["sessionId"]
        empty = await agent.request(6, "session/prompt", {"sessionId": session_id, "prompt": []})
        assert "empty" in empty["error"]["message"]

        await agent.send(
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "session/prompt",
                "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "first"}]},
            }
        )
        await asyncio.to_thread(fake_llm.wait_for_requests, 1)
        busy = await agent.request(
            8, "session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": "second"}]}
        )
        assert busy["error"]["code"] == -32600 and "already running" in busy["error"]["message"]
        fake_llm.release()
        assert (await agent.response(7))["result"]["stopReason"] == "end_turn"
        await _keeps_serving(agent, tmp_path, first_id=20)


async def _keeps_serving(agent: RawAgent, tmp_path: Path, first_id: int = 10) -> None:
    new = await agent.request(first_id, "session/new", {"cwd": str(tmp_path / "workspace"), "mcpServers": []})
    session_id = new["result"]["sessionId"]
    answer = await agent.request(
        first_id + 1,
        "session/prompt",
        {"sessionId": session_id, "prompt": [{"type": "text", "text": "are you there?"}]},
    )
    assert answer["result"]["stopReason"] == "end_turn"
    assert agent.text(session_id) == "still here"


async def test_an_unreadable_permission_answer_is_a_rejection(tmp_path: Path, fake_llm: FakeLLM) -> None:
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "app.py").write_text("x = 1\n")
    fake_llm.script(
        {"tool_calls": [{"id": "e1", "name": "edit_file", "arguments": {"path": "app.py", "new_text": "y"}}]},
        {"text": "not edited"},
    )
    async with run_raw(tmp_path, fake_llm) as agent:
        assert "result" in await agent.request(1, "initialize", INIT)
        new = await agent.request(2, "session/new", {"cwd": str(tmp_path / "workspace"), "mcpServers": []})
        session_id = new["result"]["sessionId"]
        await agent.send(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "session/prompt",
                "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "edit"}]},
            }
        )
        asked = await agent.wait_for(lambda m: m.get("method") == "session/request_permission", "the question")
        await agent.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"outcome": 5}})
        assert (await agent.response(3))["result"]["stopReason"] == "end_turn"
    assert (tmp_path / "workspace" / "app.py").read_text() == "x = 1\n"
    [result] = [m["content"] for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    assert "permission request failed" in result, result


async def test_half_an_emoji_is_repaired_not_fatal(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "fine"})
    async with run_raw(tmp_path, fake_llm) as agent:
        assert "result" in await agent.request(1, "initialize", INIT)
        new = await agent.request(2, "session/new", {"cwd": str(tmp_path / "workspace"), "mcpServers": []})
        session_id = new["result"]["sessionId"]
        await agent.send(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "session/prompt",
                "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "split \ud83d emoji"}]},
            }
        )  # ASCII JSON
        assert (await agent.response(3))["result"]["stopReason"] == "end_turn"
    assert fake_llm.requests[0]["messages"][-1]["content"] == "split \ufffd emoji"
