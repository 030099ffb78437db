"""Start-up: ``initialize`` is answered before the agent core is imported, with every feature
advertised; the core is loaded right after, so a chat sent at once after ``initialized`` runs
(also in a workspace with a long session to restore); and a dependency missing from the core is
told at start-up, with its name, not in the middle of a turn."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import SessionStore
from lsp_server import commands, methods
from tests.fakes.llm_server import FakeLLM
from tests.server.harness import REPO, StartServer, fake_settings, server_env

#: Answers one ``initialize`` in a fresh interpreter and prints what was sent and what of the
#: agent core (and its heavy dependencies) had been imported by then.
ANSWER_INITIALIZE = """
import json, sys
from lsp_server.server import create_server

server = create_server()
sent = []

class Writer:
    def write(self, data):
        sent.append(json.loads(data))

    def close(self):
        pass

server.protocol.set_writer(Writer(), include_headers=False)
request = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"processId": None, "rootUri": None, "capabilities": {}}}
server.protocol.handle_message(server.protocol.structure_message(request))
heavy = ("agent_core.agent", "agent_core.events", "lsp_server.wire", "pydantic", "httpx")
loaded = sorted(m for m in sys.modules if m.startswith(heavy))
print(json.dumps({"sent": sent, "loaded": loaded}))
"""


def test_initialize_is_answered_before_the_agent_core_is_imported() -> None:
    out = subprocess.run(
        [sys.executable, "-c", ANSWER_INITIALIZE],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["loaded"] == []
    [answer] = report["sent"]
    capabilities = answer["result"]["capabilities"]
    assert capabilities["executeCommandProvider"]["commands"] == list(methods.COMMAND_NAMES)
    assert capabilities["codeActionProvider"]["codeActionKinds"] == ["quickfix", "refactor.rewrite"]
    assert "inlineCompletionProvider" in capabilities
    assert capabilities["textDocumentSync"] == {"openClose": True, "change": 2, "save": True}


def test_the_advertised_commands_are_the_handlers_and_keep_their_kind() -> None:
    assert set(methods.COMMAND_NAMES) == set(commands.HANDLERS)
    assert len(methods.COMMAND_NAMES) == len(set(methods.COMMAND_NAMES))
    coroutines = {name for name, handler in commands.HANDLERS.items() if inspect.iscoroutinefunction(handler)}
    assert coroutines == methods.ASYNC_COMMANDS


async def test_a_chat_sent_at_once_after_initialized_runs(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    # A long session to restore: the chat is sent before it is (no waiting for sessionRestored).
    root = tmp_path / "project"
    root.mkdir()
    store = SessionStore(root, SessionConfig())
    with store.new() as session:
        for number in range(1000):
            session.append(Message(role="user" if number % 2 == 0 else "assistant", content=f"message {number}"))
    fake_llm.script({"text": "right away"})
    client = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    turn_id = (await client.command("agent.chat", {"prompt": "now"}))["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
    assert client.text_of(turn_id) == "right away"
    restored = await client.wait_for("agent/sessionRestored")
    assert len(restored["transcript"]) == 1000
    # The turn ran in the restored session, after its history.
    sent = fake_llm.requests[0]["messages"]
    assert [m["content"] for m in sent[-2:]] == ["message 999", sent[-1]["content"]]
    assert "now" in sent[-1]["content"]


async def test_a_missing_dependency_of_the_core_is_told_at_start_up(
    start_server: StartServer, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    # A broken installation: httpx (needed by the core, not by pygls) cannot be imported.
    shadow = tmp_path / "shadow"
    (shadow / "httpx").mkdir(parents=True)
    (shadow / "httpx" / "__init__.py").write_text('raise ImportError("No module named httpx")\n')
    env = {"PYTHONPATH": f"{shadow}:{server_env()['PYTHONPATH']}"}
    client = await start_server("neovim", settings=fake_settings(fake_llm), env=env)
    shown = await client.wait_for("window/showMessage", lambda p: "agent core" in p["message"])
    assert "No module named httpx" in shown["message"] and "reinstall agent-lsp" in shown["message"]
    try:
        await client.command("agent.chat", {"prompt": "hello"})
    except Exception as exc:
        assert "could not load its agent core" in str(exc) and "httpx" in str(exc)
    else:
        raise AssertionError("a chat without the core must be answered with the reason")
    # Told once, in those words (not again as a server error from initialized).
    assert len(client.of("window/showMessage")) == 1, client.of("window/showMessage")
