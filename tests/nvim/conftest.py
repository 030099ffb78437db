"""Fixtures of the Neovim tests: a sample workspace and editors started in it (see harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.nvim.harness import NVIM, Editor


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every Neovim test with a clear reason when no `nvim` can be found."""
    if NVIM:
        return
    skip = pytest.mark.skip(reason="nvim not found on PATH or next to the Python interpreter")
    for item in items:
        if item.get_closest_marker("nvim"):
            item.add_marker(skip)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small sample project with a git marker so it is its own workspace root."""
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "app.py").write_text("def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n")
    (root / "notes.md").write_text("# Notes\n\nfirst line\nsecond line\n")
    return root


@pytest.fixture
def start_editor(tmp_path: Path) -> Iterator[Callable[[Path], Editor]]:
    """Start a Neovim in a folder; several may be started in turn (they share XDG folders)."""
    editors: list[Editor] = []
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def start(cwd: Path) -> Editor:
        editor = Editor(home, cwd)
        editors.append(editor)
        return editor

    yield start
    for editor in editors:
        editor.quit()


@pytest.fixture
def editor(start_editor: Callable[[Path], Editor], workspace: Path) -> Editor:
    return start_editor(workspace)
