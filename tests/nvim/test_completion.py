"""Ghost text in a real headless Neovim 0.12: the plugin's client, the real server, the fake LLM.

The server answers ``textDocument/inlineCompletion`` from the fake's ``/infill``; Neovim's own
``vim.lsp.inline_completion`` draws it as an extmark at the cursor; the plugin's keys accept it
(one undo removes it), accept one line, or dismiss it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.nvim.agent_editor import CLIENT_READY_LUA
from tests.nvim.conftest import REPO, Editor, wait_until

pytestmark = [pytest.mark.nvim, pytest.mark.timeout(120)]

SETUP_LUA = """
local base_url, python, repo = ...
require("agent_lsp").setup({
  cmd = { python, "-m", "lsp_server.cli" },
  cmd_env = { PYTHONPATH = repo, OPENAI_API_KEY = "sk-test" },
  settings = {
    provider = "openai",
    baseUrl = base_url .. "/v1",
    model = "fake-model",
    completion = { source = "openai", baseUrl = base_url .. "/v1", model = "qwen2.5-coder:1.5b", debounceMs = 0 },
  },
})
"""

GHOST_LUA = """
local ns = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")
local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
local out = {}
for _, m in ipairs(marks) do
  local d = m[4]
  local text = {}
  for _, chunk in ipairs(d.virt_text or {}) do table.insert(text, chunk[1]) end
  local lines = {}
  for _, line in ipairs(d.virt_lines or {}) do
    local parts = {}
    for _, chunk in ipairs(line) do table.insert(parts, chunk[1]) end
    table.insert(lines, table.concat(parts))
  end
  table.insert(out, { row = m[2], col = m[3], text = table.concat(text), lines = lines })
end
return out
"""

STATUS_LUA = """
_G.completion_status = nil
local c = vim.lsp.get_clients({ name = "agent_lsp" })[1]
require("agent_lsp.client").execute(c, "agent.status", {}, function(err, res)
  _G.completion_status = res and res.completion or { error = err }
end)
"""


def start(editor: Editor, llm: FakeLLM, workspace: Path, text: str) -> None:
    (workspace / "calc.py").write_text(text)
    editor.nvim.command("edit calc.py")
    editor.lua(SETUP_LUA, llm.base_url, sys.executable, str(REPO))
    wait_until(lambda: editor.lua(CLIENT_READY_LUA), 30, "the agent-lsp server to initialize")
    wait_until(lambda: editor.lua("return vim.lsp.inline_completion.is_enabled({ bufnr = 0 })"), 10,
               "ghost text to be enabled for the buffer")


def ghosts(editor: Editor) -> list[dict[str, Any]]:
    return editor.lua(GHOST_LUA)


def cursor(editor: Editor) -> list[int]:
    return editor.lua("return vim.api.nvim_win_get_cursor(0)")


def completion_status(editor: Editor) -> dict[str, Any]:
    editor.lua(STATUS_LUA)
    return wait_until(lambda: editor.lua("return _G.completion_status"), 10, "agent.status")


def test_ghost_text_appears_at_the_cursor_and_tab_accepts_it_in_one_undo(
        editor: Editor, fake_llm: FakeLLM, workspace: Path) -> None:
    start(editor, fake_llm, workspace, "def add(a, b):\n")
    fake_llm.default = {"text": "\n    return a + b\n\n\ndef other():\n    pass"}
    editor.nvim.input("A")
    (ghost,) = wait_until(lambda: ghosts(editor), 20, "the ghost text")
    # Drawn at the cursor: the end of line 1 (0-based row 0, column 14), the body below it.
    assert (ghost["row"], ghost["col"]) == (0, 14) and cursor(editor) == [1, 14]
    assert ghost["lines"] == ["    return a + b"]
    request = fake_llm.requests[-1]
    assert request["_path"] == "/infill" and request["prompt"] == "def add(a, b):"
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
               == ["def add(a, b):", "    return a + b"], 10, "the accepted text in the buffer")
    wait_until(lambda: completion_status(editor).get("accepted") == 1, 10, "the server to count the accept")
    editor.nvim.input("<Esc>")
    wait_until(lambda: editor.lua("return vim.fn.mode()") == "n", 5, "normal mode")
    editor.nvim.input("u")
    wait_until(lambda: editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == ["def add(a, b):"],
               10, "one undo to remove the accepted text")


def test_accept_line_takes_the_first_line_and_dismiss_hides_the_rest(
        editor: Editor, fake_llm: FakeLLM, workspace: Path) -> None:
    start(editor, fake_llm, workspace, "def add(a, b):\n    \n")
    fake_llm.default = {"text": "total = a + b\n    return total"}
    editor.nvim.command("normal! 2G$")
    editor.nvim.input("a")
    wait_until(lambda: ghosts(editor), 20, "the ghost text")
    editor.nvim.input("<M-l>")
    wait_until(lambda: editor.lua("return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]") == "    total = a + b",
               10, "the first line accepted")
    status = wait_until(lambda: (lambda s: s if s.get("accepted") == 1 else None)(completion_status(editor)),
                        10, "the partial accept counted")
    assert status["shown"] >= 1
    # The rest is suggested again from the cache at the new cursor; dismiss hides it.
    wait_until(lambda: ghosts(editor), 20, "the next ghost text")
    editor.nvim.input("<C-]>")
    wait_until(lambda: not ghosts(editor), 10, "the ghost text to go")
    assert editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == ["def add(a, b):", "    total = a + b"]


def test_checkhealth_reports_the_completion_source(editor: Editor, fake_llm: FakeLLM, workspace: Path) -> None:
    start(editor, fake_llm, workspace, "x = 1\n")
    editor.nvim.command("checkhealth agent_lsp")
    text = "\n".join(editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "agent-lsp completion (ghost text)" in text
    assert "source openai, model qwen2.5-coder:1.5b" in text
