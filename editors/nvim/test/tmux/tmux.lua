-- A Neovim in a real terminal for the tmux specs: tmux runs `nvim -u test/tmux/init.lua`
-- in a 120x35 window (or the size a spec asks for); the spec types with send-keys, reads the screen with capture-pane
-- and reads what the plugin did from the state file init.lua writes.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')
local T = {}

T.socket = 'cb-' .. tostring(H.env.run_id):gsub('[^%w-]', '')
T.state_file = H.env.tmp .. '/state.json'

local function tmux(args)
  local out = vim.fn.system(vim.list_extend({ 'tmux', '-L', T.socket }, args))
  if vim.v.shell_error ~= 0 then
    error('tmux ' .. table.concat(args, ' ') .. ': ' .. out, 2)
  end
  return out
end

--- Starts Neovim on `file` in tmux and waits until it shows the file. `opts`: width and
--- height of the terminal (120x35), env (more environment for Neovim, e.g. CB_REVIEW).
function T.start(file, opts)
  opts = opts or {}
  vim.fn.system({ 'tmux', '-L', T.socket, 'kill-server' })
  local env = ''
  for k, v in pairs(opts.env or {}) do
    env = env .. k .. '=' .. vim.fn.shellescape(v) .. ' '
  end
  local nvim = string.format(
    'cd %s && %sCB_STATE=%s exec nvim -u %s -i NONE -n %s',
    vim.fn.shellescape(H.env.ws),
    env,
    vim.fn.shellescape(T.state_file),
    vim.fn.shellescape(H.env.plugin .. '/test/tmux/init.lua'),
    vim.fn.shellescape(file)
  )
  local width, height = tostring(opts.width or 120), tostring(opts.height or 35)
  tmux({ 'new-session', '-d', '-s', 'cb', '-x', width, '-y', height, nvim })
  table.insert(H.at_end, function()
    vim.fn.system({ 'tmux', '-L', T.socket, 'kill-server' })
  end)
  T.wait_screen('package main', 15000)
  T.wait(15000, function(s)
    return s.tasks ~= nil
  end, 'the state file')
end

--- Types keys (tmux send-keys syntax: 'Enter', 'Escape', or literal text with `literal`).
function T.keys(keys, literal)
  local args = { 'send-keys', '-t', 'cb' }
  if literal then
    table.insert(args, '-l')
  end
  table.insert(args, keys)
  tmux(args)
end

--- Resizes the terminal (Neovim gets VimResized).
function T.resize(cols, rows)
  tmux({ 'resize-window', '-t', 'cb', '-x', tostring(cols), '-y', tostring(rows) })
end

--- Types `text` one key at a time, `ms` apart, as a person types.
function T.type_slowly(text, ms)
  for ch in text:gmatch('.') do
    T.keys(ch, true)
    vim.wait(ms)
  end
end

--- The screen as text.
function T.screen()
  return tmux({ 'capture-pane', '-p', '-t', 'cb' })
end

--- The plugin's state (see init.lua).
function T.state()
  local s = H.read(T.state_file)
  return s and vim.json.decode(s) or {}
end

--- Waits until cond(state) is true.
function T.wait(ms, cond, what)
  H.wait(ms, function()
    return cond(T.state())
  end, what)
end

--- Waits until the screen shows `text` (plain); returns the screen.
function T.wait_screen(text, ms)
  local screen
  H.wait(ms or 10000, function()
    screen = T.screen()
    return screen:find(text, 1, true) ~= nil
  end, 'the screen to show ' .. text .. '\n' .. (screen or ''))
  return screen
end

--- Saves a screen for the README (test output: $CB_TMP/<name>.txt).
function T.capture(name, screen)
  H.write(H.env.tmp .. '/' .. name .. '.txt', screen or T.screen())
  H.log('screen ' .. name .. ':\n' .. (screen or T.screen()))
end

function T.stop()
  pcall(tmux, { 'send-keys', '-t', 'cb', 'Escape', ':qall!', 'Enter' })
  vim.wait(3000, function()
    return vim.fn.system({ 'tmux', '-L', T.socket, 'has-session', '-t', 'cb' }) and vim.v.shell_error ~= 0
  end, 50)
  vim.fn.system({ 'tmux', '-L', T.socket, 'kill-server' })
end

T.H = H
return T
