-- claude_bridge.progress_ui: the built-in progress display, a small window at the bottom
-- right of the editor that never takes focus (like fidget.nvim): one line per running task
-- (`⠋ Edit main.go · add a --verbose flag`), a line when a question waits, and the end of
-- a task for a few seconds. `progress_window = 'auto'` (the default) shows it only when
-- nothing else shows the plugin's progress: no statusline calls status(), no other plugin
-- listens to LSP progress (User LspProgressUpdate, LspProgress, a `$/progress` handler of
-- its own) or to User ClaudeBridgeStatus. `true` always shows it, `false` never.
-- It never covers the line typed on: when the cursor's line (every wrapped row of it; in a
-- terminal, the prompt's row down to the terminal's bottom) is on its rows, it moves to
-- the top right, re-placed as the cursor moves. The question window comes first: this
-- window never lies over it, shrinking (its first lines kept) or hiding when there is no
-- room for both.
local M = {}

local api = vim.api
local uv = vim.uv or vim.loop

local SPINNER = { '⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏' }
--- How long the end of a task stays in the window, in milliseconds.
M.LINGER_MS = 4000

M.win = nil
M.buf = nil
--- The lines shown (or hidden for want of room), as lines_now() gives them, while the
--- window is in use; nil when it is closed.
M.lines = nil
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
  M.lines = nil
  if timer then
    timer:stop()
    timer:close()
    timer = nil
  end
end

--- The widest a line of the window may be: half the screen, but on a narrower screen
--- enough for a task's name and its step (60 columns, or the screen less 2).
local function max_width()
  return math.max(math.floor(vim.o.columns / 2), math.min(vim.o.columns - 2, 60))
end

--- The most lines the window takes: a third of the screen (at least 2).
local function max_lines()
  return math.max(2, math.floor((vim.o.lines - vim.o.cmdheight - 1) / 3))
end

local function cut(s, n)
  s = tostring(s or '')
  if vim.fn.strdisplaywidth(s) <= n then
    return s
  end
  return vim.fn.strcharpart(s, 0, math.max(1, n - 1)) .. '…'
end

--- A running task's line: its name first (cut to leave room), then its step.
local function task_line(t, width)
  local tasks = require('claude_bridge.tasks')
  local step = tostring(t.message or t.status):gsub('\n.*', '')
  if vim.trim(step) == vim.trim((tostring(t.prompt or '')):gsub('\n.*', '')) then
    step = t.status == 'queued' and 'queued' or 'starting' -- the progress begins with the prompt
  end
  local name = cut(tasks.label(t, 30), math.max(8, math.floor((width - 4) * 0.45)))
  return cut(string.format('%s %s · %s', SPINNER[frame], name, step), width)
end

local function lines_now()
  local tasks = require('claude_bridge.tasks')
  local width = max_width() - 2
  local out = {}
  local what = require('claude_bridge.permissions').waiting_phrase()
  if what then
    local questions_only = what:find('questions? waits?$') ~= nil
    table.insert(out, { cut('? ' .. what .. (questions_only and ' for your answer' or ''), width), 'WarningMsg' })
  end
  local running, queued = {}, 0
  for _, t in ipairs(tasks.running()) do
    if t.status == 'queued' then
      queued = queued + 1
    else
      table.insert(running, t)
    end
  end
  local now = uv.now()
  for i = #ended, 1, -1 do
    if now - ended[i].at > M.LINGER_MS then
      table.remove(ended, i)
    end
  end
  local room = max_lines() - #out - (queued > 0 and 1 or 0)
  local shown = 0
  for _, t in ipairs(running) do
    if shown >= room - 1 and #running - shown > 1 then
      table.insert(out, { cut(string.format('  +%d more running (:ClaudeTasks)', #running - shown), width), 'Comment' })
      break
    end
    table.insert(out, { task_line(t, width), 'Normal' })
    shown = shown + 1
  end
  if queued > 0 then
    table.insert(out, { cut(string.format('%s %d queued', SPINNER[frame], queued), width), 'Comment' })
  end
  for _, e in ipairs(ended) do
    if #out >= max_lines() then
      break
    end
    local mark = ({ completed = '✔', cancelled = '■', interrupted = '⏸' })[e.task.status] or '✘'
    local hls = { completed = 'String', cancelled = 'WarningMsg', interrupted = 'WarningMsg' }
    local hl = hls[e.task.status] or 'ErrorMsg'
    local changes = require('claude_bridge.changes')
    local review = e.task.review ~= 'beforeWrite' and changes.pending_text(e.task)
    local state = e.task.status .. (review and (' · ' .. review) or '')
    local line = string.format('%s Claude %s · %s', mark, state, tasks.label(e.task, 30))
    table.insert(out, { cut(line, width), hl })
  end
  return out
end

local ns = api.nvim_create_namespace('claude_bridge_progress')

--- The text of `lines` as the window shows it, and its width.
local function texts(lines)
  local width = 10
  local text = {}
  for _, l in ipairs(lines) do
    local s = ' ' .. l[1] .. ' '
    table.insert(text, s)
    width = math.max(width, vim.fn.strdisplaywidth(s))
  end
  return text, width
end

--- Where the window goes (rows and columns 0-based, the editor's): `h` lines `w` columns
--- wide at the right edge of a screen `columns` wide whose rows [top, limit) floats may use;
--- `guard`: { first, last }, the rows of the line typed on (nil: none); `avoid`: the
--- question window's { row, col, height, width } (nil: none). Bottom right, else top right,
--- never on a row of `guard` nor over `avoid`; where neither corner has room for all `h`
--- lines, the most lines one has. Returns { row, col, height } (`height` ≤ h: the first
--- lines shown), or nil: no room (the window hides).
function M.place(h, w, top, limit, columns, guard, avoid)
  local col = math.max(0, columns - w)
  for height = math.min(h, limit - top), 1, -1 do
    for _, row in ipairs({ limit - height, top }) do
      local clear = not guard or row + height - 1 < guard[1] or row > guard[2]
      if clear and avoid then
        clear = row + height <= avoid.row
          or row >= avoid.row + avoid.height
          or col + w <= avoid.col
          or col >= avoid.col + avoid.width
      end
      if clear then
        return { row = row, col = col, height = height }
      end
    end
  end
  return nil
end

--- The rows the window keeps clear of for the cursor now: its line's (see
--- permissions.cursor_rows()), in a terminal from the prompt to the terminal's bottom.
local function guard_of(rows)
  if rows and rows.term then
    return { rows[1], rows.term[2] }
  end
  return rows
end

--- Where the window would go with the cursor's rows `rows` and no question window, for
--- the question window to keep clear of when it fits beside it: { row, col, height }, nil
--- when the window is not shown.
function M.spot(rows, top, limit)
  if not M.lines or #M.lines == 0 then
    return nil
  end
  local text, width = texts(M.lines)
  return M.place(#text, width, top, limit, vim.o.columns, guard_of(rows), nil)
end

local function draw(lines)
  local text, width = texts(lines)
  local permissions = require('claude_bridge.permissions')
  local top, limit = permissions.screen_area()
  local guard = guard_of(permissions.cursor_rows())
  local spot = M.place(#text, width, top, limit, vim.o.columns, guard, permissions.question_rect())
  if M.win and api.nvim_win_is_valid(M.win) and api.nvim_win_get_tabpage(M.win) ~= api.nvim_get_current_tabpage() then
    -- A float lives in one tab page: the window follows the user to this one.
    pcall(api.nvim_win_close, M.win, true)
    M.win = nil
  end
  if not spot then
    -- No room beside the question and off the typed line: hidden until there is.
    if M.win and api.nvim_win_is_valid(M.win) then
      pcall(api.nvim_win_close, M.win, true)
    end
    M.win = nil
    return
  end
  if not (M.buf and api.nvim_buf_is_valid(M.buf)) then
    M.buf = api.nvim_create_buf(false, true)
    vim.bo[M.buf].bufhidden = 'hide'
  end
  local shown = vim.list_slice(text, 1, spot.height)
  if table.concat(api.nvim_buf_get_lines(M.buf, 0, -1, false), '\n') ~= table.concat(shown, '\n') then
    api.nvim_buf_set_lines(M.buf, 0, -1, false, shown)
  end
  api.nvim_buf_clear_namespace(M.buf, ns, 0, -1)
  for i = 1, spot.height do
    api.nvim_buf_add_highlight(M.buf, ns, lines[i][2], i - 1, 0, -1)
  end
  local cfg = {
    relative = 'editor',
    row = spot.row,
    col = spot.col,
    width = width,
    height = spot.height,
    style = 'minimal',
    focusable = false,
    zindex = 45,
  }
  M.win = require('claude_bridge.compat').show_float(M.win, M.buf, cfg, 'Normal:Comment')
end

--- The rows the window takes now (0 when it is not shown).
function M.height()
  if not (M.win and api.nvim_win_is_valid(M.win)) then
    return 0
  end
  return api.nvim_win_get_height(M.win)
end

--- Re-places the window (same lines) after the cursor or the question window moved.
function M.reposition()
  if M.lines and #M.lines > 0 then
    if not pcall(draw, M.lines) then
      close()
    end
  end
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
  M.lines = lines
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

local group = api.nvim_create_augroup('claude_bridge_progress_window', { clear = true })
-- Off the line typed on as the cursor moves (the spinner's timer re-places it too, which
-- follows a terminal's prompt in Terminal mode).
api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'WinScrolled', 'WinEnter', 'VimResized' }, {
  group = group,
  callback = function()
    M.reposition()
  end,
})
api.nvim_create_autocmd('TabEnter', {
  group = group,
  callback = function()
    if M.win then
      vim.schedule(M.update)
    end
  end,
})

return M
