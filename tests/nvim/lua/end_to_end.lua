---The Lua halves of tests/nvim/test_end_to_end.py: what the tests do in the editor beyond typing
---commands and keys (answering `vim.ui` prompts, reading extmarks, killing the server).
local M = {}

---Record the kind of every `LspProgress` event in `_G.progress`.
function M.record_progress()
  _G.progress = {}
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(ev)
      table.insert(_G.progress, ev.data.params.value.kind)
    end,
  })
end

---The virtual lines of the inline edit preview in `buf`.
---@param buf integer
---@return string[]
function M.preview_lines(buf)
  local ns = vim.api.nvim_get_namespaces().agent_lsp_inline
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  local out = {}
  for _, line in ipairs(marks[1][4].virt_lines) do
    table.insert(out, line[1][1])
  end
  return out
end

---Answer every `vim.ui.input` with `text`; the prompt shown is kept in `_G.input_prompt`.
---@param text string
function M.answer_input(text)
  vim.ui.input = function(opts, cb)
    _G.input_prompt = opts.prompt
    cb(text)
  end
end

---Run the code action titled `title` for lines 1-2 of the current buffer.
---@param title string
function M.run_code_action(title)
  vim.lsp.buf.code_action({
    apply = true,
    range = { start = { 1, 0 }, ["end"] = { 2, 15 } },
    filter = function(a)
      return a.title == title
    end,
  })
end

---Answer every `vim.ui.select` with its first item; what was asked is kept in `_G.asked`.
function M.pick_first_choice()
  vim.ui.select = function(items, opts, cb)
    _G.asked = { prompt = opts.prompt, items = vim.tbl_map(opts.format_item, items) }
    cb(items[1])
  end
end

---Answer the session picker with the session whose preview contains `text` (none: dismiss); the
---rows offered are kept in `_G.offered`.
---@param text string
function M.pick_session_with(text)
  vim.ui.select = function(items, opts, cb)
    _G.offered = vim.tbl_map(opts.format_item, items)
    for _, s in ipairs(items) do
      if (s.preview or ""):find(text, 1, true) then
        return cb(s)
      end
    end
    cb(nil)
  end
end

---Call `setup()` again with the current options and another model.
---@param model string
function M.setup_with_model(model)
  local opts = vim.deepcopy(require("agent_lsp.config").options)
  opts.settings.model = model
  require("agent_lsp").setup(opts)
end

---kill -9 the server (the editor's python child): no chance for it to end the turn itself.
---@return integer how many processes were killed
function M.kill_server()
  local n = 0
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    if (vim.api.nvim_get_proc(pid) or {}).name:find("python") then
      vim.uv.kill(pid, "sigkill")
      n = n + 1
    end
  end
  return n
end

---Feed the client's handlers notifications a broken or confused server might send.
function M.send_malformed_notifications()
  local c = vim.lsp.get_clients({ name = "agent_lsp" })[1]
  local ctx = { client_id = c.id, method = "x" }
  c.handlers["agent/turnStarted"](nil, { turnId = "bad", kind = "chat", prompt = "odd turn" }, ctx)
  c.handlers["agent/textDelta"](nil, { turnId = "bad", text = { "not", "a", "string" } }, ctx)
  c.handlers["agent/notice"](nil, { turnId = "gone", level = "warning", text = "late notice" }, ctx)
  c.handlers["agent/turnEnded"](nil, { turnId = "bad", stopReason = "end_turn" }, ctx)
end

---The root folder of every agent_lsp client.
---@return string[]
function M.server_roots()
  return vim.tbl_map(function(c)
    return c.config.root_dir
  end, vim.lsp.get_clients({ name = "agent_lsp" }))
end

return M
