"""Path confinement: every tool refuses paths outside the workspace, through any route."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_core.tools.workspace import PathRefused, Workspace
from tests.tools.helpers import Tools, allow_all


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace and, next to it, an outside folder with a secret."""
    workspace = tmp_path / "ws"
    outside = tmp_path / "outside"
    (workspace / "src").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    (workspace / "src" / "real.txt").write_text("inside\n")
    return workspace, outside


def test_relative_paths_resolve_inside(layout: tuple[Path, Path]) -> None:
    workspace, _ = layout
    ws = Workspace(workspace)
    assert ws.resolve("src/real.txt") == (workspace / "src/real.txt").resolve()
    assert ws.resolve("src/../src/real.txt") == (workspace / "src/real.txt").resolve()
    assert ws.resolve(str(workspace / "src")) == (workspace / "src").resolve()  # absolute inside is fine
    assert ws.relative(ws.resolve("src/new.txt")) == "src/new.txt"  # need not exist yet


@pytest.mark.parametrize("path", ["..", "../outside/secret.txt", "src/../../outside/secret.txt", "nope/../../x"])
def test_dot_dot_escape_is_refused(layout: tuple[Path, Path], path: str) -> None:
    with pytest.raises(PathRefused, match="outside the workspace"):
        Workspace(layout[0]).resolve(path)


def test_absolute_path_outside_is_refused(layout: tuple[Path, Path]) -> None:
    workspace, outside = layout
    with pytest.raises(PathRefused, match="outside the workspace"):
        Workspace(workspace).resolve(str(outside / "secret.txt"))


def test_escaping_symlinks_are_refused(layout: tuple[Path, Path]) -> None:
    workspace, outside = layout
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    (workspace / "leakdir").symlink_to(outside)
    ws = Workspace(workspace)
    for path in ["leak.txt", "leakdir/secret.txt", "leakdir/new-file.txt"]:
        with pytest.raises(PathRefused, match="symlink"):
            ws.resolve(path)


def test_symlink_inside_is_allowed_and_names_its_target(layout: tuple[Path, Path]) -> None:
    workspace, _ = layout
    (workspace / "alias.txt").symlink_to(workspace / "src" / "real.txt")
    assert Workspace(workspace).resolve("alias.txt") == (workspace / "src" / "real.txt").resolve()


@pytest.mark.parametrize("path", ["", "   "])
def test_empty_path_is_refused_with_advice(layout: tuple[Path, Path], path: str) -> None:
    with pytest.raises(PathRefused, match="empty"):
        Workspace(layout[0]).resolve(path)


async def test_every_tool_refuses_outside_paths_as_error_results(layout: tuple[Path, Path]) -> None:
    workspace, outside = layout
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    tools = Tools(workspace, allow_all())
    calls = [
        ("read_file", {"path": "../outside/secret.txt"}),
        ("read_file", {"path": "leak.txt"}),
        ("list_files", {"path": str(outside)}),
        ("search_text", {"pattern": "secret", "path": ".."}),
        ("edit_file", {"path": "leak.txt", "new_text": "pwned"}),
        ("edit_file", {"path": "../outside/new.txt", "new_text": "pwned"}),
        ("run_command", {"command": "pwd", "cwd": ".."}),
    ]
    for name, arguments in calls:
        outcome = await tools.run(name, **arguments)
        assert outcome.is_error, (name, arguments)
        assert "Refused" in outcome.output and "secret" not in outcome.output.replace("secret.txt", "")
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not (outside / "new.txt").exists()
    assert tools.host.edits == [] and tools.started == []


async def test_search_does_not_follow_escaping_symlinks(layout: tuple[Path, Path]) -> None:
    workspace, outside = layout
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    os.symlink(outside, workspace / "leakdir")
    outcome = await Tools(workspace).run("search_text", pattern="top secret")
    assert not outcome.is_error and outcome.output.startswith("No matches")
