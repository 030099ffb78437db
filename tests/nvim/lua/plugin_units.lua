---The Lua halves of tests/nvim/test_plugin_units.py: each function runs inside a headless Neovim
---with the plugin on the runtimepath (no server) and returns what the Python test asserts on.
---`vim.notify` is recorded in `_G.notes` by the harness's init file.
local M = {}

---Floating windows open right now (the approval's diff is one).
---@return integer
function M.floating_windows()
  return #vim.tbl_filter(function(w)
    return vim.api.nvim_win_get_config(w).relative ~= ""
  end, vim.api.nvim_list_wins())
end

---`setup()` three times: options from a first call, a second call, and a bad third call.
function M.setup_twice()
  local agent = require("agent_lsp")
  local config = require("agent_lsp.config")
  agent.setup({ autostart = false, chat = { position = "below" }, settings = { model = "m1" } })
  local first = vim.deepcopy(config.options)
  agent.setup({ autostart = false, settings = { provider = "openai" } })
  local second = vim.deepcopy(config.options)
  agent.setup({ cmd = "not-a-list" })
  return {
    first = first,
    second = second,
    kept = config.options,
    notes = _G.notes,
    groups = #vim.api.nvim_get_autocmds({ group = "agent_lsp" }),
  }
end

---Every notification kind dispatched to the chat view; returns the chat buffer.
---@return integer
function M.chat_renders_every_notification_kind()
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
  turns.dispatch("agent/textDelta", { turnId = "t1", text = "tracts.\nLet me " }, ctx)
  turns.dispatch("agent/textDelta", { turnId = "t1", text = "look." }, ctx)
  turns.dispatch("agent/toolCall", {
    turnId = "t1",
    id = "c1",
    name = "read_file",
    status = "started",
    arguments = { path = "app.py" },
  }, ctx)
  turns.dispatch("agent/retry", {
    turnId = "t1",
    attempt = 1,
    maxAttempts = 3,
    delay = 0.5,
    reason = "rate limited",
  }, ctx)
  turns.dispatch("agent/toolCall", {
    turnId = "t1",
    id = "c1",
    name = "read_file",
    status = "finished",
    output = "def add(a, b):\n...",
  }, ctx)
  turns.dispatch("agent/textDelta", { turnId = "t1", text = "Done" }, ctx)
  turns.dispatch("agent/turnEnded", { turnId = "t1", stopReason = "cancelled" }, ctx)
  return view.buf
end

---A restored transcript with tool calls, an interrupted reply and edit feedback, over a draft.
---@return integer
function M.restored_transcript()
  local chat = require("agent_lsp.chat")
  local view = chat.get(vim.fn.getcwd())
  vim.api.nvim_buf_set_lines(view.buf, -2, -1, false, { "unsent words" })
  view:show_transcript({ id = "s1", title = "Fix add" }, {
    { role = "system", content = "You are..." },
    { role = "user", content = "fix add\nplease" },
    {
      role = "assistant",
      content = "",
      toolCalls = { { id = "c1", name = "edit_file", arguments = { path = "app.py" } } },
    },
    { role = "tool", toolCallId = "c1", content = "edit refused", isError = true },
    { role = "assistant", content = "Partial answ", interrupted = true },
    { role = "user", kind = "edit_feedback", content = "rejected: keep the name" },
  })
  return view.buf
end

---Show the chat with a draft and `:write` it to `path`.
---@param path string
function M.save_chat_buffer(path)
  local chat = require("agent_lsp.chat")
  local view = chat.get(vim.fn.getcwd())
  chat.show(view)
  vim.api.nvim_buf_set_lines(view.buf, -2, -1, false, { "draft words" })
  vim.cmd.write(path)
end

---Send with nothing typed; returns the notifications shown.
function M.send_empty_prompt()
  local view = require("agent_lsp.chat").get(vim.fn.getcwd())
  view:send()
  return _G.notes
end

---Answer a permission request (default: an edit of app.py) by picking item `pick` (nil: dismiss)
---and giving `reason` when asked. The answer lands in `_G.answer`, what was shown in `_G.shown`.
---@param pick integer?
---@param reason string?
---@param request table?
function M.answer_permission(pick, reason, request)
  vim.ui.select = function(items, opts, cb)
    _G.shown = {
      prompt = opts.prompt,
      items = vim.tbl_map(opts.format_item, items),
      floats = M.floating_windows(),
    }
    cb(pick and items[pick] or nil)
  end
  vim.ui.input = function(_, cb)
    cb(reason)
  end
  -- Neovim runs server-request handlers in a coroutine; do the same.
  coroutine.wrap(function()
    _G.answer = require("agent_lsp.approval").request(
      request or { turnId = "t1", tool = "edit_file", title = "Edit app.py", detail = "--- a/app.py\n+++ b/app.py" },
      {}
    )
  end)()
end

---A session restored while a turn streams; returns the chat buffer's lines.
---@return string[]
function M.session_restored_during_a_turn()
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
end

---`:AgentStatus`'s lines for an `agent.status` answer.
---@param status table
---@return string[]
function M.status_lines(status)
  return require("agent_lsp.sessions").status_lines(status)
end

return M
