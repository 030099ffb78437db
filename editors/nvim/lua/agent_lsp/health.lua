---`:checkhealth agent_lsp`: is the server there, is a provider configured, which completion source
---serves ghost text, can sessions be saved?
---
---Answers come from the running server when there is one (its `serverInfo` and `agent.status`
---are the truth), else from what can be checked locally: the command on PATH and its `--version`,
---the provider settings and API key variables, and the session folder's permissions.
local client = require("agent_lsp.client")
local config = require("agent_lsp.config")

local M = {}

local health = vim.health

---The running client of the current workspace, if any.
---@return vim.lsp.Client?
local function running_client()
  local ok, root = pcall(client.root_for, vim.api.nvim_get_current_buf())
  local c = ok and client.get(root) or nil
  if c then
    return c
  end
  return vim.lsp.get_clients({ name = client.name })[1]
end

---`agent.status` of a running client, waited for at most `timeout` ms.
---@param c vim.lsp.Client
---@param timeout integer
---@return table?
local function status_of(c, timeout)
  local result, done = nil, false
  client.execute(c, "agent.status", {}, function(err, res)
    result = not err and res or nil
    done = true
  end)
  vim.wait(timeout, function()
    return done
  end, 20)
  return result
end

local function check_server(c)
  health.start("agent-lsp server")
  local cmd = config.options.cmd
  local exe = vim.fn.exepath(cmd[1])
  if exe == "" then
    health.error(("server command %q not found on PATH"):format(cmd[1]), {
      "Install it: pip install agent-lsp (or run from a checkout: pip install -e .)",
      "Or point the plugin at it: require('agent_lsp').setup({ cmd = { 'python3', '-m', 'lsp_server' } })",
    })
    return
  end
  health.ok(("server command: %s"):format(exe))
  local version = c and c.server_info and c.server_info.version or nil
  if not version then
    local ok, res = pcall(function()
      local argv = vim.list_extend(vim.deepcopy(cmd), { "--version" })
      return vim.system(argv, { text = true, env = config.options.cmd_env }):wait(10000)
    end)
    if ok and res and res.code == 0 then
      version = vim.trim((res.stdout or "") .. (res.stderr or ""))
    end
  end
  if version and version ~= "" then
    health.ok("server version: " .. version)
  else
    health.warn("could not read the server's version (`" .. table.concat(cmd, " ") .. " --version` failed)")
  end
  if c then
    health.ok(("running for %s (client %d)"):format(c.config.root_dir, c.id))
  else
    health.info("not running for this workspace yet (it starts when you open a file or run :AgentChat)")
  end
end

---The embedded model's state, when it is the provider: ok when usable, an error naming the fix.
local function check_local_model(model)
  if type(model) ~= "table" then
    return
  end
  local line = ("local model %s: %s (%s)"):format(tostring(model.name), tostring(model.state), tostring(model.file))
  if model.state == "not_installed" or model.state == "failed" then
    health.error(line, { tostring(model.reason) })
  else
    health.ok(line)
  end
end

local function check_provider(status)
  health.start("agent-lsp provider")
  for _, problem in ipairs(status and type(status.settingsProblems) == "table" and status.settingsProblems or {}) do
    health.warn("the server ignored a setting: " .. tostring(problem))
  end
  if status and status.provider and status.provider ~= vim.NIL then
    local provider, model = tostring(status.provider), tostring(status.model)
    health.ok(("provider %s, model %s (reported by the server)"):format(provider, model))
    check_local_model(status.localModel)
    return
  end
  local settings = config.options.settings or {}
  local env = vim.env
  if settings.provider then
    health.ok(("provider %q configured in settings"):format(settings.provider))
    local key_env = settings.apiKeyEnv
    if key_env and not env[key_env] then
      health.warn(("settings.apiKeyEnv names %s, which is not set"):format(key_env))
    end
  elseif env.OPENAI_API_KEY or env.ANTHROPIC_API_KEY then
    health.ok("provider taken from OPENAI_API_KEY / ANTHROPIC_API_KEY")
  else
    health.warn("no provider configured; the server falls back to the embedded local model if installed", {
      "Set settings = { provider = 'openai', baseUrl = ..., model = ... } in setup()",
      "or export OPENAI_API_KEY / ANTHROPIC_API_KEY",
    })
  end
end

---Whether `dir` could be created and written: the nearest existing ancestor must be writable.
---@param dir string
---@return boolean writable
---@return string existing the folder that was checked
function M.writable(dir)
  local path = vim.fs.normalize(dir)
  while vim.fn.isdirectory(path) == 0 do
    local parent = vim.fs.dirname(path)
    if parent == path then
      break
    end
    if vim.fn.filereadable(path) == 1 then
      return false, path
    end
    path = parent
  end
  return vim.fn.filewritable(path) == 2, path
end

local function check_sessions(c)
  health.start("agent-lsp sessions")
  local root = c and c.config.root_dir or client.root_for(vim.api.nvim_get_current_buf())
  local sessions = config.options.settings.sessions or {}
  local folder = sessions.folder or ".agent-lsp/sessions"
  local dir = folder:sub(1, 1) == "/" and folder or (root .. "/" .. folder)
  local ok, checked = M.writable(dir)
  if ok then
    health.ok(("session folder writable: %s"):format(dir))
  else
    health.error(("session folder not writable: %s (checked %s)"):format(dir, checked), {
      "Fix the folder's permissions or set settings.sessions.folder to a writable folder",
    })
  end
end

local function check_completion(c, status)
  health.start("agent-lsp completion (ghost text)")
  local completion = require("agent_lsp.completion")
  if not completion.available() then
    health.warn("this Neovim has no vim.lsp.inline_completion (Neovim 0.12 or newer shows ghost text)")
    return
  end
  if not completion.wanted() then
    health.info("off in the options (completion.enabled or settings.completion.enabled is false)")
    return
  end
  if c and not c.server_capabilities.inlineCompletionProvider then
    health.warn("the running server does not offer inline completion (an older agent-lsp?)")
    return
  end
  local info = status and type(status.completion) == "table" and status.completion or nil
  if not info then
    health.info("the server reports its completion source once it runs")
    return
  end
  if info.enabled then
    local state = info.state and info.state ~= vim.NIL and (", " .. tostring(info.state)) or ""
    local endpoint = info.endpoint and info.endpoint ~= vim.NIL and (" through " .. tostring(info.endpoint)) or ""
    health.ok(
      ("source %s, model %s%s%s (reported by the server)"):format(
        tostring(info.source),
        tostring(info.model),
        endpoint,
        state
      )
    )
    health.info(("suggestions shown %d, accepted %d"):format(tonumber(info.shown) or 0, tonumber(info.accepted) or 0))
  else
    health.warn("completion is off: " .. tostring(info.reason), {
      "Set settings.completion.baseUrl to an OpenAI-compatible server, or install the embedded model",
    })
  end
  if info.problem and info.problem ~= vim.NIL then
    health.warn("last problem: " .. tostring(info.problem))
  end
end

function M.check()
  health.start("agent-lsp")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is required")
  end
  local c = running_client()
  check_server(c)
  local status = c and status_of(c, 3000) or nil
  check_provider(status)
  check_completion(c, status)
  check_sessions(c)
end

return M
