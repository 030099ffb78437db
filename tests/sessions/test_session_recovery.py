"""Recovery rules (fault case 14 and the damage a crash leaves): nothing good is ever lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.messages import Message
from agent_core.sessions import FORMAT_VERSION, SessionError, SessionStore
from agent_core.sessions.lock import try_lock
from tests.fakes.messages import every_kind_of_message


def _saved_session(store: SessionStore, count: int = 3) -> tuple[str, Path, list[Message]]:
    messages = [Message(role="user", content=f"message {i}") for i in range(count)]
    with store.new() as session:
        for message in messages:
            session.append(message)
    return session.id, session.path, messages


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


@pytest.mark.parametrize(
    "damage",
    [
        b'{"type":"message","message":{"id":"x","ro',  # torn append
        b"\0" * 4096,  # NUL padding after a clean line
        b'{"type":"message","mess' + b"\0" * 100,  # torn and padded
    ],
    ids=["torn", "nul-padded", "torn-then-nul"],
)
def test_damaged_last_line_is_cut_and_the_next_append_starts_clean(store: SessionStore, damage: bytes) -> None:
    session_id, path, messages = _saved_session(store)
    intact = path.read_bytes()
    with path.open("ab") as f:
        f.write(damage)

    with store.open(session_id) as session:
        assert session.messages == messages
        assert any("unfinished last record" in w for w in session.warnings)
        assert path.read_bytes() == intact  # truncated back before any new append
        extra = Message(role="assistant", content="after the crash")
        session.append(extra)

    with store.open(session_id) as again:
        assert again.messages == [*messages, extra]
        assert again.warnings == []


def test_read_only_open_cuts_in_memory_but_never_touches_the_file(store: SessionStore) -> None:
    session_id, path, messages = _saved_session(store)
    with path.open("ab") as f:
        f.write(b'{"type":"mess')
    damaged = path.read_bytes()
    other_window = SessionStore(store.workspace, store.config)
    with store.open(session_id) as writer, other_window.open(session_id) as reader:
        assert reader.read_only and not writer.read_only
        assert reader.messages == messages
    with store.open(session_id) as again:
        assert again.messages == messages
    assert damaged.startswith(path.read_bytes())


def test_bad_middle_line_is_skipped_reported_and_the_rest_kept(store: SessionStore) -> None:
    session_id, path, _messages = _saved_session(store, count=4)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b'{"type":"message","message":{"role":"nobody"}}'  # second message broken
    lines.insert(3, b"this is not json")
    lines.insert(4, b'{"type":"from-the-future","x":1}')
    path.write_bytes(b"\n".join(lines))

    with store.open(session_id) as session:
        assert [m.content for m in session.messages] == ["message 0", "message 2", "message 3"]
        assert len(session.warnings) == 3
        assert session.warnings[0].startswith("line 3 skipped")
        assert "unknown record type 'from-the-future'" in session.warnings[2]
        session.append(Message(role="user", content="still writable"))
    with store.open(session_id) as again:
        assert again.messages[-1].content == "still writable"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json at all\n",
        b'{"type":"message"}\n',
        b'{"type":"session","id":1}\n',
        b"\0" * 64,
    ],
    ids=["empty", "garbage", "no-header", "bad-header-fields", "only-nul"],
)
def test_unusable_file_is_reported_backed_up_and_never_replaced(store: SessionStore, content: bytes) -> None:
    session_id, path, _ = _saved_session(store)
    path.write_bytes(content + b'{"type":"message","message":{"role":"user","content":"keep"}}\n')
    original = path.read_bytes()

    with pytest.raises(SessionError, match=r"cannot be opened.*left untouched.*corrupt-"):
        store.open(session_id)
    with pytest.raises(SessionError):
        store.open(session_id)  # a second attempt reuses the identical backup
    backups = _backups(path)
    assert len(backups) == 1 and backups[0].read_bytes() == original

    restored = store.open_latest()  # start-up never fails on it, and never reuses its id
    assert restored.id != session_id and restored.messages == []
    assert any("cannot be opened" in w for w in restored.warnings)
    restored.append(Message(role="user", content="new chat"))
    restored.close()

    assert path.read_bytes() == original
    listed = {info.id: info for info in store.list()}
    assert "cannot be opened" in str(listed[session_id].error)
    with pytest.raises(SessionError):
        store.fork(session_id)
    with pytest.raises(SessionError):
        store.export_markdown(session_id)
    assert path.read_bytes() == original


def test_unknown_newer_version_is_refused_with_a_clear_message(store: SessionStore) -> None:
    session_id, path, _ = _saved_session(store)
    header = json.loads(path.read_bytes().split(b"\n")[0])
    header["version"] = 7
    rest = path.read_bytes().split(b"\n", 1)[1]
    path.write_bytes(json.dumps(header).encode() + b"\n" + rest)
    original = path.read_bytes()

    with pytest.raises(SessionError, match=r"newer agent-lsp \(format version 7; this one reads up to 2\)"):
        store.open(session_id)
    assert path.read_bytes() == original
    assert len(_backups(path)) == 1


def _write_version_0(path: Path, session_id: str, messages: list[Message]) -> None:
    """The earlier shape: no workspace in the header, messages as bare objects."""
    lines = [{"type": "session", "version": 0, "id": session_id, "created": 1700000000.0, "title": "old"}]
    lines += [m.model_dump(mode="json") for m in messages]
    lines.append({"type": "title", "title": "old, renamed"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_version_0_is_migrated_in_memory_when_read_only(store: SessionStore) -> None:
    messages = every_kind_of_message()
    store.new().close()
    path = store.folder / "oldsession.jsonl"
    _write_version_0(path, "oldsession", messages)
    original = path.read_bytes()
    other_writer = try_lock(store.folder / "oldsession.lock")  # as another process would
    assert other_writer is not None
    with store.open("oldsession") as reader:
        assert reader.read_only
        assert reader.messages == messages
        assert reader.title == "old, renamed"
    other_writer.release()
    assert path.read_bytes() == original


def test_version_0_is_rewritten_as_the_current_version_when_opened_for_writing(
    store: SessionStore, workspace: Path
) -> None:
    messages = every_kind_of_message()
    store.new().close()
    path = store.folder / "oldsession.jsonl"
    _write_version_0(path, "oldsession", messages)
    original = path.read_bytes()

    with store.open("oldsession") as session:
        assert session.messages == messages
        assert any("converted from format version 0" in w for w in session.warnings)
        session.append(Message(role="user", content="new"))

    header = json.loads(path.read_bytes().split(b"\n")[0])
    assert header["version"] == FORMAT_VERSION and header["workspace"] == str(workspace.resolve())
    assert path.with_name("oldsession.jsonl.v0.bak").read_bytes() == original
    with store.open("oldsession") as again:
        assert again.messages[:-1] == messages and again.messages[-1].content == "new"
        assert again.title == "old, renamed"
        assert again.warnings == []
    assert store.list()[0].message_count == len(messages) + 1


def test_invalid_ids_never_reach_the_filesystem(store: SessionStore) -> None:
    for bad in ["../escape", "a/b", "", "x" * 65, "a.b"]:
        with pytest.raises(SessionError, match="invalid session id"):
            store.open(bad)
    with pytest.raises(SessionError, match="no session"):
        store.open("doesnotexist")


def test_a_file_deleted_by_hand_while_open_is_written_back_whole(store: SessionStore) -> None:
    with store.new() as session:
        session.append(Message(role="user", content="first"))
        session.set_title("kept title")
        session.path.unlink()
        session.append(Message(role="assistant", content="second"))
    with store.open(session.id) as reopened:
        assert [m.content for m in reopened.messages] == ["first", "second"]
        assert reopened.title == "kept title"
