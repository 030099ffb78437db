---Ghost-text completions: Neovim's own `vim.lsp.inline_completion` (0.12+) for the agent's client.
---
---The server answers the standard `textDocument/inlineCompletion`, so Neovim draws the ghost
---text and inserts it; this module only switches that on for the buffers the agent-lsp client
---attaches to (when the server advertises it and the options allow it) and sets the insert-mode
---keys: accept, accept one line, next, previous, dismiss. Accepting runs the item's command
---(`agent.completion.accepted`), which tells the server what was taken.
local config = require("agent_lsp.config")

local M = {}

---@return boolean
function M.available()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

---Whether completion is wanted: the plugin option and the server setting `completion.enabled`.
---@return boolean
function M.wanted()
  local server = (config.options.settings or {}).completion or {}
  return config.options.completion.enabled and server.enabled ~= false
end

---The first line of a suggestion (a suggestion that starts a new line gives that line).
---@param text string
---@return string
function M.first_line(text)
  return text:match("^\n?[^\n]*") or text
end

---Insert the first line of the shown suggestion and tell the server which part was taken.
---@param item vim.lsp.inline_completion.Item
---@param bufnr integer
local function accept_line(item, bufnr)
  local text = type(item.insert_text) == "string" and item.insert_text or item.insert_text.value
  local line = M.first_line(text)
  local win = vim.fn.bufwinid(bufnr)
  local row, col
  if item.range then
    row, col = item.range.start.row, item.range.start.col
    vim.api.nvim_buf_set_text(bufnr, row, col, item.range.end_.row, item.range.end_.col, vim.split(line, "\n"))
  else
    local cursor = vim.api.nvim_win_get_cursor(win)
    row, col = cursor[1] - 1, cursor[2]
    vim.api.nvim_buf_set_text(bufnr, row, col, row, col, vim.split(line, "\n"))
  end
  local lines = vim.split(line, "\n")
  vim.api.nvim_win_set_cursor(win, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  local client = item.command and vim.lsp.get_client_by_id(item.client_id)
  if client then
    local command = vim.deepcopy(item.command)
    command.arguments = { vim.tbl_extend("force", command.arguments and command.arguments[1] or {}, { text = line }) }
    client:exec_cmd(command, { bufnr = bufnr })
  end
end

local namespace = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")

---Whether ghost text is drawn in the buffer now.
---@param bufnr integer
---@return boolean
function M.showing(bufnr)
  return #vim.api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, { limit = 1 }) > 0
end

---Hide the suggestion until the next keystroke: the capability is switched off and on again
---for the buffer, which drops what it shows.
---@param bufnr integer
function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not M.available() or not vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }) then
    return false
  end
  vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  return true
end

---Set the buffer-local insert-mode keys. Accept, accept line and dismiss fall through to the
---key's usual meaning when no suggestion is shown.
---@param bufnr integer
local function set_keymaps(bufnr)
  local keys = config.options.completion.keymaps
  local function map(lhs, fn, desc)
    if lhs and lhs ~= "" then
      vim.keymap.set("i", lhs, function()
        if not fn() then
          return vim.api.nvim_replace_termcodes(lhs, true, false, true)
        end
        return ""
      end, { buffer = bufnr, expr = true, desc = "agent-lsp: " .. desc })
    end
  end
  map(keys.accept, function()
    return vim.lsp.inline_completion.get({ bufnr = bufnr })
  end, "accept the suggestion")
  map(keys.accept_line, function()
    return vim.lsp.inline_completion.get({
      bufnr = bufnr,
      on_accept = function(item)
        accept_line(item, bufnr)
      end,
    })
  end, "accept one line of the suggestion")
  for lhs, count in pairs({ [keys.next or ""] = 1, [keys.prev or ""] = -1 }) do
    if lhs ~= "" then
      vim.keymap.set("i", lhs, function()
        vim.lsp.inline_completion.select({ bufnr = bufnr, count = count })
      end, { buffer = bufnr, desc = "agent-lsp: " .. (count > 0 and "next" or "previous") .. " suggestion" })
    end
  end
  map(keys.dismiss, function()
    local shown = M.showing(bufnr)
    if shown then
      -- Deferred: an expr mapping may not change the buffer's state itself.
      vim.schedule(function()
        M.dismiss(bufnr)
      end)
    end
    return shown
  end, "dismiss the suggestion")
end

---Called when the agent-lsp client attaches to a buffer.
---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if not M.available() or not M.wanted() then
    return
  end
  if not client.server_capabilities.inlineCompletionProvider then
    return
  end
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  set_keymaps(bufnr)
end

---Switch ghost text on or off in every buffer of the agent-lsp clients (after `setup()`).
function M.refresh()
  if not M.available() then
    return
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = "agent_lsp" })) do
    for bufnr in pairs(client.attached_buffers) do
      if M.wanted() then
        M.attach(client, bufnr)
      else
        vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
      end
    end
  end
end

return M
