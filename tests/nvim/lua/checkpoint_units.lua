---The Lua halves of tests/nvim/test_checkpoint_units.py: `:AgentRewind` and the chat's checkpoint
---marks in a real Neovim without a server. The server is replaced by a scripted
---`client.execute` (every call recorded in `_G.calls`), and `vim.ui.select` answers from a list of
---labels (every question recorded in `_G.asked`).
local M = {}

---Escape `text` for one line, and for a multi-line display.
---@param text string
---@return table
function M.visible(text)
  local visible = require("agent_lsp.visible")
  return { one_line = visible.one_line(text), multiline = visible.text(text, true) }
end

---A checkpoint as the picker shows it.
---@param cp table
---@return string
function M.format(cp)
  return require("agent_lsp.checkpoints").format(cp)
end

---A chat with a restored transcript (user messages `u1`, `u2`) and a turn `t9` sent from here,
---marked with `checkpoints`; returns the marks as `{row, text}` and the buffer's lines.
---@param checkpoints table[]
---@return table
function M.marks(checkpoints)
  local chat = require("agent_lsp.chat")
  local turns = require("agent_lsp.turns")
  local view = chat.get(vim.fn.getcwd())
  view:show_transcript({ id = "s1", title = "Fixes" }, {
    { id = "u1", role = "user", content = "first prompt" },
    { id = "a1", role = "assistant", content = "first answer" },
    { id = "u2", role = "user", content = "second prompt" },
    { id = "a2", role = "assistant", content = "second answer" },
  })
  view:open_turn({ "third prompt" }, nil)
  turns.register("t9", view)
  turns.dispatch("agent/turnStarted", { turnId = "t9", kind = "chat", prompt = "third prompt" }, { client_id = 0 })
  turns.dispatch("agent/turnEnded", { turnId = "t9", stopReason = "end_turn" }, { client_id = 0 })
  local count = require("agent_lsp.checkpoints").mark(view, checkpoints)
  local ns = vim.api.nvim_get_namespaces().agent_lsp_checkpoints
  local marks = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(view.buf, ns, 0, -1, { details = true })) do
    table.insert(marks, { row = m[2], text = m[4].virt_text[1][1] })
  end
  return { count = count, marks = marks, lines = vim.api.nvim_buf_get_lines(view.buf, 0, -1, false) }
end

---Replace the server: `answers` maps a command to the list of results it gives, in order (a
---string result is an error message). `picks` are the labels `vim.ui.select` answers with, in
---order (`false`: dismiss). While the mode question is open, the preview is recorded in
---`_G.preview`.
---@param answers table<string, any[]>
---@param picks (string|false)[]
function M.script(answers, picks)
  local client = require("agent_lsp.client")
  _G.calls = {}
  client.current = function()
    return { id = 1, config = { root_dir = vim.fn.getcwd() } }, nil
  end
  client.execute = function(_, command, argument, on_done)
    table.insert(_G.calls, { command = command, argument = argument })
    local result = table.remove(answers[command] or {}, 1)
    if type(result) == "string" then
      on_done(command .. " failed: " .. result, nil)
    else
      on_done(nil, result or {})
    end
  end
  M.answer_selects(picks)
end

---Answer `vim.ui.select` with the labels in `picks`, in order (`false`: dismiss); every question
---is recorded in `_G.asked`, and while the mode question is open the current buffer (the diff
---preview) in `_G.preview`.
---@param picks (string|false)[]
function M.answer_selects(picks)
  _G.asked, _G.preview = {}, nil
  vim.ui.select = function(items, opts, cb)
    local labels = vim.tbl_map(opts.format_item, items)
    table.insert(_G.asked, { prompt = opts.prompt, kind = opts.kind, items = labels })
    if opts.kind == "agent_lsp_checkpoint_mode" then
      local buf = vim.api.nvim_get_current_buf()
      _G.preview = {
        lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
        filetype = vim.bo[buf].filetype,
        modifiable = vim.bo[buf].modifiable,
        tabs = #vim.api.nvim_list_tabpages(),
      }
    end
    local want = table.remove(picks, 1)
    for i, text in ipairs(labels) do
      if want and text:find(want, 1, true) then
        return cb(items[i], i)
      end
    end
    cb(nil, nil)
  end
end

---The checkpoint marks in the chat buffer of the current directory's workspace.
---@return string[]
function M.chat_marks()
  local view = require("agent_lsp.chat").get(vim.fs.normalize(vim.fn.getcwd()))
  local ns = vim.api.nvim_get_namespaces().agent_lsp_checkpoints
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(view.buf, ns, 0, -1, { details = true })) do
    table.insert(out, vim.api.nvim_buf_get_lines(view.buf, m[2], m[2] + 1, false)[1] .. " " .. m[4].virt_text[1][1])
  end
  return out
end

---Whether the flow is over: a notification other than the recorded ones arrived.
---@return table state {notes, tabs}
function M.state()
  return { notes = _G.notes, tabs = #vim.api.nvim_list_tabpages(), calls = _G.calls, asked = _G.asked }
end

return M
