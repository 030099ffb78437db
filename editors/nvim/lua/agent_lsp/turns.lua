---Routing of the server's turn notifications to whoever shows that turn.
---
---Every `agent/*` notification of a turn carries a `turnId`. A view (the chat buffer, an inline
---edit preview) registers the turns it started. The `{turnId}` result of `agent.chat` and the
---first `agent/turnStarted` notification can arrive in either order, and a turn may also be started
---by something else (a code action "Edit with agent"), so a turn nobody registered yet is offered
---to the claimer of its kind when `agent/turnStarted` arrives; notifications for a turn that is
---still unknown are queued and replayed, in order, when it gets registered.
local M = {}

---@class agent_lsp.TurnHandler
---@field on_started? fun(self, params: table)
---@field on_text? fun(self, params: table)
---@field on_tool? fun(self, params: table)
---@field on_retry? fun(self, params: table)
---@field on_notice? fun(self, params: table)
---@field on_proposal? fun(self, params: table)
---@field on_ended? fun(self, params: table)

---@type table<string, agent_lsp.TurnHandler>
local handlers = {}
---@type table<string, {method: string, params: table, ctx: table}[]>
local pending = {}
---@type table<string, fun(client_id: integer, params: table): agent_lsp.TurnHandler?>
local claimers = {}
---The module that registers the claimer of each turn kind when it loads; required on demand so a
---turn started before the user opened any view (a code action) still finds its claimer.
local claimer_modules = { chat = "agent_lsp.chat", inlineEdit = "agent_lsp.inline" }

---Which handler method each notification goes to.
M.methods = {
  ["agent/turnStarted"] = "on_started",
  ["agent/textDelta"] = "on_text",
  ["agent/toolCall"] = "on_tool",
  ["agent/retry"] = "on_retry",
  ["agent/notice"] = "on_notice",
  ["agent/inlineEditProposal"] = "on_proposal",
  ["agent/turnEnded"] = "on_ended",
}

---@param handler agent_lsp.TurnHandler
---@param method string
---@param params table
local function deliver(handler, method, params)
  local fn = handler[M.methods[method]]
  if fn then
    fn(handler, params)
  end
  if method == "agent/turnEnded" then
    handlers[params.turnId] = nil
  end
end

---Register the view of a turn and replay what arrived for it before.
---@param turn_id string
---@param handler agent_lsp.TurnHandler
function M.register(turn_id, handler)
  if handlers[turn_id] == handler then
    return
  end
  handlers[turn_id] = handler
  local queued = pending[turn_id] or {}
  pending[turn_id] = nil
  for _, item in ipairs(queued) do
    deliver(handler, item.method, item.params)
  end
end

---@param turn_id string
---@return agent_lsp.TurnHandler?
function M.get(turn_id)
  return handlers[turn_id]
end

---Let `fn` take turns of `kind` ("chat" | "inlineEdit") that no view registered yet.
---@param kind string
---@param fn fun(client_id: integer, params: table): agent_lsp.TurnHandler?
function M.set_claimer(kind, fn)
  claimers[kind] = fn
end

---Forget every turn of a client that stopped, telling each view the turn is over.
---@param turn_ids string[]
---@param reason string
function M.abandon(turn_ids, reason)
  for _, id in ipairs(turn_ids) do
    local handler = handlers[id]
    pending[id] = nil
    if handler then
      deliver(handler, "agent/turnEnded", { turnId = id, stopReason = "error", error = reason })
    end
  end
end

---The notification handler for every method in `M.methods`.
---@param method string
---@param params table
---@param ctx table LSP handler context (`client_id`)
---@return boolean shown false when nobody shows it (the caller notifies the user instead)
function M.dispatch(method, params, ctx)
  local turn_id = type(params) == "table" and params.turnId or nil
  if not turn_id then
    return false
  end
  local handler = handlers[turn_id]
  if not handler and method == "agent/turnStarted" then
    if not claimers[params.kind] and claimer_modules[params.kind] then
      require(claimer_modules[params.kind])
    end
    local claim = claimers[params.kind]
    handler = claim and claim(ctx.client_id, params) or nil
    if handler then
      M.register(turn_id, handler)
    end
  end
  if handler then
    deliver(handler, method, params)
  elseif method == "agent/notice" then
    -- A notice for a turn that already ended (or that nobody shows) is shown on its own.
    return false
  else
    pending[turn_id] = pending[turn_id] or {}
    table.insert(pending[turn_id], { method = method, params = params, ctx = ctx })
  end
  return true
end

return M
