"""Recording one turn's checkpoint as its tools change the workspace.

The checkpoint is created lazily, at the turn's first change, and its manifest is written after
every change, so a crash mid-turn keeps what was recorded so far. ``edit_file`` records a file's
previous bytes (or absence) before the approved write and the new content's hash after it (the
"after" that tells a later user change from the agent's own); ``run_command`` records what a
command created, changed or deleted by comparing snapshots of the workspace taken before and
after it (:mod:`.scan`), in a worker thread so the server never freezes. A file's "before" is
the first one recorded in the turn; its "after" the last.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from agent_core.checkpoints import scan
from agent_core.checkpoints.store import CheckpointStore, FileChange, Manifest
from agent_core.config import CheckpointConfig
from agent_core.events import Notice
from agent_core.tools.workspace import Workspace

log = logging.getLogger(__name__)

#: How many characters of the prompt a checkpoint keeps.
PROMPT_CHARS = 200


class TurnCheckpoint:
    """The checkpoint of one chat turn (created by :class:`~.manager.Checkpoints`)."""

    def __init__(
        self,
        store: CheckpointStore,
        config: CheckpointConfig,
        session_id: str,
        message_id: str,
        turn_id: str,
        prompt: str,
        time: float,
        report: Callable[[Notice], None],
        report_eviction: Callable[[Notice], None],
        pending: set[asyncio.Task[None]],
    ) -> None:
        self._store = store
        self._config = config
        #: The turn's notices (what a snapshot skipped or gave up on).
        self._report = report
        #: Eviction by the quota concerns the workspace, not the turn.
        self._report_eviction = report_eviction
        #: After-snapshots of cancelled commands still running (shared with the manager, which
        #: waits for them before it lists or restores anything).
        self._pending = pending
        self.manifest = Manifest(
            id=message_id, session=session_id, turn_id=turn_id, time=time, prompt=prompt[:PROMPT_CHARS]
        )
        self._lock = asyncio.Lock()

    # -- edit_file ---------------------------------------------------------------------------

    async def before_write(self, path: str, original: str | None) -> None:
        """Keep ``path``'s content before the agent writes it (once per turn)."""
        if path in self.manifest.files:
            return
        before = None if original is None else await asyncio.to_thread(self._store.put, original.encode("utf-8"))
        async with self._lock:
            self.manifest.files.setdefault(path, FileChange(before, before))
            await self._save()

    async def write_failed(self, path: str) -> None:
        """The write after :meth:`before_write` did not happen: drop ``path`` again if nothing
        else in the turn changed it."""
        async with self._lock:
            change = self.manifest.files.get(path)
            if change is not None and change.after == change.before:
                del self.manifest.files[path]
                await self._save()

    async def after_write(self, path: str, new_text: str) -> None:
        """Record what the agent left in ``path``."""
        after = await asyncio.to_thread(self._store.put, new_text.encode("utf-8"))
        async with self._lock:
            self.manifest.files.setdefault(path, FileChange(None, None)).after = after
            await self._save()

    # -- run_command -------------------------------------------------------------------------

    async def before_command(self, workspace: Workspace) -> scan.Snapshot | None:
        """The workspace before a command (every eligible file's content stored)."""
        snapshot = await self._snapshot(workspace)
        if snapshot.gave_up is not None:
            await self._gave_up(snapshot.gave_up)
            return None
        return snapshot

    async def after_command(self, workspace: Workspace, before: scan.Snapshot | None) -> None:
        """Record what the command created, changed or deleted since ``before``."""
        if before is None:
            return
        after = await self._snapshot(workspace)
        if after.gave_up is not None:
            await self._gave_up(after.gave_up)
            return
        changed, skipped = scan.changes(before, after)
        if not changed and not skipped:
            return
        async with self._lock:
            for path, (old, new) in sorted(changed.items()):
                self.manifest.files.setdefault(path, FileChange(old, old)).after = new
            known = {entry["path"] for entry in self.manifest.skipped}
            self.manifest.skipped += [entry for entry in skipped if entry["path"] not in known]
            await self._save()
        if skipped:
            names = ", ".join(entry["path"] for entry in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            self._report(
                Notice(
                    level="warning",
                    text=f"The checkpoint of this turn does not hold {len(skipped)} file(s) the command changed "
                    f"(too large or binary): {names}. Restoring it will not bring them back.",
                )
            )

    def after_cancelled_command(self, workspace: Workspace, before: scan.Snapshot | None) -> None:
        """A cancelled command may have changed files too: record them in the background (the
        cancel itself must not wait for a snapshot)."""
        if before is None:
            return
        task = asyncio.get_running_loop().create_task(self.after_command(workspace, before))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _snapshot(self, workspace: Workspace) -> scan.Snapshot:
        stop = threading.Event()
        try:
            return await asyncio.to_thread(scan.take, workspace, self._store, self._config, stop)
        finally:
            stop.set()  # cancelled: the worker stops at its next file

    async def _gave_up(self, why: str) -> None:
        async with self._lock:
            self.manifest.incomplete = why
            await self._save()
        self._report(
            Notice(
                level="warning",
                text=f"The checkpoint of this turn cannot cover what the command changes: {why}. "
                "The command runs anyway; its changes cannot be restored.",
            )
        )

    async def _save(self) -> None:
        """Write the manifest, then keep the store within its quota (never evicting this one)."""
        manifest = self.manifest
        await asyncio.to_thread(self._store.save, manifest)
        evicted = await asyncio.to_thread(self._store.evict, {(manifest.session, manifest.id)})
        if evicted:
            self._report_eviction(
                Notice(
                    level="info",
                    text=f"Removed the {evicted} oldest checkpoint(s) of this workspace to stay within "
                    f"checkpoints.quotaMb ({self._config.quota_mb:g} MB).",
                )
            )
