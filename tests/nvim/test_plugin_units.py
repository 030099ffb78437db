"""The plugin's Lua in a real Neovim, without a server: options, chat rendering, transcripts.

These pin down behaviour the end-to-end tests can only reach through a model: every notification
kind drawn in the chat buffer, notifications that arrive before the `{turnId}` result, a restored
transcript with tool calls, and `setup()` called twice or with bad options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nvim.conftest import PLUGIN, Editor, wait_until

pytestmark = pytest.mark.nvim


def test_setup_twice_merges_defaults_and_bad_options_are_refused(editor: Editor) -> None:
    result = editor.lua(
        """
        local agent = require("agent_lsp")
        local config = require("agent_lsp.config")
        agent.setup({ autostart = false, chat = { position = "below" }, settings = { model = "m1" } })
        local first = vim.deepcopy(config.options)
        agent.setup({ autostart = false, settings = { provider = "openai" } })
        local second = vim.deepcopy(config.options)
        agent.setup({ cmd = "not-a-list" })
        return { first = first, second = second, kept = config.options, notes = _G.notes,
                 groups = #vim.api.nvim_get_autocmds({ group = "agent_lsp" }) }
        """
    )
    assert result["first"]["chat"]["position"] == "below"
    assert result["first"]["chat"]["keymaps"]["send"] == "<CR>"  # defaults filled in
    assert result["first"]["settings"] == {"model": "m1"}
    # The second call starts again from the defaults, not from the first call's options.
    assert result["second"]["chat"]["position"] == "right"
    assert result["second"]["settings"] == {"provider": "openai"}
    # A bad option is reported by name and the previous options stay in force.
    assert result["kept"]["settings"] == {"provider": "openai"}
    assert any("cmd must be" in n["msg"] and n["level"] == 4 for n in result["notes"])
    assert result["groups"] == 0  # autostart off: no autocommands


def test_commands_are_defined_lazily(editor: Editor) -> None:
    loaded = editor.lua('return package.loaded["agent_lsp"] ~= nil')
    commands = editor.lua("return vim.tbl_keys(vim.api.nvim_get_commands({}))")
    assert not loaded
    for name in ("AgentChat", "AgentEdit", "AgentSessions", "AgentNew", "AgentCancel", "AgentStatus"):
        assert name in commands


def test_chat_buffer_renders_every_notification_kind(editor: Editor) -> None:
    buf = editor.lua(
        """
        local chat = require("agent_lsp.chat")
        local turns = require("agent_lsp.turns")
        local view = chat.get(vim.fn.getcwd())
        -- The user's draft below the prompt heading.
        vim.api.nvim_buf_set_lines(view.buf, -2, -1, false, { "what does add do?" })
        local ctx = { client_id = 0 }
        -- Notifications before the {turnId} result are queued, then replayed in order.
        turns.dispatch("agent/textDelta", { turnId = "t1", text = "It sub" }, ctx)
        view:open_turn(view:draft(), nil)
        vim.api.nvim_buf_set_lines(view.buf, view:prompt_row() + 1, -1, false, { "next draft" })
        turns.register("t1", view)
        turns.dispatch("agent/textDelta", { turnId = "t1", text = "tracts.\\nLet me " }, ctx)
        turns.dispatch("agent/textDelta", { turnId = "t1", text = "look." }, ctx)
        turns.dispatch("agent/toolCall", { turnId = "t1", id = "c1", name = "read_file",
            status = "started", arguments = { path = "app.py" } }, ctx)
        turns.dispatch("agent/retry", { turnId = "t1", attempt = 1, maxAttempts = 3, delay = 0.5,
            reason = "rate limited" }, ctx)
        turns.dispatch("agent/toolCall", { turnId = "t1", id = "c1", name = "read_file",
            status = "finished", output = "def add(a, b):\\n..." }, ctx)
        turns.dispatch("agent/textDelta", { turnId = "t1", text = "Done" }, ctx)
        turns.dispatch("agent/turnEnded", { turnId = "t1", stopReason = "cancelled" }, ctx)
        return view.buf
        """
    )
    assert editor.lines(buf) == [
        "# agent-lsp",
        "",
        "## You",
        "what does add do?",
        "",
        "## Agent",
        "It subtracts.",
        "Let me look.",
        "> tool `read_file`(path=app.py) ✓ def add(a, b):",
        "> retry: attempt 1/3 in 0.5 s: rate limited",
        "Done",
        "> _cancelled_",
        "",
        "## You",
        "next draft",
    ]
    assert editor.lua("return require('agent_lsp.chat').get(vim.fn.getcwd()).turn_id") is None


def test_restored_transcript_keeps_the_draft_and_folds_tool_results(editor: Editor) -> None:
    buf = editor.lua(
        """
        local chat = require("agent_lsp.chat")
        local view = chat.get(vim.fn.getcwd())
        vim.api.nvim_buf_set_lines(view.buf, -2, -1, false, { "unsent words" })
        view:show_transcript({ id = "s1", title = "Fix add" }, {
          { role = "system", content = "You are..." },
          { role = "user", content = "fix add\\nplease" },
          { role = "assistant", content = "", toolCalls = { { id = "c1", name = "edit_file",
              arguments = { path = "app.py" } } } },
          { role = "tool", toolCallId = "c1", content = "edit refused", isError = true },
          { role = "assistant", content = "Partial answ", interrupted = true },
          { role = "user", kind = "edit_feedback", content = "rejected: keep the name" },
        })
        return view.buf
        """
    )
    assert editor.lines(buf) == [
        "# Fix add",
        "",
        "## You",
        "fix add",
        "please",
        "",
        "## Agent",
        "> tool `edit_file`(path=app.py) ✗ edit refused",
        "",
        "## Agent",
        "Partial answ",
        "> _interrupted_",
        "",
        "> edit feedback: rejected: keep the name",
        "",
        "## You",
        "unsent words",
    ]


def test_chat_buffer_is_a_real_buffer_that_can_be_saved(editor: Editor, tmp_path: Path) -> None:
    target = tmp_path / "chat.md"
    editor.lua(
        """
        local chat = require("agent_lsp.chat")
        local view = chat.get(vim.fn.getcwd())
        chat.show(view)
        vim.api.nvim_buf_set_lines(view.buf, -2, -1, false, { "draft words" })
        vim.cmd.write(...)
        """,
        str(target),
    )
    assert target.read_text() == "# agent-lsp\n\n## You\ndraft words\n"
    assert editor.lua("return vim.bo.filetype") == "markdown"
    assert editor.lua("return vim.bo.buflisted")


def test_chat_refuses_an_empty_prompt(editor: Editor) -> None:
    notes = editor.lua(
        """
        local view = require("agent_lsp.chat").get(vim.fn.getcwd())
        view:send()
        return _G.notes
        """
    )
    assert any("type a message" in n["msg"] for n in notes)


@pytest.mark.parametrize(
    ("pick", "reason", "expected"),
    [
        (1, None, {"decision": "allow_once"}),
        (2, None, {"decision": "allow_session"}),
        (3, "not that file", {"decision": "reject", "reason": "not that file"}),
        (None, None, {"decision": "reject", "reason": "the user dismissed the question"}),
    ],
)
def test_permission_answers(editor: Editor, pick: int | None, reason: str | None, expected: dict) -> None:
    editor.lua(
        """
        local pick, reason = ...
        vim.ui.select = function(items, opts, cb)
          _G.shown = { prompt = opts.prompt, items = vim.tbl_map(opts.format_item, items),
                       floats = #vim.tbl_filter(function(w)
                         return vim.api.nvim_win_get_config(w).relative ~= "" end, vim.api.nvim_list_wins()) }
          cb(pick and items[pick] or nil)
        end
        vim.ui.input = function(_, cb) cb(reason) end
        -- Neovim runs server-request handlers in a coroutine; do the same.
        coroutine.wrap(function()
          _G.answer = require("agent_lsp.approval").request(
            { turnId = "t1", tool = "edit_file", title = "Edit app.py", detail = "--- a/app.py\\n+++ b/app.py" }, {})
        end)()
        """,
        pick,
        reason,
    )
    answer = wait_until(lambda: editor.lua("return _G.answer"), 5, "the permission answer")
    assert answer == expected
    shown = editor.lua("return _G.shown")
    assert shown["items"] == ["Allow once", "Allow for this session", "Reject"]
    assert "Edit app.py" in shown["prompt"]
    assert shown["floats"] == 1  # the diff is shown while the question is open
    assert editor.lua("return #vim.tbl_filter(function(w) return vim.api.nvim_win_get_config(w).relative ~= '' end, vim.api.nvim_list_wins())") == 0


def test_help_opens_and_shipped_tags_are_current(editor: Editor, tmp_path: Path) -> None:
    editor.nvim.command("help agent_lsp")
    assert editor.lua("return vim.fn.expand('%:t')") == "agent_lsp.txt"
    assert "*agent_lsp*" in editor.lua("return vim.api.nvim_get_current_line()")
    # The shipped doc/tags (for runtimepath installs) matches what :helptags generates now.
    doc = PLUGIN / "doc"
    copy = tmp_path / "doc"
    copy.mkdir()
    (copy / "agent_lsp.txt").write_text((doc / "agent_lsp.txt").read_text())
    editor.nvim.command(f"helptags {copy}")
    assert (copy / "tags").read_text() == (doc / "tags").read_text()


def test_session_restored_during_a_turn_keeps_the_turn(editor: Editor) -> None:
    lines = editor.lua(
        """
        local chat = require("agent_lsp.chat")
        local turns = require("agent_lsp.turns")
        local view = chat.get(vim.fn.getcwd())
        view:open_turn({ "new prompt" }, nil)
        turns.register("t1", view)
        turns.dispatch("agent/textDelta", { turnId = "t1", text = "streaming" }, { client_id = 0 })
        -- The restore raced with the prompt: it holds the session up to, not including, this turn.
        view:show_transcript({ id = "abc", title = "Other" }, { { role = "user", content = "old prompt" } })
        turns.dispatch("agent/textDelta", { turnId = "t1", text = " on" }, { client_id = 0 })
        turns.dispatch("agent/turnEnded", { turnId = "t1", stopReason = "end_turn" }, { client_id = 0 })
        return vim.api.nvim_buf_get_lines(view.buf, 0, -1, false)
        """
    )
    assert lines == [
        "# Other", "", "## You", "old prompt", "",
        "## You", "new prompt", "", "## Agent", "streaming on", "", "## You", "",
    ]


def test_missing_server_is_explained_and_the_prompt_kept(editor: Editor) -> None:
    editor.lua('require("agent_lsp").setup({ cmd = { "no-such-agent-lsp" } })')
    editor.nvim.command("edit app.py")  # autostart on a file buffer: a warning, not a crash
    editor.nvim.command("AgentChat explain app.py")
    notes = editor.notes()
    assert any("no-such-agent-lsp" in n["msg"] and "not found" in n["msg"] for n in notes)
    view_lines = editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    assert view_lines[-2:] == ["## You", "explain app.py"]
    editor.nvim.command("checkhealth agent_lsp")
    health = "\n".join(editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert 'ERROR server command "no-such-agent-lsp" not found on PATH' in health


def test_status_lines_show_the_local_models_state_and_file(editor: Editor) -> None:
    lines = editor.lua("""
        return require("agent_lsp.sessions").status_lines({
          version = "0.1.0", provider = "local", model = "Qwen2.5-Coder-1.5B-Instruct", running = false,
          localModel = { id = "qwen2.5-coder-1.5b", name = "Qwen2.5-Coder-1.5B-Instruct",
                         file = "/c/q.gguf", state = "failed", reason = "Part 3 is damaged" },
        })
    """)
    assert lines[:3] == ["agent-lsp 0.1.0", "provider: local, model: Qwen2.5-Coder-1.5B-Instruct",
                         "local model: failed: Part 3 is damaged (/c/q.gguf)"]
    plain = editor.lua('return require("agent_lsp.sessions").status_lines({ version = "1", provider = "openai", '
                       'model = "m", localModel = vim.NIL })')
    assert not any(line.startswith("local model") for line in plain)
