---Options of the plugin: defaults, merging and validation.
---
---Kept apart from the rest so `setup()` can be called any number of times: every call merges the
---user's options over the defaults again (never over a previous call's result), validates them
---once, and the other modules read `require("agent_lsp.config").options` at the moment they need a
---value, so a second `setup()` takes effect without restarting anything.
local M = {}

---@alias agent_lsp.ChatPosition "right"|"left"|"below"|"tab"|"current"

---@class agent_lsp.ChatKeymaps
---@field send string|false Normal-mode key in the chat buffer that sends the prompt below the last `## You`.
---@field send_insert string|false Insert-mode key that sends the prompt.
---@field cancel string[] Keys in the chat buffer that cancel the running turn (close the window when idle).

---@class agent_lsp.InlineKeymaps
---@field accept string Key (buffer-local, only while a proposal is shown) that accepts it.
---@field reject string Key that rejects it (asking for an optional reason).

---@class agent_lsp.CompletionKeymaps
---@field accept string|false Insert-mode key that accepts the whole suggestion (else does what it did).
---@field accept_line string|false Insert-mode key that accepts the suggestion's first line.
---@field next string|false Insert-mode key that shows the next suggestion.
---@field prev string|false Insert-mode key that shows the previous suggestion.
---@field dismiss string|false Insert-mode key that hides the suggestion.

---@class agent_lsp.Config
---@field cmd string[] Command that starts the server over stdio.
---@field cmd_env table<string,string>? Extra environment variables for the server process.
---@field root_markers string[] Files or folders that mark a workspace root (searched upwards).
---@field settings table Server settings (`AgentConfig` fields in camelCase, see docs/protocol.md).
---@field autostart boolean Attach the server to every file buffer of a workspace when it opens.
---@field chat { position: agent_lsp.ChatPosition, size: number, keymaps: agent_lsp.ChatKeymaps }
---@field inline { keymaps: agent_lsp.InlineKeymaps }
---@field completion { enabled: boolean, keymaps: agent_lsp.CompletionKeymaps }

---@type agent_lsp.Config
M.defaults = {
  cmd = { "agent-lsp" },
  cmd_env = nil,
  root_markers = { ".agent-lsp", ".git" },
  settings = {},
  autostart = true,
  chat = {
    position = "right",
    -- Fraction of the editor (below 1) or a number of columns/lines.
    size = 0.4,
    keymaps = {
      send = "<CR>",
      send_insert = "<C-s>",
      cancel = { "q", "<C-c>" },
    },
  },
  inline = {
    keymaps = {
      accept = "ga",
      reject = "gr",
    },
  },
  -- Ghost text (Neovim 0.12+, when the server offers it and `settings.completion.enabled` is not false).
  completion = {
    enabled = true,
    keymaps = {
      accept = "<Tab>",
      accept_line = "<M-l>",
      next = "<M-]>",
      prev = "<M-[>",
      dismiss = "<C-]>",
    },
  },
}

---The options in force (defaults until `setup()` runs).
---@type agent_lsp.Config
M.options = vim.deepcopy(M.defaults)

local positions = { right = true, left = true, below = true, tab = true, current = true }

---Check the merged options; the message names the first bad field.
---@param opts agent_lsp.Config
---@return string? error
local function validate(opts)
  local function is_list_of_strings(v)
    if type(v) ~= "table" or #v == 0 then
      return false
    end
    for _, item in ipairs(v) do
      if type(item) ~= "string" then
        return false
      end
    end
    return true
  end
  if not is_list_of_strings(opts.cmd) then
    return "cmd must be a non-empty list of strings, e.g. { 'agent-lsp' }"
  end
  if type(opts.root_markers) ~= "table" then
    return "root_markers must be a list of file names"
  end
  if type(opts.settings) ~= "table" then
    return "settings must be a table of server settings"
  end
  if opts.cmd_env ~= nil and type(opts.cmd_env) ~= "table" then
    return "cmd_env must be a table of environment variables"
  end
  if type(opts.autostart) ~= "boolean" then
    return "autostart must be true or false"
  end
  if not positions[opts.chat.position] then
    return "chat.position must be one of right, left, below, tab, current"
  end
  if type(opts.chat.size) ~= "number" or opts.chat.size <= 0 then
    return "chat.size must be a positive number"
  end
  if type(opts.chat.keymaps.cancel) ~= "table" then
    return "chat.keymaps.cancel must be a list of keys"
  end
  for _, name in ipairs({ "accept", "reject" }) do
    if type(opts.inline.keymaps[name]) ~= "string" or opts.inline.keymaps[name] == "" then
      return "inline.keymaps." .. name .. " must be a key"
    end
  end
  if type(opts.completion.enabled) ~= "boolean" then
    return "completion.enabled must be true or false"
  end
  for _, name in ipairs({ "accept", "accept_line", "next", "prev", "dismiss" }) do
    local key = opts.completion.keymaps[name]
    if key ~= false and (type(key) ~= "string" or key == "") then
      return "completion.keymaps." .. name .. " must be a key or false"
    end
  end
  return nil
end

---Merge `user` over the defaults and make the result the options in force.
---Lists (cmd, root_markers, cancel keys) are replaced, not merged item by item.
---@param user table?
---@return boolean ok
---@return string? error why the options were refused (the previous options stay in force)
function M.set(user)
  if user ~= nil and type(user) ~= "table" then
    return false, "setup() takes a table of options"
  end
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user or {})
  local err = validate(merged)
  if err then
    return false, err
  end
  M.options = merged
  return true, nil
end

---Settings as JSON wants them: an empty Lua table would be encoded as `[]`, which the server
---would read as VS Code's list form, so empty tables become JSON objects.
---@param value any
---@return any
function M.json_settings(value)
  if type(value) ~= "table" then
    return value
  end
  if next(value) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(value) do
    out[k] = M.json_settings(v)
  end
  return out
end

return M
