"""The terminal as an agent :class:`~agent_core.host.Host`: the reply on stdout, the rest on stderr.

The reply streams to stdout as it arrives (one flush per delta, so a pipe sees it live); tool
activity, retries and notices go to stderr, so ``agent-lsp chat ... > answer.md`` captures only
the answer. While a slash command runs, its output is the answer and goes to stdout. Edits and
commands are asked about on the terminal when stdin is one; without a terminal they are refused
with a message saying to pass ``--yes``. The command line itself is :mod:`agent_cli.chat`.

A terminal obeys control characters, so nothing from the model, a file or a command's output
reaches it raw: everything on stderr, and the reply when stdout is a terminal, goes through
:func:`~agent_core.visible_text.visible` (an escape sequence or a carriage return that would
overwrite the approval question is shown as ``\x1b`` / ``\r`` instead). A reply redirected to a
file is written as the model sent it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from agent_core.disk_edit import apply_edit_on_disk
from agent_core.events import (
    Event,
    Notice,
    RetryScheduled,
    TextDelta,
    ToolFinished,
    ToolStarted,
)
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult
from agent_core.mcp.trust import TRUST_TOOL
from agent_core.text import one_line
from agent_core.visible_text import visible

#: Characters of tool arguments and output shown per line on stderr.
SHOWN = 200


class TerminalHost:
    """A :class:`~agent_core.host.Host` on the disk and the terminal."""

    def __init__(self, out: TextIO, err: TextIO, *, interactive: bool) -> None:
        self.out = out
        self.err = err
        self.interactive = interactive
        #: While a slash command runs, its (info) output is the answer and goes to stdout.
        self.command_mode = False
        self.errors_shown: list[str] = []
        self._line_open = False
        #: A reply on a terminal is made visible like everything else; in a file it stays as sent.
        self._out_shown = out.isatty()

    # -- Host ----------------------------------------------------------------------------------

    async def read_file(self, path: Path) -> str | None:
        return None  # the disk is the truth here; tools read it themselves

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        """Write the whole new text atomically, unless the file changed since it was read."""
        return apply_edit_on_disk(path, original, new_text)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        if not self.interactive:
            if request.tool == TRUST_TOOL:
                reason = (
                    "there is no terminal to ask whether to trust them; run agent-lsp chat on a terminal once "
                    "and answer [a], or name your servers with --mcp-config"
                )
            else:
                reason = (
                    "there is no terminal to ask for approval; run agent-lsp chat with --yes to allow edits "
                    "and commands"
                )
            self._err(f"[denied] {request.title}: {reason}")
            return PermissionResult(Decision.REJECT, reason)
        self._err(f"\n{request.title}\n{request.detail}")
        answer = (
            await read_line("Allow? [y] once, [a] for this session, [n] no (optionally: n REASON): ", self.err)
        ).strip()
        word, _, reason = answer.partition(" ")
        if word.lower() in ("y", "yes"):
            return PermissionResult(Decision.ALLOW_ONCE)
        if word.lower() in ("a", "always"):
            return PermissionResult(Decision.ALLOW_SESSION)
        return PermissionResult(Decision.REJECT, reason.strip() or None)

    def report(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._write_out(event.text)
            self._line_open = not event.text.endswith("\n")
        elif isinstance(event, ToolStarted):
            arguments = json.dumps(event.call.arguments, ensure_ascii=False)
            self._err(f"[tool] {event.call.name} {one_line(arguments, SHOWN)}")
        elif isinstance(event, ToolFinished):
            status = "failed" if event.is_error else "done"
            self._err(f"[tool] {event.name} {status}: {one_line(event.output, SHOWN)}")
        elif isinstance(event, RetryScheduled):
            self._err(f"[retry] attempt {event.attempt}/{event.max_attempts} in {event.delay:.1f}s: {event.reason}")
        elif isinstance(event, Notice):
            self._notice(event)

    # -- output --------------------------------------------------------------------------------

    def _notice(self, notice: Notice) -> None:
        if notice.level == "error":
            line = shown_line(notice.text)
            self.errors_shown.append(line)
            self._err(f"agent-lsp: error: {line}")
        elif self.command_mode and notice.level == "info":
            self.end_line()
            self._write_out(notice.text.rstrip("\n") + "\n")
        else:
            self._err(f"[{notice.level}] {notice.text}")

    def _write_out(self, text: str) -> None:
        self.out.write(visible(text) if self._out_shown else text)
        self.out.flush()

    def _err(self, text: str) -> None:
        self.end_line()
        self.err.write(visible(text) + "\n")
        self.err.flush()

    def end_line(self) -> None:
        """Finish a streamed reply's last line, so the next output starts on a fresh one."""
        if self._line_open:
            self.out.write("\n")
            self.out.flush()
            self._line_open = False


def shown_line(text: str) -> str:
    """``text`` on one visible line (runs of whitespace become one space), for stderr."""
    return visible(one_line(text), multiline=False)


async def read_line(prompt: str, err: TextIO) -> str:
    """Read one line of stdin without blocking the event loop. A daemon thread, not the default
    executor: a pending ``input()`` must never keep the process alive after a signal."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not future.done():  # the turn may have been cancelled meanwhile
            future.set_result(line)

    def work() -> None:
        loop.call_soon_threadsafe(deliver, sys.stdin.readline())

    err.write(prompt)
    err.flush()
    threading.Thread(target=work, daemon=True, name="agent-lsp-stdin").start()
    return await future
