"""A headless Neovim running the plugin against the real agent-lsp server and the fake LLM.

`open_agent_editor` starts Neovim in a workspace, opens a file, calls `setup()` with the server
started from this checkout (`python -m lsp_server.cli`) and the provider pointed at the fake LLM
server, and waits until the server answered `initialize`. The helpers read editor state the way a
user would see it: the chat buffer's lines, the inline preview, the notifications.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from tests.fakes.llm_server import FakeLLM
from tests.nvim.conftest import REPO, Editor, wait_until

SETUP_LUA = """
local base_url, python, repo = ...
require("agent_lsp").setup({
  cmd = { python, "-m", "lsp_server.cli" },
  cmd_env = { PYTHONPATH = repo, OPENAI_API_KEY = "sk-test" },
  settings = {
    provider = "openai",
    baseUrl = base_url .. "/v1",
    model = "fake-model",
    retry = { maxAttempts = 2, initialDelay = 0, maxDelay = 0 },
    -- Ghost text has its own tests (test_completion.py); here it would ask the model as you type.
    completion = { enabled = false },
  },
})
"""

CLIENT_READY_LUA = """
local c = vim.lsp.get_clients({ name = "agent_lsp" })[1]
return c ~= nil and c.initialized == true
"""


class AgentEditor:
    """An :class:`Editor` with the plugin set up; helpers to drive and observe it."""

    def __init__(self, editor: Editor, llm: FakeLLM) -> None:
        self.editor = editor
        self.llm = llm

    def lua(self, code: str, *args: Any) -> Any:
        return self.editor.lua(code, *args)

    def command(self, cmd: str) -> None:
        self.editor.nvim.command(cmd)

    def keys(self, keys: str) -> None:
        """Type keys as the user would (mappings apply)."""
        self.editor.nvim.input(keys)

    def chat_buf(self) -> int:
        return self.lua("return require('agent_lsp.chat').for_buffer(0).buf")

    def chat_lines(self) -> list[str]:
        return self.lua(
            "local root = vim.fs.normalize(vim.fn.getcwd())\n"
            "return vim.api.nvim_buf_get_lines(require('agent_lsp.chat').get(root).buf, 0, -1, false)"
        )

    def chat_text(self) -> str:
        return "\n".join(self.chat_lines())

    def chat_running(self) -> bool:
        return self.lua(
            "local v = require('agent_lsp.chat').get(vim.fs.normalize(vim.fn.getcwd()))\n"
            "return v.turn_id ~= nil or v.starting"
        )

    def wait_chat(self, predicate: Callable[[str], bool], message: str, timeout: float = 20) -> str:
        """Wait until the chat text satisfies `predicate`; on timeout show the text and notifications."""
        try:
            return wait_until(lambda: (lambda t: t if predicate(t) else None)(self.chat_text()), timeout, message)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nchat buffer:\n{self.chat_text()}\nnotifications: {self.notes()}") from None

    def wait_idle(self, timeout: float = 20) -> None:
        wait_until(lambda: not self.chat_running(), timeout, "the chat turn to end")

    def notes(self) -> list[dict[str, Any]]:
        return self.editor.notes()


def open_agent_editor(editor: Editor, llm: FakeLLM, file: str = "app.py") -> AgentEditor:
    """Open `file`, set the plugin up against `llm`, and wait for the server's initialize."""
    editor.nvim.command(f"edit {file}")
    editor.lua(SETUP_LUA, llm.base_url, sys.executable, str(REPO))
    wait_until(lambda: editor.lua(CLIENT_READY_LUA), 30, "the agent-lsp server to initialize")
    return AgentEditor(editor, llm)


def request_text(request: dict[str, Any]) -> str:
    """Everything the model was sent in one request, as one string to search."""
    return "\n".join(str(m.get("content")) for m in request.get("messages", []))
