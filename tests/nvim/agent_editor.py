"""A headless Neovim running the plugin against the real agent-lsp server and the fake LLM.

`open_agent_editor` starts Neovim in a workspace, opens a file, calls `setup()` with the server
started from this checkout (`python -m lsp_server.cli`) and the provider pointed at the fake LLM
server, and waits until the server answered `initialize`. The helpers read editor state the way a
user would see it: the chat buffer's lines, the inline preview, the notifications. Its Lua is in
tests/nvim/lua/agent_editor.lua.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tests.fakes.llm_server import FakeLLM
from tests.nvim.harness import REPO, Editor, wait_until
from tests.nvim.lua_calls import call


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
        return call(self.editor, "agent_editor.chat_lines")

    def chat_text(self) -> str:
        return "\n".join(self.chat_lines())

    def chat_running(self) -> bool:
        return call(self.editor, "agent_editor.chat_running")

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


def setup_plugin(editor: Editor, llm: FakeLLM, extra_settings: dict[str, Any] | None = None) -> None:
    """`setup()` with the server from this checkout and the provider pointed at `llm`."""
    call(editor, "agent_editor.setup", llm.base_url, sys.executable, str(REPO), extra_settings)


def open_agent_editor(editor: Editor, llm: FakeLLM, file: str = "app.py") -> AgentEditor:
    """Open `file`, set the plugin up against `llm`, and wait for the server's initialize."""
    editor.nvim.command(f"edit {file}")
    setup_plugin(editor, llm)
    wait_until(lambda: call(editor, "agent_editor.client_ready"), 30, "the agent-lsp server to initialize")
    return AgentEditor(editor, llm)


def request_text(request: dict[str, Any]) -> str:
    """Everything the model was sent in one request, as one string to search."""
    return "\n".join(str(m.get("content")) for m in request.get("messages", []))
