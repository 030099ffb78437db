---Answering `agent/requestPermission`: may the agent edit this file or run this command?
---
---Neovim runs server-request handlers inside a coroutine, so the handler can wait for
---`vim.ui.select` (whatever picker the user installed: telescope, fzf-lua, snacks) without blocking
---the editor, then return the decision as the response. The request's detail (the whole diff or
---command line) is shown in a floating window while the picker is open. "Allow once" comes before
---the other answers, so a stray <CR> never grants more than one action (and when part of the
---detail is not shown, "View the whole detail" comes first of all).
---
---The user must see everything they approve. The float is capped in height, so when the detail
---does not fit (many lines, or one long line wrapped over many rows) its footer says how many
---lines are not shown and the picker offers "View the whole detail" first: it opens the detail in
---a read-only buffer in a new tab, and the question comes back when that tab is closed (`q`).
local await = require("agent_lsp.async").await
local scratch = require("agent_lsp.scratch")
local visible = require("agent_lsp.visible")

local M = {}

local api = vim.api

---@class agent_lsp.Choice
---@field label string
---@field decision "allow_once"|"allow_session"|"reject"|"view"

---@type agent_lsp.Choice[]
M.choices = {
  { label = "Allow once", decision = "allow_once" },
  { label = "Allow for this session", decision = "allow_session" },
  { label = "Reject", decision = "reject" },
}

---A title on one line with every control and invisible character shown as an escape (the
---server already sends it so; an older or other server might not, and a float title cannot hold
---a line break).
---@param text string
---@return string
function M.one_line(text)
  return visible.one_line(text)
end

---`1 line`, `60 lines`.
---@param n integer
---@return string
local function lines_word(n)
  return n == 1 and "1 line" or (n .. " lines")
end

---How many screen rows each line takes in a window `width` columns wide (lines wrap).
---@param lines string[]
---@param width integer
---@return integer[]
local function rows_of(lines, width)
  local rows = {}
  for i, line in ipairs(lines) do
    rows[i] = math.max(1, math.ceil(vim.fn.strdisplaywidth(line) / width))
  end
  return rows
end

---@class agent_lsp.DetailView
---@field close fun()
---@field hidden integer lines of the detail the float cannot show (0: all of it is shown)

---Show `lines` in a floating window as tall as they need, at most the editor's height less room
---for the picker; the footer says how many lines do not fit.
---@param title string
---@param lines string[]
---@param filetype string
---@return agent_lsp.DetailView
local function show_detail(title, lines, filetype)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = filetype
  local width = math.min(vim.o.columns - 4, 100)
  local max_height = math.max(3, vim.o.lines - 10)
  local used, shown = 0, 0
  for _, rows in ipairs(rows_of(lines, width)) do
    if used + rows > max_height then
      break
    end
    used, shown = used + rows, shown + 1
  end
  local hidden = #lines - shown
  local config = {
    relative = "editor",
    row = 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = hidden > 0 and max_height or math.max(1, used),
    border = "rounded",
    title = " " .. title .. " ",
    style = "minimal",
  }
  if hidden > 0 then
    config.footer = (" %s not shown in full: pick “View the whole detail” "):format(lines_word(hidden))
    config.footer_pos = "right"
  end
  local ok, win = pcall(api.nvim_open_win, buf, false, config)
  if ok then
    vim.wo[win].wrap = true
  end
  return {
    hidden = hidden,
    close = function()
      if ok and api.nvim_win_is_valid(win) then
        api.nvim_win_close(win, true)
      end
      if api.nvim_buf_is_valid(buf) then
        api.nvim_buf_delete(buf, { force = true })
      end
    end,
  }
end

---Open the whole detail in a read-only buffer in a new tab; `done()` once it is closed.
---@param title string
---@param lines string[]
---@param filetype string
---@param done fun()
local function view_whole(title, lines, filetype, done)
  local buf = scratch.tab(lines, filetype)
  vim.b[buf].agent_lsp_approval = true
  vim.wo.winbar = ("agent-lsp approval: %s  (%s; q closes this and asks again)"):format(
    title:gsub("%%", "%%%%"),
    lines_word(#lines)
  )
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = buf, nowait = true, desc = "agent-lsp: back to the question" })
  api.nvim_create_autocmd("BufWipeout", { buffer = buf, once = true, callback = done })
end

---Ask until the user answers; viewing the whole detail asks again afterwards.
---@param title string
---@param detail string
---@return agent_lsp.Choice?
local function choose(title, detail)
  local lines = vim.split(detail, "\n", { plain = true })
  local filetype = detail:match("^%-%-%-") and "diff" or "markdown"
  while true do
    local view = detail ~= "" and show_detail(title, lines, filetype) or { hidden = 0, close = function() end }
    local items = vim.list_slice(M.choices)
    if view.hidden > 0 then
      table.insert(items, 1, { label = ("View the whole detail (%s)"):format(lines_word(#lines)), decision = "view" })
    end
    local choice = await(function(done)
      vim.ui.select(items, {
        prompt = "agent-lsp: " .. title,
        kind = "agent_lsp_permission",
        format_item = function(item)
          return item.label
        end,
      }, done)
    end)
    view.close()
    if not choice or choice.decision ~= "view" then
      return choice
    end
    await(function(done)
      view_whole(title, lines, filetype, done)
    end)
  end
end

---The `agent/requestPermission` handler.
---@param params table {turnId, tool, title, detail}
---@return table response {decision, reason?}
function M.request(params, _)
  params = params or {}
  local title = M.one_line(params.title or ("Allow " .. tostring(params.tool) .. "?"))
  local co, is_main = coroutine.running()
  if not co or is_main then
    -- Not inside the client's request coroutine (Neovim < 0.10): never allow silently.
    return { decision = "reject", reason = "the editor could not ask the user" }
  end
  local choice = choose(title, type(params.detail) == "string" and params.detail or "")
  if not choice then
    return { decision = "reject", reason = "the user dismissed the question" }
  end
  local answer = { decision = choice.decision }
  if choice.decision == "reject" then
    local reason = await(function(done)
      vim.ui.input({ prompt = "Why reject? (optional): " }, done)
    end)
    if reason and vim.trim(reason) ~= "" then
      answer.reason = reason
    end
  end
  return answer
end

return M
