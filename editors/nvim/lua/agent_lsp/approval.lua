---Answering `agent/requestPermission`: may the agent edit this file or run this command?
---
---Neovim runs server-request handlers inside a coroutine, so the handler can wait for
---`vim.ui.select` (whatever picker the user installed: telescope, fzf-lua, snacks) without blocking
---the editor, then return the decision as the response. The request's detail (a diff, a command
---line) is shown in a floating window while the picker is open. "Allow once" is first, so a stray
---<CR> never grants more than one action.
local M = {}

local api = vim.api

---@class agent_lsp.Choice
---@field label string
---@field decision "allow_once"|"allow_session"|"reject"

---@type agent_lsp.Choice[]
M.choices = {
  { label = "Allow once", decision = "allow_once" },
  { label = "Allow for this session", decision = "allow_session" },
  { label = "Reject", decision = "reject" },
}

---Show `detail` in a floating window; returns a function that closes it.
---@param title string
---@param detail string
---@return fun()
local function show_detail(title, detail)
  local lines = vim.split(detail, "\n", { plain = true })
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = detail:match("^%-%-%-") and "diff" or "markdown"
  local width = math.min(vim.o.columns - 4, 100)
  local height = math.min(#lines, math.max(3, vim.o.lines - 10))
  local ok, win = pcall(api.nvim_open_win, buf, false, {
    relative = "editor",
    row = 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = height,
    border = "rounded",
    title = " " .. title .. " ",
    style = "minimal",
  })
  return function()
    if ok and api.nvim_win_is_valid(win) then
      api.nvim_win_close(win, true)
    end
    if api.nvim_buf_is_valid(buf) then
      api.nvim_buf_delete(buf, { force = true })
    end
  end
end

---Wait for a callback-style UI inside the request coroutine.
---@param start fun(done: fun(value: any))
---@return any
local function await(start)
  local co = coroutine.running()
  start(function(value)
    -- Resume on the main loop: a synchronous vim.ui.* would otherwise resume before we yield.
    vim.schedule(function()
      coroutine.resume(co, value)
    end)
  end)
  return coroutine.yield()
end

---The `agent/requestPermission` handler.
---@param params table {turnId, tool, title, detail}
---@return table response {decision, reason?}
function M.request(params, _)
  params = params or {}
  local title = params.title or ("Allow " .. tostring(params.tool) .. "?")
  local co, is_main = coroutine.running()
  if not co or is_main then
    -- Not inside the client's request coroutine (Neovim < 0.10): never allow silently.
    return { decision = "reject", reason = "the editor could not ask the user" }
  end
  local close = (params.detail and params.detail ~= "") and show_detail(title, params.detail) or function() end
  local choice = await(function(done)
    vim.ui.select(M.choices, {
      prompt = "agent-lsp: " .. title,
      kind = "agent_lsp_permission",
      format_item = function(item)
        return item.label
      end,
    }, done)
  end)
  close()
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
