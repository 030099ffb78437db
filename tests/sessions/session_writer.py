"""A real writer process for the crash and concurrency tests (run as a script, not collected).

It opens a session through :class:`SessionStore` exactly as an editor window would, reports on
stdout, and appends numbered messages whose content can be checked byte for byte afterwards::

    session_writer.py WORKSPACE SESSION(new|latest|ID) TAG START COUNT SIZE [FLAGS]

with FLAGS among ``--wait``, ``--hold`` and ``--efbig``.

Lines printed: ``ready ID read_only|writable``, then ``saved N`` after each append returned,
``refused N`` when an append raised SessionError, and ``done`` at the end. With ``--wait`` it
reads one line from stdin after ``ready`` so two writers can be started together; with ``--hold``
it prints ``holding`` after the last append and keeps the session open until the next line.
"""

from __future__ import annotations

import resource
import signal
import sys
from pathlib import Path

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import Session, SessionError, SessionStore


def content_for(tag: str, number: int, size: int) -> str:
    """The content message ``number`` of writer ``tag`` must have (checked by the tests)."""
    head = f"{tag}:{number}:"
    filler = "".join(chr(ord("a") + (number + i) % 26) for i in range(64))
    return head + (filler * (size // 64 + 1))[: max(0, size - len(head))]


def _open(store: SessionStore, which: str) -> Session:
    if which == "new":
        return store.new()
    if which == "latest":
        return store.open_latest()
    return store.open(which)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _append_over_the_file_size_limit(session: Session, tag: str, number: int) -> None:
    """Make the next write fail half way (EFBIG after a short write), then recover."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (session.path.stat().st_size + 50, hard))
    try:
        session.append(Message(role="user", content=content_for(tag, number, 4000)))
        _say(f"saved {number}")
    except SessionError:
        _say(f"refused {number}")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def main(argv: list[str]) -> None:
    workspace, which, tag, start, count, size = argv[:6]
    store = SessionStore(Path(workspace), SessionConfig())
    session = _open(store, which)
    _say(f"ready {session.id} {'read_only' if session.read_only else 'writable'}")
    if "--wait" in argv:
        sys.stdin.readline()
    first = int(start)
    for number in range(first, first + int(count)):
        if "--efbig" in argv and number == first + 1:
            _append_over_the_file_size_limit(session, tag, number)
            continue
        try:
            session.append(Message(role="user", content=content_for(tag, number, int(size))))
        except SessionError:
            _say(f"refused {number}")
            continue
        _say(f"saved {number}")
    if "--hold" in argv:
        _say("holding")
        sys.stdin.readline()
    session.close()
    _say("done")


if __name__ == "__main__":
    main(sys.argv[1:])
