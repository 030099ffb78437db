---The Lua halves of tests/nvim/test_completion.py: read the ghost text Neovim draws and ask the
---server for its completion status.
local M = {}

---Whether ghost text is enabled for the current buffer.
---@return boolean
function M.enabled()
  return vim.lsp.inline_completion.is_enabled({ bufnr = 0 })
end

---The ghost text extmarks of the current buffer: position, text on the cursor's line, lines below.
---@return table[]
function M.ghosts()
  local ns = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")
  local out = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local details = mark[4]
    local text = {}
    for _, chunk in ipairs(details.virt_text or {}) do
      table.insert(text, chunk[1])
    end
    local lines = {}
    for _, line in ipairs(details.virt_lines or {}) do
      local parts = {}
      for _, chunk in ipairs(line) do
        table.insert(parts, chunk[1])
      end
      table.insert(lines, table.concat(parts))
    end
    table.insert(out, { row = mark[2], col = mark[3], text = table.concat(text), lines = lines })
  end
  return out
end

---Ask `agent.status`; the answer's `completion` part lands in `_G.completion_status`.
function M.request_status()
  _G.completion_status = nil
  local client = vim.lsp.get_clients({ name = "agent_lsp" })[1]
  require("agent_lsp.client").execute(client, "agent.status", {}, function(err, result)
    _G.completion_status = result and result.completion or { error = err }
  end)
end

---@return table?
function M.status()
  return _G.completion_status
end

return M
