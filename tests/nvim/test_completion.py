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
from tests.nvim.harness import REPO, Editor, wait_until
from tests.nvim.lua_calls import call

pytestmark = [pytest.mark.nvim, pytest.mark.timeout(120)]

#: Completion settings: the fake LLM as an OpenAI-compatible server with a Qwen coder model.
COMPLETION = {"source": "openai", "model": "qwen2.5-coder:1.5b", "debounceMs": 0}


def start(editor: Editor, llm: FakeLLM, workspace: Path, text: str) -> None:
    (workspace / "calc.py").write_text(text)
    editor.nvim.command("edit calc.py")
    completion = {**COMPLETION, "baseUrl": llm.base_url + "/v1"}
    call(editor, "agent_editor.setup", llm.base_url, sys.executable, str(REPO), {"completion": completion})
    wait_until(lambda: call(editor, "agent_editor.client_ready"), 30, "the agent-lsp server to initialize")
    wait_until(lambda: call(editor, "completion.enabled"), 10, "ghost text to be enabled for the buffer")


def ghosts(editor: Editor) -> list[dict[str, Any]]:
    return call(editor, "completion.ghosts")


def cursor(editor: Editor) -> list[int]:
    return editor.lua("return vim.api.nvim_win_get_cursor(0)")


def completion_status(editor: Editor) -> dict[str, Any]:
    call(editor, "completion.request_status")
    return wait_until(lambda: call(editor, "completion.status"), 10, "agent.status")


def test_ghost_text_appears_at_the_cursor_and_tab_accepts_it_in_one_undo(
    editor: Editor, fake_llm: FakeLLM, workspace: Path
) -> None:
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
    wait_until(
        lambda: (
            editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == ["def add(a, b):", "    return a + b"]
        ),
        10,
        "the accepted text in the buffer",
    )
    wait_until(lambda: completion_status(editor).get("accepted") == 1, 10, "the server to count the accept")
    editor.nvim.input("<Esc>")
    wait_until(lambda: editor.lua("return vim.fn.mode()") == "n", 5, "normal mode")
    editor.nvim.input("u")
    wait_until(
        lambda: editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == ["def add(a, b):"],
        10,
        "one undo to remove the accepted text",
    )


def test_accept_line_takes_the_first_line_and_dismiss_hides_the_rest(
    editor: Editor, fake_llm: FakeLLM, workspace: Path
) -> None:
    start(editor, fake_llm, workspace, "def add(a, b):\n    \n")
    fake_llm.default = {"text": "total = a + b\n    return total"}
    editor.nvim.command("normal! 2G$")
    editor.nvim.input("a")
    wait_until(lambda: ghosts(editor), 20, "the ghost text")
    editor.nvim.input("<M-l>")
    wait_until(
        lambda: editor.lua("return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]") == "    total = a + b",
        10,
        "the first line accepted",
    )
    wait_until(lambda: completion_status(editor).get("accepted") == 1, 10, "the partial accept counted")
    assert completion_status(editor)["shown"] >= 1
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
    editor.nvim.command("AgentStatus")
    wait_until(
        lambda: any(
            "completion: openai, model qwen2.5-coder:1.5b, 0 shown, 0 accepted" in n["msg"] for n in editor.notes()
        ),
        10,
        ":AgentStatus with the completion line",
    )
