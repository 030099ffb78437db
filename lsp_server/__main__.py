"""``python -m lsp_server``: the language server (same as ``agent-lsp`` without ``chat``)."""

import sys

from lsp_server.server import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
