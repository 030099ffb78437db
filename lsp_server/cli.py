"""The ``agent-lsp`` console script: ``agent-lsp chat ...`` runs the agent in the terminal,
``agent-lsp complete FILE:LINE:COL`` prints a completion, ``agent-lsp acp`` starts the ACP agent
(docs/acp.md), anything else starts the language server.

Each front end is imported only when it is wanted, so ``chat`` works (and fails clearly) on its
own, and starting one front end does not pay for the others.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the first argument; returns the exit status (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "chat":
        from agent_cli.chat import main as chat

        return chat(args[1:])
    if args and args[0] == "complete":
        from lsp_server.complete_command import main as complete

        return complete(args[1:])
    if args and args[0] == "acp":
        from agent_acp.cli import main as acp

        return acp(args[1:])
    from lsp_server.server import run

    return run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
