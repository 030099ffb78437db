"""Retries are reported; approval requests are answered through the custom request or the
standard showMessageRequest fallback, and the answer decides whether the edit is applied."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings


async def test_a_retry_is_reported(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 429, "headers": {"retry-after-ms": "10"}}, {"text": "after the retry"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    turn_id = (await client.command("agent.chat", {"prompt": "hello"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "end_turn"
    [retry] = client.of("agent/retry", turn_id)
    assert retry["attempt"] == 2 and retry["maxAttempts"] == 3  # the attempt about to be made
    assert 0 < retry["delay"] < 1
    assert "429" in retry["reason"], retry["reason"]
    assert client.text_of(turn_id) == "after the retry"
    # The retry notification came before the text of the successful attempt.
    methods = [m for m, p in client.notes if isinstance(p, dict) and p.get("turnId") == turn_id]
    assert methods.index("agent/retry") < methods.index("agent/textDelta")


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_a_failed_turn_ends_with_the_error(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"status": 401, "error_message": "invalid api key"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    turn_id = (await client.command("agent.chat", {"prompt": "hello"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "error" and ended["error"]
    assert client.of("agent/retry", turn_id) == []  # a 401 is never retried


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_a_missing_provider_key_explains_itself(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings={"provider": "anthropic"})
    turn_id = (await client.command("agent.chat", {"prompt": "hello"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "error" and "ANTHROPIC_API_KEY" in ended["error"]
    [notice] = client.of("agent/notice", turn_id)
    assert notice["level"] == "error" and "ANTHROPIC_API_KEY" in notice["text"]
    # The same for an inline edit: the proposal turn ends with the error, nothing is proposed.
    uri = client.open("a.py", "x = 1\n")
    inline = (
        await client.command(
            "agent.inlineEdit",
            {
                "uri": uri,
                "instruction": "y",
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 5}},
            },
        )
    )["turnId"]
    failed = await client.turn_ended(inline)
    assert failed["stopReason"] == "error" and "ANTHROPIC_API_KEY" in failed["error"]
    assert client.of("agent/inlineEditProposal") == []
    assert fake_llm.requests == []


EDIT_CALL = {
    "tool_calls": [
        {
            "id": "call-1",
            "name": "edit_file",
            "arguments": {"path": "notes.txt", "old_text": "old line", "new_text": "new line"},
        }
    ]
}


async def test_permission_through_the_custom_request(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "Edited."})
    client = await start_server(client_name, settings=fake_settings(fake_llm), permission_request=True)
    uri = client.open("notes.txt", "old line\n", version=3, language="plaintext")
    turn_id = (await client.command("agent.chat", {"prompt": "update the notes"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "end_turn"

    [asked] = client.permission_requests
    assert asked["turnId"] == turn_id and asked["tool"] == "edit_file"
    assert "notes.txt" in asked["title"]
    assert "-old line" in asked["detail"] and "+new line" in asked["detail"]
    assert client.message_requests == []
    [applied] = client.applied_edits
    edits = applied.edit.document_changes[0].edits if applied.edit.document_changes else applied.edit.changes[uri]
    assert edits[0].new_text == "new line\n"
    tool_results = [m for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert tool_results and "Edited notes.txt" in str(tool_results[0]["content"])
    statuses = [p["status"] for p in client.of("agent/toolCall", turn_id)]
    assert statuses[0] == "started" and statuses[-1] == "finished"


async def test_permission_through_show_message_request(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "Understood."})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    client.message_answer = "Reject"
    client.open("notes.txt", "old line\n", language="plaintext")
    turn_id = (await client.command("agent.chat", {"prompt": "update the notes"}))["turnId"]
    await client.turn_ended(turn_id)

    [asked] = client.message_requests
    assert [a.title for a in asked.actions] == ["Allow once", "Allow for this session", "Reject"]
    assert "notes.txt" in asked.message
    assert client.permission_requests == []
    assert client.applied_edits == []  # rejected: never applied
    tool_results = [m for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert "not done" in str(tool_results[0]["content"])
    finished = client.of("agent/toolCall", turn_id)[-1]
    assert finished["status"] == "finished" and finished["isError"] is True


async def test_an_edit_is_refused_when_the_buffer_changed_during_approval(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "I will read it again."})
    client = await start_server(client_name, settings=fake_settings(fake_llm), permission_request=True)
    uri = client.open("notes.txt", "old line\n", version=1, language="plaintext")
    client.while_asked = lambda: client.change(uri, "old line\nthe user typed this\n", version=2)
    turn_id = (await client.command("agent.chat", {"prompt": "update the notes"}))["turnId"]
    await client.turn_ended(turn_id)
    assert client.applied_edits == []  # never clobbers the user's newer text
    tool_results = [m for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert "buffer changed" in str(tool_results[0]["content"])


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # declares documentChanges
async def test_an_edit_of_a_closed_file_is_based_on_the_disk(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "Edited."})
    client = await start_server(client_name, settings=fake_settings(fake_llm, approval={"editFile": "allow"}))
    path = client.root / "notes.txt"
    path.write_text("old line\n")
    turn_id = (await client.command("agent.chat", {"prompt": "update the notes"}))["turnId"]
    await client.turn_ended(turn_id)
    assert client.permission_requests == [] and client.message_requests == []  # policy: allow
    [applied] = client.applied_edits
    [change] = applied.edit.document_changes
    assert change.text_document.uri == path.as_uri() and change.text_document.version is None
    assert change.edits[0].new_text == "new line\n"


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # declares resourceOperations: create
async def test_a_new_file_is_created_through_the_editor(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    create = {
        "tool_calls": [
            {"id": "call-2", "name": "edit_file", "arguments": {"path": "docs/new.md", "new_text": "# New\n"}}
        ]
    }
    fake_llm.script(create, {"text": "Created."})
    client = await start_server(client_name, settings=fake_settings(fake_llm, approval={"editFile": "allow"}))
    turn_id = (await client.command("agent.chat", {"prompt": "write docs"}))["turnId"]
    await client.turn_ended(turn_id)
    [applied] = client.applied_edits
    created, filled = applied.edit.document_changes
    target = (client.root / "docs" / "new.md").as_uri()
    assert isinstance(created, types.CreateFile) and created.uri == target
    assert created.options.overwrite is False and created.options.ignore_if_exists is False
    assert filled.text_document.uri == target and filled.edits[0].new_text == "# New\n"
    assert not (client.root / "docs" / "new.md").exists()  # the editor creates it, not the server
