"""Checkpoints: take any chat turn back, its files and its conversation, without git.

Before a turn's first change the agent records the previous content (or absence) of every file
it writes and of every file a command creates, changes or deletes, content-addressed in the
workspace's ``.agent-lsp/checkpoints`` folder (see docs/sessions.md). :class:`Checkpoints` lists
them, diffs them against the files now and restores files, conversation or both.
"""

from agent_core.checkpoints.manager import (
    CheckpointError,
    CheckpointFile,
    CheckpointInfo,
    Checkpoints,
    FileDiff,
    RestoreMode,
    RestoreResult,
)
from agent_core.checkpoints.recorder import TurnCheckpoint

__all__ = [
    "CheckpointError",
    "CheckpointFile",
    "CheckpointInfo",
    "Checkpoints",
    "FileDiff",
    "RestoreMode",
    "RestoreResult",
    "TurnCheckpoint",
]
