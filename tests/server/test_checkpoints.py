"""Checkpoints through the real server: list, diff and restore with workspace/executeCommand, the
open document restored through workspace/applyEdit, the chat rewound with agent/sessionRestored,
and the refusals (unknown id, a restore while a turn runs)."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import AgentClient, StartServer, fake_settings

ALLOW = {"approval": {"editFile": "allow", "runCommand": "allow"}}
TURN = {
    "tool_calls": [
        {"id": "e1", "name": "edit_file", "arguments": {"path": "notes.txt", "old_text": "old", "new_text": "new"}},
        {"id": "c1", "name": "run_command", "arguments": {"command": "printf 'made\\n' > made.txt && rm gone.txt"}},
    ]
}


async def one_turn(client: AgentClient) -> str:
    """The open notes.txt edited (the client applies it, as an editor would) and a command that
    creates made.txt and deletes gone.txt; returns the open document's URI."""
    uri = client.open("notes.txt", "old line\n", language="plaintext")
    (client.root / "gone.txt").write_text("precious\n")
    turn_id = (await client.command("agent.chat", {"prompt": "change the notes"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "end_turn", ended
    client.change(uri, "new line\n", 2)  # the editor applied the agent's edit to its buffer
    return uri


async def test_list_diff_and_restore_both(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script(TURN, {"text": "Done."})
    client = await start_server(client_name, settings=fake_settings(fake_llm, **ALLOW))
    uri = await one_turn(client)

    [checkpoint] = (await client.command("agent.checkpoint.list"))["checkpoints"]
    assert checkpoint["prompt"] == "change the notes" and checkpoint["turnId"] and not checkpoint["conflicts"]
    files = {f["path"]: f for f in checkpoint["files"]}
    assert files["notes.txt"] == {
        "path": "notes.txt",
        "change": "modified",
        "added": 1,
        "removed": 1,
        "conflict": False,
    }
    assert files["made.txt"]["change"] == "added" and files["gone.txt"]["change"] == "deleted"
    assert checkpoint["bytes"] > 0

    diff = await client.command("agent.checkpoint.diff", {"id": checkpoint["id"], "path": "gone.txt"})
    [gone] = diff["files"]
    assert gone["before"] == "precious\n" and gone["current"] is None and "+precious" in gone["diff"]

    edits_before = len(client.applied_edits)
    result = await client.command("agent.checkpoint.restore", {"id": checkpoint["id"], "mode": "both"})
    assert sorted(result["restored"]) == ["gone.txt", "made.txt", "notes.txt"]
    assert result["conflicts"] == [] and result["skipped"] == [] and result["conversation"] is True
    # The open document went back through the editor, the others on disk.
    [restore_edit] = client.applied_edits[edits_before:]
    changes = restore_edit.edit.document_changes or []
    text_edits = changes[0].edits if changes else restore_edit.edit.changes[uri]
    assert text_edits[0].new_text == "old line\n"
    assert (client.root / "gone.txt").read_text() == "precious\n"
    assert not (client.root / "made.txt").exists()
    restored = await client.wait_for("agent/sessionRestored", lambda p: p["transcript"] == [])
    assert restored["session"]["messageCount"] == 0

    status = await client.command("agent.status")
    assert status["checkpoints"]["count"] == 1 and status["checkpoints"]["quotaBytes"] == 300 * 1024 * 1024

    undone = await client.command("agent.checkpoint.undo")
    assert undone["conversation"] is True and "made.txt" in undone["restored"]
    assert (client.root / "made.txt").read_text() == "made\n"
    await client.wait_for("agent/sessionRestored", lambda p: len(p["transcript"]) > 0)


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_a_conflict_is_listed_and_nothing_restored(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    fake_llm.script(TURN, {"text": "Done."})
    client = await start_server(client_name, settings=fake_settings(fake_llm, **ALLOW))
    await one_turn(client)
    (client.root / "made.txt").write_text("the user's own\n")
    [checkpoint] = (await client.command("agent.checkpoint.list"))["checkpoints"]
    assert checkpoint["conflicts"] is True
    result = await client.command("agent.checkpoint.restore", {"id": checkpoint["id"], "mode": "files"})
    assert result == {"restored": [], "conflicts": ["made.txt"], "skipped": [], "conversation": False}
    assert not (client.root / "gone.txt").exists()
    skipped = await client.command(
        "agent.checkpoint.restore", {"id": checkpoint["id"], "mode": "files", "skipConflicts": True}
    )
    assert skipped["skipped"][0]["path"] == "made.txt" and "gone.txt" in skipped["restored"]
    assert (client.root / "made.txt").read_text() == "the user's own\n"


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_refusals(start_server: StartServer, client_name: str, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "slow", "hold": True})
    client = await start_server(client_name, settings=fake_settings(fake_llm, **ALLOW))
    with pytest.raises(JsonRpcException, match="unknown checkpoint 'nope'"):
        await client.command("agent.checkpoint.restore", {"id": "nope", "mode": "both"})
    with pytest.raises(JsonRpcException, match="'mode'"):
        await client.command("agent.checkpoint.restore", {"id": "x", "mode": "everything"})
    turn_id = (await client.command("agent.chat", {"prompt": "take your time"}))["turnId"]
    await client.wait_for("agent/turnStarted", lambda p: p["turnId"] == turn_id)
    with pytest.raises(JsonRpcException, match="cancel the running turn first"):
        await client.command("agent.checkpoint.restore", {"id": "x", "mode": "both"})
    await client.command("agent.cancel", {"turnId": turn_id})
    await client.turn_ended(turn_id)
