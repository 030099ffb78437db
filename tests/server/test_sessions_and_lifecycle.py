"""Sessions survive restarts (shutdown and SIGTERM), session commands work, settings problems
are shown, and the TCP transport serves a client."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient as PlainClient

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import WAIT, StartServer, fake_settings, server_env, stop


async def test_the_session_is_restored_after_a_restart(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    fake_llm.script({"text": "I will remember."})
    first = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    restored = await first.wait_for("agent/sessionRestored")
    assert restored["transcript"] == [] and restored["folder"] == root.as_uri()
    turn_id = (await first.command("agent.chat", {"prompt": "remember the number 42"}))["turnId"]
    await first.turn_ended(turn_id)
    session_id = restored["session"]["id"]
    await stop(first)

    second = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    again = await second.wait_for("agent/sessionRestored")
    assert again["session"]["id"] == session_id
    assert [(m["role"], m["content"]) for m in again["transcript"]] == [
        ("user", "remember the number 42"),
        ("assistant", "I will remember."),
    ]
    assert again["session"]["messageCount"] == 2


async def test_sigterm_saves_the_partial_answer(start_server: StartServer, fake_llm: FakeLLM, tmp_path: Path) -> None:
    root = tmp_path / "project"
    fake_llm.script({"text": "Half of the answer", "hold": True})
    first = await start_server("neovim", settings=fake_settings(fake_llm), root=root)
    turn_id = (await first.command("agent.chat", {"prompt": "explain"}))["turnId"]
    await first.wait_text(turn_id, "Half of the answer")
    process = first.client._server
    assert process is not None
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), WAIT) == 0
    await stop(first)

    second = await start_server("neovim", settings=fake_settings(fake_llm), root=root)
    restored = await second.wait_for("agent/sessionRestored")
    [user, assistant] = restored["transcript"]
    assert user["content"] == "explain"
    assert assistant["content"] == "Half of the answer" and assistant["interrupted"] is True


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_session_commands(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.default = {"text": "answer"}
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    first_id = (await client.wait_for("agent/sessionRestored"))["session"]["id"]
    await client.turn_ended((await client.command("agent.chat", {"prompt": "first topic"}))["turnId"])
    saved = await client.command("agent.session.save", {"title": "First"})
    assert saved["session"]["title"] == "First" and saved["session"]["id"] == first_id

    new = await client.command("agent.session.new")
    second_id = new["session"]["id"]
    assert second_id != first_id
    fresh = await client.wait_for("agent/sessionRestored", lambda p: p["session"]["id"] == second_id)
    assert fresh["transcript"] == []
    await client.turn_ended((await client.command("agent.chat", {"prompt": "second topic"}))["turnId"])

    listed = await client.command("agent.session.list")
    assert [s["id"] for s in listed["sessions"]] == [second_id, first_id]  # newest first
    assert listed["sessions"][1]["messageCount"] == 2 and listed["sessions"][1]["preview"] == "first topic"

    renamed = await client.command("agent.session.rename", {"id": first_id, "title": "Renamed"})
    assert renamed["session"]["title"] == "Renamed"
    markdown = (await client.command("agent.session.export", {"id": first_id}))["markdown"]
    assert "first topic" in markdown

    loaded = await client.command("agent.session.load", {"id": first_id})
    assert loaded["session"]["id"] == first_id
    assert [m["content"] for m in loaded["transcript"]] == ["first topic", "answer"]
    assert (await client.command("agent.status"))["session"]["id"] == first_id

    # A chat naming another session switches to it first (and says so).
    turn_id = (await client.command("agent.chat", {"prompt": "back to two", "sessionId": second_id}))["turnId"]
    await client.turn_ended(turn_id)
    switched = client.of("agent/sessionRestored")[-1]
    assert switched["session"]["id"] == second_id and switched["transcript"][0]["content"] == "second topic"
    assert (await client.command("agent.status"))["session"]["messageCount"] == 4
    await client.command("agent.session.load", {"id": first_id})

    assert await client.command("agent.session.delete", {"id": second_id}) == {"deleted": True}
    assert [s["id"] for s in (await client.command("agent.session.list"))["sessions"]] == [first_id]
    try:
        await client.command("agent.session.delete", {"id": first_id})
        raise AssertionError("deleting the open session must fail")
    except Exception as exc:
        assert "open session" in str(exc)


async def test_slash_commands_that_switch_the_session_send_the_new_transcript(
    start_server: StartServer, fake_llm: FakeLLM
) -> None:
    fake_llm.default = {"text": "answer"}
    client = await start_server("neovim", settings=fake_settings(fake_llm))
    first_id = (await client.wait_for("agent/sessionRestored"))["session"]["id"]
    await client.turn_ended((await client.command("agent.chat", {"prompt": "first topic"}))["turnId"])

    await client.turn_ended((await client.command("agent.chat", {"prompt": "/clear"}))["turnId"])
    cleared = await client.wait_for("agent/sessionRestored", lambda p: p["session"]["id"] != first_id)
    assert cleared["transcript"] == []

    turn_id = (await client.command("agent.chat", {"prompt": f"/session load {first_id}"}))["turnId"]
    await client.turn_ended(turn_id)
    # Sent once the command ran (today just after the turn's end, which the core reports itself).
    back = await client.wait_for(
        "agent/sessionRestored", lambda p: p["session"]["id"] == first_id and p["transcript"] != []
    )
    assert [m["content"] for m in back["transcript"]] == ["first topic", "answer"]


async def test_bad_settings_are_reported_and_defaults_used(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    settings = fake_settings(fake_llm, retry={"maxAttempts": 0}, approval={"editFile": "sometimes"})
    client = await start_server(client_name, settings=settings)
    shown = await client.wait_for("window/showMessage", lambda p: "agent-lsp settings" in p["message"])
    assert shown["type"] == types.MessageType.Error.value
    assert "retry.maxAttempts" in shown["message"] and "approval.editFile" in shown["message"]
    status = await client.command("agent.status")
    assert len(status["settingsProblems"]) == 2
    # The good settings were kept: the turn goes to the fake server with the configured model.
    turn_id = (await client.command("agent.chat", {"prompt": "hi"}))["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
    assert fake_llm.requests[-1]["model"] == "fake-model"


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_workspace_configuration_wins_and_changes_apply(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    # The client answers workspace/configuration (VS Code's way) with its own model name.
    client = await start_server(
        client_name, settings=fake_settings(fake_llm), configuration=fake_settings(fake_llm, model="configured-model")
    )
    await client.wait_for("agent/sessionRestored")
    assert (await client.command("agent.status"))["model"] == "configured-model"

    client.client.set_configuration(fake_settings(fake_llm, model="changed-model", maxTokens="many"), section="agent")
    client.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    shown = await client.wait_for("window/showMessage", lambda p: "maxTokens" in p["message"])
    assert "agent-lsp settings" in shown["message"]
    turn_id = (await client.command("agent.chat", {"prompt": "hi"}))["turnId"]
    await client.turn_ended(turn_id)
    assert fake_llm.requests[-1]["model"] == "changed-model"


async def test_a_turn_sent_before_the_settings_arrive_waits_for_them(
    start_server: StartServer, fake_llm: FakeLLM
) -> None:
    """A chat sent right after ``initialized`` (the server still waits for the client's
    ``workspace/configuration`` answer) runs with the pulled settings, after the session was
    restored: the restored transcript never holds the running turn's prompt."""
    answer = asyncio.Event()
    fake_llm.script({"text": "done"})
    client = await start_server(
        "visual_studio_code",
        settings=fake_settings(fake_llm),
        configuration=fake_settings(fake_llm, model="configured-model"),
        hold_configuration=answer,
    )
    turn_id = (await client.command("agent.chat", {"prompt": "right away"}))["turnId"]
    answer.set()
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
    assert [r["model"] for r in fake_llm.requests] == ["configured-model"]
    [restored] = client.of("agent/sessionRestored")
    assert restored["transcript"] == []
    assert (await client.command("agent.status"))["session"]["messageCount"] == 2


async def test_a_turn_waiting_for_the_settings_can_be_cancelled(start_server: StartServer, fake_llm: FakeLLM) -> None:
    answer = asyncio.Event()
    client = await start_server("neovim", settings=fake_settings(fake_llm), hold_configuration=answer)
    turn_id = (await client.command("agent.chat", {"prompt": "never mind"}))["turnId"]
    assert await client.command("agent.cancel", {"turnId": turn_id}) == {"cancelled": True}
    assert (await client.turn_ended(turn_id))["stopReason"] == "cancelled"
    # It ended at once, not when the start-up it waited for gave up on the answer.
    assert client.of("agent/sessionRestored") == []
    answer.set()
    await client.wait_for("agent/sessionRestored")
    assert fake_llm.requests == []


async def test_multi_root_routes_by_document(start_server: StartServer, fake_llm: FakeLLM, tmp_path: Path) -> None:
    main, other = tmp_path / "main", tmp_path / "other"
    other.mkdir()
    client = await start_server(
        "visual_studio_code", settings=fake_settings(fake_llm), root=main, extra_folders=[other]
    )
    await client.wait_for("agent/sessionRestored", lambda p: p["folder"] == other.as_uri())
    uri = client.open("../other/lib.py", "x = 1\n")
    turn_id = (await client.command("agent.chat", {"prompt": "about lib", "context": {"uri": uri}}))["turnId"]
    await client.turn_ended(turn_id)
    status_other = await client.command("agent.status", {"uri": uri})
    status_main = await client.command("agent.status")
    assert status_other["folder"] == other.as_uri() and status_main["folder"] == main.as_uri()
    assert status_other["session"]["messageCount"] == 2 and status_main["session"]["messageCount"] == 0
    assert (other / ".agent-lsp" / "sessions").is_dir()


async def test_workspace_folders_come_and_go(start_server: StartServer, fake_llm: FakeLLM, tmp_path: Path) -> None:
    main, added = tmp_path / "main", tmp_path / "added"
    added.mkdir()
    client = await start_server("visual_studio_code", settings=fake_settings(fake_llm), root=main)
    await client.wait_for("agent/sessionRestored")
    folder = types.WorkspaceFolder(uri=added.as_uri(), name="added")
    client.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[folder], removed=[]))
    )
    await client.wait_for("agent/sessionRestored", lambda p: p["folder"] == added.as_uri())
    assert (await client.command("agent.status", {"uri": added.as_uri()}))["folder"] == added.as_uri()

    client.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[], removed=[folder]))
    )
    # Once removed, requests about it go to the remaining folder. The notification's handler may
    # still be running when the first status arrives; each status is a full round trip.
    for _ in range(100):
        if (await client.command("agent.status", {"uri": added.as_uri()}))["folder"] == main.as_uri():
            break
    else:
        raise AssertionError("the removed folder is still served")


async def test_tcp_transport(fake_llm: FakeLLM, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "server.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        "--tcp",
        "127.0.0.1:0",
        "-v",
        "--log-file",
        str(log_file),
        env=server_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        assert "listening on 127.0.0.1:" in line
        port = int(line.rsplit(":", 1)[1])
        token = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode().split()[2]
        client = PlainClient("tcp-test", "1")
        await client.start_tcp("127.0.0.1", port)
        result = await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=tmp_path.as_uri(),
                initialization_options={**fake_settings(fake_llm), "token": token},
            )
        )
        assert "agent.chat" in result.capabilities.execute_command_provider.commands
        client.initialized(types.InitializedParams())
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="agent.status", arguments=[{}])
        )
        assert status["running"] is False
        await client.shutdown_async(None)
        client.exit(None)
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
        await client.stop()
        assert process.stdout is not None
        assert await process.stdout.read() == b""  # in TCP mode nothing at all goes to stdout
        assert "Request 'workspace/executeCommand' received" in log_file.read_text()  # -v: debug to the file
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_an_unreadable_session_is_reported_not_fatal(
    start_server: StartServer, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    sessions = root / ".agent-lsp" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "broken.jsonl").write_bytes(b"\x00\x01 not a session\n")
    client = await start_server("neovim", settings=fake_settings(fake_llm), root=root)
    restored = await client.wait_for("agent/sessionRestored")
    assert restored["transcript"] == []  # a fresh session; the broken file is kept
    notice = await client.wait_for("agent/notice", lambda p: "turnId" not in p)
    assert notice["level"] in ("warning", "error") and "broken" in notice["text"]
    assert (sessions / "broken.jsonl").exists()


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _unframe(data: bytes) -> list[dict[str, Any]]:
    messages = []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(next(line for line in header.split(b"\r\n") if line.startswith(b"Content-Length")).split(b":")[1])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


async def test_a_recorded_session_replayed_from_a_file(fake_llm: FakeLLM, tmp_path: Path) -> None:
    """stdin may be a regular file; stdout then holds nothing but framed JSON-RPC."""
    recording = tmp_path / "session.lsp"
    recording.write_bytes(
        b"".join(
            _frame(m)
            for m in [
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "capabilities": {},
                        "rootUri": tmp_path.as_uri(),
                        "initializationOptions": fake_settings(fake_llm),
                    },
                },
                {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "workspace/executeCommand",
                    "params": {"command": "agent.status", "arguments": [{}]},
                },
                {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
                {"jsonrpc": "2.0", "method": "exit"},
            ]
        )
    )
    with recording.open("rb") as stdin:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lsp_server",
            stdin=stdin,
            env=server_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, _ = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 0
    replies = {m["id"]: m for m in _unframe(stdout) if "id" in m}
    assert replies[2]["result"]["running"] is False
    assert replies[2]["result"]["model"] == "fake-model"
    assert replies[3]["result"] is None


async def test_stdin_at_its_end_from_the_start_ends_the_server(tmp_path: Path) -> None:
    """``agent-lsp < /dev/null`` (a character device the event loop cannot poll) exits at once
    instead of hanging."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        stdin=asyncio.subprocess.DEVNULL,
        env=server_env(),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr and b"Traceback" not in stdout
