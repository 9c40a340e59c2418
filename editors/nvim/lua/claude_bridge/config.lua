-- claude_bridge.config: the plugin's options, their defaults and validation, and the
-- bridge settings object (camelCase keys, as README "Configuration" names them) sent as
-- `initializationOptions` and in `workspace/didChangeConfiguration`.
local M = {}

-- Options the plugin itself uses. The bridge settings (see `bridge_keys`) have no default
-- here (a setting left out is not sent, so the bridge's own default applies), except
-- `review`: the plugin reviews a task's changes after its turn unless told otherwise.
M.defaults = {
  cmd = { 'claude-bridge' }, -- the bridge executable and its arguments
  cmd_env = nil, -- extra environment for the bridge process
  autostart = true, -- start a bridge when a file under a workspace root is opened
  root_markers = { '.git' }, -- a buffer's root: the nearest folder holding one of these, else cwd
  workspace_folders = nil, -- list of folders served by ONE bridge (multi-root workspace)
  save_before_run = false, -- :write modified buffers of the workspace before a run
  notify = true, -- vim.notify when a task ends, fails or is cancelled
  progress_window = 'auto', -- the built-in progress window: 'auto' (when nothing else shows progress), true, false
  -- Not used any more (permission questions wait without blocking; the bridge denies after
  -- 10 minutes); accepted so that configurations that set it still load.
  permission_timeout = 600,
  log_window = 'split', -- how :ClaudeLog opens: 'split', 'vsplit', 'tab' or 'current'
  debounce_text_changes = 150, -- ms; didChange debounce of the bridge client
  review = 'afterTurn', -- bridge setting `review`, sent always (the bridge's own default is 'off')
}

-- plugin option -> bridge setting key (README "Configuration").
M.bridge_keys = {
  claude_path = 'claudePath',
  model = 'model',
  permission_mode = 'permissionMode',
  allowed_tools = 'allowedTools',
  disallowed_tools = 'disallowedTools',
  max_concurrent_tasks = 'maxConcurrentTasks',
  follow_up_idle_seconds = 'followUpIdleSeconds',
  max_idle_processes = 'maxIdleProcesses',
  prewarm = 'prewarm',
  log_level = 'logLevel',
  auth = 'auth',
  review = 'review',
}

M.auth_keys = {
  mode = 'mode',
  key_file = 'keyFile',
  key_command = 'keyCommand',
  helper_path = 'helperPath',
}

local protocol = require('claude_bridge.types')

-- The values the bridge accepts, from the protocol's generated types.
local function one_of(list)
  local set = {}
  for _, v in ipairs(list) do
    set[v] = true
  end
  return set, table.concat(list, ', ')
end
local permission_modes, permission_modes_text = one_of(protocol.permission_modes)
local log_levels, log_levels_text = one_of(protocol.log_levels)
local review_modes, review_modes_text = one_of(protocol.review_modes)
local log_windows = { split = true, vsplit = true, tab = true, current = true }

-- The current options (defaults merged with the last setup()).
M.options = vim.deepcopy(M.defaults)

local function is_list_of_strings(v)
  if type(v) ~= 'table' then
    return false
  end
  for k, s in pairs(v) do
    if type(k) ~= 'number' or type(s) ~= 'string' then
      return false
    end
  end
  return true
end

-- snake_case or camelCase: both are accepted for bridge settings, so a user can copy keys
-- from the README table. Returns the snake_case option name, or nil.
local function option_name(key)
  if M.bridge_keys[key] or M.defaults[key] ~= nil then
    return key
  end
  for snake, camel in pairs(M.bridge_keys) do
    if camel == key then
      return snake
    end
  end
  local known = { 'cmd_env', 'workspace_folders' }
  for _, k in ipairs(known) do
    if k == key then
      return k
    end
  end
  return nil
end

local function normalize_auth(auth)
  if auth == nil then
    return nil
  end
  if type(auth) ~= 'table' then
    error('claude-bridge: auth must be a table like { mode = "helper", key_file = "~/.claude/api_key" }')
  end
  local out = {}
  for k, v in pairs(auth) do
    local snake = M.auth_keys[k] and k
    if not snake then
      for s, c in pairs(M.auth_keys) do
        if c == k then
          snake = s
        end
      end
    end
    if not snake then
      error(string.format('claude-bridge: unknown auth option %q (known: mode, key_file, key_command, helper_path)', k))
    end
    if type(v) ~= 'string' then
      error(string.format('claude-bridge: auth.%s must be a string', snake))
    end
    out[snake] = v
  end
  return out
end

--- Validates user options and returns them merged over the defaults. Raises a readable
--- error for an unknown key or a value of the wrong type.
function M.resolve(user)
  user = user or {}
  if type(user) ~= 'table' then
    error('claude-bridge: setup() takes a table of options')
  end
  local opts = vim.deepcopy(M.defaults)
  for key, value in pairs(user) do
    local name = option_name(key)
    if not name then
      error(string.format('claude-bridge: unknown option %q (see :help claude-bridge-config)', tostring(key)))
    end
    opts[name] = value
  end

  if type(opts.cmd) == 'string' then
    opts.cmd = { opts.cmd }
  end
  if not is_list_of_strings(opts.cmd) or #opts.cmd == 0 then
    error('claude-bridge: cmd must be the bridge executable, a string or a list of strings')
  end
  if opts.cmd_env ~= nil and type(opts.cmd_env) ~= 'table' then
    error('claude-bridge: cmd_env must be a table of environment variables')
  end
  if opts.permission_mode ~= nil and not permission_modes[opts.permission_mode] then
    error('claude-bridge: permission_mode must be one of ' .. permission_modes_text)
  end
  if opts.log_level ~= nil and not log_levels[opts.log_level] then
    error('claude-bridge: log_level must be one of ' .. log_levels_text)
  end
  if not review_modes[opts.review] then
    error('claude-bridge: review must be one of ' .. review_modes_text)
  end
  for _, k in ipairs({ 'allowed_tools', 'disallowed_tools' }) do
    if type(opts[k]) == 'string' then
      opts[k] = { opts[k] }
    end
    if opts[k] ~= nil and not is_list_of_strings(opts[k]) then
      error('claude-bridge: ' .. k .. ' must be a list of tool names')
    end
  end
  local numbers = { 'max_concurrent_tasks', 'follow_up_idle_seconds', 'permission_timeout', 'debounce_text_changes' }
  for _, k in ipairs(numbers) do
    if opts[k] ~= nil and (type(opts[k]) ~= 'number' or opts[k] < 0) then
      error('claude-bridge: ' .. k .. ' must be a non-negative number')
    end
  end
  for _, k in ipairs({ 'claude_path', 'model' }) do
    if opts[k] ~= nil and type(opts[k]) ~= 'string' then
      error('claude-bridge: ' .. k .. ' must be a string')
    end
  end
  for _, k in ipairs({ 'autostart', 'save_before_run', 'notify' }) do
    if type(opts[k]) ~= 'boolean' then
      error('claude-bridge: ' .. k .. ' must be true or false')
    end
  end
  if opts.prewarm ~= nil and type(opts.prewarm) ~= 'boolean' then
    error('claude-bridge: prewarm must be true or false')
  end
  if not is_list_of_strings(opts.root_markers) then
    error('claude-bridge: root_markers must be a list of file names')
  end
  if opts.workspace_folders ~= nil and not is_list_of_strings(opts.workspace_folders) then
    error('claude-bridge: workspace_folders must be a list of folders')
  end
  if opts.progress_window ~= 'auto' and type(opts.progress_window) ~= 'boolean' then
    error("claude-bridge: progress_window must be 'auto', true or false")
  end
  if not log_windows[opts.log_window] then
    error('claude-bridge: log_window must be split, vsplit, tab or current')
  end
  opts.auth = normalize_auth(opts.auth)
  return opts
end

--- Applies user options (after validation) as the current options.
function M.set(user)
  M.options = M.resolve(user)
  return M.options
end

--- The bridge settings object for the current (or given) options, camelCase keys, only the
--- keys the user set. Always a JSON object, never an empty array.
---@return claude_bridge.Configuration
function M.bridge_settings(opts)
  opts = opts or M.options
  local out = {}
  local any = false
  for snake, camel in pairs(M.bridge_keys) do
    local v = opts[snake]
    if v ~= nil then
      if snake == 'auth' then
        local auth = {}
        for k, val in pairs(v) do
          auth[M.auth_keys[k]] = val
        end
        v = next(auth) and auth or vim.empty_dict()
      end
      out[camel] = v
      any = true
    end
  end
  if not any then
    return vim.empty_dict()
  end
  return out
end

return M
