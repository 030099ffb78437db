---Turning protocol data (transcript messages, tool calls, retries) into chat buffer lines.
---
---Pure functions with no buffer access, so the chat buffer and the tests share one rendering and a
---restored session reads the same as the turn did when it streamed. The chat is Markdown: one
---`## You` / `## Agent` heading per message, tool calls and retries as compact quote lines.
local M = {}

M.you = "## You"
M.agent = "## Agent"

---Markdown lines of a (possibly multi-line) string.
---@param text string?
---@return string[]
function M.split(text)
  return vim.split(text or "", "\n", { plain = true })
end

---A short one-line summary of tool arguments: `path=a.py, line=3`.
---@param arguments any
---@return string
function M.args_summary(arguments)
  if type(arguments) ~= "table" then
    return arguments == nil and "" or tostring(arguments)
  end
  local parts = {}
  local keys = vim.tbl_keys(arguments)
  table.sort(keys)
  for _, key in ipairs(keys) do
    local value = arguments[key]
    local shown = type(value) == "string" and value or vim.json.encode(value)
    shown = shown:gsub("\n.*", "…")
    if #shown > 40 then
      shown = shown:sub(1, 39) .. "…"
    end
    table.insert(parts, ("%s=%s"):format(key, shown))
  end
  return table.concat(parts, ", ")
end

---The first line of a tool's output, shortened.
---@param output string?
---@return string
local function first_line(output)
  local line = (output or ""):match("^%s*([^\n]*)") or ""
  if #line > 60 then
    line = line:sub(1, 59) .. "…"
  end
  return line
end

---One compact line for a tool call: `> tool read_file(path=a.py) … done: 3 lines`.
---@param name string
---@param arguments any
---@param status string "started"|"running"|"finished"
---@param output string?
---@param is_error boolean?
---@return string
function M.tool_line(name, arguments, status, output, is_error)
  local head = ("> tool `%s`(%s)"):format(name or "?", M.args_summary(arguments))
  if status ~= "finished" then
    return head .. " …"
  end
  local tail = first_line(output)
  if is_error then
    return head .. " ✗ " .. tail
  end
  return head .. " ✓" .. (tail ~= "" and (" " .. tail) or "")
end

---@param params table `agent/retry` params
---@return string
function M.retry_line(params)
  return ("> retry: attempt %s/%s in %.1f s: %s"):format(
    params.attempt or "?",
    params.maxAttempts or "?",
    tonumber(params.delay) or 0,
    params.reason or "error"
  )
end

---@param params table `agent/notice` params
---@return string[]
function M.notice_lines(params)
  local lines = M.split(params.text)
  lines[1] = ("> **%s** %s"):format(params.level or "info", lines[1])
  for i = 2, #lines do
    lines[i] = "> " .. lines[i]
  end
  return lines
end

---The closing line of a turn that did not simply finish, or nil.
---@param params table `agent/turnEnded` params
---@return string?
function M.ended_line(params)
  local reason = params.stopReason
  if reason == "cancelled" then
    return "> _cancelled_"
  elseif reason == "error" or params.error then
    return "> **error** " .. M.split(params.error or "the turn failed")[1]
  end
  return nil
end

---Lines of one transcript message: none for notes meant for the model only (omissions, system
---prompts; the user saw the real messages), its tool calls with their results folded in.
---@param msg table protocol `Message`
---@param results table<string, table> tool result messages by the id of their call
---@return string[]
local function message_lines(msg, results)
  if msg.kind == "omission" or msg.role == "system" then
    return {}
  elseif msg.kind == "edit_feedback" then
    return { "> edit feedback: " .. M.split(msg.content)[1], "" }
  end
  local lines = {}
  if msg.kind == "summary" then
    table.insert(lines, "> summary of earlier messages:")
    for _, l in ipairs(M.split(msg.content)) do
      table.insert(lines, "> " .. l)
    end
  elseif msg.role == "user" then
    table.insert(lines, M.you)
    vim.list_extend(lines, M.split(msg.content))
  elseif msg.role == "assistant" then
    table.insert(lines, M.agent)
    if msg.content and msg.content ~= "" then
      vim.list_extend(lines, M.split(msg.content))
    end
    for _, call in ipairs(msg.toolCalls or {}) do
      local res = results[call.id]
      table.insert(
        lines,
        M.tool_line(call.name, call.arguments, "finished", res and res.content or "", res and res.isError)
      )
    end
    if msg.interrupted then
      table.insert(lines, "> _interrupted_")
    end
  else
    return {}
  end
  table.insert(lines, "")
  return lines
end

---Lines of a restored transcript: headings per message, tool results folded into their call.
---The second result lists the user messages' `## You` headings: `{row, id}` (0-based row within
---the lines, the message id), so the chat can mark the turns that have a checkpoint.
---@param messages table[] protocol `Message` objects
---@return string[] lines
---@return {row: integer, id: string}[] headings
function M.render(messages)
  local results = {}
  for _, msg in ipairs(messages or {}) do
    if msg.role == "tool" and msg.toolCallId then
      results[msg.toolCallId] = msg
    end
  end
  local lines, headings = {}, {}
  for _, msg in ipairs(messages or {}) do
    local part = message_lines(msg, results)
    if part[1] == M.you and type(msg.id) == "string" then
      table.insert(headings, { row = #lines, id = msg.id })
    end
    vim.list_extend(lines, part)
  end
  return lines, headings
end

return M
