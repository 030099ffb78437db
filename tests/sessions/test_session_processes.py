"""Fault cases 12 and 13 with real processes: kill -9 mid-write, and two writers on one workspace.

Every wait is on an event (a line the child prints, its exit) with a bound; nothing sleeps.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import SessionStore
from tests.sessions.session_writer import content_for

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("session_writer.py")
BOUND = 20.0  # seconds any single expected line may take (process start-up included)


class Writer:
    """A running session_writer.py child whose stdout lines arrive on a queue."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=BOUND)
        except queue.Empty:
            self.kill()
            raise AssertionError("the writer went silent") from None
        if line is None:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the writer exited early:\n{stderr}")
        return line

    def ready(self) -> tuple[str, str]:
        word, session_id, mode = self.next_line().split()
        assert word == "ready"
        return session_id, mode

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self) -> list[str]:
        """SIGKILL the child; return the lines it printed that were not read yet."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=BOUND)
        unread = []
        while (line := self.lines.get(timeout=BOUND)) is not None:
            unread.append(line)
        self.close_pipes()
        return unread

    def finish(self) -> list[str]:
        lines = []
        while (line := self.next_line()) != "done":
            lines.append(line)
        assert self.proc.wait(timeout=BOUND) == 0
        self.close_pipes()
        return lines

    def close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def writers() -> Iterator[list[Writer]]:
    started: list[Writer] = []
    yield started
    for writer in started:
        if writer.proc.poll() is None:
            writer.kill()


def _assert_every_line_is_a_whole_record(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data.endswith(b"\n") and b"\0" not in data
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def _wait_for_a_partial_line(path: Path) -> None:
    """Spin (bounded) until the file visibly ends inside a line: a write() is copying the next
    record right now, so a kill sent at once lands inside it.

    Waiting for the size to grow is not enough: the size has also grown right after a write
    ended, and the writer spends most of each append in fdatasync and in encoding the next
    record, so a kill aimed that way often lands between writes (measured: only 10-65% of such
    kills tore a line, the fewer the busier the machine), and ten of them could all miss.
    """
    deadline = time.monotonic() + BOUND
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                return
            assert time.monotonic() < deadline, "the writer never wrote again"
    finally:
        os.close(fd)


def _contents(store: SessionStore, session_id: str) -> list[str]:
    with store.open(session_id) as session:
        assert all("unfinished last record" in w for w in session.warnings), session.warnings
        return [m.content for m in session.messages]


def test_kill_9_during_writes_never_loses_or_garbles_earlier_messages(workspace: Path, writers: list[Writer]) -> None:
    """Fault case 12: 20 SIGKILLs at random moments of a writer appending big messages."""
    rng = random.Random(12)
    store = SessionStore(workspace, SessionConfig())
    size = 512 * 1024  # big lines make a kill land inside a write() more often
    session_id = "new"
    saved = 0  # messages confirmed durable so far: numbers 0 .. saved-1
    torn = 0
    for round_number in range(20):
        writer = Writer(str(workspace), session_id, "k", str(saved), "1000", str(size))
        writers.append(writer)
        session_id, mode = writer.ready()
        assert mode == "writable"
        path = store.folder / f"{session_id}.jsonl"
        confirmed = saved
        for _ in range(rng.randint(0 if saved else 1, 2)):
            assert writer.next_line() == f"saved {confirmed}"
            confirmed += 1
        if round_number % 2:
            _wait_for_a_partial_line(path)
        confirmed += sum(line.startswith("saved") for line in writer.kill())

        with store.open(session_id) as session:  # as the next editor start would
            warnings = session.warnings
            contents = [m.content for m in session.messages]
        assert all("unfinished last record" in w for w in warnings), warnings  # no bad lines
        torn += bool(warnings)
        # Every confirmed message is there; at most the one in flight made it too.
        assert confirmed <= len(contents) <= confirmed + 1
        assert contents == [content_for("k", n, size) for n in range(len(contents))]
        # The file itself was cut back to whole lines: header + one line per message.
        data = path.read_bytes()
        assert data.endswith(b"\n") and b"\0" not in data
        assert data.count(b"\n") == len(contents) + 1
        saved = len(contents)
    assert saved >= 10
    # Half the kills were aimed inside a write; at least one must have torn a line, or the
    # torn-line recovery above was never exercised.
    assert torn > 0


def test_two_windows_get_separate_sessions_and_never_interleave(workspace: Path, writers: list[Writer]) -> None:
    """Fault case 13: two processes restore the same workspace and write at the same time."""
    store = SessionStore(workspace, SessionConfig())
    earlier = Message(role="user", content="before both windows")
    with store.new() as existing:
        existing.append(earlier)
    count, size = 150, 2000
    pair = [Writer(str(workspace), "latest", tag, "0", str(count), str(size), "--wait") for tag in "AB"]
    writers.extend(pair)
    (id_a, mode_a), (id_b, mode_b) = pair[0].ready(), pair[1].ready()
    assert mode_a == mode_b == "writable"
    assert id_a != id_b and existing.id in (id_a, id_b)
    for writer in pair:
        writer.go()
    results = [writer.finish() for writer in pair]
    for lines in results:
        assert lines == [f"saved {n}" for n in range(count)]

    for tag, session_id in zip("AB", (id_a, id_b), strict=True):
        path = store.folder / f"{session_id}.jsonl"
        records = _assert_every_line_is_a_whole_record(path)
        assert records[0]["type"] == "session"
        expected = [content_for(tag, n, size) for n in range(count)]
        if session_id == existing.id:
            expected.insert(0, earlier.content)
        assert _contents(store, session_id) == expected


def test_a_second_writer_on_a_busy_session_is_read_only(workspace: Path, writers: list[Writer]) -> None:
    """Fault case 13, explicit id: the second process may read but never writes the file."""
    first = Writer(str(workspace), "new", "A", "0", "100", "500", "--wait", "--hold")
    writers.append(first)
    session_id, _ = first.ready()
    first.go()
    assert first.next_line() == "saved 0"  # the file exists; A holds its lock until told

    second = Writer(str(workspace), session_id, "B", "0", "50", "500", "--wait")
    writers.append(second)
    assert second.ready() == (session_id, "read_only")
    second.go()
    assert second.finish() == [f"refused {n}" for n in range(50)]
    first.go()
    assert first.finish() == [*(f"saved {n}" for n in range(1, 100)), "holding"]

    store = SessionStore(workspace, SessionConfig())
    assert _contents(store, session_id) == [content_for("A", n, 500) for n in range(100)]


def test_a_write_that_fails_half_way_is_undone(workspace: Path, writers: list[Writer]) -> None:
    """A short write then EFBIG (file size limit): the torn bytes are cut at once, not left."""
    writer = Writer(str(workspace), "new", "E", "0", "3", "100", "--efbig")
    writers.append(writer)
    session_id, _ = writer.ready()
    assert writer.finish() == ["saved 0", "refused 1", "saved 2"]
    store = SessionStore(workspace, SessionConfig())
    path = store.folder / f"{session_id}.jsonl"
    assert len(_assert_every_line_is_a_whole_record(path)) == 3
    with store.open(session_id) as session:
        assert session.warnings == []
        assert [m.content for m in session.messages] == [content_for("E", n, 100) for n in (0, 2)]
