"""Format version 2: rewind and unrewind records round-trip, nothing is removed from the file,
listings use the active history, and version 1 files are read, appended to as version 1, and
upgraded (atomically, the original kept) only when a rewind needs version 2."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core.messages import Message
from agent_core.sessions import FORMAT_VERSION, SessionStore


def chat(store: SessionStore, *contents: str) -> tuple[str, list[Message]]:
    messages = [Message(role="user" if i % 2 == 0 else "assistant", content=c) for i, c in enumerate(contents)]
    with store.new() as session:
        for message in messages:
            session.append(message)
        return session.id, messages


def test_rewind_and_unrewind_round_trip(store: SessionStore) -> None:
    session_id, messages = chat(store, "one", "reply one", "two", "reply two", "three", "reply three")
    with store.open(session_id) as session:
        first_rewind = session.rewind(messages[2].id)
        assert session.messages == messages[:2]
        session.append(Message(role="user", content="two again"))
        second_rewind = session.rewind(messages[0].id)
        assert session.messages == []
        session.unrewind(second_rewind)
        assert [m.content for m in session.messages] == ["one", "reply one", "two again"]
    size = (store.folder / f"{session_id}.jsonl").stat().st_size

    with store.open(session_id) as again:
        assert [m.content for m in again.messages] == ["one", "reply one", "two again"]
        assert again.warnings == []
        again.unrewind(first_rewind)
        assert again.messages == messages
    [info] = [i for i in store.list() if i.id == session_id]
    assert info.message_count == len(messages) and info.preview == "one"

    lines = (store.folder / f"{session_id}.jsonl").read_bytes().splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds.count("message") == len(messages) + 1  # nothing was removed
    assert kinds.count("rewind") == 2 and kinds.count("unrewind") == 2
    assert json.loads(lines[0])["version"] == FORMAT_VERSION == 2
    assert (store.folder / f"{session_id}.jsonl").stat().st_size > size


def test_listing_counts_the_active_history(store: SessionStore) -> None:
    session_id, messages = chat(store, "one", "reply one", "two", "reply two")
    with store.open(session_id) as session:
        session.rewind(messages[2].id)
    [info] = [i for i in store.list() if i.id == session_id]
    assert info.message_count == 2


def _write_version_1(path: Path, session_id: str, messages: list[Message]) -> bytes:
    lines = [{"type": "session", "version": 1, "id": session_id, "created": 1.0, "workspace": "/w", "title": ""}]
    lines += [{"type": "message", "message": m.model_dump(mode="json")} for m in messages]
    data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
    path.write_bytes(data)
    return data


def test_version_1_is_read_appended_as_version_1_and_upgraded_by_a_rewind(store: SessionStore) -> None:
    store.new().close()
    messages = [Message(role="user", content="hello"), Message(role="assistant", content="hi")]
    path = store.folder / "v1session.jsonl"
    _write_version_1(path, "v1session", messages)
    with store.open("v1session") as session:
        assert session.messages == messages and session.warnings == []
        session.append(Message(role="user", content="more"))
    assert json.loads(path.read_bytes().splitlines()[0])["version"] == 1  # appended as it is
    appended = path.read_bytes()

    with store.open("v1session") as session:
        session.rewind(messages[1].id)
        assert session.messages == messages[:1]
        session.append(Message(role="assistant", content="again"))
    assert json.loads(path.read_bytes().splitlines()[0])["version"] == FORMAT_VERSION
    assert path.with_name("v1session.jsonl.v1.bak").read_bytes() == appended
    with store.open("v1session") as again:
        assert [m.content for m in again.messages] == ["hello", "again"]
        again.unrewind(again.history.rewinds[-1])
        assert [m.content for m in again.messages] == ["hello", "hi", "more"]
