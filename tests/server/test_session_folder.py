"""A sessions folder the store must not use (a link out of the workspace, the workspace root, an
unwritable folder) gives a clear session error at start-up and on every session command; the
server keeps serving, and nothing is written where it must not be."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import AgentClient, StartServer, fake_settings
from tests.sessions.unwritable import unwritable

pytestmark = pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here

REQUEST_FAILED = -32803


async def _refused_everywhere(client: AgentClient, fake_llm: FakeLLM, expected: str) -> None:
    """The start-up message, ``agent.session.new`` and a chat turn all say ``expected``; the
    server still answers."""
    shown = await client.wait_for("window/showMessage", lambda p: expected in p["message"])
    assert shown["message"].startswith("agent-lsp: ") and "Error in server" not in shown["message"]
    with pytest.raises(JsonRpcException) as caught:
        await client.command("agent.session.new")
    assert caught.value.code == REQUEST_FAILED and expected in str(caught.value)
    turn_id = (await client.command("agent.chat", {"prompt": "hello"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "error" and expected in ended["error"]
    assert fake_llm.requests == []  # an unsaved prompt is never sent
    assert (await client.command("agent.status"))["running"] is False


async def test_a_linked_sessions_folder_is_refused(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".agent-lsp").mkdir(parents=True)
    (root / ".agent-lsp" / "sessions").symlink_to(elsewhere)
    client = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    await _refused_everywhere(client, fake_llm, "symbolic link (.agent-lsp/sessions)")
    assert list(elsewhere.iterdir()) == []


async def test_the_workspace_root_as_sessions_folder_is_refused(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    settings = fake_settings(fake_llm, sessions={"folder": "."})
    client = await start_server(client_name, settings=settings, root=root)
    await _refused_everywhere(client, fake_llm, "sessions.folder '.' is the workspace root")
    assert sorted(p.name for p in root.iterdir()) == []  # no .gitignore of "*", no transcript


async def test_an_unwritable_sessions_folder_is_a_session_error(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    folder = root / ".agent-lsp" / "sessions"
    folder.mkdir(parents=True)
    with unwritable(folder):
        client = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
        expected = f"cannot write in the sessions folder .agent-lsp/sessions ({folder})"
        await _refused_everywhere(client, fake_llm, expected)
