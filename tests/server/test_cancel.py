"""Each of the three cancel paths really stops a streaming turn (the HTTP stream is closed)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import WAIT, AgentClient, StartServer, fake_settings


async def start_held_turn(client: AgentClient, fake_llm: FakeLLM, msg_id: str) -> str:
    fake_llm.script({"text": "A partial answer", "hold": True})
    params = types.ExecuteCommandParams(command="agent.chat", arguments=[{"prompt": "long job"}])
    result = await client.client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
    turn_id = result["turnId"]
    await client.wait_text(turn_id, "A partial answer")
    return turn_id


@pytest.mark.parametrize("path", ["agent.cancel", "workDoneProgress/cancel", "$/cancelRequest"])
async def test_cancel_stops_the_turn(start_server: StartServer, client_name: str, fake_llm: FakeLLM, path: str) -> None:
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    turn_id = await start_held_turn(client, fake_llm, msg_id="chat-request-1")

    if path == "agent.cancel":
        assert await client.command("agent.cancel", {"turnId": turn_id}) == {"cancelled": True}
    elif path == "workDoneProgress/cancel":
        client.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=f"agent-turn-{turn_id}")
        )
    else:
        client.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-request-1"))

    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "cancelled"
    # Really stopped: the server closed its HTTP stream to the model (never released here).
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1, WAIT)
    status = await client.command("agent.status")
    assert status["running"] is False

    # The partial answer stays in the conversation the model sees next.
    fake_llm.script({"text": "ok"})
    next_turn = (await client.command("agent.chat", {"prompt": "continue"}))["turnId"]
    assert (await client.turn_ended(next_turn))["stopReason"] == "end_turn"
    contents = [m.get("content") for m in fake_llm.requests[-1]["messages"]]
    assert any("A partial answer" in str(c) for c in contents)


async def test_cancel_without_a_turn_id_stops_whatever_runs(start_server: StartServer, fake_llm: FakeLLM) -> None:
    client = await start_server("neovim", settings=fake_settings(fake_llm))
    assert await client.command("agent.cancel") == {"cancelled": False}
    turn_id = await start_held_turn(client, fake_llm, msg_id="chat-request-2")
    assert await client.command("agent.cancel") == {"cancelled": True}
    assert (await client.turn_ended(turn_id))["stopReason"] == "cancelled"


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_cancel_stops_an_inline_edit(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def f():", "hold": True})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("m.py", "def f(): pass\n")
    turn_id = (
        await client.command(
            "agent.inlineEdit",
            {
                "uri": uri,
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
                "instruction": "document it",
            },
        )
    )["turnId"]
    await client.wait_for("agent/textDelta", lambda p: p["turnId"] == turn_id)
    client.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=f"agent-turn-{turn_id}"))
    assert (await client.turn_ended(turn_id))["stopReason"] == "cancelled"
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1, WAIT)
    assert client.of("agent/inlineEditProposal") == []
