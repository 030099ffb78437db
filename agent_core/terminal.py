"""``agent-lsp chat``: one turn of the agent from a terminal, in a workspace on disk.

The reply streams to stdout as it arrives (one flush per delta, so a pipe sees it live); tool
activity, retries and notices go to stderr, so ``agent-lsp chat ... > answer.md`` captures only
the answer. The workspace's latest session is continued unless ``--new`` or ``--session ID``
says otherwise, and a prompt that is a slash command (``/session``) is handled as one, its output
on stdout. Edits and commands are asked about on the terminal when stdin is one; without a
terminal they are refused with a message saying to pass ``--yes``. Any failure exits non-zero with
one clear line on stderr.

A terminal obeys control characters, so nothing from the model, a file or a command's output
reaches it raw: everything on stderr, and the reply when stdout is a terminal, goes through
:func:`~agent_core.visible_text.visible` (an escape sequence or a carriage return that would
overwrite the approval question is shown as ``\x1b`` / ``\r`` instead). A reply redirected to a
file is written as the model sent it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from agent_core.agent import Agent
from agent_core.commands import CommandError, is_command, resolve_id
from agent_core.config import AgentConfig, ConfigError
from agent_core.events import (
    Event,
    Notice,
    RetryScheduled,
    TextDelta,
    ToolFinished,
    ToolStarted,
)
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult
from agent_core.sessions import SessionError
from agent_core.shutdown import ShutdownHandler
from agent_core.tools.atomic_write import write_file_atomic
from agent_core.tools.files import MAX_FILE_BYTES
from agent_core.tools.textfiles import read_regular
from agent_core.visible_text import visible

PROG = "agent-lsp chat"
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
        try:
            data: bytes | None = read_regular(path, MAX_FILE_BYTES)
        except FileNotFoundError:
            data = None
        except OSError as error:
            return EditResult(False, f"cannot read {path.name}: {error.strerror or error}")
        current = None if data is None else data.decode("utf-8", errors="replace")
        if current != original:
            if original is None:
                return EditResult(False, "the file was created by someone else meanwhile")
            if current is None:
                return EditResult(False, "the file was deleted since it was read")
            return EditResult(False, "the file changed on disk since it was read")
        try:
            write_file_atomic(path, new_text.encode("utf-8"))
        except OSError as error:
            return EditResult(False, f"cannot write {path.name}: {error.strerror}")
        return EditResult(True)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        if not self.interactive:
            reason = "there is no terminal to ask for approval; run agent-lsp chat with --yes to allow edits and commands"
            self._err(f"[denied] {request.title}: {reason}")
            return PermissionResult(Decision.REJECT, reason)
        self._err(f"\n{request.title}\n{request.detail}")
        answer = (await read_line("Allow? [y] once, [a] for this session, [n] no (optionally: n REASON): ", self.err)).strip()
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
            self._err(f"[tool] {event.call.name} {_short(arguments)}")
        elif isinstance(event, ToolFinished):
            status = "failed" if event.is_error else "done"
            self._err(f"[tool] {event.name} {status}: {_short(event.output)}")
        elif isinstance(event, RetryScheduled):
            self._err(f"[retry] attempt {event.attempt}/{event.max_attempts} in {event.delay:.1f}s: {event.reason}")
        elif isinstance(event, Notice):
            self._notice(event)

    # -- output --------------------------------------------------------------------------------

    def _notice(self, notice: Notice) -> None:
        if notice.level == "error":
            line = one_line(notice.text)
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


def _short(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def one_line(text: str) -> str:
    """``text`` on one visible line (runs of whitespace become one space)."""
    return visible(" ".join(text.split()), multiline=False)


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


# -- the command line ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run one agent turn in a workspace from the terminal. The reply goes to stdout; "
        "tool activity, retries and notices to stderr. A prompt starting with / is a command (/help).",
    )
    parser.add_argument("--provider", choices=["openai", "anthropic", "local"], help="default: from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY), else the local model")
    parser.add_argument("--base-url", help="the provider's base URL (e.g. a local OpenAI-compatible server)")
    parser.add_argument("--model", help="the model name")
    parser.add_argument("--max-tokens", type=int, help="the longest reply, in tokens (default 4096)")
    parser.add_argument("--workspace", default=".", help="the workspace folder (default: the current folder)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--new", action="store_true", help="start a new session instead of continuing the latest")
    which.add_argument("--session", metavar="ID", help="continue this session (an id prefix is enough)")
    parser.add_argument("--yes", action="store_true", help="allow edits and commands without asking")
    parser.add_argument("prompt", nargs="*", help="the prompt (read from stdin when omitted and stdin is not a terminal)")
    return parser


class ChatFailed(Exception):
    """A problem that ends ``chat`` before or instead of a turn; exit status 1 (2: usage)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def main(argv: list[str]) -> int:
    """Run ``agent-lsp chat`` with ``argv`` (the arguments after ``chat``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        prompt = " ".join(args.prompt).strip()
        if not prompt and not sys.stdin.isatty():
            prompt = sys.stdin.read().strip()
        if not prompt:
            raise ChatFailed("no prompt given; try: agent-lsp chat \"explain this project\" (or /help)", 2)
        workspace = Path(args.workspace).expanduser().resolve()
        if not workspace.is_dir():
            raise ChatFailed(f"the workspace {args.workspace} is not a folder", 2)
        config = _config(args)
        return asyncio.run(_chat(args, prompt, workspace, config))
    except ChatFailed as failure:
        sys.stderr.write(f"agent-lsp: error: {one_line(str(failure))}\n")
        return failure.status


def _config(args: argparse.Namespace) -> AgentConfig:
    settings: dict[str, object] = {"provider": args.provider, "model": args.model, "base_url": args.base_url}
    if args.max_tokens is not None:
        settings["max_tokens"] = args.max_tokens
    if args.yes:
        settings["approval"] = {"edit_file": "allow", "run_command": "allow"}
    try:
        return AgentConfig.model_validate(settings)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ChatFailed(f"bad setting: {problems}", 2) from None


async def _chat(args: argparse.Namespace, prompt: str, workspace: Path, config: AgentConfig) -> int:
    host = TerminalHost(sys.stdout, sys.stderr, interactive=sys.stdin.isatty())
    agent = Agent(workspace, config, host)
    try:
        with ShutdownHandler(agent) as shutdown:
            try:
                if args.new:
                    agent.new_session()
                elif args.session:
                    ids = [info.id for info in agent.list_sessions()]
                    agent.load_session(resolve_id(ids, args.session, "--session ID"))
                else:
                    agent.restore()
                host.command_mode = is_command(prompt)
                ended = await agent.submit(prompt)
            except asyncio.CancelledError:
                if shutdown.exit_code is None:
                    raise
                return shutdown.exit_code
            except (SessionError, ConfigError, CommandError, OSError) as error:
                raise ChatFailed(str(error)) from None
            host.end_line()
            if shutdown.exit_code is not None:
                return shutdown.exit_code
            if ended.stop_reason == "error":
                message = one_line(ended.error or "the turn failed")
                if message not in host.errors_shown:
                    sys.stderr.write(f"agent-lsp: error: {message}\n")
                return 1
            if ended.stop_reason in ("max_rounds", "max_tokens"):
                host.report(Notice(level="warning", text=f"The turn stopped early ({ended.stop_reason.replace('_', ' ')})."))
            return 0
    finally:
        await agent.aclose()
