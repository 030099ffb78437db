---The chat buffer: one Markdown buffer per workspace where turns stream in.
---
---It is a real buffer (yank, search, `:w file.md`), so the layout is tracked with extmarks rather
---than line numbers: the last `## You` heading (the prompt mark) starts the draft the user types,
---and while a turn runs a stream mark sits at the end of the agent's text. Text deltas are inserted
---at the stream mark (which moves with them) and everything new goes above the prompt heading, so
---the user can keep typing the next prompt while a reply streams.
local client = require("agent_lsp.client")
local config = require("agent_lsp.config")
local transcript = require("agent_lsp.transcript")
local turns = require("agent_lsp.turns")

local M = {}

local api = vim.api
local ns = api.nvim_create_namespace("agent_lsp_chat")

---@class agent_lsp.Chat: agent_lsp.TurnHandler
---@field root string workspace root this chat belongs to
---@field buf integer
---@field prompt_mark integer extmark on the `## You` heading above the draft
---@field stream_mark integer? extmark at the end of the running turn's text
---@field turn_id string? the running turn
---@field starting boolean an `agent.chat` request is on its way
---@field tools table<string, integer> tool call id -> extmark on its line
---@field tool_calls table<string, table> tool call id -> {name, arguments}
---@field context table? selection context sent with the next prompt
---@field title string?
---@field turn_mark integer? extmark on the first line of the running turn's section
---@field headings agent_lsp.Heading[] the `## You` headings of sent messages, oldest first
local Chat = {}
Chat.__index = Chat

---A user message's `## You` heading: its extmark, and the message id (restored transcripts) or
---the turn id (turns sent from here) that a checkpoint names.
---@class agent_lsp.Heading
---@field mark integer
---@field id string?
---@field turn_id string?

---@type table<string, agent_lsp.Chat>
local chats = {}

local hint = "  <CR> send · q cancel"

---@param root string
---@return agent_lsp.Chat
function M.get(root)
  local chat = chats[root]
  if chat and api.nvim_buf_is_valid(chat.buf) then
    return chat
  end
  -- Unlisted until shown: a restored session should not add a buffer the user never opened.
  local buf = api.nvim_create_buf(false, false)
  api.nvim_buf_set_name(buf, "agent-lsp://chat/" .. root)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "markdown"
  vim.b[buf].agent_lsp_root = root
  api.nvim_buf_set_lines(buf, 0, -1, false, { "# agent-lsp", "", transcript.you, "" })
  chat = setmetatable({ root = root, buf = buf, starting = false, tools = {}, tool_calls = {}, headings = {} }, Chat)
  chat.prompt_mark = api.nvim_buf_set_extmark(buf, ns, 2, 0, { virt_text = { { hint, "Comment" } } })
  chat:map_keys()
  chats[root] = chat
  return chat
end

---The chat of the buffer's workspace.
---@param bufnr integer?
---@return agent_lsp.Chat
function M.for_buffer(bufnr)
  return M.get(client.root_for(bufnr or api.nvim_get_current_buf()))
end

---@return integer row of the `## You` heading above the draft (0-based)
function Chat:prompt_row()
  return api.nvim_buf_get_extmark_by_id(self.buf, ns, self.prompt_mark, {})[1]
end

---The draft below the prompt heading, without surrounding blank lines.
---@return string[]
function Chat:draft()
  local lines = api.nvim_buf_get_lines(self.buf, self:prompt_row() + 1, -1, false)
  while #lines > 0 and vim.trim(lines[1]) == "" do
    table.remove(lines, 1)
  end
  while #lines > 0 and vim.trim(lines[#lines]) == "" do
    table.remove(lines)
  end
  return lines
end

---Insert whole lines just above the prompt heading.
---@param lines string[]
function Chat:insert_above_prompt(lines)
  local row = self:prompt_row()
  api.nvim_buf_set_lines(self.buf, row, row, false, lines)
end

---Keep windows that show the chat (other than the one being typed in) scrolled to the end.
function Chat:follow()
  local last = api.nvim_buf_line_count(self.buf)
  for _, win in ipairs(vim.fn.win_findbuf(self.buf)) do
    if win ~= api.nvim_get_current_win() then
      api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

---Open a section for a new turn: the user's prompt and an empty agent reply with the stream mark.
---@param prompt_lines string[]
---@param note string? a line shown under the prompt (the attached selection)
function Chat:open_turn(prompt_lines, note)
  local lines = { transcript.you }
  vim.list_extend(lines, prompt_lines)
  if note then
    table.insert(lines, note)
  end
  vim.list_extend(lines, { "", transcript.agent, "", "" })
  local turn_row = self:prompt_row()
  self:insert_above_prompt(lines)
  self.turn_mark = api.nvim_buf_set_extmark(self.buf, ns, turn_row, 0, {})
  table.insert(self.headings, { mark = api.nvim_buf_set_extmark(self.buf, ns, turn_row, 0, {}) })
  local stream_row = self:prompt_row() - 2
  self.stream_mark = api.nvim_buf_set_extmark(self.buf, ns, stream_row, 0, {})
  self.tools, self.tool_calls = {}, {}
  self:follow()
end

---Insert streamed text at the stream mark (which moves to its end).
---@param text string
function Chat:stream(text)
  if not self.stream_mark or text == "" then
    return
  end
  local pos = api.nvim_buf_get_extmark_by_id(self.buf, ns, self.stream_mark, {})
  api.nvim_buf_set_text(self.buf, pos[1], pos[2], pos[1], pos[2], transcript.split(text))
  self:follow()
end

---Put whole lines into the stream on lines of their own; returns the row of the first one.
---@param lines string[]
---@return integer? row
function Chat:stream_lines(lines)
  if not self.stream_mark then
    return nil
  end
  local pos = api.nvim_buf_get_extmark_by_id(self.buf, ns, self.stream_mark, {})
  if pos[2] > 0 then
    self:stream("\n")
    pos = api.nvim_buf_get_extmark_by_id(self.buf, ns, self.stream_mark, {})
  end
  local chunk = vim.list_extend(vim.deepcopy(lines), { "" })
  api.nvim_buf_set_text(self.buf, pos[1], 0, pos[1], 0, chunk)
  self:follow()
  return pos[1]
end

---Whether a turn is running (or being started) in this chat.
---@return boolean
function Chat:running()
  return self.turn_id ~= nil or self.starting or self.stream_mark ~= nil
end

---Send the draft (or `prompt`) as the next message.
---@param prompt string? replaces the draft when given
function Chat:send(prompt)
  if self:running() then
    vim.notify("agent-lsp: a turn is running; cancel it (q or :AgentCancel) first", vim.log.levels.WARN)
    return
  end
  local lines = prompt and transcript.split(prompt) or self:draft()
  if #lines == 0 then
    vim.notify("agent-lsp: type a message below the last `## You` heading", vim.log.levels.WARN)
    return
  end
  local c, err = client.current(self.buf)
  if not c then
    -- Keep the words: a prompt given on the command line becomes the draft to send later.
    api.nvim_buf_set_lines(self.buf, self:prompt_row() + 1, -1, false, lines)
    vim.notify(err or "agent-lsp: no server", vim.log.levels.ERROR)
    return
  end
  api.nvim_buf_set_lines(self.buf, self:prompt_row() + 1, -1, false, { "" })
  local context = self.context
  self.context = nil
  local note = context
      and ("> with selection `%s:%d-%d`"):format(
        vim.fn.fnamemodify(vim.uri_to_fname(context.uri), ":."),
        context.range.start.line + 1,
        context.range["end"].line + 1
      )
    or nil
  self:open_turn(lines, note)
  self.starting = true
  client.execute(c, "agent.chat", { prompt = table.concat(lines, "\n"), context = context }, function(e, result)
    self.starting = false
    if e then
      self:stream_lines({ "> **error** " .. e })
      self:finish()
      return
    end
    self:set_turn(result.turnId)
    turns.register(result.turnId, self)
  end)
end

---Close the running turn's section.
function Chat:finish()
  if self.stream_mark then
    local row = api.nvim_buf_get_extmark_by_id(self.buf, ns, self.stream_mark, {})[1]
    local line = row and api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1]
    if line == "" and row + 1 < self:prompt_row() then
      api.nvim_buf_set_lines(self.buf, row, row + 1, false, {})
    end
    api.nvim_buf_del_extmark(self.buf, ns, self.stream_mark)
  end
  if self.turn_mark then
    api.nvim_buf_del_extmark(self.buf, ns, self.turn_mark)
  end
  self.stream_mark, self.turn_mark, self.turn_id, self.starting = nil, nil, nil, false
end

---Cancel the running turn (when idle, `q` closes the chat window instead).
---@param close_when_idle boolean?
function Chat:cancel(close_when_idle)
  if not self:running() then
    if close_when_idle and #api.nvim_list_wins() > 1 then
      api.nvim_win_close(0, false)
    end
    return
  end
  local c = client.get(self.root)
  if c then
    client.execute(c, "agent.cancel", self.turn_id and { turnId = self.turn_id } or {}, function(e)
      if e then
        vim.notify("agent-lsp: " .. e, vim.log.levels.ERROR)
      end
    end)
  end
end

function Chat:map_keys()
  local keys = config.options.chat.keymaps
  local function map(modes, lhs, fn, desc)
    if lhs and lhs ~= "" then
      vim.keymap.set(modes, lhs, fn, { buffer = self.buf, desc = desc, nowait = true })
    end
  end
  map("n", keys.send, function()
    self:send()
  end, "agent-lsp: send the prompt")
  map("i", keys.send_insert, function()
    vim.cmd.stopinsert()
    self:send()
  end, "agent-lsp: send the prompt")
  for _, lhs in ipairs(keys.cancel) do
    map("n", lhs, function()
      self:cancel(lhs == "q")
    end, "agent-lsp: cancel the turn")
  end
end

-- Turn notifications (see agent_lsp.turns).

function Chat:on_started(params)
  if not self.stream_mark then
    -- A turn this buffer did not send (a code action): show its prompt too.
    self:open_turn(transcript.split(params.prompt or ""), nil)
  end
  self:set_turn(params.turnId)
end

---The running turn's id, also on its `## You` heading (a checkpoint names the turn).
---@param turn_id string
function Chat:set_turn(turn_id)
  self.turn_id = turn_id
  local heading = self.headings[#self.headings]
  if heading and self.stream_mark then
    heading.turn_id = turn_id
  end
end

---The `## You` headings of sent messages with their current rows (0-based).
---@return {row: integer, id: string?, turn_id: string?}[]
function Chat:heading_rows()
  local out = {}
  for _, heading in ipairs(self.headings) do
    local pos = api.nvim_buf_get_extmark_by_id(self.buf, ns, heading.mark, {})
    if pos[1] then
      table.insert(out, { row = pos[1], id = heading.id, turn_id = heading.turn_id })
    end
  end
  return out
end

---Ask the server which turns have a checkpoint and mark their headings (no server: no marks).
---@param rewritten boolean? the transcript was drawn anew: the old marks go at once
function Chat:refresh_checkpoints(rewritten)
  require("agent_lsp.checkpoints").refresh(self, rewritten)
end

function Chat:on_text(params)
  self:stream(params.text or "")
end

function Chat:on_tool(params)
  local known = self.tool_calls[params.id] or {}
  known.name = params.name or known.name
  known.arguments = params.arguments or known.arguments
  self.tool_calls[params.id] = known
  local line = transcript.tool_line(known.name, known.arguments, params.status, params.output, params.isError)
  local mark = self.tools[params.id]
  if mark then
    local row = api.nvim_buf_get_extmark_by_id(self.buf, ns, mark, {})[1]
    local old = api.nvim_buf_get_lines(self.buf, row, row + 1, false)[1] or ""
    api.nvim_buf_set_text(self.buf, row, 0, row, #old, { line })
  else
    local row = self:stream_lines({ line })
    if row then
      self.tools[params.id] = api.nvim_buf_set_extmark(self.buf, ns, row, 0, { right_gravity = false })
    end
  end
end

function Chat:on_retry(params)
  self:stream_lines({ transcript.retry_line(params) })
end

function Chat:on_notice(params)
  self:stream_lines(transcript.notice_lines(params))
end

function Chat:on_ended(params)
  local line = transcript.ended_line(params)
  if line then
    self:stream_lines({ line })
  end
  self:finish()
  self:refresh_checkpoints()
end

---Replace the buffer with a restored session's transcript, keeping the user's draft. While a turn
---runs (the session was restored just as the user sent a prompt), only the part above that turn's
---section is replaced: the transcript never holds the running turn yet.
---@param session table? SessionInfo
---@param messages table[]
function Chat:show_transcript(session, messages)
  self.title = session and session.title or nil
  local title = (self.title and self.title ~= "") and self.title or "agent-lsp"
  local lines = { "# " .. title, "" }
  local rendered, headings = transcript.render(messages)
  vim.list_extend(lines, rendered)
  if self:running() and self.turn_mark then
    local turn_row = api.nvim_buf_get_extmark_by_id(self.buf, ns, self.turn_mark, {})[1]
    api.nvim_buf_set_lines(self.buf, 0, turn_row, false, lines)
    -- The running turn's heading (the last one) stays; the ones above are the transcript's now.
    local running = table.remove(self.headings)
    for _, heading in ipairs(self.headings) do
      api.nvim_buf_del_extmark(self.buf, ns, heading.mark)
    end
    self.headings = {}
    self:add_headings(headings, 2)
    table.insert(self.headings, running)
    self:follow()
    self:refresh_checkpoints(true)
    return
  end
  local draft = self:draft()
  api.nvim_buf_clear_namespace(self.buf, ns, 0, -1)
  self.stream_mark, self.turn_mark = nil, nil
  api.nvim_buf_set_lines(self.buf, 0, -1, false, lines)
  self.headings = {}
  self:add_headings(headings, 2)
  local row = #lines
  api.nvim_buf_set_lines(self.buf, row, -1, false, vim.list_extend({ transcript.you }, #draft > 0 and draft or { "" }))
  self.prompt_mark = api.nvim_buf_set_extmark(self.buf, ns, row, 0, { virt_text = { { hint, "Comment" } } })
  self:follow()
  self:refresh_checkpoints(true)
end

---Put heading marks on a restored transcript's `## You` lines (`offset`: rows above the transcript).
---@param headings {row: integer, id: string}[]
---@param offset integer
function Chat:add_headings(headings, offset)
  for _, heading in ipairs(headings) do
    local mark = api.nvim_buf_set_extmark(self.buf, ns, heading.row + offset, 0, {})
    table.insert(self.headings, { mark = mark, id = heading.id })
  end
end

---`agent/sessionRestored`: the workspace's chat shows the session (created hidden if needed).
---@param client_id integer
---@param params table {session, transcript}
function M.on_session_restored(client_id, params)
  local c = vim.lsp.get_client_by_id(client_id)
  if not c or type(params) ~= "table" then
    return
  end
  M.get(c.config.root_dir):show_transcript(params.session, params.transcript or {})
end

turns.set_claimer("chat", function(client_id, _)
  local c = vim.lsp.get_client_by_id(client_id)
  return c and M.get(c.config.root_dir) or nil
end)

---Show the chat in a window (focusing it when it is already visible in this tab).
---@param chat agent_lsp.Chat
function M.show(chat)
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == chat.buf then
      api.nvim_set_current_win(win)
      return
    end
  end
  local opts = config.options.chat
  local vertical = opts.position == "right" or opts.position == "left"
  local total = vertical and vim.o.columns or vim.o.lines
  local size = opts.size < 1 and math.floor(total * opts.size) or math.floor(opts.size)
  if opts.position == "right" then
    vim.cmd("botright " .. size .. "vsplit")
  elseif opts.position == "left" then
    vim.cmd("topleft " .. size .. "vsplit")
  elseif opts.position == "below" then
    vim.cmd("botright " .. size .. "split")
  elseif opts.position == "tab" then
    vim.cmd("tabnew")
  end
  api.nvim_win_set_buf(0, chat.buf)
  vim.bo[chat.buf].buflisted = true
  vim.wo.wrap = true
  vim.wo.linebreak = true
  api.nvim_win_set_cursor(0, { api.nvim_buf_line_count(chat.buf), 0 })
end

---Build the context of lines `l1`..`l2` of `bufnr`: the text and the diagnostics on them.
---@param bufnr integer
---@param l1 integer 1-based first line
---@param l2 integer 1-based last line
---@return table context (protocol `context`)
function M.selection_context(bufnr, l1, l2)
  local lines = api.nvim_buf_get_lines(bufnr, l1 - 1, l2, false)
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum >= l1 - 1 and d.lnum <= l2 - 1 then
      table.insert(diagnostics, ("line %d: %s"):format(d.lnum + 1, d.message))
    end
  end
  return {
    uri = vim.uri_from_bufnr(bufnr),
    range = {
      start = { line = l1 - 1, character = 0 },
      ["end"] = { line = l2 - 1, character = #(lines[#lines] or "") },
    },
    text = table.concat(lines, "\n"),
    diagnostics = #diagnostics > 0 and diagnostics or nil,
  }
end

return M
