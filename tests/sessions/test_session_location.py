"""Where sessions may live: never the workspace root, an ancestor or ``.git``; a folder the user
cannot write in is a session error that names the folder and the fix, not a raw OSError."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import SessionError, SessionStore
from tests.sessions.unwritable import unwritable


def _store(workspace: Path, folder: str) -> SessionStore:
    return SessionStore(workspace, SessionConfig(folder=folder))


@pytest.mark.parametrize("folder", [".", "", "sub/..", "..", "../..", "/"])
def test_the_workspace_root_or_an_ancestor_is_refused(workspace: Path, folder: str) -> None:
    store = _store(workspace, folder)
    with pytest.raises(SessionError) as caught:
        store.new()
    assert "sessions.folder" in str(caught.value) and ".agent-lsp/sessions" in str(caught.value)
    assert not (workspace / ".gitignore").exists()
    assert not (workspace.parent / ".gitignore").exists()


def test_an_absolute_ancestor_is_refused(workspace: Path) -> None:
    with pytest.raises(SessionError, match="contains the workspace"):
        _store(workspace, str(workspace.parent)).new()


@pytest.mark.parametrize("folder", [".git", ".git/agent", ".GIT/sessions", "sub/.Git/x"])
def test_a_folder_inside_git_is_refused(workspace: Path, folder: str) -> None:
    (workspace / ".git").mkdir()
    store = _store(workspace, folder)
    with pytest.raises(SessionError, match=r"inside a \.git folder"):
        store.new()
    assert sorted(p.name for p in (workspace / ".git").iterdir()) == []


def test_an_existing_folder_with_files_is_not_made_private(workspace: Path) -> None:
    """A ``.gitignore`` of ``*`` goes only into a folder the store made (or an empty one)."""
    src = workspace / "src"
    src.mkdir()
    (src / "app.py").write_text("print('hi')\n")
    with _store(workspace, "src").new() as session:
        session.append(Message(role="user", content="hello"))
    assert not (src / ".gitignore").exists()
    fresh = _store(workspace, "chats")
    with fresh.new() as session:
        session.append(Message(role="user", content="hello"))
    assert "*" in (workspace / "chats" / ".gitignore").read_text()


def test_an_unwritable_sessions_folder_is_a_session_error(workspace: Path) -> None:
    folder = workspace / ".agent-lsp" / "sessions"
    folder.mkdir(parents=True)
    store = SessionStore(workspace, SessionConfig())
    with unwritable(folder):
        for attempt in (store.new, store.open_latest):
            with pytest.raises(SessionError) as caught:
                attempt()
            message = str(caught.value)
            assert str(folder) in message and "sessions.folder" in message and "writable" in message
        assert store.list() == []


def test_a_session_saved_before_the_folder_became_unwritable_still_opens(workspace: Path) -> None:
    """Its files exist, so appending to it needs no new file in the folder."""
    with SessionStore(workspace, SessionConfig()).new() as session:
        session.append(Message(role="user", content="saved before"))
    store = SessionStore(workspace, SessionConfig())
    with unwritable(workspace / ".agent-lsp" / "sessions"):
        with store.open_latest() as latest:
            assert latest.id == session.id
            latest.append(Message(role="assistant", content="and after"))
        with pytest.raises(SessionError, match="cannot write in the sessions folder"):
            store.new()


def test_closing_an_unwritten_session_in_a_folder_turned_unwritable_is_quiet(workspace: Path) -> None:
    store = SessionStore(workspace, SessionConfig())
    session = store.new()  # its lock file exists; closing an unwritten session removes it
    with unwritable(workspace / ".agent-lsp" / "sessions"):
        session.close()
    assert session.read_only
