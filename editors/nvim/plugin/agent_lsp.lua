-- User commands of agent-lsp. Only definitions live here: every command loads the plugin's
-- modules on first use, so startup costs nothing until the agent is used.
if vim.g.loaded_agent_lsp then
  return
end
vim.g.loaded_agent_lsp = true

local function call(name)
  return function(cmd)
    require("agent_lsp")[name](cmd)
  end
end

local command = vim.api.nvim_create_user_command

command("AgentChat", call("chat"), {
  nargs = "*",
  range = true,
  desc = "agent-lsp: open the chat or send a prompt (a range is sent as context)",
})
command("AgentEdit", call("edit"), {
  nargs = "+",
  range = true,
  desc = "agent-lsp: propose an edit of the range ({instruction})",
})
command("AgentAccept", call("accept"), { desc = "agent-lsp: accept the proposed edit" })
command("AgentReject", call("reject"), { desc = "agent-lsp: reject the proposed edit" })
command("AgentSessions", call("sessions"), { desc = "agent-lsp: pick a session" })
command("AgentNew", call("new_session"), { desc = "agent-lsp: start a new session" })
command("AgentCancel", call("cancel"), { desc = "agent-lsp: cancel the running turn" })
command("AgentRewind", call("rewind"), {
  nargs = "?",
  complete = function()
    return { "undo" }
  end,
  desc = "agent-lsp: take a turn back (files, conversation or both); `undo` undoes the last restore",
})
command("AgentStatus", call("status"), { desc = "agent-lsp: show provider, model, session, usage" })
