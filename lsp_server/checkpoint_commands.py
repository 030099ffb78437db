"""The checkpoint commands of docs/protocol.md: list, diff, restore and undo a turn's changes.

Thin like every handler (:mod:`lsp_server.commands` binds them and answers their errors): the
folder's agent does the work (:mod:`agent_core.checkpoints`) through the folder's host, so files
open in the editor are changed with ``workspace/applyEdit`` and a conversation rewind reaches
the client as ``agent/sessionRestored``. A restore or undo while a chat turn of the folder runs
is refused: the turn would keep writing over what was just restored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agent_core.exceptions import AgentBusy
from lsp_server import wire
from lsp_server.folders import FolderAgent
from lsp_server.language_server import AgentLanguageServer


def _idle_folder(server: AgentLanguageServer, uri: str | None) -> FolderAgent:
    folder = server.folders.for_uri(uri)
    running = server.turns.busy_chat(folder)
    if running is not None:
        raise AgentBusy(f"a turn is running ({running.id}); cancel the running turn first")
    return folder


async def checkpoint_list(server: AgentLanguageServer, arg: wire.FolderArgs) -> wire.CheckpointListResult:
    folder = server.folders.for_uri(arg.uri)
    infos = await folder.agent.list_checkpoints()
    return wire.CheckpointListResult(checkpoints=[wire.Checkpoint.of(info) for info in infos])


async def checkpoint_diff(server: AgentLanguageServer, arg: wire.CheckpointDiffArgs) -> wire.CheckpointDiffResult:
    folder = server.folders.for_uri(arg.uri)
    diffs = await folder.agent.diff_checkpoint(arg.id, arg.path)
    return wire.CheckpointDiffResult(files=[wire.FileDiff.model_validate(d, from_attributes=True) for d in diffs])


async def checkpoint_restore(server: AgentLanguageServer, arg: wire.CheckpointRestoreArgs) -> wire.RestoreResult:
    folder = _idle_folder(server, arg.uri)
    result = await folder.agent.restore_checkpoint(
        arg.id, arg.mode, force=bool(arg.force), skip_conflicts=bool(arg.skip_conflicts)
    )
    return wire.RestoreResult.of(result)


async def checkpoint_undo(server: AgentLanguageServer, arg: wire.FolderArgs) -> wire.RestoreResult:
    folder = _idle_folder(server, arg.uri)
    return wire.RestoreResult.of(await folder.agent.undo_restore())


HANDLERS: dict[str, Callable[[AgentLanguageServer, Any], Awaitable[wire.WireModel]]] = {
    wire.CHECKPOINT_LIST: checkpoint_list,
    wire.CHECKPOINT_DIFF: checkpoint_diff,
    wire.CHECKPOINT_RESTORE: checkpoint_restore,
    wire.CHECKPOINT_UNDO: checkpoint_undo,
}
