---The Lua halves of tests/nvim/agent_editor.py: set the plugin up against the fake LLM server and
---read the chat the way the user sees it.
local M = {}

---`setup()` with the server run from this checkout and the provider pointed at the fake LLM.
---@param base_url string the fake LLM server
---@param python string the interpreter that runs `-m lsp_server.cli`
---@param repo string the checkout, put on the server's PYTHONPATH
---@param extra_settings table? merged over the settings (e.g. a bad one)
function M.setup(base_url, python, repo, extra_settings)
  require("agent_lsp").setup({
    cmd = { python, "-m", "lsp_server.cli" },
    cmd_env = { PYTHONPATH = repo, OPENAI_API_KEY = "sk-test" },
    settings = vim.tbl_extend("force", {
      provider = "openai",
      baseUrl = base_url .. "/v1",
      model = "fake-model",
      retry = { maxAttempts = 2, initialDelay = 0, maxDelay = 0 },
      -- Ghost text has its own tests (test_completion.py); here it would ask the model as you type.
      completion = { enabled = false },
    }, extra_settings or {}),
  })
end

---Whether the agent_lsp client has been initialized by its server.
---@return boolean
function M.client_ready()
  local c = vim.lsp.get_clients({ name = "agent_lsp" })[1]
  return c ~= nil and c.initialized == true
end

---The chat view of the current working directory's workspace.
local function view()
  return require("agent_lsp.chat").get(vim.fs.normalize(vim.fn.getcwd()))
end

---@return string[]
function M.chat_lines()
  return vim.api.nvim_buf_get_lines(view().buf, 0, -1, false)
end

---Whether a chat turn runs or is being started.
---@return boolean
function M.chat_running()
  local v = view()
  return v.turn_id ~= nil or v.starting
end

return M
