"""Where a workspace's sessions folder may be, checked before the store reads or writes there.

Two rules, each closing a way a setting or a repository could turn the store against the user:

* The folder is not the workspace root, an ancestor of it, or inside a ``.git`` folder. The store
  marks its folder private with a ``.gitignore`` of ``*`` and fills it with its own files: in the
  root that would hide every file of the project from git, and ``.git`` belongs to git alone.
* No symbolic link lies on the way from the workspace to the folder (``.agent-lsp`` or
  ``sessions`` shipped by a repository as a link): transcripts would be written wherever the
  link points. The folder is refused, never followed; files inside it are opened with
  ``O_NOFOLLOW`` (see :mod:`agent_core.sessions.nofollow`).

The check runs before every operation, so a link created while the agent runs is refused at the
next one; a swap between the check and a write needs someone already able to change the
workspace as the user.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent_core.sessions.errors import SessionError

#: What the refusals suggest instead.
DEFAULT_HINT = "use a folder of its own, such as .agent-lsp/sessions (the default)"


def resolve_folder(workspace: Path, setting: str) -> Path:
    """The folder a ``sessions.folder`` setting names: relative to the workspace, or absolute,
    with ``~`` expanded and ``..`` collapsed (links are not resolved: they are refused)."""
    folder = Path(setting).expanduser()
    if not folder.is_absolute():
        folder = workspace / folder
    folder = Path(os.path.normpath(folder))
    if not folder.is_relative_to(workspace):
        # Outside the workspace only the folder itself must not be a link (check_folder); the
        # folders above it are the user's own (a home reached through a link, macOS's /tmp).
        # Files are written through descriptors opened from / without following any link
        # (agent_core.atomic), so those are resolved here, once.
        folder = _resolved(folder.parent) / folder.name
    return folder


def check_folder(workspace: Path, folder: Path, setting: str) -> None:
    """Raise :class:`SessionError` when the sessions may not live in ``folder`` (see the module
    docstring); ``setting`` is how the user wrote it, for the message."""
    for candidate in {folder, _resolved(folder)}:
        if candidate == workspace:
            raise SessionError(
                f"sessions.folder {setting!r} is the workspace root; the store would mark every "
                f"file of the project private to git. Sessions are not saved: {DEFAULT_HINT}"
            )
        if workspace.is_relative_to(candidate):
            raise SessionError(
                f"sessions.folder {setting!r} contains the workspace ({candidate}); the store would "
                f"mark every file of the project private to git. Sessions are not saved: {DEFAULT_HINT}"
            )
        if any(part.lower() == ".git" for part in candidate.parts):
            raise SessionError(
                f"sessions.folder {setting!r} is inside a .git folder, which belongs to git alone. "
                f"Sessions are not saved: {DEFAULT_HINT}"
            )
    link = first_link(workspace, folder)
    if link is not None:
        shown = link.relative_to(workspace).as_posix() if link.is_relative_to(workspace) else str(link)
        raise SessionError(
            f"the sessions folder goes through a symbolic link ({shown}); agent-lsp never follows "
            "links there (a repository could point one outside the workspace), so sessions are "
            "not saved or read. Remove the link, or set sessions.folder to a real folder"
        )


def first_link(workspace: Path, folder: Path) -> Path | None:
    """The first symbolic link on the way from ``workspace`` down to ``folder`` (only ``folder``
    itself when it lies outside the workspace), or None. Stops at the first missing part."""
    steps = [folder]
    if folder.is_relative_to(workspace):
        parts = folder.relative_to(workspace).parts
        steps = [workspace.joinpath(*parts[:n]) for n in range(1, len(parts) + 1)]
    for step in steps:
        if step.is_symlink():
            return step
        if not step.exists():
            return None
    return None


def _resolved(folder: Path) -> Path:
    try:
        return folder.resolve()
    except (OSError, RuntimeError):  # a link loop: the link check below reports it
        return folder
