"""run_command's confinement: rlimits in every process it starts, and a cgroup that leaves no escapee.

Killing the process group misses a process that left it (``setsid -f``), and a command could fork
or allocate without bound. Each command now runs with rlimits set by ``commandLimits`` and, where
this process may create a cgroup (v2), in a cgroup of its own that is killed as a whole.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import agent_core.tools.confinement as confinement
from tests.fakes.doubles import process_gone, wait_gone
from tests.tools.helpers import Tools, allow_all

SHOW_LIMITS = (
    f"{sys.executable} -c 'import json, resource as r; print(json.dumps("
    '{n: r.getrlimit(getattr(r, n))[0] for n in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_NPROC")}))\''
)
#: Start an escapee in a session of its own, wait until it wrote its pid, then end the command.
ESCAPE = (
    "setsid -f sh -c 'echo $$ > esc.tmp; mv esc.tmp esc.pid; exec sleep 300'; "
    "while [ ! -f esc.pid ]; do sleep 0.01; done"
)


def limits_of(output: str) -> dict[str, int]:
    return json.loads(output.splitlines()[1])  # type: ignore[no-any-return]


@pytest.fixture
def escapees(tmp_path: Path) -> Iterator[list[int]]:
    """Pids to kill after the test, should the code under test have left them alive."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)


async def test_the_configured_rlimits_are_in_force_in_the_command(tmp_path: Path) -> None:
    tools = Tools(
        tmp_path,
        allow_all(command_timeout=30, command_limits={"max_memory_mb": 3000, "max_file_mb": 100, "max_processes": 500}),
    )
    outcome = await tools.run("run_command", command=SHOW_LIMITS)
    assert not outcome.is_error, outcome.output
    limits = limits_of(outcome.output)
    assert limits["RLIMIT_AS"] == 3000 * 2**20
    assert limits["RLIMIT_FSIZE"] == 100 * 2**20
    assert limits["RLIMIT_CPU"] == 30 * (os.cpu_count() or 1)  # only a process that outlived the command can reach it
    # RLIMIT_NPROC counts every task of the user: what runs already plus what the command may add.
    assert 500 < limits["RLIMIT_NPROC"] != resource.RLIM_INFINITY


async def test_the_defaults_and_zero_for_no_limit(tmp_path: Path) -> None:
    defaults = limits_of((await Tools(tmp_path, allow_all()).run("run_command", command=SHOW_LIMITS)).output)
    assert defaults["RLIMIT_AS"] == 8192 * 2**20 and defaults["RLIMIT_FSIZE"] == 4096 * 2**20
    unlimited = Tools(tmp_path, allow_all(command_limits={"max_memory_mb": 0, "max_file_mb": 0, "max_processes": 0}))
    limits = limits_of((await unlimited.run("run_command", command=SHOW_LIMITS)).output)
    assert limits["RLIMIT_AS"] == resource.getrlimit(resource.RLIMIT_AS)[0]
    assert limits["RLIMIT_FSIZE"] == resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    assert limits["RLIMIT_NPROC"] == resource.getrlimit(resource.RLIMIT_NPROC)[0]


async def test_a_memory_hog_fails_inside_its_limit(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all(command_limits={"max_memory_mb": 200}))
    outcome = await tools.run("run_command", command=f"{sys.executable} -c 'x = bytearray(400 * 2**20)'")
    assert outcome.is_error and "MemoryError" in outcome.output


def cgroup_possible() -> bool:
    probe = confinement.create_cgroup()
    if probe is not None:
        confinement.remove_cgroup(probe)
    return probe is not None


needs_cgroup = pytest.mark.skipif(not cgroup_possible(), reason="this process may not create a cgroup (v2) here")


@needs_cgroup
async def test_an_escapee_that_left_the_process_group_is_killed(tmp_path: Path, escapees: list[int]) -> None:
    outcome = await Tools(tmp_path, allow_all()).run("run_command", command=ESCAPE)
    escapees.append(int((tmp_path / "esc.pid").read_text()))
    assert not outcome.is_error, outcome.output
    assert await wait_gone(*escapees)


@needs_cgroup
async def test_a_timeout_kills_the_escapee_too(tmp_path: Path, escapees: list[int]) -> None:
    outcome = await Tools(tmp_path, allow_all(command_timeout=2)).run("run_command", command=ESCAPE + "; sleep 60")
    escapees.append(int((tmp_path / "esc.pid").read_text()))
    assert outcome.is_error and "timed out" in outcome.output
    assert await wait_gone(*escapees)


@needs_cgroup
async def test_the_cgroup_is_removed_after_the_command(tmp_path: Path) -> None:
    outcome = await Tools(tmp_path, allow_all()).run("run_command", command="cat /proc/self/cgroup")
    line = next(line for line in outcome.output.splitlines() if line.startswith("0::"))
    name = line.rsplit("/", 1)[1]
    assert name.startswith(f"agent-lsp-{os.getpid()}-")
    base = confinement.own_cgroup_dir()
    assert base is not None and not (base / name).exists()


async def test_without_a_cgroup_the_rlimits_still_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confinement, "own_cgroup_dir", lambda: None)
    tools = Tools(tmp_path, allow_all(command_limits={"max_memory_mb": 3000}))
    outcome = await tools.run("run_command", command=SHOW_LIMITS)
    assert not outcome.is_error and limits_of(outcome.output)["RLIMIT_AS"] == 3000 * 2**20
