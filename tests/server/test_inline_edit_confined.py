"""``agent.inlineEdit`` only works on documents inside a workspace folder: a file elsewhere
(``file:///etc/passwd``, open in the editor or not) or a link inside that points outside is
refused before anything reaches the model, as the tools refuse such paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings

REQUEST_FAILED = -32803
LINE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_documents_outside_every_folder_are_refused(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "credentials"
    secret.write_text("token = hunter2\n")
    client = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    (root / "link.txt").symlink_to(secret)
    opened = outside / "open.txt"
    opened.write_text("also secret\n")
    client.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=opened.as_uri(), language_id="plaintext", version=1, text="also secret\n"
            )
        )
    )

    for uri in (secret.as_uri(), opened.as_uri(), (root / "link.txt").as_uri(), "file:///etc/passwd"):
        with pytest.raises(JsonRpcException) as caught:
            await client.command("agent.inlineEdit", {"uri": uri, "range": LINE, "instruction": "x"})
        assert caught.value.code == REQUEST_FAILED, uri
        assert "outside the workspace" in str(caught.value), uri
    assert fake_llm.requests == []
    assert client.of("agent/turnStarted") == []

    # Inside the workspace it works as before.
    fake_llm.script({"text": "y = 2\n"})
    inside = client.open("a.py", "x = 1\n")
    turn_id = (await client.command("agent.inlineEdit", {"uri": inside, "range": LINE, "instruction": "x"}))["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"

    # An unsaved buffer (no file anywhere) is the user's own text: accepted.
    fake_llm.script({"text": "z = 3\n"})
    client.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri="untitled:Untitled-1", language_id="python", version=1, text="z = 0\n"
            )
        )
    )
    turn_id = (
        await client.command("agent.inlineEdit", {"uri": "untitled:Untitled-1", "range": LINE, "instruction": "x"})
    )["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
