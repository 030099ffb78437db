---Sessions and status: `:AgentSessions`, `:AgentNew`, `:AgentStatus`.
---
---The server owns the sessions (one folder per workspace); this module only lists them through
---`vim.ui.select`, so any picker plugin shows them, and shows the loaded transcript in the chat
---buffer. The server also sends `agent/sessionRestored` after a load or a new session; both paths
---render the same way, so whichever arrives first wins and the second is a no-op redraw.
local chat = require("agent_lsp.chat")
local client = require("agent_lsp.client")

local M = {}

---Human form of a session for pickers: `title · 12 messages · 2024-05-01 14:03`.
---@param info table SessionInfo
---@return string
function M.format(info)
  local title = "(empty session)"
  for _, candidate in ipairs({ info.title, info.preview }) do
    if type(candidate) == "string" and vim.trim(candidate) ~= "" then
      title = vim.trim(candidate):gsub("\n.*", "…")
      break
    end
  end
  local when = info.updated and os.date("%Y-%m-%d %H:%M", math.floor(info.updated)) or ""
  return ("%s · %d messages · %s"):format(title, tonumber(info.messageCount) or 0, when)
end

---@param err string?
---@return boolean
local function failed(err)
  if err then
    vim.notify("agent-lsp: " .. err, vim.log.levels.ERROR)
    return true
  end
  return false
end

---Pick a session of the current workspace and load it into the chat.
function M.pick()
  local c, err = client.current()
  if failed(err) or not c then
    return
  end
  local root = c.config.root_dir
  client.execute(c, "agent.session.list", {}, function(e, result)
    if failed(e) then
      return
    end
    local sessions = result.sessions or {}
    if #sessions == 0 then
      vim.notify("agent-lsp: no sessions in this workspace yet", vim.log.levels.INFO)
      return
    end
    local opts = { prompt = "agent-lsp sessions", format_item = M.format, kind = "agent_lsp_session" }
    vim.ui.select(sessions, opts, function(info)
      if not info then
        return
      end
      client.execute(c, "agent.session.load", { id = info.id }, function(e2, loaded)
        if failed(e2) then
          return
        end
        local view = chat.get(root)
        view:show_transcript(loaded.session, loaded.transcript or {})
        chat.show(view)
      end)
    end)
  end)
end

---Start a new session in the current workspace.
function M.new()
  local c, err = client.current()
  if failed(err) or not c then
    return
  end
  local root = c.config.root_dir
  client.execute(c, "agent.session.new", {}, function(e, result)
    if failed(e) then
      return
    end
    chat.get(root):show_transcript(result.session, {})
    vim.notify("agent-lsp: new session " .. M.format(result.session or {}), vim.log.levels.INFO)
  end)
end

---Cancel the running turn of the current workspace.
function M.cancel()
  local c, err = client.current()
  if failed(err) or not c then
    return
  end
  client.execute(c, "agent.cancel", {}, function(e, result)
    if not failed(e) then
      vim.notify(result.cancelled and "agent-lsp: cancelled" or "agent-lsp: nothing to cancel", vim.log.levels.INFO)
    end
  end)
end

---Lines describing an `agent.status` result.
---@param status table
---@return string[]
function M.status_lines(status)
  local usage = type(status.usage) == "table" and status.usage or {}
  local session = type(status.session) == "table" and status.session or nil
  local running = {}
  for _, turn in ipairs(type(status.turns) == "table" and status.turns or {}) do
    table.insert(running, ("%s %s"):format(turn.kind or "turn", turn.turnId or ""))
  end
  if #running == 0 and status.running == true then
    running = { "a turn" }
  end
  local lines = {
    ("agent-lsp %s"):format(status.version or "?"),
    ("provider: %s, model: %s"):format(tostring(status.provider), tostring(status.model)),
  }
  local model = type(status.localModel) == "table" and status.localModel or nil
  if model then
    local reason = type(model.reason) == "string" and (": " .. model.reason) or ""
    table.insert(lines, ("local model: %s%s (%s)"):format(tostring(model.state), reason, tostring(model.file)))
  end
  vim.list_extend(lines, {
    ("session: %s"):format(session and M.format(session) or "none"),
    ("tokens: %s in, %s out"):format(usage.inputTokens or 0, usage.outputTokens or 0),
    ("running: %s"):format(#running > 0 and table.concat(running, ", ") or "nothing"),
  })
  local completion = type(status.completion) == "table" and status.completion or nil
  if completion and completion.enabled then
    table.insert(
      lines,
      ("completion: %s, model %s, %s shown, %s accepted"):format(
        tostring(completion.source),
        tostring(completion.model),
        completion.shown or 0,
        completion.accepted or 0
      )
    )
  elseif completion then
    table.insert(lines, "completion: off (" .. tostring(completion.reason) .. ")")
  end
  local checkpoints = type(status.checkpoints) == "table" and status.checkpoints or nil
  if checkpoints then
    local mb = function(bytes)
      return ("%.1f MB"):format((tonumber(bytes) or 0) / 1048576)
    end
    table.insert(
      lines,
      ("checkpoints: %d, %s of %s"):format(
        tonumber(checkpoints.count) or 0,
        mb(checkpoints.bytes),
        mb(checkpoints.quotaBytes)
      )
    )
  end
  for _, problem in ipairs(type(status.settingsProblems) == "table" and status.settingsProblems or {}) do
    table.insert(lines, "settings problem: " .. tostring(problem))
  end
  return lines
end

---Show the server's status.
function M.status()
  local c, err = client.current()
  if failed(err) or not c then
    return
  end
  client.execute(c, "agent.status", {}, function(e, result)
    if not failed(e) then
      vim.notify(table.concat(M.status_lines(result), "\n"), vim.log.levels.INFO)
    end
  end)
end

return M
