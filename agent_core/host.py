"""The small interface between the agent and whatever front end drives it.

The LSP server implements it with the editor's buffers, ``workspace/applyEdit`` and approval
requests; the terminal implements it with the disk and stdin. The agent never learns which.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent_core.events import Event


class Decision(enum.Enum):
    ALLOW_ONCE = "allow_once"
    ALLOW_SESSION = "allow_session"
    REJECT = "reject"


@dataclass(frozen=True)
class ProposedEdit:
    """The whole-file change an ``edit_file`` approval is about, for front ends that show a diff
    of their own (an ACP client's diff view) instead of the unified diff in ``detail``."""

    path: Path
    original: str | None  # None: the file is created
    new_text: str


@dataclass(frozen=True)
class PermissionRequest:
    """What the agent wants to do, in words a user can judge. Both texts are already made visible
    (:func:`agent_core.visible_text.visible`): no control, bidi or invisible character is left."""

    tool: str  # "edit_file" or "run_command"
    title: str  # one line, e.g. "Edit src/app.py (+1 -1 lines)" / "Run: pytest -q"
    detail: str  # the whole unified diff, or the whole command line and its working directory
    turn_id: str
    edit: ProposedEdit | None = None  # for edit_file: exactly what the diff in ``detail`` shows


@dataclass(frozen=True)
class PermissionResult:
    decision: Decision
    reason: str | None = None  # given with REJECT, goes back to the model


@dataclass(frozen=True)
class EditResult:
    applied: bool
    reason: str | None = None  # why not: "buffer changed", "rejected by user: ...", client error


class Host(Protocol):
    """What a front end provides to the agent. All methods must be safe to call concurrently."""

    async def read_file(self, path: Path) -> str | None:
        """The editor's current (possibly unsaved) text of ``path``, or None to read the disk."""
        ...

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        """Replace the whole text of ``path`` (None original: create it), already approved.

        ``original`` is the text the agent based the edit on; a host must refuse the edit when
        the file or buffer no longer holds it, so the user's newer text is never clobbered.
        """
        ...

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        """Ask the user; only called when the approval policy for the tool is ``ask``."""
        ...

    def report(self, event: Event) -> None:
        """Show an event (text delta, tool activity, retry, end of turn). Must not block."""
        ...
