---agent-lsp for Neovim: an AI coding agent through the built-in LSP client.
---
---The plugin is a thin client of docs/protocol.md: the `agent-lsp` server runs the agent; this
---plugin starts it per workspace, shows its turns (chat buffer, inline edit previews), answers its
---permission requests, and maps commands onto `workspace/executeCommand`. This module is the public
---API; `plugin/agent_lsp.lua` only defines the user commands that call it.
local M = {}

---Start (or reuse) the server for a file buffer's workspace.
---@param bufnr integer
local function autostart(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return
  end
  local _, err = require("agent_lsp.client").start(bufnr)
  if err then
    vim.notify_once(err, vim.log.levels.WARN)
  end
end

---Configure the plugin. Safe to call again: options are merged over the defaults anew, and running
---servers get the new settings through `workspace/didChangeConfiguration`.
---@param opts table? see `:help agent_lsp-options`
function M.setup(opts)
  local config = require("agent_lsp.config")
  local ok, err = config.set(opts)
  if not ok then
    vim.notify("agent-lsp: bad options: " .. err .. " (previous options kept)", vim.log.levels.ERROR)
    return
  end
  local client = require("agent_lsp.client")
  client.push_settings()
  local group = vim.api.nvim_create_augroup("agent_lsp", { clear = true })
  if config.options.autostart then
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(ev)
        autostart(ev.buf)
      end,
      desc = "agent-lsp: attach the workspace's agent server",
    })
    -- Buffers opened before setup() (e.g. when lazy-loaded on BufReadPost) are attached too.
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        autostart(bufnr)
      end
    end
  end
end

---@class agent_lsp.CommandArgs
---@field args string
---@field range integer 0 (no range), 1 or 2
---@field line1 integer
---@field line2 integer

---`:AgentChat [prompt]`: open the chat, or send `prompt` (with the range as context when given).
---In the chat buffer without a prompt, send the draft.
---@param cmd agent_lsp.CommandArgs
function M.chat(cmd)
  local chat = require("agent_lsp.chat")
  local bufnr = vim.api.nvim_get_current_buf()
  local view = chat.for_buffer(bufnr)
  local in_chat = bufnr == view.buf
  if cmd.range > 0 and not in_chat then
    view.context = chat.selection_context(bufnr, cmd.line1, cmd.line2)
  end
  local prompt = vim.trim(cmd.args or "")
  if in_chat and prompt == "" then
    view:send()
    return
  end
  chat.show(view)
  if prompt ~= "" then
    view:send(prompt)
  elseif view.context then
    vim.notify("agent-lsp: the selection goes with your next message", vim.log.levels.INFO)
  end
end

---`:'<,'>AgentEdit {instruction}`
---@param cmd agent_lsp.CommandArgs
function M.edit(cmd)
  require("agent_lsp.inline").edit(0, cmd.line1, cmd.line2, cmd.args)
end

---Accept the inline proposal shown in the current buffer.
function M.accept()
  require("agent_lsp.inline").accept(0)
end

---Reject the inline proposal shown in the current buffer (asks for an optional reason).
function M.reject()
  require("agent_lsp.inline").reject(0)
end

---Pick a session with `vim.ui.select` and show it in the chat.
function M.sessions()
  require("agent_lsp.sessions").pick()
end

---Start a new session.
function M.new_session()
  require("agent_lsp.sessions").new()
end

---Cancel the running turn of the current workspace.
function M.cancel()
  require("agent_lsp.sessions").cancel()
end

---`:AgentRewind`: pick a turn and restore the state before it; `:AgentRewind undo` undoes the
---last restore.
---@param cmd agent_lsp.CommandArgs?
function M.rewind(cmd)
  local arg = vim.trim(cmd and cmd.args or "")
  if arg == "undo" then
    require("agent_lsp.checkpoints").undo()
  elseif arg == "" then
    require("agent_lsp.checkpoints").rewind()
  else
    vim.notify(("agent-lsp: :AgentRewind takes no argument or `undo`, not %q"):format(arg), vim.log.levels.ERROR)
  end
end

---Show provider, model, session, usage and what is running.
function M.status()
  require("agent_lsp.sessions").status()
end

return M
