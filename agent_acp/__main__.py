"""``python -m agent_acp``: the same as ``agent-lsp acp``."""

import sys

from agent_acp.cli import main

sys.exit(main())
