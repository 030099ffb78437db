"""The workspace snapshot taken around a command: which files exist and what each holds.

A command can change any file, so its checkpoint compares the workspace before and after it. To
keep that cheap, the store keeps a stat index (path -> size, mtime_ns, inode, blob), as git's
index does: a file whose stat is unchanged is not read again. The first snapshot of a workspace
reads and stores every eligible file once; later ones read only what changed. The content of
every file is stored *before* the command runs, so whatever it changes can be put back.

What is looked at: regular files, walked with git's ignore rules (every ``.gitignore``, see
:class:`~agent_core.tools.workspace.IgnoreRules`), never ``.git``, ``.agent-lsp`` or the sessions
folder. Files above ``maxFileKb``, and binary files (a NUL in the first 8 KB) above
``maxBinaryKb``, are not stored: a command that changes one gets it listed as skipped. The walk
is bounded by a file count and a time budget; past either it gives up, says why, and the command
still runs. It runs in a worker thread (never on the event loop) and stops early when ``stop``
is set.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from agent_core.checkpoints.store import CheckpointStore
from agent_core.config import CheckpointConfig
from agent_core.tools.workspace import IgnoreRules, Workspace

#: Bytes looked at to tell a binary file from text (as git does).
BINARY_PROBE = 8192
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass
class Snapshot:
    """The workspace's files at one moment: path (relative, forward slashes) -> blob."""

    files: dict[str, str] = field(default_factory=dict)
    #: Files not stored: path -> (stat key, why). A command that changes one reports it.
    skipped: dict[str, tuple[tuple[int, int, int], str]] = field(default_factory=dict)
    #: Why the walk gave up (then the snapshot is incomplete and not compared).
    gave_up: str | None = None


def take(workspace: Workspace, store: CheckpointStore, config: CheckpointConfig, stop: threading.Event) -> Snapshot:
    """Walk the workspace, storing the content of every eligible file whose stat changed."""
    started = time.monotonic()
    old = store.index()
    index: dict[str, list[Any]] = {}
    snapshot = Snapshot()
    max_file = int(config.max_file_kb * 1024)
    max_binary = int(config.max_binary_kb * 1024)
    rules = IgnoreRules(workspace)
    prefix = len(str(workspace.root)) + 1  # paths under the root, shown relative to it
    seen = 0
    for path, is_dir in rules.walk(workspace.root, stop):
        if is_dir:
            continue
        seen += 1
        if seen > config.scan_max_files:
            return _give_up(snapshot, f"the workspace has more than {config.scan_max_files} files", store, old, index)
        if seen % 256 == 0 and time.monotonic() - started > config.scan_seconds:
            why = f"reading the workspace took longer than {config.scan_seconds:g} s"
            return _give_up(snapshot, why, store, old, index)
        try:
            status = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode):
            continue
        rel = str(path)[prefix:].replace(os.sep, "/")
        key = (status.st_size, status.st_mtime_ns, status.st_ino)
        known = old.get(rel)
        if known is not None and len(known) == 4 and tuple(known[:3]) == key:
            snapshot.files[rel] = known[3]
            index[rel] = known
            continue
        if status.st_size > max_file:
            snapshot.skipped[rel] = (key, f"larger than checkpoints.maxFileKb ({config.max_file_kb:g} KB)")
            continue
        data = read_file(path)
        if data is None:
            snapshot.skipped[rel] = (key, "could not be read")
            continue
        if len(data) > max_binary and b"\0" in data[:BINARY_PROBE]:
            snapshot.skipped[rel] = (
                key,
                f"a binary file larger than checkpoints.maxBinaryKb ({config.max_binary_kb:g} KB)",
            )
            continue
        blob = store.put(data)
        snapshot.files[rel] = blob
        index[rel] = [*key, blob]
    if stop.is_set():
        return _give_up(snapshot, "the snapshot was stopped", store, old, index)
    store.save_index(index)
    return snapshot


def _give_up(
    snapshot: Snapshot, why: str, store: CheckpointStore, old: dict[str, list[Any]], index: dict[str, list[Any]]
) -> Snapshot:
    """Stop, saying why; what was read so far is kept in the index, so the next snapshot of a
    workspace too big for one budget gets further (the first one of a huge tree can take several)."""
    snapshot.gave_up = why
    store.save_index({**old, **index})
    return snapshot


def changes(before: Snapshot, after: Snapshot) -> tuple[dict[str, tuple[str | None, str | None]], list[dict[str, str]]]:
    """What a command did: path -> (blob before, blob after) for every created, changed or
    deleted file, and the skipped files it changed (``{path, reason}``)."""
    changed: dict[str, tuple[str | None, str | None]] = {}
    for path in before.files.keys() | after.files.keys():
        old, new = before.files.get(path), after.files.get(path)
        if old != new and not (path in before.skipped or path in after.skipped):
            changed[path] = (old, new)
    skipped: list[dict[str, str]] = []
    for path in sorted(before.skipped.keys() | after.skipped.keys()):
        old_entry, new_entry = before.skipped.get(path), after.skipped.get(path)
        if old_entry is not None and new_entry is not None and old_entry[0] == new_entry[0]:
            continue  # skipped both times and untouched
        reason = (new_entry or old_entry or ((0, 0, 0), ""))[1]
        skipped.append({"path": path, "reason": f"changed by a command but not kept: {reason}"})
    return changed, skipped


def read_file(path: os.PathLike[str] | str) -> bytes | None:
    """A regular file's bytes, never through a link and never blocking on a FIFO."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
