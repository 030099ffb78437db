---Inline edits: `:'<,'>AgentEdit {instruction}` and the preview of the proposal.
---
---The proposal is drawn with extmarks only (the range struck through in `DiffDelete`, the
---proposed text as virtual lines in `DiffAdd` below it), so the buffer's text and undo history are
---untouched until the user accepts. Accepting asks the server to apply the edit
---(`agent.inlineEdit.accept`): it arrives as a versioned `workspace/applyEdit`, which Neovim applies
---as a single change, so one `u` reverts it. Rejecting asks for an optional reason, which the server
---records for the model.
local client = require("agent_lsp.client")
local config = require("agent_lsp.config")
local transcript = require("agent_lsp.transcript")
local turns = require("agent_lsp.turns")

local M = {}

local api = vim.api
local ns = api.nvim_create_namespace("agent_lsp_inline")

---@class agent_lsp.Proposal: agent_lsp.TurnHandler
---@field buf integer? the edited buffer (nil until known for turns started elsewhere)
---@field root string? workspace root of a proposal this plugin asked for
---@field turn_id string?
---@field first_row integer 0-based first line of the range
---@field last_row integer 0-based last line of the range
---@field mark integer? extmark holding the preview
---@field text string streamed text so far
---@field new_text string? the final proposal
---@field ended boolean
local Proposal = {}
Proposal.__index = Proposal

---@type table<integer, agent_lsp.Proposal> the proposal shown in each buffer
local by_buf = {}

---Column of the end of `line` in the client's position encoding.
---@param line string
---@param encoding string "utf-8"|"utf-16"|"utf-32"
---@return integer
function M.end_col(line, encoding)
  if encoding == "utf-8" then
    return #line
  end
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(line, encoding)
  end
  local utf32, utf16 = vim.str_utfindex(line)
  return encoding == "utf-16" and utf16 or utf32
end

---The proposal shown in a buffer, if any.
---@param bufnr integer
---@return agent_lsp.Proposal?
function M.get(bufnr)
  return by_buf[(bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr]
end

---Draw (or redraw) the preview from the text known so far.
function Proposal:render()
  if not self.buf or not api.nvim_buf_is_valid(self.buf) then
    return
  end
  local keys = config.options.inline.keymaps
  local status = self.new_text and ("agent-lsp: %s accept · %s reject"):format(keys.accept, keys.reject)
    or "agent-lsp: proposing…"
  local virt = {}
  local text = self.new_text or self.text
  if text ~= "" then
    for _, line in ipairs(transcript.split(text)) do
      table.insert(virt, { { line, "DiffAdd" } })
    end
  end
  table.insert(virt, { { status, "Comment" } })
  local last = api.nvim_buf_get_lines(self.buf, self.last_row, self.last_row + 1, false)[1] or ""
  self.mark = api.nvim_buf_set_extmark(self.buf, ns, self.first_row, 0, {
    id = self.mark,
    end_row = self.last_row,
    end_col = #last,
    hl_group = "DiffDelete",
    hl_eol = true,
    virt_lines = virt,
  })
end

---Remove the preview and the accept/reject keys.
function Proposal:clear()
  if self.buf and api.nvim_buf_is_valid(self.buf) then
    api.nvim_buf_clear_namespace(self.buf, ns, 0, -1)
    local keys = config.options.inline.keymaps
    for _, lhs in ipairs({ keys.accept, keys.reject }) do
      pcall(vim.keymap.del, "n", lhs, { buffer = self.buf })
    end
  end
  if self.buf and by_buf[self.buf] == self then
    by_buf[self.buf] = nil
  end
end

function Proposal:map_keys()
  local keys = config.options.inline.keymaps
  vim.keymap.set("n", keys.accept, function()
    M.accept(self.buf)
  end, { buffer = self.buf, desc = "agent-lsp: accept the proposed edit", nowait = true })
  vim.keymap.set("n", keys.reject, function()
    M.reject(self.buf)
  end, { buffer = self.buf, desc = "agent-lsp: reject the proposed edit", nowait = true })
end

function Proposal:on_started(params)
  self.turn_id = params.turnId
end

function Proposal:on_text(params)
  self.text = self.text .. (params.text or "")
  self:render()
end

function Proposal:on_notice(params)
  vim.notify("agent-lsp: " .. tostring(params.text), vim.log.levels.INFO)
end

function Proposal:on_retry(params)
  vim.notify("agent-lsp: " .. transcript.retry_line(params):gsub("^> ", ""), vim.log.levels.WARN)
end

function Proposal:on_proposal(params)
  if not self.buf then
    -- Started elsewhere (a code action): the proposal says where it goes.
    local bufnr = vim.uri_to_bufnr(params.uri)
    if by_buf[bufnr] or not api.nvim_buf_is_loaded(bufnr) then
      vim.notify("agent-lsp: an edit was proposed for a buffer that is busy or closed", vim.log.levels.WARN)
      return
    end
    self.buf = bufnr
    self.first_row, self.last_row = params.range.start.line, params.range["end"].line
    by_buf[bufnr] = self
  end
  self.new_text = params.newText or ""
  self:render()
  self:map_keys()
end

function Proposal:on_ended(params)
  self.ended = true
  if not self.new_text then
    local line = transcript.ended_line(params)
    if line then
      vim.notify("agent-lsp: inline edit " .. line:gsub("^> ", ""):gsub("[_*]", ""), vim.log.levels.WARN)
    end
    self:clear()
  end
end

---Ask for an edit of `range` (LSP positions) of `bufnr`, previewing the proposal.
---@param bufnr integer
---@param range table LSP range
---@param instruction string
function M.edit_range(bufnr, range, instruction)
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  if vim.trim(instruction or "") == "" then
    vim.notify("agent-lsp: :AgentEdit needs an instruction, e.g. :'<,'>AgentEdit add type hints", vim.log.levels.ERROR)
    return
  end
  if by_buf[bufnr] then
    vim.notify("agent-lsp: accept or reject the shown proposal first", vim.log.levels.WARN)
    return
  end
  local c, err = client.current(bufnr)
  if not c then
    vim.notify(err or "agent-lsp: no server", vim.log.levels.ERROR)
    return
  end
  local first, last = range.start.line, range["end"].line
  -- A range of whole lines ends at column 0 of the next line, which is not part of it.
  if last > first and range["end"].character == 0 then
    last = last - 1
  end
  local p = setmetatable({
    buf = bufnr,
    root = c.config.root_dir,
    first_row = first,
    last_row = math.min(last, api.nvim_buf_line_count(bufnr) - 1),
    text = "",
    ended = false,
  }, Proposal)
  by_buf[bufnr] = p
  p:render()
  local args = { uri = vim.uri_from_bufnr(bufnr), range = range, instruction = instruction }
  client.execute(c, "agent.inlineEdit", args, function(e, result)
    if e then
      vim.notify("agent-lsp: " .. e, vim.log.levels.ERROR)
      p:clear()
      return
    end
    p.turn_id = result.turnId
    turns.register(result.turnId, p)
  end, bufnr)
end

---Ask for an edit of lines `l1`..`l2` (1-based) of `bufnr`.
---@param bufnr integer
---@param l1 integer
---@param l2 integer
---@param instruction string
function M.edit(bufnr, l1, l2, instruction)
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  local c = vim.lsp.get_clients({ bufnr = bufnr, name = client.name })[1]
  local last = api.nvim_buf_get_lines(bufnr, l2 - 1, l2, false)[1] or ""
  local range = {
    start = { line = l1 - 1, character = 0 },
    ["end"] = { line = l2 - 1, character = M.end_col(last, c and c.offset_encoding or "utf-16") },
  }
  M.edit_range(bufnr, range, instruction)
end

---The client-side handler of the `agent.inlineEdit` command of the server's code actions
---("Edit with agent", "Fix with agent"): the edit gets the same preview as `:AgentEdit`, and
---"Edit with agent", which carries no instruction, asks for one.
---@param command table lsp.Command
---@param ctx table {bufnr}
function M.code_action(command, ctx)
  local args = (command.arguments or {})[1] or {}
  local bufnr = args.uri and vim.uri_to_bufnr(args.uri) or ctx.bufnr
  if type(args.range) ~= "table" then
    vim.notify("agent-lsp: the code action carries no range", vim.log.levels.ERROR)
    return
  end
  if args.instruction and vim.trim(args.instruction) ~= "" then
    M.edit_range(bufnr, args.range, args.instruction)
    return
  end
  vim.ui.input({ prompt = "Edit with agent: " }, function(instruction)
    if instruction and vim.trim(instruction) ~= "" then
      M.edit_range(bufnr, args.range, instruction)
    end
  end)
end

---Accept the proposal shown in `bufnr`: the server applies it through `workspace/applyEdit`.
---@param bufnr integer?
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local p = by_buf[bufnr]
  if not p or not p.new_text or not p.turn_id then
    vim.notify("agent-lsp: no finished proposal in this buffer", vim.log.levels.WARN)
    return
  end
  local c = client.current(bufnr)
  if not c then
    return
  end
  p:clear()
  client.execute(c, "agent.inlineEdit.accept", { turnId = p.turn_id }, function(e, result)
    if e then
      vim.notify("agent-lsp: " .. e, vim.log.levels.ERROR)
    elseif not result.applied then
      vim.notify("agent-lsp: the edit was not applied: " .. tostring(result.reason or "refused"), vim.log.levels.ERROR)
    end
  end, bufnr)
end

---Reject the proposal shown in `bufnr`, asking for an optional reason for the model.
---@param bufnr integer?
function M.reject(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local p = by_buf[bufnr]
  if not p then
    vim.notify("agent-lsp: no proposal in this buffer", vim.log.levels.WARN)
    return
  end
  local c = client.current(bufnr)
  if not p.new_text then
    -- Still streaming: there is nothing to reject yet, so stop the turn instead.
    p:clear()
    if c and p.turn_id then
      client.execute(c, "agent.cancel", { turnId = p.turn_id }, function() end)
    end
    return
  end
  vim.ui.input({ prompt = "Why reject? (optional): " }, function(reason)
    p:clear()
    if not c then
      return
    end
    local args = { turnId = p.turn_id }
    if reason and vim.trim(reason) ~= "" then
      args.reason = reason
    end
    client.execute(c, "agent.inlineEdit.reject", args, function(e)
      if e then
        vim.notify("agent-lsp: " .. e, vim.log.levels.ERROR)
      end
    end, bufnr)
  end)
end

turns.set_claimer("inlineEdit", function(client_id, _)
  local c = vim.lsp.get_client_by_id(client_id)
  local root = c and c.config.root_dir
  for _, p in pairs(by_buf) do
    if p.root == root and not p.turn_id then
      return p
    end
  end
  return setmetatable({ text = "", ended = false }, Proposal)
end)

return M
