"""How a path inside a workspace is shown to people and to the model: relative to its root.

The tools (what the model reads), the editor's edit labels and refusals, and the inline-edit
prompt all name files the same way, so a path the model saw is the path the user sees.
"""

from __future__ import annotations

from pathlib import Path


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes (``.`` for the root itself), or the
    whole path when it is not inside ``root``. Both are taken as given: resolve them first."""
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return relative or "."
