"""Store operations: restore, list, rename, fork, delete, export, cleanup; one writer per file."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from agent_core.config import SessionConfig
from agent_core.messages import Message, ToolCall
from agent_core.sessions import Session, SessionError, SessionStore
from agent_core.sessions.lock import try_lock

DAY = 86400.0


class FixedClock:
    """Only ``wall`` matters to the store; the rest satisfy the Clock protocol."""

    def __init__(self, wall: float) -> None:
        self._wall = wall

    def now(self) -> float:
        return 0.0

    def wall(self) -> float:
        return self._wall

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("the store never sleeps")

    def random(self) -> float:
        return 0.0


def _session(store: SessionStore, *contents: str, mtime: float | None = None) -> str:
    with store.new() as session:
        for content in contents:
            session.append(Message(role="user", content=content))
    if mtime is not None:
        os.utime(session.path, (mtime, mtime))
    return session.id


def test_open_latest_restores_the_most_recently_updated(store: SessionStore) -> None:
    first = store.open_latest()
    assert first.messages == [] and not first.read_only
    first.close()
    older = _session(store, "old", mtime=1_000_000)
    newer = _session(store, "new", mtime=2_000_000)
    with store.open_latest() as latest:
        assert latest.id == newer and [m.content for m in latest.messages] == ["new"]
    os.utime(store.folder / f"{older}.jsonl", (3_000_000, 3_000_000))
    with store.open_latest() as latest:
        assert latest.id == older


def test_busy_latest_gives_this_process_a_new_session(store: SessionStore) -> None:
    busy = _session(store, "in the other window")
    other_window = try_lock(store.folder / f"{busy}.lock")
    assert other_window is not None
    try:
        with store.open_latest() as mine:
            assert mine.id != busy and not mine.read_only and mine.messages == []
        with store.open(busy) as peek:
            assert peek.read_only and [m.content for m in peek.messages] == ["in the other window"]
            with pytest.raises(SessionError, match="read-only"):
                peek.append(Message(role="user", content="x"))
            with pytest.raises(SessionError, match="read-only"):
                peek.set_title("x")
    finally:
        other_window.release()
    with store.open(busy) as free:
        assert not free.read_only


def test_lock_is_released_on_close_and_a_closed_session_refuses_writes(store: SessionStore) -> None:
    session = store.new()
    session.append(Message(role="user", content="a"))
    assert store.open(session.id) is session  # "load the one I am in" keeps it writable
    second = SessionStore(store.workspace, store.config).open(session.id)  # another window
    assert second.read_only
    session.close()
    with pytest.raises(SessionError, match="closed"):
        session.append(Message(role="user", content="b"))
    with store.open(session.id) as third:
        assert not third.read_only


def test_a_session_dropped_without_close_releases_its_lock(store: SessionStore) -> None:
    session = store.new()
    session.append(Message(role="user", content="forgotten"))
    session_id = session.id
    del session
    gc.collect()
    with store.open(session_id) as again:
        assert not again.read_only


def test_list_is_built_from_the_files_newest_first(store: SessionStore) -> None:
    long_prompt = "word " * 40
    a = _session(store, long_prompt, "second", mtime=1_000_000)
    with store.new() as session:
        session.append(Message(role="system", content="system prompt"))
        session.append(
            Message(
                role="assistant",
                content="",
                tool_calls=[ToolCall(id="1", name="x", arguments={"role": "user"})],
            )
        )
        session.append(Message(role="user", content="not typed by the user", kind="summary"))
        session.append(Message(role="user", content="the real question"))
        session.set_title("Titled")
    os.utime(session.path, (2_000_000, 2_000_000))

    infos = store.list()
    assert [i.id for i in infos] == [session.id, a]
    assert infos[0].title == "Titled" and infos[0].message_count == 4
    assert infos[0].preview == "the real question"
    assert infos[0].updated == 2_000_000 and infos[0].created == session.header.created
    assert infos[1].title == "" and infos[1].message_count == 2
    assert len(infos[1].preview) == 80 and infos[1].preview.endswith("…")
    assert infos[1].model_dump(by_alias=True)["messageCount"] == 2
    assert session.info().model_copy(update={"updated": 2_000_000}) == infos[0]


def test_rename_appends_a_title_here_or_on_disk_but_not_under_another_writer(
    store: SessionStore,
) -> None:
    closed = _session(store, "hello")
    size = (store.folder / f"{closed}.jsonl").stat().st_size
    assert store.rename(closed, "Renamed on disk").title == "Renamed on disk"
    assert (store.folder / f"{closed}.jsonl").stat().st_size > size  # appended, not rewritten
    with store.open(closed) as reopened:
        assert reopened.title == "Renamed on disk"

    with store.new() as active:
        active.append(Message(role="user", content="x"))
        store.rename(active.id, "Renamed while open")
        assert active.title == "Renamed while open"

    other_window = try_lock(store.folder / f"{closed}.lock")
    assert other_window is not None
    with pytest.raises(SessionError, match="read-only"):
        store.rename(closed, "nope")
    other_window.release()


def test_fork_copies_messages_under_a_new_id(store: SessionStore) -> None:
    source = _session(store, "the question")
    with store.fork(source) as fork:
        assert fork.id != source and not fork.read_only
        assert fork.title == "the question (fork)"
        assert [m.content for m in fork.messages] == ["the question"]
        fork.append(Message(role="user", content="only in the fork"))
    with store.open(source) as original, store.open(fork.id) as forked:
        assert [m.content for m in original.messages] == ["the question"]
        assert len(forked.messages) == 2
    store.rename(source, "Named")
    with store.fork(source) as named_fork:
        assert named_fork.title == "Named (fork)"


def test_delete_removes_the_file_but_refuses_an_open_session(store: SessionStore) -> None:
    gone = _session(store, "bye")
    store.delete(gone)
    assert not (store.folder / f"{gone}.jsonl").exists()
    assert not (store.folder / f"{gone}.lock").exists()
    with pytest.raises(SessionError, match="no session"):
        store.delete(gone)

    with store.new() as active:
        active.append(Message(role="user", content="still here"))
        with pytest.raises(SessionError, match="open session here"):
            store.delete(active.id)
    elsewhere = _session(store, "other window")
    other_window = try_lock(store.folder / f"{elsewhere}.lock")
    with pytest.raises(SessionError, match="another window"):
        store.delete(elsewhere)
    assert other_window is not None
    other_window.release()
    assert {i.id for i in store.list()} == {active.id, elsewhere}


def test_export_markdown_renders_every_message(store: SessionStore) -> None:
    with store.new() as session:
        session.set_title("Export me")
        session.append(Message(role="user", content="Show code"))
        session.append(
            Message(
                role="assistant",
                content="Here:\n```py\nprint(1)\n```",
                tool_calls=[ToolCall(id="c1", name="read_file", arguments={"path": "a.py"})],
            )
        )
        session.append(Message(role="tool", content="```\nraw ``` fence\n", tool_call_id="c1", name="read_file"))
        session.append(Message(role="assistant", content="cut", interrupted=True))
        session.append(Message(role="user", content="older stuff", kind="summary"))
    markdown = store.export_markdown(session.id)
    assert markdown.startswith("# Export me\n")
    assert f"`{session.id}`" in markdown and "- Messages: 5" in markdown
    assert "## User\n\nShow code" in markdown
    assert '**Tool call** `read_file` (c1)\n\n```json\n{\n  "path": "a.py"\n}\n```' in markdown
    assert "## Tool result: read_file\n\n````\n```\nraw ``` fence\n\n````" in markdown
    assert "## Assistant\n\n_(interrupted)_\n\ncut" in markdown
    assert "## Summary of the earlier conversation\n\nolder stuff" in markdown


def test_cleanup_is_off_by_default(store: SessionStore) -> None:
    _session(store, "ancient", mtime=1.0)
    assert store.cleanup(None) == []
    assert len(store.list()) == 1


def test_cleanup_by_age_spares_the_active_locked_and_unreadable(workspace: Path) -> None:
    now = 100 * DAY
    store = SessionStore(workspace, SessionConfig(max_age_days=30), clock=FixedClock(now))
    old = _session(store, "old", mtime=now - 40 * DAY)
    old_active = _session(store, "old but active", mtime=now - 50 * DAY)
    old_locked = _session(store, "old but open elsewhere", mtime=now - 60 * DAY)
    recent = _session(store, "recent", mtime=now - 10 * DAY)
    broken = store.folder / "broken.jsonl"
    broken.write_bytes(b"garbage\n")
    os.utime(broken, (now - 90 * DAY, now - 90 * DAY))
    other_window = try_lock(store.folder / f"{old_locked}.lock")

    assert store.cleanup(old_active) == [old]
    assert {i.id for i in store.list()} == {old_active, old_locked, recent, "broken"}
    assert other_window is not None
    other_window.release()


def test_cleanup_by_count_keeps_the_newest_and_the_active(workspace: Path) -> None:
    store = SessionStore(workspace, SessionConfig(max_count=2), clock=FixedClock(10 * DAY))
    ids = [_session(store, f"s{i}", mtime=1_000 + i) for i in range(5)]  # ids[4] newest
    deleted = store.cleanup(ids[0])
    assert sorted(deleted) == sorted(ids[1:4])
    assert {i.id for i in store.list()} == {ids[0], ids[4]}


def test_session_is_a_context_manager_and_info_works_before_the_first_write(
    store: SessionStore,
) -> None:
    with store.new() as session:
        assert isinstance(session, Session)
        info = session.info()
        assert info.message_count == 0 and info.updated == info.created
    assert session.read_only


def test_a_copied_session_file_is_found_under_its_new_name(store: SessionStore) -> None:
    original = _session(store, "copied")
    (store.folder / "copy_of_it.jsonl").write_bytes((store.folder / f"{original}.jsonl").read_bytes())
    with store.open("copy_of_it") as copy:
        assert copy.id == "copy_of_it"
        copy.append(Message(role="user", content="only in the copy"))
    with store.open(original) as untouched:
        assert [m.content for m in untouched.messages] == ["copied"]
