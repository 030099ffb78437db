"""A chat turn over the real server: accepted at once, streamed, ended; status while it streams."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings

#: The real server with a bug injected into one command handler (a KeyError, as a typo'd dict
#: key would raise).
SERVER_WITH_A_BUG = """
import sys
from lsp_server import commands, wire

def export_with_a_bug(server, arg):
    return {}["markdown"]

commands.HANDLERS[wire.SESSION_EXPORT] = export_with_a_bug
from lsp_server.server import run
sys.exit(run([]))
"""


async def test_a_chat_turn_streams_and_ends(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {
            "text": "Hello from the fake model, streamed in small pieces.",
            "chunk_bytes": 8,
            "usage": {"input_tokens": 12, "output_tokens": 9},
        }
    )
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    await client.wait_for("agent/sessionRestored")

    result = await client.command("agent.chat", {"prompt": "Say hello"})
    turn_id = result["turnId"]
    ended = await client.turn_ended(turn_id)

    assert ended["stopReason"] == "end_turn"
    assert ended["usage"] == {"inputTokens": 12, "outputTokens": 9}
    assert client.text_of(turn_id) == "Hello from the fake model, streamed in small pieces."
    started = client.of("agent/turnStarted", turn_id)
    assert started == [{"turnId": turn_id, "kind": "chat", "prompt": "Say hello"}]
    sent = fake_llm.requests[0]
    assert sent["messages"][-1]["content"] == "Say hello"
    # The server's log reaches the editor as window/logMessage (stdout carries only JSON-RPC).
    assert any(turn_id in m.message for m in client.client.log_messages)


async def test_status_answers_at_once_while_a_turn_streams(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "Thinking...", "hold": True})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    turn_id = (await client.command("agent.chat", {"prompt": "long task"}))["turnId"]
    await client.wait_for("agent/textDelta", lambda p: p["turnId"] == turn_id)

    status = await asyncio.wait_for(client.command("agent.status"), 2.0)
    assert status["running"] is True
    assert status["turns"] == [{"turnId": turn_id, "kind": "chat"}]
    assert status["provider"] == "openai" and status["model"] == "fake-model"
    assert status["session"]["messageCount"] >= 1

    # One turn at a time per folder: a second chat is refused with a clear error, not queued.
    try:
        await client.command("agent.chat", {"prompt": "another"})
        raise AssertionError("a second chat while one runs must fail")
    except Exception as exc:  # pygls raises JsonRpcException subclasses for error responses
        assert "already running" in str(exc)

    fake_llm.release()
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "end_turn"
    status = await client.command("agent.status")
    assert status["running"] is False and status["turns"] == []


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_bad_requests_get_errors_and_the_server_keeps_serving(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    bad = [
        ("agent.chat", {"prompt": ""}, "'prompt' must be a non-empty string"),
        ("agent.chat", {"prompt": "x", "context": "file.py"}, "'context' must be an object"),
        ("agent.inlineEdit", {"uri": "file:///nowhere/x.py", "range": {"start": {"line": 0}}}, "range.start.character"),
        ("agent.inlineEdit.accept", {"turnId": "nope"}, "no pending proposal"),
        ("agent.session.load", {"id": "does-not-exist"}, "agent.session.load"),
        ("agent.nonsense", {}, "not defined"),
    ]
    for command, argument, expected in bad:
        try:
            await client.command(command, argument)
        except Exception as exc:
            assert expected in str(exc), (command, str(exc))
        else:
            raise AssertionError(f"{command} {argument} should have failed")

    fake_llm.script({"text": "still here"})
    turn_id = (await client.command("agent.chat", {"prompt": "are you alive?"}))["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
    assert client.text_of(turn_id) == "still here"


async def test_a_bug_in_a_command_is_logged_and_answered_as_an_internal_error(
    start_server: StartServer, fake_llm: FakeLLM
) -> None:
    client = await start_server(
        "neovim", settings=fake_settings(fake_llm), server_command=[sys.executable, "-c", SERVER_WITH_A_BUG]
    )
    await client.wait_for("agent/sessionRestored")
    try:
        await client.command("agent.session.export", {"id": "any"})
    except Exception as exc:
        assert getattr(exc, "code", None) == -32603, exc  # InternalError, not a user's RequestFailed
        assert "agent.session.export: internal error (KeyError: 'markdown')" in str(exc)
    else:
        raise AssertionError("the injected bug must fail the request")
    logged = await client.wait_for("window/logMessage", lambda p: "agent.session.export failed" in p["message"])
    assert "Traceback" in logged["message"] and "KeyError: 'markdown'" in logged["message"]
    # The server keeps serving.
    status = await client.command("agent.status")
    assert status["running"] is False and status["session"] is not None


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_chat_context_reaches_the_model(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("src/calc.py", "def add(a, b):\n    return a - b\n")
    context = {
        "uri": uri,
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}},
        "diagnostics": ["line 2: wrong operator"],
    }
    turn_id = (await client.command("agent.chat", {"prompt": "Fix the bug", "context": context}))["turnId"]
    await client.turn_ended(turn_id)
    sent = fake_llm.requests[-1]["messages"][-1]["content"]
    assert sent.startswith("Fix the bug")
    assert "src/calc.py" in sent and "line 2" in sent
    assert "return a - b" in sent  # the selection, read from the editor's buffer
    assert "wrong operator" in sent


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_progress_is_reported_for_a_turn(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "done"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    turn_id = (await client.command("agent.chat", {"prompt": "go"}))["turnId"]
    await client.turn_ended(turn_id)
    reports = client.client.progress_reports.get(f"agent-turn-{turn_id}")
    if client.client.capabilities.window and client.client.capabilities.window.work_done_progress:
        assert reports is not None
        kinds = [r.kind for r in reports]
        assert kinds[0] == "begin" and kinds[-1] == "end"
        assert reports[0].cancellable is True
    else:
        assert reports is None
