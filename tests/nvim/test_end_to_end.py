"""The plugin in a real headless Neovim, against the real agent-lsp server and the fake LLM server.

Each test is a user story from issue 5: a chat reply streams into the chat buffer, an inline edit
is accepted (one undo reverts it) or rejected (the model sees the reason), cancel stops a turn and
its HTTP stream, a session comes back after Neovim restarts, approvals go through vim.ui.select,
sessions are picked through vim.ui.select, and :checkhealth reports no error. The Lua the tests
run in the editor is in tests/nvim/lua/end_to_end.lua.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.nvim.agent_editor import AgentEditor, open_agent_editor, request_text, setup_plugin
from tests.nvim.harness import Editor, wait_until
from tests.nvim.lua_calls import call

pytestmark = [pytest.mark.nvim, pytest.mark.timeout(120)]

ORIGINAL_APP = ["def add(a, b):", "    return a - b", "", "", "print(add(1, 2))"]


@pytest.fixture
def agent(editor: Editor, fake_llm: FakeLLM) -> AgentEditor:
    return open_agent_editor(editor, fake_llm)


def test_chat_reply_streams_into_the_chat_buffer(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    call(agent, "end_to_end.record_progress")
    fake_llm.script({"text": "The first half arrives", "hold": True})
    fake_llm.default = {"text": "unused"}
    agent.command("AgentChat what does add do?")
    # The partial reply is in the buffer while the model is still holding the stream open.
    agent.wait_chat(lambda t: "The first half arrives" in t, "the streamed text")
    assert agent.chat_running()
    fake_llm.release()
    agent.wait_idle()
    lines = agent.chat_lines()
    assert lines[lines.index("## You") + 1] == "what does add do?"
    assert "## Agent" in lines and lines[-2:] == ["## You", ""]
    assert "what does add do?" in request_text(fake_llm.requests[0])
    # The chat window is current and shows the chat buffer (a markdown buffer).
    assert agent.lua("return vim.bo.filetype") == "markdown"
    assert agent.lua("return vim.api.nvim_get_current_buf()") == agent.chat_buf()
    # The built-in client handled the turn's $/progress.
    progress = wait_until(lambda: agent.lua("return _G.progress"), 5, "LspProgress events")
    assert "begin" in progress and "end" in progress


def test_next_message_is_sent_from_the_prompt_line(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "First answer."}, {"text": "Second answer."}, {"text": "Third answer."})
    agent.command("AgentChat first question")
    agent.wait_chat(lambda t: "First answer." in t, "the first answer")
    agent.wait_idle()
    # Type below the last `## You` heading and press <CR> in normal mode.
    agent.keys("Gisecond question<Esc>")
    wait_until(lambda: agent.lua("return vim.fn.mode()") == "n", 5, "normal mode")
    agent.keys("<CR>")
    agent.wait_chat(lambda t: "Second answer." in t, "the second answer")
    assert "second question" in request_text(fake_llm.requests[1])
    assert "First answer." in request_text(fake_llm.requests[1])
    agent.wait_idle()
    # :AgentChat without arguments in the chat buffer sends the draft too.
    agent.lua("vim.api.nvim_buf_set_lines(0, -2, -1, false, { 'third question' })")
    agent.command("AgentChat")
    agent.wait_chat(lambda t: "Third answer." in t, "the third answer")
    assert "third question" in request_text(fake_llm.requests[2])
    assert agent.chat_lines()[-2:] == ["## You", ""]


def test_visual_selection_goes_as_context(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "It subtracts."})
    agent.command("1,2AgentChat explain this")
    agent.wait_chat(lambda t: "It subtracts." in t, "the answer")
    assert "return a - b" in request_text(fake_llm.requests[0])
    assert "> with selection `app.py:1-2`" in agent.chat_lines()


def test_inline_edit_accepted_is_one_undo_step(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def add(a, b):\n    return a + b"})
    buf = agent.lua("return vim.api.nvim_get_current_buf()")
    agent.command("1,2AgentEdit fix the bug")
    wait_until(
        lambda: agent.lua("local p = require('agent_lsp.inline').get(...); return p and p.new_text", buf),
        20,
        "the proposal",
    )
    # Previewed with extmarks only: the text is unchanged, the proposal is in virtual lines.
    assert agent.editor.lines(buf) == ORIGINAL_APP
    virt = call(agent, "end_to_end.preview_lines", buf)
    assert virt[:2] == ["def add(a, b):", "    return a + b"]
    assert "accept" in virt[-1]
    agent.keys("ga")
    wait_until(lambda: agent.editor.lines(buf)[1] == "    return a + b", 20, "the accepted edit")
    assert agent.editor.lines(buf) == ["def add(a, b):", "    return a + b", "", "", "print(add(1, 2))"]
    assert agent.lua("return require('agent_lsp.inline').get(...) == nil", buf)
    agent.command("undo")
    assert agent.editor.lines(buf) == ORIGINAL_APP


def test_code_action_edit_with_agent_uses_the_preview(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def add(a, b):\n    return a + b"})
    buf = agent.lua("return vim.api.nvim_get_current_buf()")
    call(agent, "end_to_end.answer_input", "fix the sign")
    call(agent, "end_to_end.run_code_action", "Edit with agent")
    wait_until(
        lambda: agent.lua("local p = require('agent_lsp.inline').get(...); return p and p.new_text", buf),
        20,
        "the proposal",
    )
    assert agent.lua("return _G.input_prompt") == "Edit with agent: "
    assert "fix the sign" in request_text(fake_llm.requests[0])
    agent.keys("ga")
    wait_until(lambda: agent.editor.lines(buf)[1] == "    return a + b", 20, "the accepted edit")
    assert agent.editor.lines(buf) == ["def add(a, b):", "    return a + b", "", "", "print(add(1, 2))"]


def test_inline_edit_rejected_with_a_reason_the_model_sees(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def plus(a, b):\n    return a + b"}, {"text": "Understood."})
    buf = agent.lua("return vim.api.nvim_get_current_buf()")
    call(agent, "end_to_end.answer_input", "keep the name add")
    agent.command("1,2AgentEdit fix the bug")
    wait_until(
        lambda: agent.lua("local p = require('agent_lsp.inline').get(...); return p and p.new_text", buf),
        20,
        "the proposal",
    )
    agent.keys("gr")
    wait_until(lambda: agent.lua("return require('agent_lsp.inline').get(...) == nil", buf), 10, "the reject")
    assert agent.editor.lines(buf) == ORIGINAL_APP
    assert "reject" in agent.lua("return _G.input_prompt").lower()
    extmarks = agent.lua(
        "return #vim.api.nvim_buf_get_extmarks(..., vim.api.nvim_get_namespaces().agent_lsp_inline, 0, -1, {})",
        buf,
    )
    assert extmarks == 0
    agent.command("AgentChat try again")
    agent.wait_chat(lambda t: "Understood." in t, "the reply")
    assert "keep the name add" in request_text(fake_llm.requests[-1])


@pytest.mark.parametrize("key", ["q", "<C-c>"])
def test_cancel_stops_the_turn_and_its_stream(agent: AgentEditor, fake_llm: FakeLLM, key: str) -> None:
    fake_llm.script({"text": "Working on it", "hold": True})
    agent.command("AgentChat a long task")
    agent.wait_chat(lambda t: "Working on it" in t, "the partial reply")
    agent.keys(key)  # the chat window is current
    agent.wait_idle()
    assert "> _cancelled_" in agent.chat_lines()
    fake_llm.wait_for_disconnects(1, timeout=10)
    # The window stays open after a cancel; q when idle closes it.
    chat = agent.chat_buf()
    assert agent.lua("return vim.api.nvim_get_current_buf()") == chat
    if key == "q":
        agent.keys("q")
        wait_until(lambda: agent.lua("return #vim.fn.win_findbuf(...) == 0", chat), 5, "the chat window to close")


def test_session_comes_back_after_restarting_neovim(
    start_editor: Callable[[Path], Editor], workspace: Path, fake_llm: FakeLLM
) -> None:
    first = open_agent_editor(start_editor(workspace), fake_llm)
    fake_llm.script({"text": "Remember the number 42."})
    first.command("AgentChat pick a number")
    first.wait_chat(lambda t: "Remember the number 42." in t, "the reply")
    first.wait_idle()
    first.editor.quit()

    second = open_agent_editor(start_editor(workspace), fake_llm)
    # The transcript arrives with agent/sessionRestored, before the user opens the chat.
    second.wait_chat(lambda t: "Remember the number 42." in t and "pick a number" in t, "the restored session")
    second.command("AgentChat")
    assert second.lua("return vim.api.nvim_get_current_buf()") == second.chat_buf()
    # The conversation continues where it stopped: the model gets the earlier messages.
    fake_llm.script({"text": "It was 42."})
    second.command("AgentChat which number?")
    second.wait_chat(lambda t: "It was 42." in t, "the reply in the restored session")
    assert "Remember the number 42." in request_text(fake_llm.requests[-1])


def test_approval_through_vim_ui_select(agent: AgentEditor, fake_llm: FakeLLM, workspace: Path) -> None:
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
        {"text": "Fixed it."},
    )
    call(agent, "end_to_end.pick_first_choice")
    agent.command("AgentChat fix add")
    agent.wait_chat(lambda t: "Fixed it." in t, "the reply after the edit")
    asked = agent.lua("return _G.asked")
    assert asked["items"] == ["Allow once", "Allow for this session", "Reject"]
    assert "app.py" in asked["prompt"]
    buf = agent.lua("return vim.fn.bufnr('app.py')")
    assert agent.editor.lines(buf)[1] == "    return a + b"
    assert "> tool `edit_file`(new_text=a + b, old_text=a - b, path=app.py) ✓" in "\n".join(agent.chat_lines())


def test_sessions_picked_through_vim_ui_select(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "Answer in the old session."}, {"text": "Answer in the new session."})
    agent.command("AgentChat old question")
    agent.wait_chat(lambda t: "Answer in the old session." in t, "the first reply")
    agent.wait_idle()
    agent.command("AgentNew")
    agent.wait_chat(lambda t: "old question" not in t, "the empty new session")
    agent.command("AgentChat new question")
    agent.wait_chat(lambda t: "Answer in the new session." in t, "the second reply")
    agent.wait_idle()
    call(agent, "end_to_end.pick_session_with", "old question")
    agent.command("AgentSessions")
    agent.wait_chat(lambda t: "old question" in t and "new question" not in t, "the old session")
    offered = agent.lua("return _G.offered")
    assert len(offered) >= 2


def test_status_and_checkhealth_report_no_error(agent: AgentEditor) -> None:
    agent.command("AgentStatus")
    status = wait_until(
        lambda: [n["msg"] for n in agent.notes() if n["msg"].startswith("agent-lsp ")], 10, "the status"
    )
    assert "provider: openai, model: fake-model" in status[0]
    agent.command("checkhealth agent_lsp")
    text = "\n".join(agent.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "agent-lsp server" in text and "session folder writable" in text
    assert "ERROR" not in text, text
    assert "provider openai, model fake-model" in text


def test_checkhealth_lists_the_mcp_servers(agent: AgentEditor, workspace: Path) -> None:
    # The server reads the MCP config afresh for its status: a file added now is listed, untrusted.
    (workspace / ".mcp.json").write_text('{"mcpServers": {"repo": {"command": "repo-mcp", "colour": 1}}}')
    agent.command("checkhealth agent_lsp")
    text = "\n".join(agent.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "agent-lsp MCP servers" in text
    assert "repo [.mcp.json]: untrusted, 0 tools" in text
    assert "MCP config: .mcp.json: mcpServers.repo.colour: unknown field; ignored" in text
    assert "ERROR" not in text, text


def test_retry_is_shown_compactly_in_the_chat(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 503}, {"text": "Back again."})
    agent.command("AgentChat hello")
    text = agent.wait_chat(lambda t: "Back again." in t, "the reply after the retry")
    retry_lines = [line for line in text.splitlines() if line.startswith("> retry")]
    # The server numbers the attempt about to be made: the second of two.
    assert len(retry_lines) == 1 and retry_lines[0].startswith("> retry: attempt 2/2 in 0.0 s: ")
    assert "503" in retry_lines[0]


def test_second_setup_sends_new_settings_to_the_running_server(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    client_id = agent.lua("return vim.lsp.get_clients({ name = 'agent_lsp' })[1].id")
    call(agent, "end_to_end.setup_with_model", "second-model")
    fake_llm.script({"text": "From the second model."})

    def model_used() -> bool:
        agent.command("AgentStatus")
        return any("model: second-model" in n["msg"] for n in agent.notes())

    wait_until(model_used, 10, "the new model in :AgentStatus")
    agent.command("AgentChat hi")
    agent.wait_chat(lambda t: "From the second model." in t, "the reply")
    assert fake_llm.requests[-1]["model"] == "second-model"
    # The same server kept running: settings were pushed, not restarted.
    assert agent.lua("return #vim.lsp.get_clients({ name = 'agent_lsp' })") == 1
    assert agent.lua("return vim.lsp.get_clients({ name = 'agent_lsp' })[1].id") == client_id


def test_bad_settings_are_reported_to_the_user(editor: Editor, fake_llm: FakeLLM) -> None:
    editor.nvim.command("edit app.py")
    setup_plugin(editor, fake_llm, {"maxTokens": "lots"})
    notes = wait_until(
        lambda: [n for n in editor.notes() if "maxTokens" in n["msg"] or "max_tokens" in n["msg"]],
        30,
        "the bad setting to be reported",
    )
    assert notes[0]["level"] == 4  # vim.log.levels.ERROR


def test_agent_cancel_stops_an_inline_edit(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "def add(a, b):\n", "hold": True})
    buf = agent.lua("return vim.api.nvim_get_current_buf()")
    agent.command("1,2AgentEdit fix the bug")
    # The streamed part of the proposal is previewed before it is complete.
    wait_until(
        lambda: agent.lua("local p = require('agent_lsp.inline').get(...); return p and p.text ~= ''", buf),
        20,
        "the streamed proposal",
    )
    agent.command("AgentCancel")
    wait_until(lambda: agent.lua("return require('agent_lsp.inline').get(...) == nil", buf), 10, "the preview to go")
    fake_llm.wait_for_disconnects(1, timeout=10)
    assert agent.editor.lines(buf) == ORIGINAL_APP
    assert any("inline edit cancelled" in n["msg"] for n in agent.notes())


def test_server_crash_ends_the_turn_with_a_message(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "Half an answer", "hold": True})
    agent.command("AgentChat a question")
    agent.wait_chat(lambda t: "Half an answer" in t, "the partial reply")
    # kill -9: no chance for the server to end the turn itself.
    killed = call(agent, "end_to_end.kill_server")
    assert killed == 1
    text = agent.wait_chat(lambda t: "the agent-lsp server stopped" in t, "the crash message")
    assert not agent.chat_running()
    assert "Half an answer" in text


def test_malformed_notification_is_reported_and_the_chat_keeps_working(agent: AgentEditor, fake_llm: FakeLLM) -> None:
    call(agent, "end_to_end.send_malformed_notifications")
    notes = [n["msg"] for n in agent.notes()]
    assert any(m.startswith("agent-lsp: could not show agent/textDelta") for m in notes), (notes, agent.chat_text())
    assert "agent-lsp: late notice" in notes
    fake_llm.script({"text": "Still fine."})
    agent.command("AgentChat are you ok?")
    agent.wait_chat(lambda t: "Still fine." in t, "the next reply")


def test_one_server_per_workspace_root(agent: AgentEditor, tmp_path: Path, workspace: Path) -> None:
    agent.command("edit notes.md")
    wait_until(
        lambda: agent.lua("return #vim.lsp.get_clients({ bufnr = 0, name = 'agent_lsp' }) == 1"),
        10,
        "notes.md to be attached",
    )
    assert agent.lua("return #vim.lsp.get_clients({ name = 'agent_lsp' })") == 1
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / "x.py").write_text("x = 1\n")
    agent.command(f"edit {other / 'x.py'}")
    roots = wait_until(
        lambda: (lambda r: r if len(r) == 2 else None)(call(agent, "end_to_end.server_roots")),
        30,
        "a second server for the other workspace",
    )
    assert sorted(roots) == sorted([str(workspace), str(other)])
