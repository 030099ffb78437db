"""run_command: approval, exit code, head-and-tail output cap, timeout that kills the group."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import agent_core.tools.command as command_module
import agent_core.tools.confinement as confinement
from tests.fakes.doubles import RecordingHost, reject, wait_gone
from tests.tools.helpers import Tools, allow_all


async def test_output_and_exit_code_are_reported(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all())
    ok = await tools.run("run_command", command="echo out; echo err >&2")
    assert not ok.is_error and ok.output == "$ echo out; echo err >&2\nout\nerr\n[exit code 0]"
    failed = await tools.run("run_command", command="echo broken; exit 3")
    assert failed.is_error and failed.output.endswith("broken\n[exit code 3]")


async def test_runs_in_the_workspace_or_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    tools = Tools(tmp_path, allow_all())
    assert f"{tmp_path.resolve()}\n" in (await tools.run("run_command", command="pwd")).output
    assert f"{(tmp_path / 'sub').resolve()}\n" in (await tools.run("run_command", command="pwd", cwd="sub")).output
    missing = await tools.run("run_command", command="pwd", cwd="nowhere")
    assert missing.is_error and "does not exist" in missing.output
    empty = await tools.run("run_command", command="  ")
    assert empty.is_error and "empty" in empty.output


async def test_long_output_keeps_head_and_tail(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all(output_cap=2000))
    outcome = await tools.run("run_command", command="seq 1 100000")
    assert outcome.output.startswith("$ seq 1 100000\n1\n2\n3\n")
    assert "bytes of output omitted" in outcome.output
    assert outcome.output.endswith("99999\n100000\n[exit code 0]")
    assert len(outcome.output) < 2200


async def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all(command_timeout=0.5))
    started = time.monotonic()
    outcome = await tools.run("run_command", command="sleep 30 & echo $! > child.pid; echo started; wait", timeout=60)
    elapsed = time.monotonic() - started
    assert outcome.is_error and "[timed out after 0.5 s" in outcome.output and "started" in outcome.output
    assert elapsed < 5  # the model's 60 s is capped by the configured limit
    assert await wait_gone(int((tmp_path / "child.pid").read_text()))


async def test_processes_left_in_the_background_are_stopped(tmp_path: Path) -> None:
    tools = Tools(tmp_path, allow_all())
    started = time.monotonic()
    outcome = await tools.run("run_command", command="sleep 30 & echo $! > child.pid")
    assert not outcome.is_error and time.monotonic() - started < 5
    assert await wait_gone(int((tmp_path / "child.pid").read_text()))


async def test_rejected_command_is_not_run_and_the_reason_is_returned(tmp_path: Path) -> None:
    host = RecordingHost(decisions=[reject("do not touch the network")])
    tools = Tools(tmp_path, host=host)
    outcome = await tools.run("run_command", command="touch ran")
    assert outcome.is_error and "do not touch the network" in outcome.output
    assert not (tmp_path / "ran").exists() and tools.started == []
    request = host.permission_requests[0]
    assert (
        request.title == "Run: touch ran" and "touch ran" in request.detail and "Working directory: ." in request.detail
    )


ESCAPE = "setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' & until [ -s escaped.pid ]; do :; done; echo done"


async def test_a_process_that_escaped_the_group_cannot_hang_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command_module, "DRAIN_TIMEOUT", 0.2)
    # Where no cgroup can be made (test_command_limits.py shows the cgroup killing the escapee).
    monkeypatch.setattr(confinement, "own_cgroup_dir", lambda: None)
    tools = Tools(tmp_path, allow_all())
    # setsid puts the sleep in its own session, out of reach of the group kill; it keeps stdout
    # open. The command waits until the escapee is in place before it ends.
    outcome = await tools.run("run_command", command=ESCAPE)
    escaped = int((tmp_path / "escaped.pid").read_text())
    try:
        assert not outcome.is_error and "done" in outcome.output
        assert "output pipe still held open" in outcome.output
    finally:
        os.kill(escaped, signal.SIGKILL)
