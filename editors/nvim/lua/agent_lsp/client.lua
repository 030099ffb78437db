---Starting, finding and talking to the agent-lsp server through Neovim's built-in LSP client.
---
---One server per workspace root: `vim.lsp.start` reuses a running client with the same name and
---root, so every buffer of a workspace shares one agent and one session. The server's settings are
---sent both as `initializationOptions` and as the `agent` section answered to
---`workspace/configuration`, as docs/protocol.md asks. Commands wait for the `initialize` handshake
---instead of failing when the user is quicker than the server.
local config = require("agent_lsp.config")
local turns = require("agent_lsp.turns")

local M = {}

M.name = "agent_lsp"

---@type table<integer, fun(client: vim.lsp.Client)[]> calls waiting for a client's initialize
local waiting = {}
---@type table<integer, boolean>
local ready = {}
---@type table<integer, table<string, boolean>> turns running per client (to end them on exit)
local running = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

---Send a request with the client API of either Neovim 0.10 (fields) or 0.11+ (methods).
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: table?, result: any, ctx: table)
---@param bufnr integer?
function M.raw_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

---@param client vim.lsp.Client
---@param method string
---@param params table
function M.raw_notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

---The workspace root of a buffer: the nearest folder with a root marker, else the current
---directory when the file is inside it, else the file's own folder.
---@param bufnr integer
---@return string
function M.root_for(bufnr)
  local own = vim.b[bufnr].agent_lsp_root
  if own then
    return own
  end
  local markers = config.options.root_markers
  local name = vim.api.nvim_buf_get_name(bufnr)
  local cwd = vim.fn.getcwd()
  local root = nil
  if name ~= "" and vim.bo[bufnr].buftype == "" then
    root = vim.fs.root(bufnr, markers)
    if not root then
      local dir = vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(name, ":p")))
      if dir and (dir == cwd or vim.startswith(dir, cwd .. "/")) then
        root = cwd
      else
        root = dir
      end
    end
  end
  return vim.fs.normalize(root or vim.fs.root(cwd, markers) or cwd)
end

---@return table settings for the `agent` configuration section
local function settings()
  return config.json_settings(config.options.settings)
end

---Notification handlers: everything with a `turnId` goes to its view; the rest is shown.
---@return table<string, function>
local function handlers()
  local out = {}
  for method in pairs(turns.methods) do
    out[method] = function(_, params, ctx)
      if method == "agent/turnStarted" and params and params.turnId then
        running[ctx.client_id] = running[ctx.client_id] or {}
        running[ctx.client_id][params.turnId] = true
      elseif method == "agent/turnEnded" and params and params.turnId and running[ctx.client_id] then
        running[ctx.client_id][params.turnId] = nil
      end
      -- A malformed notification must not break the client: report it and keep going.
      local ok, shown = pcall(turns.dispatch, method, params, ctx)
      if not ok then
        vim.notify(("agent-lsp: could not show %s: %s"):format(method, shown), vim.log.levels.ERROR)
      elseif not shown and method == "agent/notice" and type(params) == "table" then
        local levels = { error = vim.log.levels.ERROR, warning = vim.log.levels.WARN }
        vim.notify("agent-lsp: " .. tostring(params.text), levels[params.level] or vim.log.levels.INFO)
      end
    end
  end
  out["agent/sessionRestored"] = function(_, params, ctx)
    require("agent_lsp.chat").on_session_restored(ctx.client_id, params)
  end
  out["agent/requestPermission"] = function(_, params, ctx)
    return require("agent_lsp.approval").request(params, ctx)
  end
  return out
end

---Start the server for `bufnr`'s workspace, or reuse the running one, and attach the buffer.
---@param bufnr integer?
---@return integer? client_id
---@return string? error
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local opts = config.options
  if vim.fn.executable(opts.cmd[1]) ~= 1 then
    return nil,
      ("agent-lsp: server command %q not found; install agent-lsp or set `cmd` in setup()"):format(opts.cmd[1])
  end
  local root = M.root_for(bufnr)
  -- Only real file buffers are attached (document sync); chat and scratch buffers only
  -- need the client of their workspace.
  local attach = vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= ""
  local existing = M.get(root)
  if existing and not attach then
    return existing.id, nil
  end
  local client_id = vim.lsp.start({
    name = M.name,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    init_options = settings(),
    settings = { agent = settings() },
    capabilities = vim.tbl_deep_extend("force", vim.lsp.protocol.make_client_capabilities(), {
      experimental = { agentLsp = { permissionRequest = true } },
    }),
    handlers = handlers(),
    -- Code actions ("Edit with agent") run through the same preview as :AgentEdit.
    commands = {
      ["agent.inlineEdit"] = function(command, ctx)
        require("agent_lsp.inline").code_action(command, ctx)
      end,
    },
    on_attach = function(client, attached)
      require("agent_lsp.completion").attach(client, attached)
    end,
    on_init = function(client)
      ready[client.id] = true
      local queue = waiting[client.id] or {}
      waiting[client.id] = nil
      for _, fn in ipairs(queue) do
        fn(client)
      end
    end,
    on_exit = function(code, _, id)
      ready[id] = nil
      waiting[id] = nil
      local ids = vim.tbl_keys(running[id] or {})
      running[id] = nil
      vim.schedule(function()
        turns.abandon(ids, ("the agent-lsp server stopped (exit code %s)"):format(code))
      end)
    end,
  }, { bufnr = bufnr, attach = attach, reuse_client = M.reuse })
  if not client_id then
    return nil, "agent-lsp: the server could not be started (see :LspLog)"
  end
  return client_id, nil
end

---Reuse a client when it serves the same workspace root.
---@param client vim.lsp.Client
---@param conf table
---@return boolean
function M.reuse(client, conf)
  return client.name == conf.name and client.config.root_dir == conf.root_dir and not client:is_stopped()
end

---The running client of a workspace root (nil when none).
---@param root string
---@return vim.lsp.Client?
function M.get(root)
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if client.config.root_dir == root and not client:is_stopped() then
      return client
    end
  end
  return nil
end

---The client of the current buffer's workspace, started if needed.
---@param bufnr integer?
---@return vim.lsp.Client?
---@return string? error
function M.current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local id, err = M.start(bufnr)
  if not id then
    return nil, err
  end
  return vim.lsp.get_client_by_id(id), nil
end

---Run `fn` once the client finished `initialize` (at once when it already has).
---@param client vim.lsp.Client
---@param fn fun(client: vim.lsp.Client)
function M.when_ready(client, fn)
  if ready[client.id] or client.initialized then
    fn(client)
  else
    waiting[client.id] = waiting[client.id] or {}
    table.insert(waiting[client.id], fn)
  end
end

---Run an agent command (`workspace/executeCommand`) and call `on_done(err, result)`.
---Errors (server error responses, a stopped client) come back as a message string.
---@param client vim.lsp.Client
---@param command string e.g. "agent.chat"
---@param argument table the one argument object
---@param on_done fun(err: string?, result: table?)
---@param bufnr integer?
function M.execute(client, command, argument, on_done, bufnr)
  M.when_ready(client, function(c)
    -- `{}` would be encoded as a JSON list; the protocol's argument is always an object.
    local params = { command = command, arguments = { next(argument) == nil and vim.empty_dict() or argument } }
    local ok = M.raw_request(c, "workspace/executeCommand", params, function(err, result)
      if err then
        on_done(("%s failed: %s"):format(command, err.message or vim.inspect(err)), nil)
      else
        on_done(nil, type(result) == "table" and result or {})
      end
    end, bufnr)
    if not ok then
      on_done(command .. " failed: the agent-lsp server is not running", nil)
    end
  end)
end

---Send the current settings to every running server (after a second `setup()`), and switch
---ghost text on or off to match.
function M.push_settings()
  require("agent_lsp.completion").refresh()
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    client.settings = { agent = settings() }
    if client.config then
      client.config.settings = client.settings
    end
    M.when_ready(client, function(c)
      M.raw_notify(c, "workspace/didChangeConfiguration", { settings = { agent = settings() } })
    end)
  end
end

return M
