"""Checkpoints in a real Neovim against the real server and the fake LLM: take a turn back.

The agent edits app.py (open in Neovim) in one turn and a command creates a file in the next;
`:AgentRewind` picks the first turn, the diff preview shows what the restore would do, "both"
puts app.py's buffer and the workspace back and the chat buffer back to before that turn, and
`:AgentRewind undo` brings them again. The pickers are answered by tests/nvim/lua/checkpoint_units.lua.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.nvim.agent_editor import AgentEditor, setup_plugin
from tests.nvim.harness import Editor, wait_until
from tests.nvim.lua_calls import call

pytestmark = [pytest.mark.nvim, pytest.mark.timeout(120)]

ORIGINAL_APP = ["def add(a, b):", "    return a - b", "", "", "print(add(1, 2))"]
FIXED_APP = ["def add(a, b):", "    return a + b", "", "", "print(add(1, 2))"]


@pytest.fixture
def agent(editor: Editor, fake_llm: FakeLLM) -> AgentEditor:
    """The plugin set up with edits and commands allowed (approvals have their own tests)."""
    editor.nvim.command("edit app.py")
    setup_plugin(editor, fake_llm, {"approval": {"editFile": "allow", "runCommand": "allow"}})
    wait_until(
        lambda: editor.lua("local c = vim.lsp.get_clients({ name = 'agent_lsp' })[1]; return c and c.initialized"),
        30,
        "the server",
    )
    return AgentEditor(editor, fake_llm)


def run_two_turns(agent: AgentEditor, fake_llm: FakeLLM) -> int:
    """Turn 1 edits app.py, turn 2 runs a command that creates made.txt; returns app.py's buffer."""
    fake_llm.script(
        {
            "tool_calls": [
                {
                    "id": "call_1",
                    "name": "edit_file",
                    "arguments": {"path": "app.py", "old_text": "a - b", "new_text": "a + b"},
                }
            ]
        },
        {"text": "Fixed add."},
        {"tool_calls": [{"id": "call_2", "name": "run_command", "arguments": {"command": "printf 'x\\n' > made.txt"}}]},
        {"text": "Made the file."},
    )
    buf = agent.lua("return vim.fn.bufnr('app.py')")
    agent.command("AgentChat fix add")
    agent.wait_chat(lambda t: "Fixed add." in t, "the first turn")
    agent.wait_idle()
    assert agent.editor.lines(buf) == FIXED_APP
    agent.command("AgentChat make a file")
    agent.wait_chat(lambda t: "Made the file." in t, "the second turn")
    agent.wait_idle()
    return buf


def test_rewind_both_puts_back_the_files_and_the_chat_and_undo_redoes(
    agent: AgentEditor, fake_llm: FakeLLM, workspace: Path
) -> None:
    buf = run_two_turns(agent, fake_llm)
    assert (workspace / "made.txt").read_text() == "x\n"
    # Both turns changed files: their `## You` headings are marked.
    marks = wait_until(
        lambda: (lambda m: m if len(m) == 2 else None)(call(agent, "checkpoint_units.chat_marks")), 10, "the marks"
    )
    assert marks == ["## You ⟲ checkpoint: 1 file", "## You ⟲ checkpoint: 1 file"]

    call(agent, "checkpoint_units.answer_selects", ["fix add", "Both"])
    agent.command("AgentRewind")
    wait_until(lambda: agent.editor.lines(buf) == ORIGINAL_APP, 20, "app.py's buffer back as it was")
    wait_until(lambda: not (workspace / "made.txt").exists(), 10, "the created file removed")
    agent.wait_chat(lambda t: "fix add" not in t and "Made the file." not in t, "the chat back before turn 1")
    asked = agent.lua("return _G.asked")
    # Newest first: "make a file" is offered above "fix add".
    assert asked[0]["items"][0].startswith("make a file · 1 file")
    assert asked[0]["items"][1].startswith("fix add · 1 file · +1 -1")
    preview = agent.lua("return _G.preview")
    assert preview["filetype"] == "diff"
    assert "-    return a + b" in preview["lines"] and "+    return a - b" in preview["lines"]
    assert any("made.txt" in line for line in preview["lines"])
    assert agent.lua("return #vim.api.nvim_list_tabpages()") == 1
    notes = [n["msg"] for n in agent.notes()]
    assert any(n.startswith("agent-lsp: restored 2 files") and "the conversation went back" in n for n in notes), notes
    # Nothing is left of the two turns but the prompt heading, with no mark on it.
    assert [line for line in agent.chat_lines() if line.startswith("## ")] == ["## You"]
    assert call(agent, "checkpoint_units.chat_marks") == []

    # The undo puts back what the restore replaced: the fixed buffer, the file, the two turns.
    agent.command("AgentRewind undo")
    wait_until(lambda: agent.editor.lines(buf) == FIXED_APP, 20, "the restore undone in the buffer")
    wait_until(lambda: (workspace / "made.txt").exists(), 10, "the created file back")
    agent.wait_chat(lambda t: "Fixed add." in t and "Made the file." in t, "the conversation back")


def test_rewind_conversation_only_keeps_the_files(agent: AgentEditor, fake_llm: FakeLLM, workspace: Path) -> None:
    buf = run_two_turns(agent, fake_llm)
    call(agent, "checkpoint_units.answer_selects", ["make a file", "Conversation only"])
    agent.command("AgentRewind")
    agent.wait_chat(lambda t: "make a file" not in t and "Fixed add." in t, "the chat back before turn 2")
    assert agent.editor.lines(buf) == FIXED_APP
    assert (workspace / "made.txt").exists()
    # The conversation continues from there: the model no longer sees the second turn.
    fake_llm.script({"text": "Next."})
    agent.command("AgentChat what now?")
    agent.wait_chat(lambda t: "Next." in t, "the next reply")
    sent = "\n".join(str(m.get("content")) for m in fake_llm.requests[-1]["messages"])
    assert "fix add" in sent and "make a file" not in sent
