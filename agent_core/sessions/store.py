"""A workspace's sessions: where they live, and every operation on them.

Sessions live inside the workspace (``SessionConfig.folder``, default ``.agent-lsp/sessions``),
so each workspace finds its own and moving the repository moves its sessions with it; the header
also records the workspace for people reading the files. Nothing else is stored: the listing is
built from the session files themselves, so there is no index to drift from them.

Recovery rules (why each exists is in ``format.py``): a torn last line is cut and reported; a bad
middle line is skipped and reported; a file that cannot be used at all is backed up next to
itself (``<id>.jsonl.corrupt-<time>``), reported with :class:`SessionError`, and never touched
or replaced; an older format is migrated (the original kept as ``<id>.jsonl.v<N>.bak``).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from agent_core.atomic import fsync_dir, write_atomic
from agent_core.clock import Clock, SystemClock
from agent_core.config import SessionConfig
from agent_core.messages import new_id
from agent_core.sessions import format as fmt
from agent_core.sessions.errors import SessionError
from agent_core.sessions.export import render_markdown
from agent_core.sessions.location import check_folder, resolve_folder
from agent_core.sessions.lock import SessionLock, try_lock
from agent_core.sessions.nofollow import is_regular, link_refused, open_regular, read_regular
from agent_core.sessions.session import Session, SessionInfo, make_preview

#: Ids are file names: no separators, no dots, so an id can never point outside the folder.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUFFIX = ".jsonl"
_SECONDS_PER_DAY = 86400.0


class SessionStore:
    """The sessions of one workspace (see the module docstring)."""

    def __init__(
        self,
        workspace: Path,
        config: SessionConfig | None = None,
        *,
        clock: Clock | None = None,
        on_delete: Callable[[str], None] | None = None,
    ) -> None:
        self.workspace = Path(workspace).resolve()
        #: Called with a session's id once its file is deleted (its checkpoints go with it).
        self._on_delete = on_delete
        self.config = config or SessionConfig()
        self.folder = resolve_folder(self.workspace, self.config.folder)
        self._clock = clock or SystemClock()
        #: Sessions this store opened for writing, so it can tell "open here" from "elsewhere".
        self._writers: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()

    # -- opening ---------------------------------------------------------------------------

    def new(self) -> Session:
        """A fresh session, locked for this process; its file appears with the first write."""
        self._ensure_folder()
        while True:
            session_id = new_id()
            if self._path(session_id).exists():
                continue
            lock = self._try_lock(session_id)
            if lock is not None:
                break
        header = fmt.Header(session_id, self._clock.wall(), str(self.workspace), "")
        session = Session(
            self._path(session_id),
            header,
            messages=[],
            title="",
            lock=lock,
            size=None,
            clock=self._clock,
        )
        self._writers[session_id] = session
        return session

    def open(self, session_id: str) -> Session:
        """Load a session; read-only if another process (or another store) writes it.

        A session this store already holds for writing is returned as that same object, so
        "load the session I am in" never demotes it to read-only; closing it closes it for all.
        """
        held = self._held_here(session_id)
        if held is not None:
            return held
        path = self._existing(session_id)
        lock = self._try_lock(session_id)
        try:
            return self._load(path, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def open_latest(self) -> Session:
        """The most recently updated session; a new one if there is none or it is busy.

        A busy latest session (another window writes it) gives this process a new session, so
        two windows never write one file. An unreadable latest session is left as it is and a
        new session is returned whose ``warnings`` say why, so start-up never fails on it.
        """
        paths = self._session_paths()
        if not paths:
            return self.new()
        latest = max(paths, key=_mtime)
        session_id = latest.name[: -len(_SUFFIX)]
        lock = self._try_lock(session_id)
        if lock is None:
            return self.new()
        try:
            return self._load(latest, lock)
        except SessionError as exc:
            lock.release()
            session = self.new()
            session.warnings.append(str(exc))
            return session

    # -- listing and operations --------------------------------------------------------------

    def list(self) -> builtins.list[SessionInfo]:
        """Every session in the folder, newest update first, built from the files themselves."""
        infos: builtins.list[SessionInfo] = []
        for path in self._candidates():
            session_id = path.name[: -len(_SUFFIX)]
            try:
                mtime = _mtime(path)
                summary = fmt.summarize(read_regular(path))
            except SessionError as exc:
                infos.append(_unreadable(session_id, _mtime(path), str(exc)))
                continue
            except OSError as exc:
                infos.append(_unreadable(session_id, _mtime(path), f"cannot be read: {exc}"))
                continue
            except fmt.FormatError as exc:
                infos.append(_unreadable(session_id, mtime, f"cannot be opened: {exc}"))
                continue
            infos.append(
                SessionInfo(
                    id=session_id,
                    title=summary.title,
                    created=summary.header.created,
                    updated=mtime,
                    message_count=summary.message_count,
                    preview=make_preview(summary.first_user),
                )
            )
        infos.sort(key=lambda info: info.updated, reverse=True)
        return infos

    def rename(self, session_id: str, title: str) -> SessionInfo:
        """Set a title by appending a title record (no rewrite)."""
        held = self._held_here(session_id)
        if held is not None:
            held.set_title(title)
            return held.info()
        session = self.open(session_id)
        try:
            session.set_title(title)
            return session.info()
        finally:
            session.close()

    def fork(self, session_id: str) -> Session:
        """A copy of a session's messages under a new id, titled "<title> (fork)", open here."""
        source = self._read(self._existing(session_id))
        session = self.new()
        base = source.title or _fallback_title(source)
        session.header.title = f"{base} (fork)"
        session.title = session.header.title
        try:
            session.start_with(source.messages)
        except SessionError:
            session.close()
            raise
        return session

    def delete(self, session_id: str) -> None:
        """Delete a session's file; refused while it is open for writing anywhere."""
        path = self._existing(session_id)
        if self._held_here(session_id) is not None:
            raise SessionError(f"session {session_id} is the open session here; switch to another one first")
        lock = self._try_lock(session_id)
        if lock is None:
            raise SessionError(f"session {session_id} is open in another window; not deleted")
        try:
            path.unlink()
            fsync_dir(self.folder)
        except OSError as exc:
            raise SessionError(f"could not delete session {session_id}: {exc}") from exc
        finally:
            lock.release(remove=True)
        if self._on_delete is not None:
            self._on_delete(session_id)

    def export_markdown(self, session_id: str) -> str:
        """The session as a Markdown document (for sharing or keeping outside the workspace)."""
        parsed = self._read(self._existing(session_id))
        return render_markdown(parsed.header, parsed.title, parsed.messages)

    def cleanup(self, active_id: str | None) -> builtins.list[str]:
        """Delete sessions beyond ``max_age_days`` or ``max_count``; return the ids deleted.

        Off unless configured. Never deletes the active session, one open in another window, or
        an unreadable file (that one is evidence the user may want back). The caller reports
        the returned ids: silent deletion of history is what users hate most about retention.
        """
        max_age, max_count = self.config.max_age_days, self.config.max_count
        if max_age is None and max_count is None:
            return []
        now = self._clock.wall()
        infos = self.list()
        # The active session counts toward max_count and is always one of the kept.
        slots = (max_count or 0) - any(info.id == active_id for info in infos)
        deleted: builtins.list[str] = []
        for rank, info in enumerate(i for i in infos if i.id != active_id):
            too_old = max_age is not None and now - info.updated > max_age * _SECONDS_PER_DAY
            too_many = max_count is not None and rank >= slots
            if info.error is not None or not (too_old or too_many):
                continue
            try:
                self.delete(info.id)
            except SessionError:
                continue
            deleted.append(info.id)
        return deleted

    # -- internals ---------------------------------------------------------------------------

    def _path(self, session_id: str) -> Path:
        if not _ID_PATTERN.fullmatch(session_id):
            raise SessionError(f"invalid session id {session_id!r} (letters, digits, '-' and '_' only)")
        self._check_folder()
        return self.folder / f"{session_id}{_SUFFIX}"

    def _check_folder(self) -> None:
        check_folder(self.workspace, self.folder, self.config.folder)

    def _try_lock(self, session_id: str) -> SessionLock | None:
        """:func:`try_lock` with a folder the user cannot write in reported as a session error
        that names the folder and the fix (a read-only checkout, an immutable folder)."""
        try:
            return try_lock(self._lock_path(session_id))
        except OSError as exc:
            raise SessionError(
                f"cannot write in the sessions folder {self._shown_folder()}: {exc.strerror or exc}; "
                "the chat cannot be saved. Make the folder writable, or set sessions.folder to a "
                "writable folder"
            ) from exc

    def _shown_folder(self) -> str:
        """The folder as the user set it, with the full path when that differs."""
        setting = self.config.folder
        return setting if setting == str(self.folder) else f"{setting} ({self.folder})"

    def _lock_path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.lock"

    def _existing(self, session_id: str) -> Path:
        path = self._path(session_id)
        if path.is_symlink():
            raise link_refused(path)
        if not path.exists():
            raise SessionError(f"no session {session_id} in {self.config.folder}")
        return path

    def _candidates(self) -> builtins.list[Path]:
        """Every entry named like a session file (links and other non-files included, so a
        listing can show them as unusable)."""
        self._check_folder()
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.glob(f"*{_SUFFIX}") if _ID_PATTERN.fullmatch(p.name[: -len(_SUFFIX)])]

    def _session_paths(self) -> builtins.list[Path]:
        """The session files that can be used: regular files, never links."""
        return [p for p in self._candidates() if is_regular(p)]

    def _held_here(self, session_id: str) -> Session | None:
        session = self._writers.get(session_id)
        return session if session is not None and not session.read_only else None

    def _ensure_folder(self) -> None:
        """Create the folder (0700) and a ``.gitignore`` of ``*`` so no chat is committed.

        The ``.gitignore`` goes into ``.agent-lsp`` (ours), or into a custom folder only when the
        store made it or finds it empty: a ``*`` in a folder that already holds the user's files
        would make them private to git.
        """
        own_root = self.workspace / ".agent-lsp"
        ours = self.folder.is_relative_to(own_root)
        gitignore = (own_root if ours else self.folder) / ".gitignore"
        self._check_folder()
        try:
            ours = ours or not self.folder.exists() or not any(self.folder.iterdir())
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._check_folder()  # a link that appeared while the folders were made
            if ours and not gitignore.exists():
                write_atomic(gitignore, b"# agent-lsp chats are private; never commit them.\n*\n")
        except OSError as exc:
            raise SessionError(
                f"cannot create the sessions folder {self._shown_folder()}: {exc.strerror or exc}. "
                "Make it writable, or set sessions.folder to a writable folder"
            ) from exc

    def _read_bytes(self, path: Path) -> bytes:
        try:
            return read_regular(path)
        except OSError as exc:
            raise SessionError(
                f"session file {path.name} cannot be read ({exc.strerror}); it was left as it is"
            ) from exc

    def _read(self, path: Path) -> fmt.ParsedSession:
        """Parse a file without changing it; an unusable one is backed up and reported."""
        data = self._read_bytes(path)
        try:
            parsed = fmt.parse(data)
        except fmt.FormatError as exc:
            backup = self._backup(path, data)
            raise SessionError(
                f"session {path.name[: -len(_SUFFIX)]} cannot be opened: {exc}. The file was left "
                f"untouched and a copy saved as {backup}"
            ) from None
        # The file name is the key (a copied or renamed file is found under its new name).
        parsed.header.id = path.name[: -len(_SUFFIX)]
        return parsed

    def _load(self, path: Path, lock: SessionLock | None) -> Session:
        parsed = self._read(path)
        warnings = list(parsed.bad_lines)
        size = parsed.good_length
        if lock is not None:
            try:
                size = self._repair(path, parsed)
            except OSError as exc:
                raise SessionError(
                    f"session {parsed.header.id} could not be repaired for writing ({exc}); "
                    "open it read-only or fix the file's permissions"
                ) from exc
            if parsed.migrated_from is not None:
                warnings.append(
                    f"converted from format version {parsed.migrated_from} to "
                    f"{fmt.FORMAT_VERSION}; the original is kept as "
                    f"{path.name}.v{parsed.migrated_from}.bak"
                )
        if parsed.cut_bytes:
            warnings.append(
                f"an unfinished last record ({parsed.cut_bytes} bytes, from an interrupted save) "
                "was dropped; every earlier message is intact"
            )
        session = Session(
            path,
            parsed.header,
            messages=parsed.messages,
            title=parsed.title,
            lock=lock,
            size=size,
            clock=self._clock,
            warnings=warnings,
            history=parsed.history,
        )
        if lock is not None:
            self._writers[session.id] = session
        return session

    def _repair(self, path: Path, parsed: fmt.ParsedSession) -> int:
        """Make a file safe to append to: migrate it, or cut its torn tail. Returns its size."""
        if parsed.migrated_from is not None:
            return self._migrate(path, parsed)
        if parsed.cut_bytes:
            self._cut_tail(path, parsed.good_length)
        return parsed.good_length

    def _cut_tail(self, path: Path, good_length: int) -> None:
        """Truncate to the last complete line so the next append starts on a fresh line."""
        fd = open_regular(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, good_length)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _migrate(self, path: Path, parsed: fmt.ParsedSession) -> int:
        """Rewrite an older-format file in the current format, keeping the original beside it."""
        backup = path.with_name(f"{path.name}.v{parsed.migrated_from}.bak")
        if not os.path.lexists(backup):
            write_atomic(backup, read_regular(path))
        if not parsed.header.workspace:
            parsed.header.workspace = str(self.workspace)
        data = fmt.encode_file(parsed.header, parsed.messages, parsed.title)
        write_atomic(path, data)
        parsed.header.version = fmt.FORMAT_VERSION
        return len(data)

    def _backup(self, path: Path, data: bytes) -> str:
        """Copy an unusable file aside once (an identical earlier copy is reused)."""
        for existing in path.parent.glob(f"{path.name}.corrupt-*"):
            with contextlib.suppress(OSError, SessionError):
                if existing.lstat().st_size == len(data) and read_regular(existing) == data:
                    return existing.name
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock.wall()))
        backup = path.with_name(f"{path.name}.corrupt-{stamp}")
        suffix = 1
        while os.path.lexists(backup):
            suffix += 1
            backup = path.with_name(f"{path.name}.corrupt-{stamp}-{suffix}")
        write_atomic(backup, data)
        return backup.name


def _fallback_title(parsed: fmt.ParsedSession) -> str:
    """A fallback title: the first user message's preview, else "session"."""
    first = next((m.content for m in parsed.messages if fmt.is_prompt(m)), "")
    return " ".join(first.split())[:60] or "session"


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _unreadable(session_id: str, mtime: float, error: str) -> SessionInfo:
    return SessionInfo(
        id=session_id,
        title="",
        created=mtime,
        updated=mtime,
        message_count=0,
        preview="",
        error=error,
    )
