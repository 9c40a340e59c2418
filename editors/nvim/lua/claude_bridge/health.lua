-- claude_bridge.health: :checkhealth claude_bridge. Checks Neovim, the bridge binary and
-- its version, the claude CLI and its version, and authentication (`claude-bridge doctor`
-- and, for running bridges, claude.authStatus).
local M = {}

local compat = require('claude_bridge.compat')
local config = require('claude_bridge.config')

local INSTALL_BRIDGE = {
  'Install the bridge: `go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest`'
    .. ' (or `make build` in a clone, which writes bin/claude-bridge).',
  "Then put it on PATH, or give its path: require('claude_bridge').setup({ cmd = { '/path/to/claude-bridge' } })",
}
local INSTALL_CLAUDE = {
  'Install Claude Code: `npm install -g @anthropic-ai/claude-code`.',
  "Or tell the bridge where it is: require('claude_bridge').setup({ claude_path = '/path/to/claude' })",
}

local function first_line(s)
  local line = (tostring(s or ''):match('^%s*([^\n]*)') or ''):gsub('%s+$', '')
  return line
end

local function lines_of(s)
  local out = {}
  for l in tostring(s or ''):gmatch('[^\n]+') do
    if l:match('%S') then
      table.insert(out, l)
    end
  end
  return out
end

local function env()
  return config.options.cmd_env
end

local function check_neovim(h)
  h.start('Neovim')
  local v = vim.version()
  local version = string.format('%d.%d.%d', v.major, v.minor, v.patch)
  local missing = {}
  if not (vim.lsp.start_client or vim.lsp.start) then
    table.insert(missing, 'vim.lsp.start_client / vim.lsp.start')
  end
  if not vim.api.nvim_create_user_command then
    table.insert(missing, 'nvim_create_user_command')
  end
  if not vim.ui or not vim.ui.select then
    table.insert(missing, 'vim.ui.select')
  end
  if #missing > 0 then
    h.error(
      'Neovim ' .. version .. ' lacks ' .. table.concat(missing, ', '),
      { 'claude-bridge needs Neovim 0.7.2 or newer.' }
    )
  else
    h.ok('Neovim ' .. version .. ' has the LSP client features the plugin uses')
  end
end

-- Returns the bridge path or nil.
local function check_bridge(h)
  h.start('claude-bridge (the bridge binary)')
  local exe = config.options.cmd[1]
  local path = vim.fn.exepath(exe)
  if path == '' then
    h.error(string.format('the bridge %q was not found (not on PATH, or not executable)', exe), INSTALL_BRIDGE)
    return nil
  end
  local res = compat.run({ path, 'version' }, 5000, env())
  if res.code == 0 then
    local said = first_line(res.stdout) ~= '' and first_line(res.stdout) or first_line(res.stderr)
    h.ok(string.format('%s: %s', path, said))
  elseif res.timeout then
    h.error(path .. ' version did not answer within 5 s', INSTALL_BRIDGE)
    return nil
  else
    h.error(
      string.format(
        '%s version failed (exit %s): %s',
        path,
        tostring(res.code),
        first_line(res.stderr ~= '' and res.stderr or res.stdout)
      ),
      INSTALL_BRIDGE
    )
    return nil
  end
  local running = require('claude_bridge.lsp').running()
  if #running == 0 then
    h.info(
      'no bridge is running in this Neovim yet (one starts per workspace root when a file is opened or a command runs)'
    )
  end
  for _, r in ipairs(running) do
    h.info(string.format('running: client %d for %s', r.client.id, table.concat(r.group.folders, ', ')))
  end
  return path
end

local function claude_candidate()
  if config.options.claude_path then
    return config.options.claude_path, 'claude_path in setup()'
  end
  local from_env = (env() or {}).CLAUDE_BRIDGE_CLAUDE or vim.env.CLAUDE_BRIDGE_CLAUDE
  if from_env and from_env ~= '' then
    return from_env, '$CLAUDE_BRIDGE_CLAUDE'
  end
  return 'claude', 'PATH'
end

-- Where a running bridge finds claude (claude.authStatus's `claude`): what tasks will run.
local function bridge_claude()
  local lsp = require('claude_bridge.lsp')
  local r = lsp.running()[1]
  if not r then
    return nil
  end
  ---@type claude_bridge.AuthStatus|nil
  local result, done = nil, false
  lsp.execute(r.client, require('claude_bridge.types').commands.auth_status, vim.empty_dict(), function(e, res)
    ---@cast res claude_bridge.AuthStatus|nil
    result, done = not e and res or nil, true
  end)
  vim.wait(3000, function()
    return done
  end, 10)
  return type(result) == 'table' and result.claude or nil
end

--- The lines of s that say something, at most n.
local function first_lines(s, n)
  local out = {}
  for _, l in ipairs(lines_of(s)) do
    if #out < n then
      table.insert(out, vim.trim(l))
    end
  end
  return out
end

--- The advice for a problem with claude the bridge reports: installing it only when it is
--- missing; else what the bridge's words say to do (chmod +x, or look at what claude said).
local function claude_advice(problem)
  problem = tostring(problem)
  if problem:match('^claude CLI not found') then
    return INSTALL_CLAUDE
  end
  local fix = problem:match(': (run `chmod %+x [^`]*`)')
  if fix then
    return { 'Make it executable: ' .. fix .. '.' }
  end
  return {
    'Run claude with `--version` in a terminal to see what is wrong.',
    "Reinstall it (`npm install -g @anthropic-ai/claude-code`), or point claude_path at a claude that works.",
  }
end

local function check_claude(h)
  h.start('claude (the Claude Code CLI)')
  ---@type claude_bridge.ClaudeCLI|nil
  local found = bridge_claude()
  if found and found.problem then
    h.error('the running bridge: ' .. found.problem, claude_advice(found.problem))
    return
  elseif found and found.path then
    local version = (found.version or '') ~= '' and (': ' .. found.version) or ''
    local where = found.foundIn or '?'
    h.ok(string.format('%s%s, found through %s (as the running bridge sees it)', found.path, version, where))
    return
  end
  local exe, source = claude_candidate()
  exe = vim.fn.expand(exe)
  local path = vim.fn.exepath(exe)
  if path == '' then
    local stat = exe:find('/', 1, true) and compat.uv.fs_stat(exe)
    if stat and stat.type == 'directory' then
      local what = string.format('the claude CLI %q (from %s) is a directory, not the claude executable', exe, source)
      h.error(what, INSTALL_CLAUDE)
    elseif stat then
      h.error(string.format('the claude CLI %q (from %s) is not executable', exe, source), {
        string.format('Make it executable: `chmod +x %s`', exe),
      })
    else
      h.error(string.format('the claude CLI %q (from %s) was not found', exe, source), INSTALL_CLAUDE)
    end
    return
  end
  local res = compat.run({ path, '--version' }, 15000, env())
  if res.code == 0 then
    h.ok(string.format('%s (from %s): %s', path, source, first_line(res.stdout)))
    return
  end
  local said = first_lines(res.stderr ~= '' and res.stderr or res.stdout, 3)
  h.error(
    string.format(
      '%s (from %s) does not run: `--version` %s%s',
      path,
      source,
      res.timeout and 'did not answer in 15 s' or ('exited with code ' .. tostring(res.code)),
      #said > 0 and (': ' .. table.concat(said, ' / ')) or ''
    ),
    {
      string.format('Run `%s --version` in a terminal to see what is wrong.', path),
      'Reinstall it (`npm install -g @anthropic-ai/claude-code`), or point claude_path at a claude that works.',
    }
  )
end

local function check_auth(h, bridge)
  h.start('Authentication')
  if not bridge then
    h.warn('not checked: the bridge is missing (see above)')
    return
  end
  local cmd = { bridge, 'doctor' }
  if config.options.claude_path then
    table.insert(cmd, '--claude')
    table.insert(cmd, vim.fn.expand(config.options.claude_path))
  end
  local auth = config.bridge_settings().auth
  if auth then
    table.insert(cmd, '--auth')
    table.insert(cmd, vim.json.encode(auth))
  end
  local res = compat.run(cmd, 30000, env())
  local out = lines_of(res.stdout)
  for _, l in ipairs(lines_of(res.stderr)) do
    table.insert(out, l)
  end
  if res.code == 0 then
    h.ok('claude-bridge doctor: no problems found')
    for _, l in ipairs(out) do
      h.info(l)
    end
  elseif res.timeout then
    h.error('claude-bridge doctor did not finish within 30 s', out)
  else
    h.error(string.format('claude-bridge doctor found problems (exit %s)', tostring(res.code)), #out > 0 and out or nil)
  end

  local lsp = require('claude_bridge.lsp')
  for _, r in ipairs(lsp.running()) do
    ---@type claude_bridge.AuthStatus|nil
    local result, err = nil, nil
    local done = false
    lsp.execute(r.client, require('claude_bridge.types').commands.auth_status, vim.empty_dict(), function(e, res_)
      ---@cast res_ claude_bridge.AuthStatus|nil
      result, err, done = res_, e, true
    end)
    vim.wait(3000, function()
      return done
    end, 10)
    local where = table.concat(r.group.folders, ', ')
    if not done then
      h.warn('claude.authStatus: no answer within 3 s from the bridge for ' .. where)
    elseif err then
      h.warn('claude.authStatus failed for ' .. where .. ': ' .. tostring(err.message or err))
    else
      local status = type(result) == 'table' and result.status or '?'
      local headline = string.format('claude.authStatus for %s: %s', where, tostring(status))
      local claude = type(result) == 'table' and type(result.claude) == 'table' and result.claude or {}
      if (status == 'ok' or status == 'inherit') and claude.problem then
        -- The key is fine, but tasks cannot run: not OK.
        h.error(headline .. ', but its claude CLI cannot be used: ' .. claude.problem, claude_advice(claude.problem))
      elseif status == 'ok' or status == 'inherit' then
        h.ok(headline)
      elseif status == 'starting' then
        h.info(headline)
      else
        local advice = {}
        if type(result) == 'table' then
          if result.lastError then
            table.insert(advice, result.lastError)
          end
          for _, p in ipairs(result.problems or {}) do
            table.insert(advice, p)
          end
        end
        h.error(headline, #advice > 0 and advice or nil)
      end
      for _, l in ipairs(require('claude_bridge.commands').render(result, '  ')) do
        h.info(l)
      end
    end
  end
end

function M.check()
  local h = compat.health()
  check_neovim(h)
  local bridge = check_bridge(h)
  check_claude(h)
  check_auth(h, bridge)
end

return M
