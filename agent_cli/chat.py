"""``agent-lsp chat``: one turn of the agent from a terminal, in a workspace on disk.

The workspace's latest session is continued unless ``--new`` or ``--session ID`` says otherwise,
and a prompt that is a slash command (``/session``) is handled as one, its output on stdout (see
:class:`~agent_cli.terminal.TerminalHost` for what goes where). SIGINT/SIGTERM cancel the turn and
save it (:mod:`agent_cli.shutdown`). Any failure exits non-zero with one clear line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import get_args

from pydantic import ValidationError

from agent_cli.shutdown import ShutdownHandler
from agent_cli.terminal import TerminalHost, shown_line
from agent_core.agent import Agent
from agent_core.commands import is_command, resolve_id
from agent_core.config import AgentConfig, LocalModelName
from agent_core.events import Notice
from agent_core.exceptions import AgentError

PROG = "agent-lsp chat"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run one agent turn in a workspace from the terminal. The reply goes to stdout; "
        "tool activity, retries and notices to stderr. A prompt starting with / is a command (/help).",
    )
    parser.add_argument(
        "--provider",
        choices=["openai", "anthropic", "local"],
        help="default: from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY), else the local model",
    )
    parser.add_argument("--base-url", help="the provider's base URL (e.g. a local OpenAI-compatible server)")
    parser.add_argument("--model", help="the model name")
    parser.add_argument(
        "--local-model",
        choices=list(get_args(LocalModelName)),
        help="which embedded model the local provider runs (default: qwen2.5-coder-1.5b when installed)",
    )
    parser.add_argument("--max-tokens", type=int, help="the longest reply, in tokens (default 4096)")
    parser.add_argument("--workspace", default=".", help="the workspace folder (default: the current folder)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--new", action="store_true", help="start a new session instead of continuing the latest")
    which.add_argument("--session", metavar="ID", help="continue this session (an id prefix is enough)")
    parser.add_argument("--yes", action="store_true", help="allow edits and commands without asking")
    parser.add_argument(
        "prompt", nargs="*", help="the prompt (read from stdin when omitted and stdin is not a terminal)"
    )
    return parser


class UsageError(AgentError):
    """A problem with the command line (no prompt, no such folder, a bad flag value): exit 2."""


def main(argv: list[str]) -> int:
    """Run ``agent-lsp chat`` with ``argv`` (the arguments after ``chat``); return the exit status.

    An :class:`AgentError` (bad settings, an unusable session, a wrong slash command...) ends it
    with its message on stderr and status 1 (2 for a bad command line); anything else is a bug
    and ends with Python's traceback."""
    args = build_parser().parse_args(argv)
    try:
        prompt = " ".join(args.prompt).strip()
        if not prompt and not sys.stdin.isatty():
            prompt = sys.stdin.read().strip()
        if not prompt:
            raise UsageError('no prompt given; try: agent-lsp chat "explain this project" (or /help)')
        workspace = Path(args.workspace).expanduser().resolve()
        if not workspace.is_dir():
            raise UsageError(f"the workspace {args.workspace} is not a folder")
        config = _config(args)
        return asyncio.run(_chat(args, prompt, workspace, config))
    except AgentError as failure:
        sys.stderr.write(f"agent-lsp: error: {shown_line(str(failure))}\n")
        return 2 if isinstance(failure, UsageError) else 1
    except OSError as failure:  # the workspace or its sessions folder cannot be read
        sys.stderr.write(f"agent-lsp: error: {shown_line(str(failure))}\n")
        return 1


def _config(args: argparse.Namespace) -> AgentConfig:
    settings: dict[str, object] = {
        "provider": args.provider,
        "model": args.model,
        "base_url": args.base_url,
        "local_model": args.local_model,
    }
    if args.max_tokens is not None:
        settings["max_tokens"] = args.max_tokens
    if args.yes:
        settings["approval"] = {"edit_file": "allow", "run_command": "allow"}
    try:
        return AgentConfig.model_validate(settings)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise UsageError(f"bad setting: {problems}") from None


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
                ended = await agent.submit(prompt, host=host)
            except asyncio.CancelledError:
                if shutdown.exit_code is None:
                    raise
                return shutdown.exit_code
            host.end_line()
            if shutdown.exit_code is not None:
                return shutdown.exit_code
            if ended.stop_reason == "error":
                message = shown_line(ended.error or "the turn failed")
                if message not in host.errors_shown:
                    sys.stderr.write(f"agent-lsp: error: {message}\n")
                return 1
            if ended.stop_reason in ("max_rounds", "max_tokens"):
                host.report(
                    Notice(level="warning", text=f"The turn stopped early ({ended.stop_reason.replace('_', ' ')}).")
                )
            return 0
    finally:
        await agent.aclose()
