"""A hostile repository can ship links in the sessions folder; the store never follows one.

Each test builds what a repository could contain (a transcript, a lock, the ``sessions`` folder or
``.agent-lsp`` itself as a symbolic link to a file or folder outside the workspace) and checks that
the file outside is neither read, copied into the workspace, truncated nor appended to, and that
the user gets a :class:`SessionError` that names the link.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import SessionError, SessionStore
from agent_core.sessions import format as fmt

SECRET = b"root:x:0:0:secret\n"


def _outside(tmp_path: Path, name: str, data: bytes) -> Path:
    target = tmp_path / "outside" / name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(data)
    return target


def _valid_session(session_id: str) -> bytes:
    header = fmt.Header(session_id, 1.0, "/elsewhere", "")
    return fmt.encode_file(header, [Message(role="user", content="hello")])


def _folder(workspace: Path) -> Path:
    folder = workspace / ".agent-lsp" / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_linked_transcript_is_not_read_or_copied_into_the_workspace(
    store: SessionStore, workspace: Path, tmp_path: Path
) -> None:
    secret = _outside(tmp_path, "passwd", SECRET)
    link = _folder(workspace) / "abc.jsonl"
    link.symlink_to(secret)

    session = store.open_latest()  # start-up never fails: a new session, the link left alone
    assert session.id != "abc"
    with pytest.raises(SessionError, match="symbolic link"):
        store.open("abc")
    listed = {info.id: info for info in store.list()}
    assert "symbolic link" in (listed["abc"].error or "")
    assert list(link.parent.glob("*.corrupt-*")) == []  # nothing copied into the workspace
    assert secret.read_bytes() == SECRET and link.is_symlink()
    session.close()


def test_a_linked_transcript_with_a_torn_tail_is_not_truncated(
    store: SessionStore, workspace: Path, tmp_path: Path
) -> None:
    original = _valid_session("abc") + b'{"type":"message","mess'
    target = _outside(tmp_path, "other.jsonl", original)
    (_folder(workspace) / "abc.jsonl").symlink_to(target)

    with pytest.raises(SessionError, match="symbolic link"):
        store.open("abc")
    store.open_latest().close()
    assert target.read_bytes() == original


def test_a_linked_transcript_is_never_appended_to(store: SessionStore, workspace: Path, tmp_path: Path) -> None:
    original = _valid_session("abc")
    target = _outside(tmp_path, "other.jsonl", original)
    (_folder(workspace) / "abc.jsonl").symlink_to(target)

    with pytest.raises(SessionError, match="symbolic link"):
        store.rename("abc", "new title")
    with pytest.raises(SessionError, match="symbolic link"):
        store.fork("abc")
    with pytest.raises(SessionError, match="symbolic link"):
        store.export_markdown("abc")
    assert target.read_bytes() == original


def test_a_linked_lock_file_is_not_created_outside(store: SessionStore, workspace: Path, tmp_path: Path) -> None:
    (_folder(workspace) / "abc.jsonl").write_bytes(_valid_session("abc"))
    planted = tmp_path / "outside" / "planted"
    planted.parent.mkdir()
    (workspace / ".agent-lsp" / "sessions" / "abc.lock").symlink_to(planted)

    with pytest.raises(SessionError, match="symbolic link"):
        store.open("abc")
    assert not planted.exists()


@pytest.mark.parametrize("linked", [".agent-lsp", ".agent-lsp/sessions"])
def test_a_linked_sessions_folder_is_refused(workspace: Path, tmp_path: Path, linked: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sessions").mkdir(parents=True)
    link = workspace / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere if linked == ".agent-lsp" else elsewhere / "sessions")
    store = SessionStore(workspace, SessionConfig())

    for attempt in (store.new, store.open_latest, store.list, lambda: store.open("abc")):
        with pytest.raises(SessionError) as caught:
            attempt()
        message = str(caught.value)
        assert "symbolic link" in message and linked in message
    assert sorted(p.name for p in elsewhere.rglob("*")) == ["sessions"]  # nothing written there


def test_a_linked_gitignore_or_backup_is_replaced_never_written_through(
    store: SessionStore, workspace: Path, tmp_path: Path
) -> None:
    folder = _folder(workspace)
    target = tmp_path / "outside" / "target"
    target.parent.mkdir()
    (workspace / ".agent-lsp" / ".gitignore").symlink_to(target)  # dangling: nothing there yet
    with store.new() as session:
        session.append(Message(role="user", content="hi"))
    assert not target.exists()
    assert folder.is_dir() and not (workspace / ".agent-lsp" / ".gitignore").is_symlink()


def test_links_that_stay_inside_are_refused_too(store: SessionStore, workspace: Path) -> None:
    """The rule is simple and has no exceptions: a link in the sessions folder is never used."""
    folder = _folder(workspace)
    (workspace / "real.jsonl").write_bytes(_valid_session("abc"))
    os.symlink(workspace / "real.jsonl", folder / "abc.jsonl")
    with pytest.raises(SessionError, match="symbolic link"):
        store.open("abc")
