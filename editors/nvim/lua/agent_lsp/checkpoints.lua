---Checkpoints: `:AgentRewind` takes a turn back (its files, the conversation, or both), and the
---chat buffer marks the turns that have one.
---
---The server keeps the checkpoints (docs/protocol.md, "Checkpoints"); this module only asks it:
---`agent.checkpoint.list` for the picker and the marks, `agent.checkpoint.diff` for the preview,
---`agent.checkpoint.restore` / `.undo` for the restore itself. The conversation goes back through
---the server's `agent/sessionRestored`, which the chat already renders, so nothing here edits the
---chat. Prompts, paths and diffs come from the user, the workspace and the model: every one is
---escaped (`agent_lsp.visible`) before a picker or a buffer shows it.
local async = require("agent_lsp.async")
local client = require("agent_lsp.client")
local scratch = require("agent_lsp.scratch")
local visible = require("agent_lsp.visible")

local M = {}

local api = vim.api
local ns = api.nvim_create_namespace("agent_lsp_checkpoints")

---@class agent_lsp.Mode
---@field label string
---@field mode "both"|"files"|"conversation"?

---The restore modes in the order offered (the last one cancels).
---@type agent_lsp.Mode[]
M.modes = {
  { label = "Both: files and conversation", mode = "both" },
  { label = "Files only", mode = "files" },
  { label = "Conversation only", mode = "conversation" },
  { label = "Cancel", mode = nil },
}

---The answers to "these files changed since the agent wrote them" (the last one cancels).
M.conflict_choices = {
  { label = "Overwrite them", flag = "force" },
  { label = "Skip those files", flag = "skipConflicts" },
  { label = "Cancel", flag = nil },
}

---`1 file`, `3 files`.
---@param n integer
---@return string
local function files_word(n)
  return n == 1 and "1 file" or (n .. " files")
end

---The added and removed lines of a checkpoint's files.
---@param files table[] CheckpointFile
---@return integer added
---@return integer removed
local function line_counts(files)
  local added, removed = 0, 0
  for _, file in ipairs(files) do
    added = added + (tonumber(file.added) or 0)
    removed = removed + (tonumber(file.removed) or 0)
  end
  return added, removed
end

---A prompt as a picker row: its first line (`…` when more follow), escaped.
---@param prompt any
---@return string
function M.prompt_line(prompt)
  local text = type(prompt) == "string" and vim.trim(prompt) or ""
  local first, rest = text:match("^([^\n]*)\n(.*)$")
  if first then
    text = vim.trim(first) .. (vim.trim(rest) ~= "" and "…" or "")
  end
  return text ~= "" and visible.one_line(text) or "(empty prompt)"
end

---A checkpoint as a picker row: `prompt · N files · +a -r · 14:03` (`· conflicts` when a files
---restore would meet one).
---@param cp table Checkpoint
---@return string
function M.format(cp)
  local files = type(cp.files) == "table" and cp.files or {}
  local parts = { M.prompt_line(cp.prompt), files_word(#files) }
  if #files > 0 then
    local added, removed = line_counts(files)
    table.insert(parts, ("+%d -%d"):format(added, removed))
  end
  if tonumber(cp.time) then
    table.insert(parts, os.date("%H:%M", math.floor(cp.time)))
  end
  if cp.conflicts == true then
    table.insert(parts, "conflicts")
  end
  return table.concat(parts, " · ")
end

---The lines of the diff preview: every file's unified diff, escaped.
---@param files table[] FileDiff
---@return string[]
function M.preview_lines(files)
  if #files == 0 then
    return { "# No file would change: only the conversation can be rewound." }
  end
  local lines = {}
  for _, file in ipairs(files) do
    local path = visible.one_line(tostring(file.path))
    if file.binary == true then
      table.insert(lines, ("# %s: binary file (%s)"):format(path, visible.one_line(tostring(file.diff or ""))))
    else
      local diff = type(file.diff) == "string" and file.diff or ""
      if diff == "" then
        table.insert(lines, ("# %s: no change"):format(path))
      end
      for _, line in ipairs(vim.split(visible.text(diff, true), "\n", { plain = true, trimempty = true })) do
        table.insert(lines, line)
      end
    end
  end
  return lines
end

---Marks on the chat's `## You` headings whose turn has a checkpoint with files:
---`⟲ checkpoint: N files`. Returns how many headings were marked.
---@param chat agent_lsp.Chat
---@param checkpoints table[] Checkpoint
---@return integer
function M.mark(chat, checkpoints)
  api.nvim_buf_clear_namespace(chat.buf, ns, 0, -1)
  local by_id, by_turn = {}, {}
  for _, cp in ipairs(checkpoints) do
    if type(cp.files) == "table" and #cp.files > 0 then
      by_id[cp.id or ""] = cp
      if type(cp.turnId) == "string" then
        by_turn[cp.turnId] = cp
      end
    end
  end
  local marked = 0
  for _, heading in ipairs(chat:heading_rows()) do
    local cp = (heading.id and by_id[heading.id]) or (heading.turn_id and by_turn[heading.turn_id])
    if cp then
      api.nvim_buf_set_extmark(chat.buf, ns, heading.row, 0, {
        virt_text = { { "⟲ checkpoint: " .. files_word(#cp.files), "Comment" } },
        virt_text_pos = "eol",
      })
      marked = marked + 1
    end
  end
  return marked
end

---Mark the chat's checkpoints, asking the server of its workspace (none running: nothing to do).
---@param chat agent_lsp.Chat
---@param rewritten boolean? the chat was drawn anew: its old marks sit on other lines now
function M.refresh(chat, rewritten)
  if rewritten then
    api.nvim_buf_clear_namespace(chat.buf, ns, 0, -1)
  end
  local c = client.get(chat.root)
  if not c then
    return
  end
  client.execute(c, "agent.checkpoint.list", {}, function(err, result)
    if not err and api.nvim_buf_is_valid(chat.buf) then
      M.mark(chat, type(result.checkpoints) == "table" and result.checkpoints or {})
    end
  end)
end

---Run a server command inside a flow; errors are shown and give nil.
---@param c vim.lsp.Client
---@param command string
---@param argument table
---@return table?
local function request(c, command, argument)
  local err, result = async.await(function(done)
    client.execute(c, command, argument, done)
  end)
  if err then
    vim.notify("agent-lsp: " .. err, vim.log.levels.ERROR)
    return nil
  end
  return result
end

---@param items table[]
---@param prompt string
---@param format fun(item: any): string
---@param kind string
---@return any?
local function pick(items, prompt, format, kind)
  return async.await(function(done)
    vim.ui.select(items, { prompt = prompt, format_item = format, kind = kind }, done)
  end)
end

---@param item {label: string}
---@return string
local function label(item)
  return item.label
end

---What a restore or undo did, in one message.
---@param result table {restored, conflicts, skipped, conversation}
---@return string
function M.summary(result)
  local restored = type(result.restored) == "table" and result.restored or {}
  local parts = {}
  if #restored > 0 then
    local names = vim.tbl_map(function(p)
      return visible.one_line(tostring(p))
    end, restored)
    table.insert(parts, ("restored %s: %s"):format(files_word(#restored), table.concat(names, ", ")))
  end
  if result.conversation == true then
    table.insert(parts, "the conversation went back")
  end
  for _, skip in ipairs(type(result.skipped) == "table" and result.skipped or {}) do
    local path = type(skip) == "table" and skip.path or skip
    local reason = type(skip) == "table" and skip.reason or nil
    table.insert(
      parts,
      ("skipped %s%s"):format(
        visible.one_line(tostring(path)),
        reason and (" (" .. visible.one_line(reason) .. ")") or ""
      )
    )
  end
  return "agent-lsp: " .. (#parts > 0 and table.concat(parts, "; ") or "nothing to restore")
end

---Show the preview in a scratch buffer (filetype diff) in a new tab; returns its closer.
---@param title string
---@param lines string[]
---@return fun()
local function show_preview(title, lines)
  local buf = scratch.tab(lines, "diff")
  local tab = api.nvim_get_current_tabpage()
  vim.b[buf].agent_lsp_checkpoint = true
  vim.wo.winbar = ("agent-lsp rewind: %s (what a files restore would do)"):format(title:gsub("%%", "%%%%"))
  vim.cmd.redraw()
  return function()
    if api.nvim_tabpage_is_valid(tab) and #api.nvim_list_tabpages() > 1 then
      api.nvim_set_current_tabpage(tab)
      vim.cmd("tabclose")
    end
    if api.nvim_buf_is_valid(buf) then
      api.nvim_buf_delete(buf, { force = true })
    end
  end
end

---Restore `cp` in `mode`; on conflicts ask whether to overwrite or skip them, and ask again.
---@param c vim.lsp.Client
---@param cp table Checkpoint
---@param mode string
local function restore(c, cp, mode)
  local argument = { id = cp.id, mode = mode }
  local result = request(c, "agent.checkpoint.restore", argument)
  if not result then
    return
  end
  local conflicts = type(result.conflicts) == "table" and result.conflicts or {}
  local restored = type(result.restored) == "table" and result.restored or {}
  if #conflicts > 0 and #restored == 0 and result.conversation ~= true then
    local names = vim.tbl_map(function(p)
      return visible.one_line(tostring(p))
    end, conflicts)
    local prompt = ("agent-lsp: %s changed since the agent wrote %s"):format(
      table.concat(names, ", "),
      #conflicts == 1 and "it" or "them"
    )
    local choice = pick(M.conflict_choices, prompt, label, "agent_lsp_checkpoint_conflict")
    if not choice or not choice.flag then
      vim.notify("agent-lsp: nothing restored", vim.log.levels.INFO)
      return
    end
    result = request(c, "agent.checkpoint.restore", vim.tbl_extend("force", argument, { [choice.flag] = true }))
    if not result then
      return
    end
  end
  vim.notify(M.summary(result), vim.log.levels.INFO)
end

---Run `flow(client)` in a coroutine with the current workspace's client (started if needed).
---@param flow fun(c: vim.lsp.Client)
local function with_client(flow)
  local c, err = client.current()
  if not c then
    vim.notify(err or "agent-lsp: no server", vim.log.levels.ERROR)
    return
  end
  async.run(function()
    flow(c)
  end)
end

---`:AgentRewind`: pick a turn, preview what its files restore would do, pick the mode, restore.
function M.rewind()
  with_client(function(c)
    local listed = request(c, "agent.checkpoint.list", {})
    if not listed then
      return
    end
    local checkpoints = type(listed.checkpoints) == "table" and listed.checkpoints or {}
    if #checkpoints == 0 then
      vim.notify("agent-lsp: no turn to rewind in this session yet", vim.log.levels.INFO)
      return
    end
    -- Newest first: the turn the user most likely wants back is on top.
    local newest_first = {}
    for i = #checkpoints, 1, -1 do
      table.insert(newest_first, checkpoints[i])
    end
    local cp = pick(newest_first, "agent-lsp: rewind to before which turn?", M.format, "agent_lsp_checkpoint")
    if not cp then
      return
    end
    local diff = request(c, "agent.checkpoint.diff", { id = cp.id })
    if not diff then
      return
    end
    local files = type(diff.files) == "table" and diff.files or {}
    local close = show_preview(M.prompt_line(cp.prompt), M.preview_lines(files))
    local modes = #files > 0 and M.modes or { M.modes[3], M.modes[4] }
    local choice = pick(modes, "agent-lsp: restore what?", label, "agent_lsp_checkpoint_mode")
    close()
    if not choice or not choice.mode then
      return
    end
    restore(c, cp, choice.mode)
  end)
end

---`:AgentRewind undo`: undo the last restore.
function M.undo()
  with_client(function(c)
    local result = request(c, "agent.checkpoint.undo", {})
    if result then
      vim.notify(M.summary(result), vim.log.levels.INFO)
    end
  end)
end

return M
