"""``agent-lsp acp``: the ACP agent over stdio, started by an editor.

Arguments only name where settings and logs are; everything else an editor needs comes through
the protocol. stdout carries the protocol and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from agent_acp import settings
from agent_acp.transport import serve_stdio
from agent_core.log_file import LogFileError, open_log_file

PROG = "agent-lsp acp"

DESCRIPTION = """\
Run agent-lsp as an Agent Client Protocol (ACP) agent on stdin/stdout, for Zed, JetBrains IDEs,
Emacs agent-shell, CodeCompanion and other ACP clients (see docs/acp.md). Editors start it; you
do not talk to it yourself."""

EPILOG = f"""\
settings, in order (later wins, key by key):
  1. a JSON settings file: --settings FILE, or the {settings.SETTINGS_ENV} variable. Same keys as
     the editor settings: {{"provider": "openai", "model": "gpt-4o-mini",
     "baseUrl": "http://127.0.0.1:8080/v1", "approval": {{"runCommand": "ask"}}, ...}}
  2. initialize's _meta.{settings.META_KEY} object, for clients that can send one.
  API keys come only from the environment: OPENAI_API_KEY, ANTHROPIC_API_KEY (or the variable
  named by apiKeyEnv); OPENAI_BASE_URL and ANTHROPIC_BASE_URL are honoured. With nothing set,
  the embedded local model is used when installed. Nothing is read from the workspace.

example (Zed settings.json):
  "agent_servers": {{"agent-lsp": {{"command": "agent-lsp", "args": ["acp", "--settings",
      "/home/me/.config/agent-lsp/settings.json"], "env": {{"OPENAI_API_KEY": "..."}}}}}}"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--settings", metavar="FILE", help=f"JSON settings file (default: ${settings.SETTINGS_ENV}, else none)"
    )
    parser.add_argument(
        "--log-file", metavar="FILE", help="also write the log to FILE (private, 0600; it always goes to stderr)"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v: info, -vv: debug)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``agent-lsp acp`` with ``argv`` (the arguments after ``acp``); return the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        _configure_logging(args.verbose, args.log_file)
    except LogFileError as error:
        sys.stderr.write(f"agent-lsp acp: {error}\n")
        return 2
    file_data, problems = settings.read_file(settings.settings_path(args.settings, os.environ))
    return asyncio.run(serve_stdio(file_data, problems))


def _configure_logging(verbose: int, log_file: str | None) -> None:
    """Logs to stderr (ACP clients keep it) and the private ``--log-file``; never to stdout."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.StreamHandler(open_log_file(Path(log_file).expanduser())))
    logging.basicConfig(level=level, handlers=handlers, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
