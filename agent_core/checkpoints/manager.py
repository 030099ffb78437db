"""One workspace's checkpoints as the agent and its front ends see them: list, diff, restore, undo.

Every chat turn of the open session's active history is a checkpoint (its id is the id of the
turn's user message); a turn that changed files has a manifest (:mod:`.store`) holding each
file's content before the turn and after the agent's last change in it.

A files restore of turn T brings every file touched by T or a later turn of the active history
back to its content before T: for each path, the earliest turn's "before" is written and the
latest turn's "after" is what the agent left. A file whose current content is not that "after"
was changed by someone else since: a conflict, never overwritten silently (the caller chooses
``force`` or ``skip_conflicts``, else nothing is restored and the conflicts are listed). Before
anything is written, the current content of every path the restore will change is saved as the
undo record, so :meth:`Checkpoints.undo` can put it back. A file that cannot be written, or
whose stored content is missing or damaged, is reported in ``skipped`` and the rest go on.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent_core.checkpoints import files
from agent_core.checkpoints.recorder import TurnCheckpoint
from agent_core.checkpoints.scan import BINARY_PROBE
from agent_core.checkpoints.store import BlobMissing, CheckpointStore, FileChange, Manifest, digest
from agent_core.config import CheckpointConfig
from agent_core.events import Notice
from agent_core.exceptions import AgentError
from agent_core.host import Host
from agent_core.messages import Message
from agent_core.sessions import Session
from agent_core.sessions.format import is_prompt
from agent_core.tools.workspace import Workspace

RestoreMode = Literal["files", "conversation", "both"]
ChangeKind = Literal["added", "modified", "deleted"]


class CheckpointError(AgentError):
    """An unknown checkpoint or path, nothing to undo, a restore refused: said to the user."""


@dataclass
class CheckpointFile:
    path: str
    change: ChangeKind
    added: int
    removed: int
    conflict: bool


@dataclass
class CheckpointInfo:
    id: str
    turn_id: str | None
    time: float
    prompt: str
    files: list[CheckpointFile]
    conflicts: bool
    bytes: int
    #: Files a command changed that this checkpoint could not keep, and why a snapshot gave up.
    skipped: list[dict[str, str]] = field(default_factory=list)
    incomplete: str | None = None


@dataclass
class FileDiff:
    path: str
    before: str | None
    current: str | None
    diff: str
    binary: bool


@dataclass
class RestoreResult:
    restored: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    conversation: bool = False


class Checkpoints:
    """The checkpoints of one workspace (see the module docstring)."""

    def __init__(self, workspace: Path, config: CheckpointConfig, sessions_folder: str) -> None:
        self.workspace = Workspace(workspace, sessions_folder)
        self.config = config
        self.store = CheckpointStore(self.workspace.root, int(config.quota_mb * 1024 * 1024))
        #: The server turn id of each checkpoint taken in this process.
        self._turn_ids: dict[str, str] = {}
        self._lines: dict[tuple[str | None, str | None], tuple[int, int]] = {}
        #: Snapshots of cancelled commands still being recorded.
        self._pending: set[asyncio.Task[None]] = set()

    def update_config(self, config: CheckpointConfig) -> None:
        self.config = config
        self.store.quota_bytes = int(config.quota_mb * 1024 * 1024)

    def begin(
        self,
        session_id: str,
        user: Message,
        prompt: str,
        turn_id: str,
        report: Callable[[Notice], None],
        report_eviction: Callable[[Notice], None],
    ) -> TurnCheckpoint | None:
        """The checkpoint a chat turn records into (None when checkpoints are off); ``report``
        hears the turn's notices, ``report_eviction`` the quota's."""
        self._turn_ids[user.id] = turn_id
        if not self.config.enabled:
            return None
        return TurnCheckpoint(
            self.store,
            self.config,
            session_id,
            user.id,
            turn_id,
            prompt,
            user.created,
            report,
            report_eviction,
            self._pending,
        )

    async def settled(self) -> None:
        """Wait until the changes of cancelled commands are recorded (a restore right after a
        cancel must know them)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def delete_session(self, session_id: str) -> None:
        self.store.delete_session(session_id)

    # -- reading -----------------------------------------------------------------------------

    async def listing(self, session: Session, host: Host) -> list[CheckpointInfo]:
        """Every chat turn of the active history, oldest first."""
        await self.settled()
        prompts = [m for m in session.messages if is_prompt(m)]
        manifests = [self.store.load(session.id, m.id) for m in prompts]
        currents: dict[str, str | None] = {}
        latest: dict[str, str | None] = {}
        infos: list[CheckpointInfo] = []
        conflicted_from_here = False
        for message, manifest in reversed(list(zip(prompts, manifests, strict=True))):
            rows: list[CheckpointFile] = []
            stored = 0
            for path, change in sorted((manifest.files if manifest else {}).items()):
                latest.setdefault(path, change.after)
                if path not in currents:
                    currents[path] = await self._current_hash(path, host)
                conflict = currents[path] != latest[path]
                conflicted_from_here |= conflict
                added, removed = self._line_counts(change)
                kind: ChangeKind = (
                    "added" if change.before is None else "deleted" if change.after is None else "modified"
                )
                rows.append(CheckpointFile(path, kind, added, removed, conflict))
            if manifest is not None:
                stored = sum(self.store.stored_size(h) for h in manifest.hashes())
            infos.append(
                CheckpointInfo(
                    id=message.id,
                    turn_id=self._turn_ids.get(message.id, manifest.turn_id if manifest else None),
                    time=manifest.time if manifest else message.created,
                    prompt=manifest.prompt if manifest else message.content[:200],
                    files=rows,
                    conflicts=conflicted_from_here,
                    bytes=stored,
                    skipped=list(manifest.skipped) if manifest else [],
                    incomplete=manifest.incomplete if manifest else None,
                )
            )
        infos.reverse()
        return infos

    async def diff(self, session: Session, checkpoint_id: str, path: str | None, host: Host) -> list[FileDiff]:
        """What a files restore of ``checkpoint_id`` would do, per file (one when ``path``)."""
        await self.settled()
        plan = self._plan(session, checkpoint_id)
        if path is not None:
            if path not in plan:
                raise CheckpointError(f"checkpoint {checkpoint_id} has no file {path!r}")
            plan = {path: plan[path]}
        diffs: list[FileDiff] = []
        for rel, change in sorted(plan.items()):
            try:
                before = self.store.get(change.before) if change.before else None
            except BlobMissing as error:
                diffs.append(FileDiff(rel, None, None, f"cannot show {rel}: {error}", True))
                continue
            try:
                current = (await files.read_current(self.workspace, rel, host)).data
            except files.CannotRestore as error:
                diffs.append(FileDiff(rel, None, None, f"cannot show {rel}: {error}", True))
                continue
            diffs.append(_file_diff(rel, before, current))
        return diffs

    # -- restoring ---------------------------------------------------------------------------

    async def restore(
        self,
        session: Session,
        checkpoint_id: str,
        mode: RestoreMode,
        host: Host,
        *,
        force: bool = False,
        skip_conflicts: bool = False,
        time: float,
    ) -> RestoreResult:
        """Restore files, conversation or both to before turn ``checkpoint_id``."""
        await self.settled()
        self._turns_from(session, checkpoint_id)
        if mode != "files" and session.read_only:
            raise CheckpointError("this session is read-only here (open in another window); nothing was restored")
        if mode == "conversation":
            result = RestoreResult()
            self.store.save_undo(session.id, {}, None, time)
        else:
            result = await self.restore_files(
                session, checkpoint_id, host, force=force, skip_conflicts=skip_conflicts, time=time
            )
            if result.conflicts:
                return result
        if mode != "files":
            rewind = session.rewind(checkpoint_id)
            record = self.store.load_undo(session.id)
            self.store.save_undo(session.id, record[0] if record else {}, rewind, time)
            result.conversation = True
        return result

    async def restore_files(
        self, session: Session, checkpoint_id: str, host: Host, *, force: bool, skip_conflicts: bool, time: float
    ) -> RestoreResult:
        """Bring the files back (see the module docstring); the undo record is saved first."""
        plan = self._plan(session, checkpoint_id)
        result = RestoreResult()
        work: list[tuple[str, FileChange, files.Current]] = []
        for rel, change in sorted(plan.items()):
            try:
                current = await files.read_current(self.workspace, rel, host)
            except files.CannotRestore as error:
                result.skipped.append({"path": rel, "reason": str(error)})
                continue
            now = digest(current.data) if current.data is not None else None
            if now == change.before:
                continue  # already as it was
            if now != change.after:
                if skip_conflicts:
                    result.skipped.append({"path": rel, "reason": "changed since the agent wrote it (conflict)"})
                    continue
                if not force:
                    result.conflicts.append(rel)
            work.append((rel, change, current))
        if result.conflicts:
            return RestoreResult(conflicts=result.conflicts)
        targets: list[tuple[str, bytes | None, files.Current]] = []
        for rel, change, current in work:
            try:
                targets.append((rel, self.store.get(change.before) if change.before else None, current))
            except BlobMissing as error:
                result.skipped.append({"path": rel, "reason": str(error)})
        undo = {rel: self.store.put(cur.data) if cur.data is not None else None for rel, _, cur in targets}
        self.store.save_undo(session.id, undo, None, time)
        await self._write_all(targets, host, result)
        return result

    async def undo(self, session: Session, host: Host) -> tuple[RestoreResult, str | None]:
        """Put back what the last restore replaced; returns the result and the rewind to undo."""
        record = self.store.load_undo(session.id)
        if record is None:
            raise CheckpointError("there is no restore to undo in this session")
        undo, rewind = record
        result = RestoreResult()
        targets: list[tuple[str, bytes | None, files.Current]] = []
        for rel, blob in sorted(undo.items()):
            try:
                current = await files.read_current(self.workspace, rel, host)
                targets.append((rel, self.store.get(blob) if blob else None, current))
            except (files.CannotRestore, BlobMissing) as error:
                result.skipped.append({"path": rel, "reason": str(error)})
        await self._write_all(targets, host, result)
        self.store.drop_undo(session.id)
        return result, rewind

    # -- helpers -----------------------------------------------------------------------------

    def _turns_from(self, session: Session, checkpoint_id: str) -> list[str]:
        ids = [m.id for m in session.messages if is_prompt(m)]
        if checkpoint_id not in ids:
            raise CheckpointError(
                f"unknown checkpoint {checkpoint_id!r}: no turn of the open session has that id "
                "(agent.checkpoint.list or /rewind lists them)"
            )
        return ids[ids.index(checkpoint_id) :]

    def _plan(self, session: Session, checkpoint_id: str) -> dict[str, FileChange]:
        """path -> (content before ``checkpoint_id``, the agent's last content) for every file
        it or a later turn of the active history touched."""
        plan: dict[str, FileChange] = {}
        for turn in self._turns_from(session, checkpoint_id):
            manifest: Manifest | None = self.store.load(session.id, turn)
            for path, change in (manifest.files if manifest else {}).items():
                if path in plan:
                    plan[path].after = change.after
                else:
                    plan[path] = FileChange(change.before, change.after)
        return plan

    async def _write_all(
        self, targets: list[tuple[str, bytes | None, files.Current]], host: Host, result: RestoreResult
    ) -> None:
        for rel, target, current in targets:
            try:
                await files.write(self.workspace, rel, target, current, host)
            except files.CannotRestore as error:
                result.skipped.append({"path": rel, "reason": str(error)})
                continue
            result.restored.append(rel)

    async def _current_hash(self, rel: str, host: Host) -> str | None:
        try:
            data = (await files.read_current(self.workspace, rel, host)).data
        except files.CannotRestore:
            return "unreadable"
        return digest(data) if data is not None else None

    def _line_counts(self, change: FileChange) -> tuple[int, int]:
        key = (change.before, change.after)
        if key not in self._lines:
            try:
                before = self.store.get(change.before) if change.before else b""
                after = self.store.get(change.after) if change.after else b""
            except BlobMissing:
                return 0, 0
            self._lines[key] = _count_lines(before, after)
        return self._lines[key]


def _text(data: bytes | None) -> str | None:
    """``data`` as text, or None when it is binary."""
    if data is None or b"\0" in data[:BINARY_PROBE]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _count_lines(before: bytes, after: bytes) -> tuple[int, int]:
    old, new = _text(before), _text(after)
    if old is None or new is None:
        return 0, 0
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def _file_diff(rel: str, before: bytes | None, current: bytes | None) -> FileDiff:
    """The diff from the file now to what a restore would write."""
    old, new = _text(current), _text(before)
    if (current is not None and old is None) or (before is not None and new is None):
        return FileDiff(rel, None, None, f"Binary file {rel} differs", True)
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile="/dev/null" if current is None else f"a/{rel}",
        tofile="/dev/null" if before is None else f"b/{rel}",
    )
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return FileDiff(rel, new, old, text, False)
