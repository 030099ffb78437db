"""Inline edits over the real server: proposed, accepted through workspace/applyEdit, rejected
with a reason the model sees, and refused when the buffer changed."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import AgentClient, StartServer, fake_settings

SOURCE = "def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n"
FUNCTION = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}


async def propose(client: AgentClient, uri: str, instruction: str) -> dict:
    turn_id = (await client.command("agent.inlineEdit", {"uri": uri, "range": FUNCTION, "instruction": instruction}))[
        "turnId"
    ]
    proposal = await client.wait_for("agent/inlineEditProposal", lambda p: p["turnId"] == turn_id)
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "end_turn"
    # The proposal comes before the end of its turn, and the streamed text adds up to it.
    methods = [m for m, p in client.notes if isinstance(p, dict) and p.get("turnId") == turn_id]
    assert methods.index("agent/inlineEditProposal") < methods.index("agent/turnEnded")
    assert client.text_of(turn_id) == proposal["newText"]
    return proposal


async def test_inline_edit_is_proposed_accepted_and_applied(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "```python\ndef area(width, height):\n    return width * height\n```\n", "chunk_bytes": 5})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("geometry.py", SOURCE, version=7)

    proposal = await propose(client, uri, "use descriptive names")
    assert proposal["newText"] == "def area(width, height):\n    return width * height\n"  # fences stripped
    assert proposal["uri"] == uri and proposal["range"] == FUNCTION
    request = fake_llm.requests[0]
    assert request.get("tools") in (None, [])
    assert "<region>def area(w, h):\n    return w * h\n</region>" in request["messages"][-1]["content"]
    assert "use descriptive names" in request["messages"][-1]["content"]

    assert client.applied_edits == []  # nothing changes before the user accepts
    assert await client.command("agent.inlineEdit.accept", {"turnId": proposal["turnId"]}) == {"applied": True}
    [applied] = client.applied_edits
    edit_caps = client.client.capabilities.workspace.workspace_edit
    if edit_caps.document_changes:
        # Versioned: the client itself refuses the edit if the buffer moved past version 7.
        [change] = applied.edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri and change.text_document.version == 7
        [edit] = change.edits
    else:
        # The client did not declare documentChanges (Neovim's recorded capabilities): the plain
        # form, sent right after the server checked the buffer still holds the proposal's base.
        assert applied.edit.document_changes is None
        [edit] = applied.edit.changes[uri]
    assert edit.new_text == proposal["newText"]
    assert (edit.range.start.line, edit.range.end.line) == (0, 2)

    # A proposal is applied once.
    try:
        await client.command("agent.inlineEdit.accept", {"turnId": proposal["turnId"]})
        raise AssertionError("accepting twice must fail")
    except Exception as exc:
        assert "no pending proposal" in str(exc)


async def test_a_rejection_reason_reaches_the_model(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "def area(w, h):\n    return float(w) * float(h)\n"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("geometry.py", SOURCE)
    proposal = await propose(client, uri, "make it robust")

    assert (
        await client.command(
            "agent.inlineEdit.reject", {"turnId": proposal["turnId"], "reason": "do not convert to float"}
        )
        == {}
    )
    assert client.applied_edits == []

    # The next chat request carries the reason (saved in the session as edit feedback) ...
    turn_id = (await client.command("agent.chat", {"prompt": "what next?"}))["turnId"]
    await client.turn_ended(turn_id)
    chat_request = fake_llm.requests[-1]
    assert any("do not convert to float" in str(m.get("content")) for m in chat_request["messages"])
    # ... and so does the next inline edit of this folder.
    await propose(client, uri, "try again")
    assert "do not convert to float" in fake_llm.requests[-1]["messages"][-1]["content"]


async def test_accept_is_refused_when_the_buffer_changed(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "def area(w, h):\n    return abs(w * h)\n"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("geometry.py", SOURCE, version=1)
    proposal = await propose(client, uri, "absolute value")

    client.change(uri, "# the user typed this\n" + SOURCE, version=2)
    status = await client.command("agent.status")  # a round trip: the change has been processed
    assert status["running"] is False
    result = await client.command("agent.inlineEdit.accept", {"turnId": proposal["turnId"]})
    assert result["applied"] is False and "changed" in result["reason"]
    assert client.applied_edits == []


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the client profile does not matter here
async def test_a_client_refusal_is_reported(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "pass\n"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    client.apply_answer = lambda _p: types.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
    uri = client.open("geometry.py", SOURCE)
    proposal = await propose(client, uri, "simplify")
    result = await client.command("agent.inlineEdit.accept", {"turnId": proposal["turnId"]})
    assert result == {"applied": False, "reason": "version mismatch"}


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_code_actions_offer_edit_and_fix(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def area(w, h):\n    return w * h\n"})
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("geometry.py", SOURCE)
    diagnostic = types.Diagnostic(
        range=types.Range(start=types.Position(line=1, character=11), end=types.Position(line=1, character=16)),
        message="undefined name 'h'",
        source="pyflakes",
    )
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=1, character=12), end=types.Position(line=1, character=12)),
        context=types.CodeActionContext(diagnostics=[diagnostic]),
    )
    actions = await client.client.text_document_code_action_async(params)
    titles = [a.title for a in actions]
    assert titles == ["Fix with agent", "Edit with agent"]
    fix = actions[0]
    assert fix.command.command == "agent.inlineEdit"
    argument = fix.command.arguments[0]
    assert "undefined name 'h'" in argument["instruction"]
    assert argument["range"] == {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}

    # Running the fix action's command works as it is.
    turn_id = (await client.command(fix.command.command, argument))["turnId"]
    await client.wait_for("agent/inlineEditProposal", lambda p: p["turnId"] == turn_id)
    assert "undefined name 'h'" in fake_llm.requests[-1]["messages"][-1]["content"]

    only = types.CodeActionParams(
        text_document=params.text_document,
        range=params.range,
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
    )
    assert list(await client.client.text_document_code_action_async(only)) == []
