-- claude_bridge.compat: the differences between Neovim 0.7.2 and 0.11 the plugin meets,
-- each decided by feature detection (never by a version string).
local M = {}

local uv = vim.uv or vim.loop
M.uv = uv

--- Calls a client method the way this Neovim wants it: `client:name(...)` where the
--- client is an object whose class defines the method (0.11+, where the dot form warns),
--- else `client.name(...)` (0.7 to 0.10: the fields are closures bound to the client).
function M.client_call(client, name, ...)
  local mt = getmetatable(client)
  local cls = mt and mt.__index
  if type(cls) == 'table' and type(rawget(cls, name)) == 'function' then
    return client[name](client, ...)
  end
  return client[name](...)
end

--- All LSP clients (get_clients in 0.10+, get_active_clients before).
function M.get_clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients()
  end
  return vim.lsp.get_active_clients()
end

--- Starts an LSP client without attaching any buffer and returns its id (or nil).
--- `vim.lsp.config` marks the release (0.11) where `vim.lsp.start` takes `attach = false`
--- and `vim.lsp.start_client` is deprecated; before it, `start_client` is the way.
function M.start_client(cfg)
  if vim.lsp.config ~= nil and vim.lsp.start then
    return vim.lsp.start(cfg, {
      attach = false,
      reuse_client = function()
        return false
      end,
    })
  end
  return vim.lsp.start_client(cfg)
end

--- Whether this Neovim runs server->client request handlers in a coroutine that may
--- yield (0.10+). Detected from inside the handler: a running, non-main coroutine.
function M.in_yieldable_coroutine()
  local co, is_main = coroutine.running()
  if not co or is_main then
    return false
  end
  if coroutine.isyieldable then
    return coroutine.isyieldable()
  end
  return true
end

--- The health report functions: vim.health.{start,ok,...} (0.9+), vim.health.report_*
--- (0.8), require('health').report_* (0.7).
function M.health()
  local h = vim.health
  if h == nil or type(h) ~= 'table' then
    local ok, mod = pcall(require, 'health')
    h = ok and mod or {}
  end
  local function pick(new, old)
    return h[new] or h[old] or function(msg)
      print(msg)
    end
  end
  return {
    start = pick('start', 'report_start'),
    ok = pick('ok', 'report_ok'),
    info = pick('info', 'report_info'),
    warn = pick('warn', 'report_warn'),
    error = pick('error', 'report_error'),
  }
end

--- Runs a command (a list), waits at most timeout_ms, and returns
--- { code = exit code or nil on timeout, stdout = string, stderr = string }.
function M.run(cmd, timeout_ms, env)
  local out, err = {}, {}
  local opts = {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      out = data
    end,
    on_stderr = function(_, data)
      err = data
    end,
  }
  if env then
    opts.env = env
  end
  local ok, job = pcall(vim.fn.jobstart, cmd, opts)
  if not ok or job <= 0 then
    return { code = nil, spawn_error = true, stdout = '', stderr = ok and 'cannot start ' .. cmd[1] or tostring(job) }
  end
  local res = vim.fn.jobwait({ job }, timeout_ms)[1]
  if res == -1 then
    vim.fn.jobstop(job)
    return { code = nil, timeout = true, stdout = table.concat(out, '\n'), stderr = table.concat(err, '\n') }
  end
  return { code = res, stdout = table.concat(out, '\n'), stderr = table.concat(err, '\n') }
end

--- Shows `buf` in a floating window that never takes focus: moves `win` to `cfg` when it
--- is still open, else opens one (with `winhighlight`). Returns the window.
function M.show_float(win, buf, cfg, winhighlight)
  if win and vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_win_set_config(win, cfg)
    return win
  end
  cfg.noautocmd = true
  win = vim.api.nvim_open_win(buf, false, cfg)
  vim.wo[win].winhighlight = winhighlight
  return win
end

--- An absolute path without a trailing slash. Symlinks are kept as named: Neovim names
--- buffers (and so their URIs in didOpen) by the path they were opened with, and the
--- bridge must see workspace folders, context and claude's file paths the same way.
function M.normalize(path)
  if path == nil or path == '' then
    return path
  end
  local full = vim.fn.fnamemodify(path, ':p')
  if #full > 1 then
    full = full:gsub('/+$', '')
  end
  return full
end

--- Whether `path` is `dir` or inside it.
function M.is_under(path, dir)
  if path == dir then
    return true
  end
  local prefix = dir:sub(-1) == '/' and dir or dir .. '/'
  return path:sub(1, #prefix) == prefix
end

return M
