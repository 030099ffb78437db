---Waiting for callback-style UI and server answers inside a coroutine.
---
---`vim.ui.select`, `vim.ui.input` and `workspace/executeCommand` answer through callbacks; a flow
---of several questions (the approval, `:AgentRewind`) reads as a sequence when it runs in a
---coroutine and awaits each answer, without blocking the editor meanwhile.
local M = {}

---Wait inside the running coroutine for `start` to call its `done(value)`.
---@param start fun(done: fun(...: any))
---@return any ...
function M.await(start)
  local co = coroutine.running()
  start(function(...)
    local values = { n = select("#", ...), ... }
    -- Resume on the main loop: a synchronous callback would otherwise resume before we yield.
    vim.schedule(function()
      local ok, err = coroutine.resume(co, unpack(values, 1, values.n))
      if not ok then
        vim.notify("agent-lsp: " .. tostring(err), vim.log.levels.ERROR)
      end
    end)
  end)
  return coroutine.yield()
end

---Run `fn` in a new coroutine (so it may `await`); an error in it is shown, not lost.
---@param fn fun()
function M.run(fn)
  local co = coroutine.create(fn)
  local ok, err = coroutine.resume(co)
  if not ok then
    vim.notify("agent-lsp: " .. tostring(err), vim.log.levels.ERROR)
  end
end

return M
