---The Lua half of tests/nvim/test_approval_display.py: a picker that records what the user was
---shown for each approval (the prompt, the items, the detail float) and answers from a script.
local M = {}

---The floating windows open now: their footer text, height and buffer lines.
---@return table[]
local function floats()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local config = vim.api.nvim_win_get_config(win)
    if config.relative ~= "" then
      local footer = config.footer
      if type(footer) == "table" then
        footer = table.concat(vim.tbl_map(function(chunk)
          return chunk[1]
        end, footer))
      end
      local buf = vim.api.nvim_win_get_buf(win)
      table.insert(found, {
        footer = footer or "",
        height = config.height,
        lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      })
    end
  end
  return found
end

---Replace `vim.ui.select`: each call is recorded in `_G.asked` and answered with the first item
---whose label starts with the next of `picks`; `vim.ui.input` gives no reason.
---@param picks string[]
function M.record_and_pick(picks)
  _G.asked = {}
  vim.ui.select = function(items, opts, cb)
    table.insert(_G.asked, { prompt = opts.prompt, items = vim.tbl_map(opts.format_item, items), floats = floats() })
    local want = table.remove(picks, 1)
    for _, item in ipairs(items) do
      if vim.startswith(opts.format_item(item), want) then
        return cb(item)
      end
    end
    cb(nil)
  end
  vim.ui.input = function(_, cb)
    cb(nil)
  end
end

return M
