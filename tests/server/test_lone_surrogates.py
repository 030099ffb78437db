"""Half an emoji: a lone UTF-16 surrogate from the editor (a selection that splits an emoji, a
buffer holding one) or from the model must not fail the turn or lose a tool result.

JSON can carry ``"\\ud83d"`` alone; Python decodes it into a string that UTF-8 cannot encode, so
the first session write or provider request would raise ``UnicodeEncodeError``. The server
replaces each lone surrogate with U+FFFD where editor text enters and where text leaves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings

HALF = "\ud83d"  # the first half of 😀 (U+1F600), alone
REPLACED = "\ufffd"


def _openai_text_stream(text: str) -> str:
    """An OpenAI stream whose JSON escapes every non-ASCII character, as many servers send it
    (``"\\ud83d"`` alone is valid JSON)."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": text}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    return "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_a_turn_with_lone_surrogates_completes(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    fake_llm.script(
        {"tool_calls": [{"id": "call-1", "name": "read_file", "arguments": {"path": "emoji.py"}}]},
        {"raw_sse": _openai_text_stream(f"The file holds half an emoji: {HALF}.")},
    )
    client = await start_server(client_name, settings=fake_settings(fake_llm), root=root)
    await client.wait_for("agent/sessionRestored")
    (root / "emoji.py").write_text('face = "?"\n')
    uri = (root / "emoji.py").as_uri()
    buffer = f'face = "{HALF}"\n'  # the editor's unsaved text, as the client sent it
    client.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=buffer)
        )
    )
    context = {
        "uri": uri,
        "text": f'"{HALF}',
        "range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 9}},
    }

    turn_id = (await client.command("agent.chat", {"prompt": f"Why {HALF}?", "context": context}))["turnId"]
    ended = await client.turn_ended(turn_id)

    assert ended["stopReason"] == "end_turn", ended
    first, second = fake_llm.requests
    prompt = first["messages"][-1]["content"]
    assert f"Why {REPLACED}?" in prompt and f'"{REPLACED}' in prompt
    [result] = [m for m in second["messages"] if m.get("role") == "tool"]
    assert f'face = "{REPLACED}"' in result["content"]  # the buffer, read by read_file
    assert client.text_of(turn_id).startswith("The file holds half an emoji")

    # Every message was saved and reads back.
    [info] = (await client.command("agent.session.list"))["sessions"]
    assert info["messageCount"] == 4 and info.get("error") is None
    [path] = (root / ".agent-lsp" / "sessions").glob("*.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["message"]["content"] == f"The file holds half an emoji: {REPLACED}."

    # The model's reply (still in memory as it arrived) goes back to the provider in the next
    # request: sent as valid UTF-8 too.
    fake_llm.script({"text": "Fine."})
    again = (await client.command("agent.chat", {"prompt": "and now?"}))["turnId"]
    ended = await client.turn_ended(again)
    assert ended["stopReason"] == "end_turn", ended
    replies = [m["content"] for m in fake_llm.requests[-1]["messages"] if m["role"] == "assistant"]
    assert f"The file holds half an emoji: {REPLACED}." in replies
