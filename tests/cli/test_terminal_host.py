"""TerminalHost in-process: where each event is printed, safe edits on disk, approvals asked on
the terminal or refused without one."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pytest

from agent_cli.terminal import TerminalHost
from agent_core.atomic import write_atomic
from agent_core.events import Notice, RetryScheduled, TextDelta, ToolFinished, ToolStarted
from agent_core.host import Decision, PermissionRequest
from agent_core.messages import ToolCall

REQUEST = PermissionRequest(tool="run_command", title="Run: make test", detail="make test\n(in .)", turn_id="t1")


def host(interactive: bool = False) -> tuple[TerminalHost, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return TerminalHost(out, err, interactive=interactive), out, err


def test_reply_on_stdout_activity_on_stderr() -> None:
    terminal, out, err = host()
    terminal.report(TextDelta(text="Hello, "))
    terminal.report(ToolStarted(call=ToolCall(id="1", name="read_file", arguments={"path": "a.py"})))
    terminal.report(ToolFinished(call_id="1", name="read_file", output="line one\nline two", is_error=False))
    terminal.report(RetryScheduled(attempt=2, max_attempts=3, delay=0.5, reason="server overloaded (529)"))
    terminal.report(Notice(level="warning", text="careful"))
    terminal.report(TextDelta(text="world"))
    terminal.end_line()
    assert out.getvalue() == "Hello, \nworld\n"  # the open line is ended before stderr output
    assert err.getvalue().splitlines() == [
        '[tool] read_file {"path": "a.py"}',
        "[tool] read_file done: line one line two",
        "[retry] attempt 2/3 in 0.5s: server overloaded (529)",
        "[warning] careful",
    ]


def test_command_output_goes_to_stdout_and_errors_are_one_line() -> None:
    terminal, out, err = host()
    terminal.command_mode = True
    terminal.report(Notice(level="info", text="Sessions:\n* abc"))
    terminal.report(Notice(level="error", text="No session\nwith that id"))
    assert out.getvalue() == "Sessions:\n* abc\n"
    assert err.getvalue() == "agent-lsp: error: No session with that id\n"
    assert terminal.errors_shown == ["No session with that id"]


async def test_edits_are_written_whole_and_refused_when_the_file_changed(tmp_path: Path) -> None:
    terminal, _, _ = host()
    target = tmp_path / "app.py"
    target.write_text("old\r\n")
    target.chmod(0o754)
    refused = await terminal.apply_edit(target, "something else", "new\n")
    assert not refused.applied and "changed on disk" in (refused.reason or "")
    assert target.read_bytes() == b"old\r\n"
    applied = await terminal.apply_edit(target, "old\r\n", "new\r\n")
    assert applied.applied and target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o754  # permissions kept
    created = await terminal.apply_edit(tmp_path / "pkg" / "new.py", None, "x = 1\n")
    assert created.applied and (tmp_path / "pkg" / "new.py").read_text() == "x = 1\n"
    exists = await terminal.apply_edit(target, None, "clobber")
    assert not exists.applied and target.read_bytes() == b"new\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py", "pkg"]  # no temp files left


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("precious")

    class Boom(Exception):
        pass

    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise Boom()

    os.fsync = failing_fsync  # type: ignore[assignment]
    try:
        with pytest.raises(Boom):
            write_atomic(target, b"half", mode=None)
    finally:
        os.fsync = real_fsync
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


async def test_without_a_terminal_permission_is_refused_with_the_way_out() -> None:
    terminal, _, err = host(interactive=False)
    result = await terminal.ask_permission(REQUEST)
    assert result.decision == Decision.REJECT and "--yes" in (result.reason or "")
    assert "[denied] Run: make test" in err.getvalue()


@pytest.mark.parametrize(
    ("answer", "decision", "reason"),
    [
        ("y\n", Decision.ALLOW_ONCE, None),
        ("a\n", Decision.ALLOW_SESSION, None),
        ("n use the venv\n", Decision.REJECT, "use the venv"),
        ("\n", Decision.REJECT, None),
    ],
)
async def test_on_a_terminal_the_user_is_asked(
    monkeypatch: pytest.MonkeyPatch, answer: str, decision: Decision, reason: str | None
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    terminal, _, err = host(interactive=True)
    result = await terminal.ask_permission(REQUEST)
    assert (result.decision, result.reason) == (decision, reason)
    assert "Run: make test" in err.getvalue() and "make test\n(in .)" in err.getvalue()
