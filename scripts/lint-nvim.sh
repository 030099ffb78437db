#!/usr/bin/env bash
# Check the Neovim plugin's Lua and the Lua halves of its tests: luacheck (editors/nvim/.luacheckrc)
# for mistakes, StyLua (editors/nvim/.stylua.toml) for formatting. Called by scripts/test.sh, so a
# finding fails the test command. Installs either tool when missing: luacheck from Debian's
# lua-check, StyLua from its npm package (which carries the prebuilt binary for each platform)
# into .tools/stylua. To apply the formatting: .tools/stylua/node_modules/.bin/stylua --config-path
# editors/nvim/.stylua.toml editors/nvim tests/nvim/lua
set -euo pipefail
cd "$(dirname "$0")/.."

STYLUA_VERSION=2.5.2
STYLUA_DIR=.tools/stylua
STYLUA="$STYLUA_DIR/node_modules/.bin/stylua"
LUA_DIRS=(editors/nvim tests/nvim/lua)

log() { echo "[lint-nvim] $*" >&2; }

need_apt=()
command -v luacheck >/dev/null || need_apt+=(lua-check)
command -v npm >/dev/null || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    log "installing Debian packages: ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -x "$STYLUA" ] || [ "$("$STYLUA" --version)" != "stylua $STYLUA_VERSION" ]; then
    log "installing StyLua $STYLUA_VERSION"
    mkdir -p "$STYLUA_DIR"
    npm install --silent --no-save --no-audit --no-fund --prefix "$STYLUA_DIR" "@johnnymorganz/stylua-bin@$STYLUA_VERSION"
fi

status=0
echo "== luacheck"
luacheck --config editors/nvim/.luacheckrc --formatter plain --codes -- "${LUA_DIRS[@]}" || status=1
echo "== stylua --check"
"$STYLUA" --config-path editors/nvim/.stylua.toml --check -- "${LUA_DIRS[@]}" || status=1
if [ "$status" -ne 0 ]; then
    echo "Lua checks failed" >&2
fi
exit "$status"
