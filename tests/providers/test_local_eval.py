"""The eval of bench/local_model.py scores what happened, so it can fail: each check against a
good and a bad outcome (the model itself is not needed for this)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent_core.messages import ToolCall

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.local_eval import TASKS, make_workspace

BY_NAME = {task.name: task for task in TASKS}


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(id="c", name=name, arguments=arguments)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    return tmp_path


def test_ten_tasks_of_every_kind() -> None:
    assert len(TASKS) == 10 and len(BY_NAME) == 10


def test_answers_are_scored_on_the_tools_used_and_the_facts(root: Path) -> None:
    listing = BY_NAME["list"].check
    assert listing(root, "README.md, pyproject.toml and src/", [call("list_files", path=".")])[0]
    assert not listing(root, "README.md, pyproject.toml and src/", [])[0]  # guessed, no tool
    assert not listing(root, "There are some files.", [call("list_files")])[0]
    explain = BY_NAME["explain a function"].check
    assert explain(root, "It returns the area of a circle.", [call("read_file", path="./src/geometry.py")])[0]
    assert not explain(root, "It returns the area of a circle.", [call("read_file", path="src/billing.py")])[0]
    version = BY_NAME["read a value"].check
    assert version(root, "Version 3.7.1.", [call("read_file", path="pyproject.toml")])[0]
    assert not version(root, "Version 3.7.0.", [call("read_file", path="pyproject.toml")])[0]


def test_edits_are_scored_on_the_files_on_disk(root: Path) -> None:
    greeting, double = BY_NAME["small edit"].check, BY_NAME["add a function"].check
    assert not greeting(root, "Done.", [])[0]  # claimed, not done
    (root / "src/greeting.py").write_text('def greet(name):\n    return "Howdy, " + name + "!"\n')
    assert greeting(root, "Done.", [])[0]
    assert not double(root, "Done.", [])[0]
    (root / "src/mathx.py").write_text("def square(x):\n    return x * x\n\n\ndef double(x):\n    return x * 2\n")
    assert double(root, "Done.", [])[0]
    (root / "src/mathx.py").write_text("def double(x) return x * 2\n")
    assert not double(root, "Done.", [])[0]
