#!/usr/bin/env bash
# Set up everything, run the Python house checks (ruff lint and format, mypy --strict; configured
# in pyproject.toml), then the whole test suite: Python (core, server over stdio, real Neovim, the
# ACP agent driven by the Python and TypeScript ACP SDKs), the Neovim plugin's Lua checks
# (luacheck, StyLua), then the VS Code extension (eslint, unit tests and end-to-end tests in a real
# VS Code). Exits non-zero when any of them fails.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }
bash scripts/setup-acp-ts.sh || { echo "setup of the TypeScript ACP client failed" >&2; exit 1; }

status=0
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
.venv/bin/mypy || status=1

.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
# pytest exit 5 means no tests ran: a failure here, never a pass.
if [ "$rc" -ne 0 ]; then status=1; fi

bash scripts/lint-nvim.sh || status=1

if [ -f scripts/test-vscode.sh ] && [ -z "${AGENT_LSP_SKIP_VSCODE:-}" ]; then
    bash scripts/test-vscode.sh || status=1
fi
exit "$status"
