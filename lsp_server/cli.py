"""The ``agent-lsp`` console script: ``agent-lsp chat ...`` runs the agent in the terminal,
``agent-lsp complete FILE:LINE:COL`` prints a completion, anything else starts the language server.

The server is imported only when it is wanted, so ``chat`` works (and fails clearly) on its own,
and starting the server does not pay for the terminal front end.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the first argument; returns the exit status (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "chat":
        from agent_core.terminal import main as chat

        return chat(args[1:])
    if args and args[0] == "complete":
        from lsp_server.complete_command import main as complete

        return complete(args[1:])
    from lsp_server.server import run

    return run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
