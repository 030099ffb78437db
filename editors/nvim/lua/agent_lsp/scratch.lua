---Read-only scratch buffers for text the user reads before deciding: the whole detail of an
---approval, the diff a checkpoint restore would apply. One place, so both behave the same: a new
---tab, nothing to save, wiped when closed, not editable.
local M = {}

---Open `lines` in a read-only scratch buffer in a new tab; returns the buffer.
---@param lines string[]
---@param filetype string
---@return integer buf
function M.tab(lines, filetype)
  vim.cmd("tabnew")
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = filetype
  return buf
end

return M
