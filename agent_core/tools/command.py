"""``run_command``: a shell command in the workspace, approved, bounded in time and output.

The command starts in its own process group (a new session), so a timeout or a cancel kills it
*and* everything it started (``pytest`` workers, a dev server spawned by a script) with one
signal, and where possible in a cgroup of its own that catches what left the group, with rlimits
on every process (``confinement.py``); the kill is immediate so a cancel ends the tool within the
loop's 100 ms promise. The command's environment lacks the provider API keys. Output
(stdout and stderr interleaved, as a terminal shows them) is kept as its head and tail up to
``config.output_cap``, read as it arrives so a chatty command cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from asyncio.subprocess import Process
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydantic import Field

from agent_core.config import AgentConfig
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolOutcome
from agent_core.tools.confinement import create_cgroup, kill_cgroup, launcher_argv, remove_cgroup
from agent_core.tools.errors import ToolError

#: How long the output pipe may stay open after the command exited (a background grandchild
#: that left the process group can hold it); then the output read so far is returned.
DRAIN_TIMEOUT = 2.0
#: Environment so commands do not wait for a pager or a terminal that is not there.
QUIET_ENV = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


class RunCommandArgs(ToolArgs):
    command: str = Field(description="Shell command line, run with /bin/sh in the workspace.")
    cwd: str = Field(".", description="Working folder relative to the workspace root. Default: the root.")
    timeout: float | None = Field(
        None, gt=0, description="Seconds before the command is killed (at most the configured limit)."
    )


class RunCommand(Tool):
    name = "run_command"
    description = (
        "Run a shell command in the workspace and get its exit code and output (stdout and stderr "
        "together; long output keeps its beginning and end). Needs the user's approval. No input "
        "can be typed: use non-interactive flags. Processes it leaves running are stopped when it ends."
    )
    brief = "Run a shell command in the project; returns its exit code and output."
    args = RunCommandArgs

    async def run(self, args: RunCommandArgs, ctx: ToolContext) -> ToolOutcome:
        command = args.command.strip()
        if not command:
            raise ToolError("The command is empty.")
        cwd = ctx.workspace.resolve(args.cwd)
        shown_cwd = ctx.workspace.relative(cwd)
        if not cwd.is_dir():
            raise ToolError(f"The working folder {shown_cwd} does not exist or is not a folder.")
        limit = ctx.config.command_timeout
        timeout = min(args.timeout, limit) if args.timeout else limit
        detail = f"{command}\n\nWorking directory: {shown_cwd} (workspace {ctx.workspace.root})"
        approval = await ctx.approvals.check(self.name, _title(command), detail, ctx.turn_id)
        if not approval.allowed:
            raise ToolError(f"The command was not run. {approval.message}")
        ctx.started()
        checkpoint = ctx.checkpoint
        before = await checkpoint.before_command(ctx.workspace) if checkpoint is not None else None
        output = HeadTail(ctx.config.output_cap)
        limits = ctx.config.command_limits
        cgroup = create_cgroup(limits)
        try:
            argv = launcher_argv(command, cgroup, limits, timeout)
            process, timed_out = await _run(
                argv, cwd, command_env(ctx.config), timeout, output, partial(_kill, cgroup=cgroup)
            )
        except asyncio.CancelledError:
            if checkpoint is not None:
                checkpoint.after_cancelled_command(ctx.workspace, before)
            raise
        finally:
            if cgroup is not None:
                remove_cgroup(cgroup)
        if checkpoint is not None:
            await checkpoint.after_command(ctx.workspace, before)

        text = output.text()
        body = f"$ {command}\n{text}" + ("" if not text or text.endswith("\n") else "\n")
        if timed_out:
            return ToolOutcome(
                body + f"[timed out after {timeout:g} s; the command and its child processes were killed]", True
            )
        code = process.returncode
        if code is not None and code < 0:
            return ToolOutcome(body + f"[killed by signal {-code}]", True)
        return ToolOutcome(body + f"[exit code {code}]", code != 0)


def _title(command: str) -> str:
    """One line for the approval's title: the command's first line (cut at 80 characters) and how
    many lines follow it; the approval's detail always holds the whole command."""
    first, *rest = command.split("\n")
    title = f"Run: {first}" if len(first) <= 80 else f"Run: {first[:77]}..."
    return f"{title} (+{len(rest)} more lines)" if rest else title


def command_env(config: AgentConfig) -> dict[str, str]:
    """The server's environment without the provider API keys, plus :data:`QUIET_ENV`.
    A command's output goes into the session and to the provider, so a key a command could
    print (``env``) would travel to every provider; a hostile script could send it anywhere."""
    secret = config.key_env_names()
    return {**{name: value for name, value in os.environ.items() if name not in secret}, **QUIET_ENV}


async def _run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, output: HeadTail, kill: Callable[[Process], None]
) -> tuple[Process, bool]:
    """Run the command to its end or its timeout, its output into ``output``; then (or on cancel)
    ``kill`` everything it started. Returns the process and whether it timed out."""
    process, pipe, transport = await _start(argv, cwd, env, kill)
    reader = asyncio.create_task(_pump(pipe, output))
    try:
        try:
            await asyncio.wait_for(process.wait(), timeout)
            timed_out = False
        except TimeoutError:
            timed_out = True
        except BaseException:  # cancelled: kill at once, never wait for the command
            kill(process)
            reader.cancel()
            raise
        kill(process)  # the command ended or timed out: nothing it started may live on
        await process.wait()
        try:
            await asyncio.wait_for(reader, DRAIN_TIMEOUT)
        except TimeoutError:
            output.note("[output pipe still held open by a process outside the command's group; output cut here]")
    finally:
        transport.close()
    return process, timed_out


async def _start(
    argv: list[str], cwd: Path, env: dict[str, str], kill: Callable[[Process], None]
) -> tuple[Process, asyncio.StreamReader, asyncio.ReadTransport]:
    """Start the command (``argv``: the launcher, see confinement.py) in its own process group,
    its stdout and stderr on one pipe we read; ``kill`` ends it and all it started.

    The pipe is ours rather than asyncio's because asyncio's ``Process.wait()`` also waits for
    its pipes to close, which a background child holding them would delay until it exits.
    A cancel can land while the process is starting; asyncio alone would then kill only the shell
    and leave its children running, so the start is shielded and, when abandoned, the whole group
    is killed (and the pipe closed) as soon as the process exists.
    """
    read_fd, write_fd = os.pipe()
    abandoned = False

    def on_started(task: asyncio.Future[Process]) -> None:
        os.close(write_fd)  # the child has its own copy; ours would keep the pipe open forever
        ok = not task.cancelled() and task.exception() is None
        if abandoned or not ok:
            os.close(read_fd)
        if abandoned and ok:
            kill(task.result())

    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_fd,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    )
    starting.add_done_callback(on_started)
    try:
        process = await asyncio.shield(starting)
    except asyncio.CancelledError:
        if not starting.done():
            abandoned = True  # on_started cleans up once the process exists
        elif not starting.cancelled() and starting.exception() is None:
            kill(starting.result())  # started, but we were cancelled before resuming
            os.close(read_fd)
        raise
    pipe = asyncio.StreamReader()
    try:
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(pipe), os.fdopen(read_fd, "rb", 0)
        )
    except BaseException:
        kill(process)
        raise
    return process, pipe, transport


def _kill(process: Process, cgroup: Path | None) -> None:
    """SIGKILL the command's whole process group, and its cgroup (escapees too) if it has one;
    a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        kill_cgroup(cgroup)


async def _pump(stream: asyncio.StreamReader, output: HeadTail) -> None:
    while chunk := await stream.read(65536):
        output.add(chunk)


class HeadTail:
    """Keeps the first and last ``cap // 2`` bytes of a stream of any length."""

    def __init__(self, cap: int) -> None:
        self._half = cap // 2
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._notes: list[str] = []

    def add(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    def note(self, text: str) -> None:
        self._notes.append(text)

    def text(self) -> str:
        kept = len(self._head) + len(self._tail)
        if kept == self._total:
            text = (self._head + self._tail).decode("utf-8", errors="replace")
        else:
            omitted = self._total - kept
            head = self._head.decode("utf-8", errors="replace")
            tail = self._tail.decode("utf-8", errors="replace")
            text = f"{head}\n[... {omitted} bytes of output omitted ...]\n{tail}"
        return "\n".join([text, *self._notes]) if self._notes else text
