"""Where a workspace's checkpoints live: content-addressed blobs, one manifest per checkpoint.

Layout, inside ``<workspace>/.agent-lsp/checkpoints/`` (0700 folders, 0600 files, never through a
link, beside the sessions and covered by the same ``.gitignore`` of ``*``)::

    blobs/<sha256[:2]>/<sha256>       file contents, zlib-compressed (level 1), stored once
    <session id>/<checkpoint id>.json one manifest per checkpoint (versioned, written atomically)
    <session id>/undo.json            what the last restore replaced (one level of undo)
    index.json                        the stat index of the command snapshots (see scan.py)

A blob's name is the SHA-256 of its uncompressed bytes and is checked on every read: a missing or
damaged blob is reported (:class:`BlobMissing`), never guessed. Blobs are written to a temporary
file and renamed, without an fsync each (a first snapshot of a large workspace writes thousands):
a crash can lose a blob written in the last seconds, which the check then reports. Manifests,
undo records and the index are written with :func:`~agent_core.atomic.write_atomic`.

Space is bounded by a per-workspace quota: :meth:`CheckpointStore.evict` drops the oldest
manifests first and then every blob no manifest, undo record or the index refers to.
Git is never run and the user's ``.git`` is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.atomic import FILE_MODE, write_atomic
from agent_core.sessions.errors import SessionError
from agent_core.sessions.location import check_folder
from agent_core.sessions.nofollow import open_regular, read_regular

#: The manifest, undo record and index version this code writes and reads.
MANIFEST_VERSION = 1
#: Where the store lives, relative to the workspace.
FOLDER = ".agent-lsp/checkpoints"
#: zlib level: 1 is several times faster than the default and loses little on source text.
COMPRESSION_LEVEL = 1
UNDO_NAME = "undo"
INDEX_NAME = "index.json"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class BlobMissing(Exception):
    """A blob is not in the store, or its bytes no longer match its hash."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileChange:
    """One path in a checkpoint: its content hash before the turn and after the agent's last
    change in that turn (None: absent)."""

    before: str | None
    after: str | None


@dataclass
class Manifest:
    """One checkpoint: the state before one chat turn of the files that turn changed."""

    id: str  # the turn's user message id
    session: str
    turn_id: str | None
    time: float
    prompt: str
    files: dict[str, FileChange] = field(default_factory=dict)
    #: Files a command changed that could not be kept (too big, binary, unreadable).
    skipped: list[dict[str, str]] = field(default_factory=list)
    #: Set when a command snapshot gave up (too many files, too slow): why.
    incomplete: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "id": self.id,
            "session": self.session,
            "turnId": self.turn_id,
            "time": self.time,
            "prompt": self.prompt,
            "files": {path: {"before": c.before, "after": c.after} for path, c in self.files.items()},
            "skipped": self.skipped,
            "incomplete": self.incomplete,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Manifest:
        if not isinstance(obj, dict) or obj.get("version") != MANIFEST_VERSION:
            raise ValueError("not a checkpoint manifest of a known version")
        files = {
            str(path): FileChange(change.get("before"), change.get("after")) for path, change in obj["files"].items()
        }
        return cls(
            id=str(obj["id"]),
            session=str(obj["session"]),
            turn_id=obj.get("turnId"),
            time=float(obj["time"]),
            prompt=str(obj.get("prompt", "")),
            files=files,
            skipped=list(obj.get("skipped") or []),
            incomplete=obj.get("incomplete"),
        )

    def hashes(self) -> set[str]:
        return {h for change in self.files.values() for h in (change.before, change.after) if h}


@dataclass
class Usage:
    count: int
    bytes: int


class CheckpointStore:
    """The checkpoints of one workspace (see the module docstring). Safe to use from the event
    loop and from the snapshot worker thread at once."""

    def __init__(self, workspace: Path, quota_bytes: int) -> None:
        self.workspace = Path(workspace).resolve()
        self.folder = self.workspace / FOLDER
        self.quota_bytes = quota_bytes
        self.lock = threading.RLock()
        self._usage: Usage | None = None
        self._index: dict[str, list[Any]] | None = None
        #: Folders already created and checked (a blob bucket is checked once, not per blob).
        self._ready: set[Path] = set()

    # -- blobs -------------------------------------------------------------------------------

    def blob_path(self, blob: str) -> Path:
        if len(blob) != 64 or any(c not in "0123456789abcdef" for c in blob):
            raise BlobMissing(f"invalid blob name {blob!r}")
        return self.folder / "blobs" / blob[:2] / blob

    def put(self, data: bytes) -> str:
        """Store ``data`` once; its hash."""
        blob = digest(data)
        path = self.blob_path(blob)
        if os.path.lexists(path):
            return blob
        self.ensure_folder(path.parent)
        packed = zlib.compress(data, COMPRESSION_LEVEL)
        temp = path.with_name(f".{blob}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = open_regular(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            view = memoryview(packed)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temp, path)
        with self.lock:
            if self._usage is not None:
                self._usage.bytes += len(packed)
        return blob

    def get(self, blob: str) -> bytes:
        """The bytes stored under ``blob``; :class:`BlobMissing` when absent or damaged."""
        try:
            data = zlib.decompress(read_regular(self.blob_path(blob)))
        except (OSError, SessionError, zlib.error) as error:
            raise BlobMissing(f"stored content {blob[:12]} is missing or unreadable ({error})") from None
        if digest(data) != blob:
            raise BlobMissing(f"stored content {blob[:12]} is damaged (its hash does not match)")
        return data

    def stored_size(self, blob: str) -> int:
        try:
            return self.blob_path(blob).lstat().st_size
        except (OSError, BlobMissing):
            return 0

    # -- manifests ---------------------------------------------------------------------------

    def manifest_path(self, session_id: str, name: str) -> Path:
        if not name or not set(name) <= _ID_CHARS or not session_id or not set(session_id) <= _ID_CHARS:
            raise SessionError(f"invalid checkpoint id {name!r}")
        return self.folder / session_id / f"{name}.json"

    def save(self, manifest: Manifest) -> None:
        self._write_json(self.manifest_path(manifest.session, manifest.id), manifest.to_json(), count=True)

    def load(self, session_id: str, checkpoint_id: str) -> Manifest | None:
        """The manifest, or None when there is none (a turn that changed no file) or it cannot
        be read (reported by the caller as a checkpoint without files)."""
        try:
            obj = self._read_json(self.manifest_path(session_id, checkpoint_id))
        except SessionError:  # an id that cannot name a file (a hand-edited session): no checkpoint
            return None
        if obj is None:
            return None
        try:
            return Manifest.from_json(obj)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def save_undo(self, session_id: str, files: dict[str, str | None], rewind: str | None, time: float) -> None:
        record = {"version": MANIFEST_VERSION, "files": files, "rewind": rewind, "time": time}
        self._write_json(self.manifest_path(session_id, UNDO_NAME), record, count=False)

    def load_undo(self, session_id: str) -> tuple[dict[str, str | None], str | None] | None:
        obj = self._read_json(self.manifest_path(session_id, UNDO_NAME))
        if not isinstance(obj, dict) or obj.get("version") != MANIFEST_VERSION:
            return None
        return dict(obj.get("files") or {}), obj.get("rewind")

    def drop_undo(self, session_id: str) -> None:
        with contextlib.suppress(OSError):
            self.manifest_path(session_id, UNDO_NAME).unlink()

    def delete_session(self, session_id: str) -> int:
        """Remove a session's checkpoints and the blobs nothing refers to any more; how many."""
        folder = self.folder / session_id
        if not set(session_id) <= _ID_CHARS or folder.is_symlink() or not folder.is_dir():
            return 0
        count = sum(1 for p in folder.glob("*.json") if p.name != f"{UNDO_NAME}.json")
        shutil.rmtree(folder, ignore_errors=True)
        self._ready.discard(folder)
        self.collect()
        return count

    def manifests(self) -> Iterator[Manifest]:
        """Every readable manifest of the workspace."""
        if not self.folder.is_dir():
            return
        for session in sorted(self.folder.iterdir()):
            if session.name == "blobs" or session.is_symlink() or not session.is_dir():
                continue
            for path in sorted(session.glob("*.json")):
                if path.stem == UNDO_NAME:
                    continue
                manifest = self.load(session.name, path.stem)
                if manifest is not None:
                    yield manifest

    # -- the stat index ----------------------------------------------------------------------

    def index(self) -> dict[str, list[Any]]:
        """path -> [size, mtime_ns, inode, blob] of the last complete snapshot (loaded once)."""
        with self.lock:
            if self._index is None:
                obj = self._read_json(self.folder / INDEX_NAME)
                files = obj.get("files") if isinstance(obj, dict) and obj.get("version") == MANIFEST_VERSION else None
                self._index = files if isinstance(files, dict) else {}
            return self._index

    def save_index(self, files: dict[str, list[Any]]) -> None:
        with self.lock:
            self._index = files
            self._write_json(self.folder / INDEX_NAME, {"version": MANIFEST_VERSION, "files": files}, count=False)

    # -- space -------------------------------------------------------------------------------

    def usage(self) -> Usage:
        """How many checkpoints and how many bytes the store holds (measured once, then kept)."""
        with self.lock:
            if self._usage is None:
                self._usage = self._measure()
            return Usage(self._usage.count, self._usage.bytes)

    def evict(self, keep: set[tuple[str, str]] | None = None) -> int:
        """Drop the oldest checkpoints (never those in ``keep``: (session, id)) until the store
        fits its quota; returns how many were dropped. When even that is not enough, the stat
        index is dropped too (the next snapshot reads every file again)."""
        with self.lock:
            if self.usage().bytes <= self.quota_bytes:
                return 0
            dropped = 0
            for manifest in sorted(self.manifests(), key=lambda m: m.time):
                if keep and (manifest.session, manifest.id) in keep:
                    continue
                with contextlib.suppress(OSError):
                    self.manifest_path(manifest.session, manifest.id).unlink()
                    dropped += 1
                self.collect()
                if self.usage().bytes <= self.quota_bytes:
                    return dropped
            self.save_index({})
            self.collect()
            return dropped

    def collect(self) -> None:
        """Remove every blob that no manifest, undo record or the index refers to."""
        with self.lock:
            live: set[str] = set()
            for manifest in self.manifests():
                live |= manifest.hashes()
            for undo in self.folder.glob(f"*/{UNDO_NAME}.json") if self.folder.is_dir() else []:
                loaded = self.load_undo(undo.parent.name)
                if loaded is not None:
                    live |= {h for h in loaded[0].values() if h}
            live |= {entry[3] for entry in self.index().values() if len(entry) == 4}
            blobs = self.folder / "blobs"
            for bucket in blobs.iterdir() if blobs.is_dir() else []:
                for path in bucket.iterdir():
                    if path.name not in live:
                        with contextlib.suppress(OSError):
                            path.unlink()
            self._usage = None

    def _measure(self) -> Usage:
        count = 0
        size = 0
        if not self.folder.is_dir():
            return Usage(0, 0)
        for root, _folders, files in os.walk(self.folder):
            for name in files:
                with contextlib.suppress(OSError):
                    size += os.lstat(os.path.join(root, name)).st_size
                if name.endswith(".json") and name != INDEX_NAME and name != f"{UNDO_NAME}.json":
                    count += os.path.basename(root) != "blobs"
        return Usage(count, size)

    # -- files -------------------------------------------------------------------------------

    def ensure_folder(self, folder: Path) -> None:
        """Create ``folder`` (inside the store) 0700, refusing a link on the way from the
        workspace, and mark ``.agent-lsp`` private to git as the sessions store does."""
        if folder in self._ready:
            return
        check_folder(self.workspace, self.folder, FOLDER)
        if not (folder.is_dir() and not folder.is_symlink()):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_folder(self.workspace, folder, FOLDER)
        self._ready.add(folder)
        gitignore = self.workspace / ".agent-lsp" / ".gitignore"
        if not os.path.lexists(gitignore):
            write_atomic(gitignore, b"# agent-lsp chats are private; never commit them.\n*\n")

    def _write_json(self, path: Path, obj: Any, *, count: bool) -> None:
        self.ensure_folder(path.parent)
        with self.lock:
            try:
                old_size: int | None = path.lstat().st_size
            except FileNotFoundError:
                old_size = None
            data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            write_atomic(path, data, mode=FILE_MODE)
            if self._usage is not None:
                self._usage.count += count and old_size is None
                self._usage.bytes += len(data) - (old_size or 0)

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(read_regular(path))
        except FileNotFoundError:
            return None
        except (OSError, SessionError, ValueError):
            return None
