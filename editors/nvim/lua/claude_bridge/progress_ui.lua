-- claude_bridge.progress_ui: the built-in progress display, a small window at the bottom
-- right of the editor that never takes focus (like fidget.nvim): one line per running task
-- (`⠋ Edit main.go · add a --verbose flag`), a line when a question waits, and the end of
-- a task for a few seconds. `progress_window = 'auto'` (the default) shows it only when
-- nothing else shows the plugin's progress: no statusline calls status(), no other plugin
-- listens to LSP progress (User LspProgressUpdate, LspProgress, a `$/progress` handler of
-- its own) or to User ClaudeBridgeStatus. `true` always shows it, `false` never.
local M = {}

local api = vim.api
local uv = vim.uv or vim.loop

local SPINNER = { '⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏' }
--- How long the end of a task stays in the window, in milliseconds.
M.LINGER_MS = 4000

M.win = nil
M.buf = nil
local frame = 1
local timer
local ended = {} -- { task, at }

--- Why the built-in window is not needed: a list of what else shows progress.
function M.listeners()
  local out = {}
  local called = require('claude_bridge.progress').status_called_at
  if called and uv.now() - called < 10000 then
    table.insert(out, 'a statusline calls status()')
  end
  local ours = api.nvim_create_augroup('claude_bridge', { clear = false })
  local function others(opts)
    local ok, list = pcall(api.nvim_get_autocmds, opts)
    if not ok then
      return 0
    end
    local n = 0
    for _, a in ipairs(list) do
      if a.group ~= ours then
        n = n + 1
      end
    end
    return n
  end
  if others({ event = 'User', pattern = 'LspProgressUpdate' }) > 0 then
    table.insert(out, 'User LspProgressUpdate autocmds')
  end
  if others({ event = 'User', pattern = 'ClaudeBridgeStatus' }) > 0 then
    table.insert(out, 'User ClaudeBridgeStatus autocmds')
  end
  if others({ event = 'LspProgress' }) > 0 then
    table.insert(out, 'LspProgress autocmds')
  end
  local h = vim.lsp.handlers['$/progress']
  local info = h and debug.getinfo(h, 'S')
  if info and info.source and not info.source:find('/lua/vim/lsp/', 1, true) then
    table.insert(out, 'a $/progress handler of another plugin')
  end
  return out
end

--- Whether the window is in use with the current options.
function M.enabled()
  local opt = require('claude_bridge.config').options.progress_window
  if opt == true or opt == false then
    return opt
  end
  return #M.listeners() == 0
end

local function close()
  if M.win and api.nvim_win_is_valid(M.win) then
    pcall(api.nvim_win_close, M.win, true)
  end
  M.win = nil
  if timer then
    timer:stop()
    timer:close()
    timer = nil
  end
end

local function lines_now()
  local tasks = require('claude_bridge.tasks')
  local out = {}
  local what = require('claude_bridge.permissions').waiting_phrase()
  if what then
    local questions_only = what:find('questions? waits?$') ~= nil
    table.insert(out, { '? ' .. what .. (questions_only and ' for your answer' or ''), 'WarningMsg' })
  end
  for _, t in ipairs(tasks.running()) do
    local step = t.message or t.status
    table.insert(out, {
      string.format('%s %s · %s', SPINNER[frame], tostring(step):gsub('\n.*', ''), tasks.label(t, 30)),
      'Normal',
    })
  end
  local now = uv.now()
  for i = #ended, 1, -1 do
    local e = ended[i]
    if now - e.at > M.LINGER_MS then
      table.remove(ended, i)
    end
  end
  for _, e in ipairs(ended) do
    local mark = ({ completed = '✔', cancelled = '■', interrupted = '⏸' })[e.task.status] or '✘'
    local hls = { completed = 'String', cancelled = 'WarningMsg', interrupted = 'WarningMsg' }
    local hl = hls[e.task.status] or 'ErrorMsg'
    local changes = require('claude_bridge.changes')
    local review = e.task.review ~= 'beforeWrite' and changes.pending_text(e.task)
    local state = e.task.status .. (review and (' · ' .. review) or '')
    table.insert(out, { string.format('%s Claude %s · %s', mark, state, tasks.label(e.task, 30)), hl })
  end
  return out
end

local ns = api.nvim_create_namespace('claude_bridge_progress')

local function draw(lines)
  local width = 10
  local text = {}
  for _, l in ipairs(lines) do
    local s = ' ' .. l[1] .. ' '
    if vim.fn.strdisplaywidth(s) > math.floor(vim.o.columns / 2) then
      s = vim.fn.strcharpart(s, 0, math.floor(vim.o.columns / 2) - 1) .. '…'
    end
    table.insert(text, s)
    width = math.max(width, vim.fn.strdisplaywidth(s))
  end
  if not (M.buf and api.nvim_buf_is_valid(M.buf)) then
    M.buf = api.nvim_create_buf(false, true)
    vim.bo[M.buf].bufhidden = 'hide'
  end
  api.nvim_buf_set_lines(M.buf, 0, -1, false, text)
  api.nvim_buf_clear_namespace(M.buf, ns, 0, -1)
  for i, l in ipairs(lines) do
    api.nvim_buf_add_highlight(M.buf, ns, l[2], i - 1, 0, -1)
  end
  local status = (vim.o.laststatus == 0 or (vim.o.laststatus == 1 and #api.nvim_tabpage_list_wins(0) == 1)) and 0 or 1
  local cfg = {
    relative = 'editor',
    anchor = 'SE',
    row = vim.o.lines - vim.o.cmdheight - status,
    col = vim.o.columns,
    width = width,
    height = #text,
    style = 'minimal',
    focusable = false,
    zindex = 45,
  }
  M.win = require('claude_bridge.compat').show_float(M.win, M.buf, cfg, 'Normal:Comment')
end

--- Redraws the window from the tasks' state (progress.changed() calls it).
function M.update()
  if not M.enabled() then
    close()
    return
  end
  local lines = lines_now()
  if #lines == 0 then
    close()
    return
  end
  local ok = pcall(draw, lines)
  if not ok then
    close()
    return
  end
  if not timer then
    timer = uv.new_timer()
    timer:start(
      120,
      120,
      vim.schedule_wrap(function()
        frame = frame % #SPINNER + 1
        M.update()
      end)
    )
  end
end

--- A task ended: its end stays in the window for LINGER_MS.
function M.finished(task)
  table.insert(ended, { task = task, at = uv.now() })
  M.update()
end

return M
