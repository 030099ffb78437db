"""Checkpoints in the core: the issue's scenario (three turns editing two files, a command that
creates one file and deletes another) restored to before the first turn, files only,
conversation only, conflicts, undo, and the faults (unknown id, busy, unwritable, missing blob)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agent_core.agent import Agent
from agent_core.checkpoints import CheckpointError, files
from agent_core.config import AgentConfig
from agent_core.events import Notice, SessionChanged, TextDelta
from agent_core.exceptions import AgentBusy
from agent_core.sessions import SessionStore
from tests.checkpoints.scenario import ORIGINAL, command, edit, files_of, three_turns
from tests.fakes.doubles import Hold, RecordingHost, ScriptedProvider, reply

AFTER = {"a.txt": b"alpha two\nmore\n", "b.txt": b"bravo three\n", "c.txt": b"made\n", "keep.txt": b"untouched\n"}


async def test_the_scenario_is_recorded_per_turn(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    assert files_of(tmp_path) == AFTER
    first, second, third = await agent.list_checkpoints()
    assert [c.prompt for c in (first, second, third)] == ["first turn", "second turn", "third turn"]
    assert [(f.path, f.change, f.added, f.removed) for f in first.files] == [
        ("a.txt", "modified", 1, 2),
        ("b.txt", "added", 1, 0),
    ]
    assert [(f.path, f.change) for f in second.files] == [
        ("a.txt", "modified"),
        ("c.txt", "added"),
        ("d.txt", "deleted"),
    ]
    assert [(f.path, f.change) for f in third.files] == [("b.txt", "modified")]
    assert not any(c.conflicts for c in (first, second, third)) and first.bytes > 0
    # The checkpoint id is the turn's user message id.
    prompts = [m.id for m in agent.session.messages if m.role == "user"]
    assert prompts == [first.id, second.id, third.id]
    await agent.aclose()


async def test_restore_both_to_before_turn_one(tmp_path: Path) -> None:
    agent, host = await three_turns(tmp_path)
    first = (await agent.list_checkpoints())[0]
    result = await agent.restore_checkpoint(first.id, "both")
    assert files_of(tmp_path) == ORIGINAL  # exact bytes, and the original set of files
    assert sorted(result.restored) == ["a.txt", "b.txt", "c.txt", "d.txt"] and result.conversation
    assert agent.session.messages == []
    changed = [e for e in host.events if isinstance(e, SessionChanged)]
    assert changed[-1].messages == []
    # Nothing was deleted from the session file: a second process reads the rewind.
    session_id = agent.session.id
    await agent.aclose()
    with SessionStore(tmp_path).open(session_id) as again:
        assert again.messages == []
        assert len(again.history.rewinds) == 1


async def test_files_only_keeps_the_conversation(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    count = len(agent.session.messages)
    second = (await agent.list_checkpoints())[1]
    result = await agent.restore_checkpoint(second.id, "files")
    assert not result.conversation and len(agent.session.messages) == count
    assert files_of(tmp_path) == {
        "a.txt": b"alpha one\n",
        "b.txt": b"bravo\n",
        "d.txt": ORIGINAL["d.txt"],
        "keep.txt": b"untouched\n",
    }
    await agent.aclose()


async def test_conversation_only_keeps_the_files(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    second = (await agent.list_checkpoints())[1]
    result = await agent.restore_checkpoint(second.id, "conversation")
    assert result.restored == [] and result.conversation
    assert files_of(tmp_path) == AFTER
    assert [m.content for m in agent.session.messages if m.role == "user"] == ["first turn"]
    # The next turn continues from there.
    await agent.submit("again")
    assert [m.content for m in agent.session.messages if m.role == "user"] == ["first turn", "again"]
    assert [c.prompt for c in await agent.list_checkpoints()] == ["first turn", "again"]
    await agent.aclose()


async def test_a_user_change_is_a_conflict_forced_or_skipped(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    (tmp_path / "b.txt").write_bytes(b"the user's own\n")
    first = (await agent.list_checkpoints())[0]
    assert first.conflicts and [f.conflict for f in first.files] == [False, True]

    refused = await agent.restore_checkpoint(first.id, "both")
    assert refused.conflicts == ["b.txt"] and refused.restored == [] and not refused.conversation
    assert (tmp_path / "a.txt").read_bytes() == AFTER["a.txt"] and len(agent.session.messages) > 0

    skipped = await agent.restore_checkpoint(first.id, "files", skip_conflicts=True)
    assert [s["path"] for s in skipped.skipped] == ["b.txt"] and "conflict" in skipped.skipped[0]["reason"]
    assert (tmp_path / "b.txt").read_bytes() == b"the user's own\n"
    assert (tmp_path / "a.txt").read_bytes() == ORIGINAL["a.txt"]

    forced = await agent.restore_checkpoint(first.id, "files", force=True)
    assert forced.restored == ["b.txt"] and files_of(tmp_path) == ORIGINAL
    await agent.aclose()


async def test_a_restore_is_undone(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    messages = list(agent.session.messages)
    first = (await agent.list_checkpoints())[0]
    await agent.restore_checkpoint(first.id, "both")
    undone = await agent.undo_restore()
    assert undone.conversation and files_of(tmp_path) == AFTER
    assert agent.session.messages == messages
    with pytest.raises(CheckpointError, match="no restore to undo"):
        await agent.undo_restore()
    session_id = agent.session.id
    await agent.aclose()
    with SessionStore(tmp_path).open(session_id) as again:
        assert again.messages == messages


async def test_unknown_id_and_a_restore_while_a_turn_runs_are_refused(tmp_path: Path) -> None:
    agent, host = await three_turns(tmp_path)
    with pytest.raises(CheckpointError, match="unknown checkpoint 'nope'"):
        await agent.restore_checkpoint("nope", "both")
    with pytest.raises(CheckpointError, match="unknown checkpoint 'nope'"):
        await agent.diff_checkpoint("nope")
    first = (await agent.list_checkpoints())[0]
    agent._provider = ScriptedProvider([TextDelta(text="thinking"), Hold()])
    turn = asyncio.create_task(agent.submit("a slow one"))
    await host.wait_for(lambda e: isinstance(e, TextDelta) and e.text == "thinking")
    with pytest.raises(AgentBusy, match="cancel the running turn first"):
        await agent.restore_checkpoint(first.id, "files")
    with pytest.raises(AgentBusy, match="cancel the running turn first"):
        await agent.undo_restore()
    agent.cancel()
    await turn
    assert files_of(tmp_path) == AFTER
    await agent.aclose()


async def test_an_unwritable_file_is_reported_and_the_rest_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, _ = await three_turns(tmp_path)
    real = files.write_atomic

    def refuse_a(path: Path, data: bytes, *, mode: int | None = 0o600) -> None:
        if path.name == "a.txt":
            raise PermissionError(13, "Permission denied")
        real(path, data, mode=mode)

    monkeypatch.setattr(files, "write_atomic", refuse_a)
    first = (await agent.list_checkpoints())[0]
    result = await agent.restore_checkpoint(first.id, "files")
    assert [s["path"] for s in result.skipped] == ["a.txt"] and "Permission denied" in result.skipped[0]["reason"]
    assert sorted(result.restored) == ["b.txt", "c.txt", "d.txt"]
    assert (tmp_path / "a.txt").read_bytes() == AFTER["a.txt"]  # untouched, not half written
    assert {k: v for k, v in files_of(tmp_path).items() if k != "a.txt"} == {
        k: v for k, v in ORIGINAL.items() if k != "a.txt"
    }
    await agent.aclose()


async def test_a_missing_or_damaged_blob_is_reported_never_guessed(tmp_path: Path) -> None:
    agent, _ = await three_turns(tmp_path)
    store = agent.checkpoints.store
    first = (await agent.list_checkpoints())[0]
    manifest = store.load(agent.session.id, first.id)
    assert manifest is not None
    store.blob_path(manifest.files["a.txt"].before or "").unlink()
    # d.txt's content (kept by the command snapshot) is damaged: another blob's bytes under its name.
    second = store.load(agent.session.id, (await agent.list_checkpoints())[1].id)
    assert second is not None
    damaged = store.blob_path(second.files["d.txt"].before or "")
    damaged.write_bytes(store.blob_path(manifest.files["b.txt"].after or "").read_bytes())

    diff = await agent.diff_checkpoint(first.id, "a.txt")
    assert "missing" in diff[0].diff
    result = await agent.restore_checkpoint(first.id, "files")
    reasons = {s["path"]: s["reason"] for s in result.skipped}
    assert set(reasons) == {"a.txt", "d.txt"}
    assert "missing" in reasons["a.txt"] and "damaged" in reasons["d.txt"]
    assert sorted(result.restored) == ["b.txt", "c.txt"]
    assert (tmp_path / "a.txt").read_bytes() == AFTER["a.txt"] and not (tmp_path / "d.txt").exists()
    await agent.aclose()


async def test_checkpoints_go_with_their_session_and_the_quota_evicts_the_oldest(tmp_path: Path) -> None:
    agent, host = await three_turns(tmp_path)
    old_session = agent.session.id
    folder = tmp_path / ".agent-lsp" / "checkpoints" / old_session
    assert len(list(folder.glob("*.json"))) == 3
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.glob("*.json"))
    assert agent.status().checkpoints is not None and agent.status().checkpoints.count == 3
    agent.new_session()
    agent.delete_session(old_session)
    assert not folder.exists()
    assert agent.status().checkpoints.count == 0  # type: ignore[union-attr]
    await agent.aclose()

    # A quota smaller than one turn's content: the older checkpoints go, with a notice.
    (tmp_path / "small").mkdir()
    agent, host = await three_turns(tmp_path / "small", checkpoints={"quotaMb": 0.0001})
    notices = [e.text for e in host.events if isinstance(e, Notice) and "checkpoints.quotaMb" in e.text]
    assert notices
    listed = await agent.list_checkpoints()
    assert [bool(c.files) for c in listed] == [False, False, True]
    await agent.aclose()


def test_manifest_paths_are_confined(tmp_path: Path) -> None:
    """A manifest shipped by a hostile repository cannot make a restore write outside the workspace
    or into .git."""
    from agent_core.tools.workspace import Workspace

    workspace = Workspace(tmp_path)
    (tmp_path / ".git").mkdir()
    os.symlink("/etc", tmp_path / "etc-link")
    for bad in ("../outside.txt", "/etc/passwd", ".git/config", "etc-link/passwd", ".agent-lsp/sessions/x.jsonl"):
        with pytest.raises(files.CannotRestore):
            files.locate(workspace, bad)


async def test_a_refused_edit_and_a_cancelled_command_are_recorded_as_they_happened(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("one\n")
    signal = tmp_path / "signal"
    os.mkfifo(signal)
    host = RecordingHost(refuse_edits="the buffer changed")
    script = f"printf made > made.txt && echo written > {signal} && exec sleep 60"
    provider = ScriptedProvider(reply("", [edit("e1", "a.txt", "two\n"), command("c1", script)]), reply("x"))
    config = AgentConfig.model_validate({"approval": {"editFile": "allow", "runCommand": "allow"}})
    agent = Agent(root, config, host, provider=provider, env={})
    agent.restore()
    turn = asyncio.create_task(agent.submit("edit and run"))
    assert await asyncio.wait_for(asyncio.to_thread(signal.read_text), 30) == "written\n"
    agent.cancel()
    assert (await asyncio.wait_for(turn, 10)).stop_reason == "cancelled"
    # The cancelled command's changes were recorded (in the background; listing waits for them),
    # and the refused edit left no phantom entry.
    [checkpoint] = await agent.list_checkpoints()
    assert [(f.path, f.change) for f in checkpoint.files] == [("made.txt", "added")]
    await agent.aclose()


def test_an_id_that_cannot_name_a_file_has_no_checkpoint(tmp_path: Path) -> None:
    from agent_core.checkpoints.store import CheckpointStore

    store = CheckpointStore(tmp_path, 1 << 20)
    assert store.load("session", "../../etc/passwd") is None
    assert store.load("../up", "abc") is None


async def test_an_open_buffer_is_restored_through_the_host_and_a_deleted_files_buffer_is_no_file(
    tmp_path: Path,
) -> None:
    agent, host = await three_turns(tmp_path)
    # a.txt is open in the editor with the agent's text; d.txt (deleted by the command) still
    # has a buffer open.
    host.buffers[tmp_path / "a.txt"] = (tmp_path / "a.txt").read_text()
    host.buffers[tmp_path / "d.txt"] = "delete me"
    first = (await agent.list_checkpoints())[0]
    assert not first.conflicts
    edits_before = len(host.edits)
    result = await agent.restore_checkpoint(first.id, "files")
    assert sorted(result.restored) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    [(path, original, new_text)] = host.edits[edits_before:]
    assert path == tmp_path / "a.txt" and original == "alpha two\nmore\n" and new_text == "alpha\nline two\n"
    assert host.buffers[tmp_path / "a.txt"] == "alpha\nline two\n"
    assert (tmp_path / "d.txt").read_bytes() == ORIGINAL["d.txt"]  # written on disk
    await agent.aclose()
