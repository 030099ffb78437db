"""The file format: every record round-trips, files are private, and git never sees them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agent_core.atomic import write_atomic
from agent_core.config import SessionConfig
from agent_core.sessions import FORMAT_VERSION, SessionError, SessionStore
from tests.fakes.messages import every_kind_of_message


def test_every_record_type_round_trips(store: SessionStore) -> None:
    messages = every_kind_of_message()
    with store.new() as session:
        for message in messages:
            session.append(message)
        session.set_title("first title")
        session.set_title("  the\nlast   title ")
        session_id = session.id

    with store.open(session_id) as loaded:
        assert loaded.messages == messages
        assert loaded.title == "the last title"
        assert loaded.warnings == []
        assert not loaded.read_only


def test_header_and_records_are_one_json_object_per_line(store: SessionStore, workspace: Path) -> None:
    with store.new() as session:
        session.append(every_kind_of_message()[1])
        session.set_title("t")
        path = session.path
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    header, message, title = (json.loads(line) for line in lines[:-1])
    assert header["type"] == "session"
    assert header["version"] == FORMAT_VERSION == 2
    assert header["id"] == path.stem
    assert header["workspace"] == str(workspace.resolve())
    assert isinstance(header["created"], float)
    assert message["type"] == "message" and message["message"]["content"].startswith("Fix the bug")
    assert title == {"type": "title", "title": "t", "time": title["time"]}


def test_files_are_private(store: SessionStore) -> None:
    with store.new() as session:
        session.append(every_kind_of_message()[1])
        path = session.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_suffix(".lock").stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_default_folder_ignores_itself_for_git(store: SessionStore, workspace: Path) -> None:
    store.new().close()
    gitignore = workspace / ".agent-lsp" / ".gitignore"
    assert "*" in gitignore.read_text().splitlines()
    assert store.folder == workspace / ".agent-lsp" / "sessions"


def test_custom_folder_gets_its_own_gitignore_and_leaves_existing_ones(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "chats").mkdir(parents=True)
    (workspace / ".gitignore").write_text("build/\n")
    store = SessionStore(workspace, SessionConfig(folder="chats"))
    store.new().close()
    assert "*" in (workspace / "chats" / ".gitignore").read_text().splitlines()
    assert (workspace / ".gitignore").read_text() == "build/\n"


def test_absolute_folder_is_used_as_is(tmp_path: Path) -> None:
    elsewhere = tmp_path / "all-sessions"
    store = SessionStore(tmp_path / "ws", SessionConfig(folder=str(elsewhere)))
    with store.new() as session:
        session.append(every_kind_of_message()[1])
    assert session.path.parent == elsewhere


def test_a_session_never_written_leaves_no_file(store: SessionStore) -> None:
    session = store.new()
    session.close()
    assert store.list() == []
    assert list(store.folder.glob(f"{session.id}*")) == []


def test_sessions_move_with_the_repository(store: SessionStore, workspace: Path) -> None:
    with store.new() as session:
        session.append(every_kind_of_message()[1])
    moved = workspace.with_name("moved-repo")
    workspace.rename(moved)
    with SessionStore(moved, SessionConfig()).open_latest() as restored:
        assert restored.id == session.id
        assert [m.content for m in restored.messages] == [session.messages[0].content]
        restored.append(every_kind_of_message()[2])


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file.jsonl"
    target.write_bytes(b"old\n")
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def disk_gone(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", disk_gone)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, b"newer\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.jsonl"]  # no temp left behind


def test_an_unusable_sessions_folder_is_a_clear_error(workspace: Path) -> None:
    (workspace / "not-a-folder").write_text("a file")
    store = SessionStore(workspace, SessionConfig(folder="not-a-folder"))
    with pytest.raises(SessionError, match="cannot create the sessions folder not-a-folder"):
        store.new()
    assert store.list() == []
