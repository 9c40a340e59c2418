-- claude_bridge.permissions: the questions put to the user (permission questions,
-- claude's own questions and plans from claude_bridge.questions, and the agent's edits
-- held for review from claude_bridge.review), the window that shows the one waiting, and
-- the bridge's permission requests.
--
-- Nothing here reads keys typed for something else, and nothing guesses from key timing:
-- - A permission question (`claude/permission`, declared as a capability) is answered
--   `{ deferred = true }` at once, so no handler waits on any Neovim; the answer goes back
--   later with `claude.answer`. The question shows in a window that does not take the
--   focus: what is to be allowed, whole (every line of a command), the task, and the keys.
--   The window is not focusable (CTRL-W w and the mouse pass it by): the user answers by
--   moving into it with |:ClaudeAnswer| (or a mapping of it), which alone arms its keys
--   `a` (Allow), `f` (Allow for this task) and `d` (Deny); `q` or <Esc> leaves it waiting.
--   Typing in any other buffer never answers it, nor do keys typed after landing in the
--   window any other way (CTRL-W p, win_gotoid()).
-- - claude's questions and plans (offer()) show in the same window and open in
--   vim.ui.select once you are in Normal mode and stopped typing; :ClaudeAnswer opens it.
-- - An edit held for review (claude_bridge.review) waits here too (enqueue(), then
--   offer() when the reviews before it are done): the window and the statusline say so,
--   its tab opens like a picker; its answer comes from the tab (:ClaudeAccept, resolve()).
-- - A question goes away when its task ends (its `result` event, the reply, the bridge
--   exiting) or its call is decided (its `permission`, `question`, `plan` or `review`
--   event), whatever the bridge sends.
-- - The window keeps off the line the cursor is on (where the user may be typing): it
--   takes the free room above or below that line, shrinks to it (its border then says
--   how many lines more :ClaudeAnswer shows), and moves as the cursor moves, the screen
--   is resized or the user goes to another tab page (floats live in one tab page).
-- - An old bridge's `window/showMessageRequest` permission question: on 0.10+ a picker in
--   the request's coroutine; on 0.7 to 0.9 it cannot be answered without reading typed
--   keys, so it is not answered (the bridge denies) and a message says to update.
local M = {}

local api = vim.api
local compat = require('claude_bridge.compat')

local uv = compat.uv

--- Milliseconds without a key before a picker of claude's questions may open (a pause,
--- not typing; see offer()).
M.QUIET_MS = 400

-- The open questions, oldest first: { id, kind = 'permission'|'ask'|'plan'|'message'|
-- 'review', message, actions, task_id, tool, tool_use_id, key_input?, description?,
-- input?, client_id?, asked_at, answered = function(answer), present = function(q, done)?,
-- presenting = bool, can_present = function()?, focus = function()?,
-- on_withdraw = function(reason)? }.
M.pending = {}
local next_id = 1

local function changed()
  require('claude_bridge.progress').changed()
end

--- The question's message split at backtick spans: { {text, is_code}, ... }.
function M.message_parts(message)
  local out, at = {}, 1
  message = tostring(message or '')
  while true do
    local s, e, code = message:find('`([^`]+)`', at)
    if not s then
      break
    end
    if s > at then
      table.insert(out, { message:sub(at, s - 1), false })
    end
    table.insert(out, { code, true })
    at = e + 1
  end
  if at <= #message then
    table.insert(out, { message:sub(at), false })
  end
  return out
end

--- The message without its backticks, for a picker's prompt.
function M.plain(message)
  local out = {}
  for _, p in ipairs(M.message_parts(message)) do
    table.insert(out, p[1])
  end
  return table.concat(out)
end

local function task_label(q)
  local t = q.task_id and require('claude_bridge.tasks').get(q.task_id)
  return t and require('claude_bridge.tasks').label(t) or nil
end

local function split(s)
  return vim.split(tostring(s or ''):gsub('\r\n', '\n'):gsub('\n+$', ''), '\n', { plain = true })
end

-- The answers of a permission question: the key in its window, the decision sent.
M.PERMISSION_ACTIONS = {
  { title = 'Allow', decision = 'allow', key = 'a' },
  { title = 'Allow for this task', decision = 'allowTask', key = 'f' },
  { title = 'Deny', decision = 'deny', key = 'd' },
}

-- The question window -------------------------------------------------------------------

-- One window shows the question that waits longest (or the one the user moved into):
-- `win`/`buf` hold the question, `keys_win`/`keys_buf` its keys on the bottom border, so
-- they stay in sight however long the question is and wherever it is scrolled. `q`: the
-- question shown; `place`: where (M.place()); `need`: its rows; `armed`: the question
-- whose keys answer (set by :ClaudeAnswer, cleared on leaving the window); `entering`:
-- laying out for the user about to move in; `prev_win`: where they came from.
local ui = {}
local ns = api.nvim_create_namespace('claude_bridge_question')
local watch_terminal -- the timer that follows a terminal's prompt (defined below)

--- The lines of a question's window, each set off by a space: { {text, hl?}, ... }.
function M.content(q)
  local out = {}
  local function add(text, hl)
    table.insert(out, { text == '' and '' or (' ' .. text), hl })
  end
  local label = task_label(q)
  if q.kind == 'permission' then
    local head = 'Claude wants to run ' .. tostring(q.tool or 'a tool')
    local file_tool = q.input and (q.input.file_path or q.input.notebook_path)
    if file_tool and (q.key_input or '') ~= '' then
      head = head .. ': ' .. q.key_input
    end
    add(head, 'Title')
    if label then
      add('Task: ' .. label, 'Comment')
    end
    if (q.description or '') ~= '' then
      for _, l in ipairs(split(q.description)) do
        add('Why: ' .. l, 'Comment')
      end
    end
    add('')
    local input = type(q.input) == 'table' and q.input or {}
    if q.tool == 'Bash' and (q.key_input or '') ~= '' then
      for i, l in ipairs(split(q.key_input)) do
        add((i == 1 and '$ ' or '  ') .. l, 'String')
      end
    elseif file_tool then
      local transcript = require('claude_bridge.transcript')
      local diff = {}
      if q.tool == 'Edit' then
        diff = transcript.diff(input.old_string, input.new_string)
      elseif q.tool == 'MultiEdit' and type(input.edits) == 'table' then
        for _, e in ipairs(input.edits) do
          vim.list_extend(diff, transcript.diff(e.old_string, e.new_string))
        end
      elseif q.tool == 'Write' then
        for _, l in ipairs(split(input.content)) do
          table.insert(diff, '+ ' .. l)
        end
      end
      for _, l in ipairs(diff) do
        local sign = l:sub(1, 1)
        add(l, sign == '+' and 'DiffAdd' or sign == '-' and 'DiffDelete' or nil)
      end
    elseif (q.key_input or '') ~= '' then
      for _, l in ipairs(split(q.key_input)) do
        add(l, 'String')
      end
    end
  else
    local text = ''
    for _, p in ipairs(M.message_parts(q.message)) do
      text = text .. p[1]
    end
    for _, l in ipairs(split(text)) do
      add(l, 'Title')
    end
    if label then
      add('Task: ' .. label, 'Comment')
    end
  end
  return out
end

--- The key line on the window's bottom border, the longest that fits `width` columns.
--- `state`: 'armed' (the user moved in with :ClaudeAnswer: a, f, d answer), 'entered' (in
--- the window some other way: they do not) or nil (elsewhere); `more`: other questions
--- waiting; `hidden`: screen rows of the question the window does not show; `compact`:
--- the line is all there is of the window (no room for more), so it names the question.
function M.keys_line(q, state, more, width, hidden, compact)
  hidden = tonumber(hidden) or 0
  local options
  if state == 'armed' and q.kind == 'permission' then
    options = {
      '[a]llow  Allow [f]or this task  [d]eny  [q] later',
      '[a]llow [f]or task [d]eny [q] later',
      'a/f/d, q: later',
      'a/f/d',
    }
  elseif state == 'entered' and q.kind == 'permission' then
    options = { ':ClaudeAnswer to answer, [q] back', ':ClaudeAnswer, [q] back', ':ClaudeAnswer' }
  elseif compact then
    local head = q.kind == 'permission' and ('Claude wants to run ' .. tostring(q.tool or 'a tool'))
      or q.kind == 'review' and 'An edit waits for review'
      or 'Claude asks'
    options = {
      head .. ': :ClaudeAnswer' .. (q.kind == 'permission' and ', then a/f/d' or ''),
      head .. ': :ClaudeAnswer',
      'Claude: :ClaudeAnswer',
      ':ClaudeAnswer',
    }
  elseif hidden > 0 then
    local n = hidden == 1 and '1 more line' or (hidden .. ' more lines')
    if q.kind == 'permission' then
      options = {
        n .. ': :ClaudeAnswer to read all, then [a]llow  Allow [f]or this task  [d]eny',
        n .. ': :ClaudeAnswer to read all, then a/f/d',
        n .. ': :ClaudeAnswer to read all',
        n .. ': :ClaudeAnswer',
        '+' .. hidden .. ': :ClaudeAnswer',
        ':ClaudeAnswer',
      }
    else
      options = {
        n .. ': :ClaudeAnswer to read all',
        n .. ': :ClaudeAnswer',
        '+' .. hidden .. ': :ClaudeAnswer',
        ':ClaudeAnswer',
      }
    end
  elseif q.kind == 'permission' then
    options = {
      ':ClaudeAnswer, then [a]llow  Allow [f]or this task  [d]eny',
      ':ClaudeAnswer, then [a]llow [f]or task [d]eny',
      ':ClaudeAnswer, then a/f/d',
      ':ClaudeAnswer',
    }
  elseif q.kind == 'review' then
    options = { 'Waiting for your review: :ClaudeAnswer', ':ClaudeAnswer to review', ':ClaudeAnswer' }
  else
    options = { ':ClaudeAnswer to answer', ':ClaudeAnswer' }
  end
  local suffix = more > 0 and string.format(' (+%d)', more) or ''
  for _, o in ipairs(options) do
    local s = ' ' .. o .. suffix .. ' '
    if vim.fn.strdisplaywidth(s) <= width then
      return s
    end
  end
  local s = ' ' .. options[#options] .. ' '
  return vim.fn.strcharpart(s, 0, math.max(1, width))
end

--- Screen rows `lines` take in a window `width` columns wide that wraps.
function M.rows(lines, width)
  local n = 0
  for _, l in ipairs(lines) do
    n = n + math.max(1, math.ceil(vim.fn.strdisplaywidth(l) / width))
  end
  return n
end

--- Where the question window goes and how tall it is, in screen rows (0-based, the
--- editor's). `need`: the rows of the question; the window may use the rows
--- [top, limit); `cursor`: the rows to keep clear, { first, last } (every screen row of
--- the line the user types on, a wrapped line's all) or one row (nil: the user is in the
--- question window, which may then use all the room); `current`: the row it is at now
--- (kept while it stays clear, so the window does not jump about while one types).
--- Returns { row, height, border }: a bordered window (`height` rows of text between its
--- two border rows) wholly above or below the cursor's line, keeping a row between them
--- when there is room, a third of the way down when nothing is in the way; where the
--- question does not fit there, the window takes the larger free side, shrunk to it
--- (`height` < `need`: the rest is read after :ClaudeAnswer). `border = false`: fewer
--- than three rows are free, the window is one row (its keys line) on the larger side.
--- nil: no row is free of the cursor's line.
function M.place(need, top, limit, cursor, current)
  need = math.max(1, need)
  local total = need + 2
  local first, last
  if type(cursor) == 'table' then
    first, last = cursor[1], cursor[2]
  elseif cursor then
    first, last = cursor, cursor
  end
  local function regions(gap)
    if not first then
      return { { top, limit } }
    end
    return { { top, math.min(limit, first - gap) }, { math.max(top, last + 1 + gap), limit } }
  end
  local preferred = top + math.max(0, math.floor((limit - top - total) / 3))
  for _, gap in ipairs({ 1, 0 }) do
    local best, best_d
    for _, r in ipairs(regions(gap)) do
      local a, b = r[1], r[2]
      if b - a >= total then
        if current and current >= a and current + total <= b then
          return { row = current, height = need, border = true }
        end
        local row = math.min(math.max(preferred, a), b - total)
        local d = math.abs(row - preferred)
        if not best or d < best_d then
          best, best_d = row, d
        end
      end
    end
    if best then
      return { row = best, height = need, border = true }
    end
  end
  -- The question does not fit whole on either side: the larger side, the window shrunk.
  local function largest(gap)
    local big
    for _, r in ipairs(regions(gap)) do
      if r[2] - r[1] > 0 and (not big or r[2] - r[1] > big[2] - big[1]) then
        big = r
      end
    end
    return big
  end
  for _, gap in ipairs({ 1, 0 }) do
    local big = largest(gap)
    if big and big[2] - big[1] >= 3 then
      return { row = big[1], height = big[2] - big[1] - 2, border = true }
    end
  end
  local big = largest(0)
  if not big then
    return nil
  end
  if not first then
    return { row = big[1], height = math.min(need, big[2] - big[1]), border = false }
  end
  -- One row, as far from the cursor's line as the side allows.
  return { row = big[1] > last and big[2] - 1 or big[1], height = 1, border = false }
end

--- The rows floats may use: [top, limit) without the tabline, the lowest statusline and
--- the command line.
function M.screen_area()
  local wins = 0
  for _, w in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_config(w).relative == '' then
      wins = wins + 1
    end
  end
  local top = (vim.o.showtabline == 2 or (vim.o.showtabline == 1 and #api.nvim_list_tabpages() > 1)) and 1 or 0
  local limit = vim.o.lines - vim.o.cmdheight
  if vim.o.laststatus >= 2 or (vim.o.laststatus == 1 and wins > 1) then
    limit = limit - 1
  end
  return top, limit
end

local function close_windows()
  for _, w in ipairs({ ui.keys_win, ui.win }) do
    if w and api.nvim_win_is_valid(w) then
      pcall(api.nvim_win_close, w, true)
    end
  end
  ui.win, ui.keys_win, ui.place, ui.rect = nil, nil, nil, nil
end

local function close_ui()
  close_windows()
  ui.q, ui.armed = nil, nil
end

local function focused()
  return ui.win ~= nil and api.nvim_get_current_win() == ui.win
end

--- The screen rows (0-based, the editor's) of the buffer line the cursor is on in the
--- current window: { first, last }, from the line's first wrapped row to its last (the
--- rows of screenpos() of its first and last character, and the cursor's own row: in
--- Insert mode it may be past the end). In a terminal window also `term = { top, bottom }`,
--- the window's text rows: the shell's prompt moves down them as commands print. nil in
--- the question window, or moving into it.
function M.cursor_rows()
  local win = api.nvim_get_current_win()
  if ui.entering or win == ui.win then
    return nil
  end
  local ok, pos = pcall(api.nvim_win_get_position, win)
  if not ok then
    return nil
  end
  local wtop = pos[1]
  local wbottom = wtop + math.max(1, api.nvim_win_get_height(win)) - 1
  local row = wtop + vim.fn.winline() - 1
  local first, last = row, row
  if vim.wo[win].wrap then
    local lnum = api.nvim_win_get_cursor(win)[1]
    local len = #(api.nvim_buf_get_lines(0, lnum - 1, lnum, false)[1] or '')
    local a = vim.fn.screenpos(win, lnum, 1).row
    local b = vim.fn.screenpos(win, lnum, math.max(1, len)).row
    -- 0: that end of the line is off the window (above its top, below its bottom).
    first = math.max(wtop, math.min(first, a > 0 and a - 1 or wtop))
    last = math.min(wbottom, math.max(last, b > 0 and b - 1 or wbottom))
  end
  local buf = api.nvim_win_get_buf(win)
  if vim.bo[buf].buftype == 'terminal' then
    -- The terminal wraps a command longer than it is wide into lines of its full width:
    -- the command (and its prompt) starts at the first of the full lines before the
    -- cursor's (bounded: a screen's worth).
    local info = vim.fn.getwininfo(win)[1] or {}
    local width = api.nvim_win_get_width(win) - (info.textoff or 0)
    local lnum = api.nvim_win_get_cursor(win)[1]
    local top = lnum
    while top > 1 and lnum - top < wbottom - wtop do
      local prev = api.nvim_buf_get_lines(buf, top - 2, top - 1, false)[1] or ''
      if vim.fn.strdisplaywidth(prev) < width then
        break
      end
      top = top - 1
    end
    if top < lnum then
      local a = vim.fn.screenpos(win, top, 1).row
      first = math.max(wtop, math.min(first, a > 0 and a - 1 or wtop))
    end
  end
  local rows = { first, last }
  if vim.bo[buf].buftype == 'terminal' then
    rows.term = { wtop, wbottom }
  end
  return rows
end

--- Where the question goes with `guard` (rows kept clear) kept clear: off the progress
--- window's place (progress_ui.spot()), or over it when that leaves the question more
--- room (the progress window then moves, shrinks or hides: the question comes first).
local function place_clear_of(need, top, limit, guard, current)
  local spot = require('claude_bridge.progress_ui').spot(guard, top, limit)
  local t, l = top, limit
  if spot then
    if spot.row <= top then
      t = spot.row + spot.height
    else
      l = spot.row
    end
  end
  local p = M.place(need, t, l, guard, current)
  if spot and not (p and p.border and p.height >= need) then
    local over = M.place(need, top, limit, guard, current)
    if over and (not p or (over.border and not p.border) or (over.border == p.border and over.height > p.height)) then
      p = over
    end
  end
  return p
end

--- The window's place for a question of `need` rows now: off the cursor's line (all its
--- wrapped rows), off the progress window's place when the question fits beside it.
--- In a terminal window the shell's prompt moves as commands print, and no cursor event
--- says so in Terminal mode: the window keeps off the whole terminal window when there
--- is room elsewhere (another window's rows), else off the rows from the prompt down to
--- the terminal's bottom (above the prompt, where output has already been printed), else
--- off the prompt's row alone (a timer then moves it as the prompt moves: watch_terminal()).
local function layout(need)
  local top, limit = M.screen_area()
  local cur = M.cursor_rows()
  local current = ui.place and ui.place.border and ui.win and api.nvim_win_is_valid(ui.win) and ui.place.row or nil
  if not cur then
    return place_clear_of(need, top, limit, nil, current)
  end
  local guards = { cur }
  if cur.term then
    guards = { cur.term, { cur[1], cur.term[2] }, cur }
  end
  local fallback
  for _, guard in ipairs(guards) do
    local p = place_clear_of(need, top, limit, guard, current)
    if p and p.border then
      return p
    end
    fallback = fallback or p
  end
  return fallback
end

local function scratch(name)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].modifiable = false
  pcall(api.nvim_buf_set_name, buf, name)
  return buf
end

local function set_lines(buf, lines)
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
end

--- Leaves the question window for the window the user came from.
local function leave()
  if focused() then
    local back = ui.prev_win
    local here = back and api.nvim_win_is_valid(back)
      and api.nvim_win_get_tabpage(back) == api.nvim_get_current_tabpage()
    if here and back ~= ui.win then
      api.nvim_set_current_win(back)
    else
      vim.cmd('wincmd p')
    end
  end
end

local function question_buffer()
  if ui.buf and api.nvim_buf_is_valid(ui.buf) then
    return ui.buf
  end
  -- Named in words: while the user is in the window, the tab page's label shows this name.
  ui.buf = scratch('Claude question')
  vim.bo[ui.buf].filetype = 'claude_bridge_question'
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = ui.buf, nowait = true, silent = true, desc = desc })
  end
  for _, a in ipairs(M.PERMISSION_ACTIONS) do
    map(a.key, function()
      if ui.armed ~= ui.q then
        -- Landed here some other way than :ClaudeAnswer (CTRL-W p, win_gotoid()): a key
        -- meant for another window must not answer.
        vim.notify('claude-bridge: :ClaudeAnswer to answer this question (q goes back)', vim.log.levels.WARN)
        return
      end
      M.answer_shown(a.decision)
    end, 'Claude: ' .. a.title)
  end
  for _, lhs in ipairs({ 'q', '<Esc>' }) do
    map(lhs, leave, 'Claude: answer later')
  end
  map('<CR>', function()
    local q = ui.q
    if q and q.kind ~= 'permission' then
      M.present(q)
    end
  end, 'Claude: answer')
  local group = api.nvim_create_augroup('claude_bridge_question', { clear = true })
  api.nvim_create_autocmd({ 'WinEnter', 'WinLeave' }, {
    group = group,
    buffer = ui.buf,
    callback = function(ev)
      if ev.event == 'WinLeave' then
        ui.armed = nil -- only :ClaudeAnswer arms the keys, each time
      end
      vim.schedule(M.refresh)
    end,
  })
  return ui.buf
end

local function keys_buffer()
  if not (ui.keys_buf and api.nvim_buf_is_valid(ui.keys_buf)) then
    ui.keys_buf = scratch('Claude question keys')
  end
  return ui.keys_buf
end

--- Shows (or updates, or closes) the question window in the current tab page: the question
--- the user is in, else the one that waits longest. Called whenever the questions, the
--- focus, the tab page or the screen size change.
function M.refresh()
  local q = ui.q
  if not (q and vim.tbl_contains(M.pending, q) and focused()) then
    q = nil
    for _, p in ipairs(M.pending) do
      if not p.presenting then
        q = p
        break
      end
    end
  end
  if not q then
    leave()
    close_ui()
    pcall(vim.cmd, 'redraw')
    return
  end
  -- A float lives in one tab page: the window follows the user to this one.
  local tab = api.nvim_get_current_tabpage()
  for _, w in ipairs({ ui.win, ui.keys_win }) do
    if w and api.nvim_win_is_valid(w) and api.nvim_win_get_tabpage(w) ~= tab then
      close_windows()
      break
    end
  end
  if ui.q ~= q then
    ui.armed = nil
  end
  ui.q = q
  local content = M.content(q)
  local lines = {}
  for _, l in ipairs(content) do
    table.insert(lines, l[1])
  end
  local is_focused = focused() or ui.entering
  local state = is_focused and (ui.armed == q and 'armed' or 'entered') or nil
  local more = #M.pending - 1
  local max_width = math.max(20, vim.o.columns - 4)
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l) + 1)
  end
  width = math.max(width, vim.fn.strdisplaywidth(M.keys_line(q, nil, more, max_width)) + 2)
  width = math.min(width, max_width, math.max(1, vim.o.columns - 2))
  local need = M.rows(lines, width)
  ui.need = need
  local p = layout(need)
  if not p then
    -- Not a row free of the line typed on: the statusline and progress say it waits.
    close_windows()
    pcall(vim.cmd, 'redraw')
    return
  end
  ui.place = p
  local buf = question_buffer()
  set_lines(buf, lines)
  api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for i, l in ipairs(content) do
    if l[2] then
      api.nvim_buf_add_highlight(buf, ns, l[2], i - 1, 0, -1)
    end
  end
  local col = math.max(0, math.floor((vim.o.columns - width - 2) / 2))
  -- What the windows cover, for the progress window to keep clear of.
  ui.rect = { row = p.row, col = col, height = p.height + (p.border and 2 or 0), width = width + (p.border and 2 or 0) }
  if p.border or is_focused then
    local cfg = {
      relative = 'editor',
      row = p.row,
      col = col,
      width = width,
      height = p.height,
      style = 'minimal',
      border = p.border and 'rounded' or 'none',
      -- Out of CTRL-W w and the mouse: only :ClaudeAnswer moves into it.
      focusable = false,
      zindex = 50,
    }
    if ui.win and api.nvim_win_is_valid(ui.win) then
      api.nvim_win_set_config(ui.win, cfg)
      if api.nvim_win_get_buf(ui.win) ~= buf then
        api.nvim_win_set_buf(ui.win, buf)
      end
    else
      cfg.noautocmd = true
      ui.win = api.nvim_open_win(buf, false, cfg)
      vim.wo[ui.win].winhighlight = 'Normal:NormalFloat,FloatBorder:FloatBorder'
      vim.wo[ui.win].wrap = true
      vim.wo[ui.win].linebreak = false
      local win = ui.win
      api.nvim_create_autocmd('WinClosed', {
        pattern = tostring(win),
        once = true,
        callback = function()
          if ui.win == win then
            vim.schedule(M.refresh) -- closed by hand: the question still waits
          end
        end,
      })
    end
  elseif ui.win and api.nvim_win_is_valid(ui.win) then
    -- One row: the keys line alone says what waits.
    pcall(api.nvim_win_close, ui.win, true)
    ui.win = nil
  end
  local keys, kcfg
  if p.border then
    -- The keys, centred on the bottom border.
    keys = M.keys_line(q, state, more, width, need - p.height)
    local kw = vim.fn.strdisplaywidth(keys)
    kcfg = {
      relative = 'editor',
      row = p.row + p.height + 1,
      col = col + 1 + math.max(0, math.floor((width - kw) / 2)),
      width = math.max(1, kw),
    }
  elseif not is_focused then
    keys = M.keys_line(q, nil, more, vim.o.columns, need, true)
    local kw = vim.fn.strdisplaywidth(keys)
    local kcol = math.max(0, math.floor((vim.o.columns - kw) / 2))
    kcfg = { relative = 'editor', row = p.row, col = kcol, width = math.max(1, kw) }
    ui.rect = { row = p.row, col = kcol, height = 1, width = math.max(1, kw) }
  end
  if kcfg then
    kcfg.height, kcfg.style, kcfg.focusable, kcfg.zindex = 1, 'minimal', false, 51
    local kbuf = keys_buffer()
    set_lines(kbuf, { keys })
    local khl = state == 'armed' and 'Normal:Search' or 'Normal:WarningMsg'
    if ui.keys_win and not api.nvim_win_is_valid(ui.keys_win) then
      ui.keys_win = nil
    end
    ui.keys_win = compat.show_float(ui.keys_win, kbuf, kcfg, khl)
    vim.wo[ui.keys_win].winhighlight = khl
  elseif ui.keys_win and api.nvim_win_is_valid(ui.keys_win) then
    pcall(api.nvim_win_close, ui.keys_win, true)
    ui.keys_win = nil
  end
  require('claude_bridge.progress_ui').reposition()
  watch_terminal()
  pcall(vim.cmd, 'redraw')
end

--- The screen rectangle the question's windows cover ({ row, col, height, width }, rows
--- and columns 0-based, borders included), nil when none is shown: the progress window
--- keeps clear of it.
function M.question_rect()
  local shown = (ui.win and api.nvim_win_is_valid(ui.win)) or (ui.keys_win and api.nvim_win_is_valid(ui.keys_win))
  if ui.rect and shown then
    return ui.rect
  end
  return nil
end

--- Keeps the window (and its keys) off the cursor's line while the cursor moves: typing on
--- past the window's edge, scrolling, moving to another window. Redraws only when its
--- place changes.
local function follow_cursor()
  if not ui.q or focused() or not ui.need then
    return
  end
  local p = layout(ui.need)
  local o = ui.place
  if p and o and p.row == o.row and p.height == o.height and p.border == o.border then
    return
  end
  if not p and not o then
    return
  end
  M.refresh()
end

--- Terminal mode fires no cursor event on 0.7 to 0.9 as the shell prints (CursorMoved
--- waits for Normal mode), so a prompt pushed down by a command's output could end up
--- under the window. While a question waits and the current window is a terminal, this
--- timer reads the cursor's screen row every TERMINAL_POLL_MS and re-places the windows
--- only when it changed (a few API calls a tick; it stops when the question goes or the
--- user leaves the terminal).
M.TERMINAL_POLL_MS = 150
local term_timer, term_last
local function in_terminal()
  return ui.q ~= nil and not focused() and vim.bo[api.nvim_get_current_buf()].buftype == 'terminal'
end
local function stop_terminal_watch()
  if term_timer then
    term_timer:stop()
    term_timer:close()
    term_timer, term_last = nil, nil
  end
end
watch_terminal = function()
  if not in_terminal() then
    stop_terminal_watch()
    return
  end
  if term_timer then
    return
  end
  term_timer = uv.new_timer()
  term_timer:start(
    M.TERMINAL_POLL_MS,
    M.TERMINAL_POLL_MS,
    vim.schedule_wrap(function()
      if not in_terminal() then
        stop_terminal_watch()
        return
      end
      local rows = M.cursor_rows()
      local key = rows and (rows[1] .. ':' .. rows[2]) or ''
      if key ~= term_last then
        term_last = key
        follow_cursor()
        require('claude_bridge.progress_ui').reposition()
      end
    end)
  )
end

-- Answering ---------------------------------------------------------------------------

local function remove(q)
  for i, p in ipairs(M.pending) do
    if p == q then
      table.remove(M.pending, i)
      break
    end
  end
  changed() -- the progress window first: the question window keeps clear of it
  M.refresh()
end

--- Adds a question to the waiting ones (shown in the window when it is the oldest) without
--- offering its picker: a permission question, or a review queued behind another. The
--- statusline counts it; :ClaudeAnswer and drop_task/drop_call know it.
function M.enqueue(q)
  if q.id then
    return
  end
  q.id = next_id
  next_id = next_id + 1
  q.asked_at = uv.now()
  table.insert(M.pending, q)
  changed()
  M.refresh()
end

--- Answers the permission question shown in the window (its keys a, f, d).
function M.answer_shown(decision)
  local q = ui.q
  if not (q and q.kind == 'permission' and vim.tbl_contains(M.pending, q)) then
    return false
  end
  for _, a in ipairs(M.PERMISSION_ACTIONS) do
    if a.decision == decision then
      leave()
      remove(q)
      q.answered(a)
      return true
    end
  end
  return false
end

--- Moves into the window of a permission question, where its keys answer it.
function M.focus(q)
  if q and ui.q ~= q then
    -- Show this one (the window shows the oldest otherwise).
    for i, p in ipairs(M.pending) do
      if p == q then
        table.remove(M.pending, i)
        table.insert(M.pending, 1, q)
        break
      end
    end
    ui.q = nil
    M.refresh()
  end
  if not focused() then
    ui.prev_win = api.nvim_get_current_win()
    -- Laid out for reading (all the room there is), in this tab page.
    ui.entering = true
    local ok = pcall(M.refresh)
    ui.entering = nil
    if not (ok and ui.win and api.nvim_win_is_valid(ui.win)) then
      M.refresh()
      return false
    end
  end
  -- Only this way in arms the keys a, f and d (see question_buffer()).
  ui.armed = ui.q
  vim.cmd('stopinsert')
  api.nvim_set_current_win(ui.win)
  M.refresh()
  return true
end

-- claude's questions and plans: a picker once it is safe ------------------------------

--- Whether a picker can open now without taking keys meant for something else: Normal
--- mode, nothing typed ahead, and no key in the last QUIET_MS.
local last_key = 0
local on_key_ns
local function watch_keys()
  if on_key_ns or not vim.on_key then
    return
  end
  on_key_ns = api.nvim_create_namespace('claude_bridge_keys')
  vim.on_key(function()
    last_key = uv.now()
  end, on_key_ns)
end

local function safe_to_ask()
  local mode = api.nvim_get_mode()
  return mode.mode == 'n' and not mode.blocking and uv.now() - last_key >= M.QUIET_MS and vim.fn.getchar(1) == 0
end

--- The picker of a question asked through window/showMessageRequest: vim.ui.select of
--- its actions.
local function select_action(q, done)
  local label = task_label(q)
  vim.ui.select(q.actions, {
    prompt = M.plain(q.message) .. (label and (' (task: ' .. label .. ')') or ''),
    kind = 'claude_bridge_permission',
    format_item = function(action)
      return type(action) == 'table' and (action.title or '?') or tostring(action)
    end,
  }, done)
end

--- Opens a question's picker (claude's questions and plans: `q.present(q, done)`; a
--- showMessageRequest question: vim.ui.select of its actions) or, for a permission
--- question, moves into its window. Closing a picker without an answer leaves the
--- question waiting; an answer goes to `q.answered`.
function M.present(q)
  if not q or q.presenting or not q.answered then
    return
  end
  if q.kind == 'permission' then
    M.focus(q)
    return
  end
  if q.can_present and not q.can_present() then
    -- Another review's tab is open: there first (they go one at a time).
    for _, p in ipairs(M.pending) do
      if p.presenting and p.focus then
        p.focus()
        break
      end
    end
    return
  end
  q.presenting = true
  M.refresh()
  local present = q.present or select_action
  present(q, function(choice)
    q.presenting = false
    if choice == nil then
      -- Not an answer: the question waits (:ClaudeAnswer opens it again).
      M.refresh()
      changed()
      return
    end
    remove(q)
    q.answered(choice)
  end)
end

--- Puts one of claude's questions or plans to the user without blocking: it joins the
--- pending questions, the window and the statusline say it waits, and its picker opens
--- once it cannot take keys typed for something else (Normal mode, nothing typed ahead, a
--- pause in typing; checked every 100 ms). `q.answered(answer)` gets the answer;
--- :ClaudeAnswer reopens a picker closed without one.
function M.offer(q)
  watch_keys()
  q.kind = q.kind or 'ask'
  M.enqueue(q)
  local timer = uv.new_timer()
  timer:start(
    100,
    100,
    vim.schedule_wrap(function()
      if q.done or q.presenting or not vim.tbl_contains(M.pending, q) then
        if not timer:is_closing() then
          timer:close()
        end
        return
      end
      if not q.offered and safe_to_ask() and not (q.can_present and not q.can_present()) then
        q.offered = true
        timer:close()
        M.present(q)
      end
    end)
  )
end

--- Withdraws a waiting question (the bridge no longer waits for it; `reason` says why,
--- when known).
function M.withdraw(q, reason)
  if vim.tbl_contains(M.pending, q) then
    if ui.q == q then
      leave()
    end
    remove(q)
  end
  q.done = true
  if q.on_withdraw then
    q.on_withdraw(reason)
  end
end

--- Answers a waiting question from elsewhere than its window or picker (an edit reviewed
--- in its tab with :ClaudeAccept): it stops waiting and `q.answered(choice)` runs.
function M.resolve(q, choice)
  q.presenting = false
  q.done = true
  if vim.tbl_contains(M.pending, q) then
    if ui.q == q then
      leave()
    end
    remove(q)
  end
  q.answered(choice)
end

--- What waits, in words: "a question waits", "2 edits wait for review", "3 questions and
--- edits wait" (nil when nothing does).
function M.waiting_phrase()
  local questions, reviews = 0, 0
  for _, q in ipairs(M.pending) do
    if q.kind == 'review' then
      reviews = reviews + 1
    else
      questions = questions + 1
    end
  end
  if questions + reviews == 0 then
    return nil
  elseif reviews == 0 then
    return questions == 1 and 'a question waits' or (questions .. ' questions wait')
  elseif questions == 0 then
    return reviews == 1 and 'an edit waits for review' or (reviews .. ' edits wait for review')
  end
  return string.format('%d questions and edits wait', questions + reviews)
end

--- `:ClaudeAnswer`: the oldest waiting question: into its window (a permission question),
--- its picker (claude's questions and plans) or its review's tab; from inside a review's
--- tab, the next one. Says so when none waits.
function M.answer_pending()
  for _, q in ipairs(M.pending) do
    if q.presenting and q.focus then
      if not (q.here and q.here()) then
        q.focus() -- its tab is open (a review): go there
        return true
      end
    else
      M.present(q)
      return true
    end
  end
  if #M.pending > 0 then
    vim.notify('claude-bridge: only the edit in this tab waits: :ClaudeAccept or :ClaudeReject', vim.log.levels.INFO)
  else
    vim.notify('claude-bridge: no question waits for an answer', vim.log.levels.INFO)
  end
  return #M.pending > 0
end

--- Withdraws the questions `which(q)` picks, saying `reason` (when known) to each.
local function drop(which, reason)
  for i = #M.pending, 1, -1 do
    local q = M.pending[i]
    if q and which(q) then
      M.withdraw(q, reason)
    end
  end
end

--- Forgets the questions and reviews of a task that ended (its result, its reply, its
--- bridge gone).
function M.drop_task(task_id, reason)
  drop(function(q)
    return q.task_id == task_id
  end, reason)
end

--- Forgets the question or review about a tool call (decided here, elsewhere, or given up).
function M.drop_call(task_id, tool_use_id, reason)
  drop(function(q)
    return q.task_id == task_id and q.tool_use_id == tool_use_id
  end, reason)
end

--- Forgets the questions of a bridge that exited.
function M.drop_client(client_id)
  drop(function(q)
    return q.client_id == client_id
  end, 'the bridge exited')
end

-- The requests ----------------------------------------------------------------------------

--- The `claude/permission` handler: answered `{ deferred = true }` at once; the question
--- waits in its window, and its answer goes back with `claude.answer`.
---@param params claude_bridge.PermissionParams
function M.handle_permission(_, params, ctx)
  params = params or {}
  local client_id = ctx and ctx.client_id
  local q = {
    kind = 'permission',
    message = params.message or ('Claude wants to run ' .. tostring(params.toolName)),
    actions = M.PERMISSION_ACTIONS,
    task_id = params.taskId,
    tool = params.toolName,
    tool_use_id = params.toolUseId,
    key_input = params.keyInput,
    description = params.description,
    input = type(params.input) == 'table' and params.input or nil,
    client_id = client_id,
  }
  q.answered = function(action)
    require('claude_bridge.questions').send_answer(client_id, {
      taskId = params.taskId,
      toolUseId = params.toolUseId,
      decision = action.decision,
    })
  end
  M.enqueue(q)
  return { deferred = true }
end

local function ask_async(q)
  local co = coroutine.running()
  q.answered = function(choice)
    -- Resume from the event loop: a picker may call back before the handler yielded.
    vim.schedule(function()
      local ok, err = coroutine.resume(co, choice)
      if not ok then
        vim.notify('claude-bridge: answering a question failed: ' .. tostring(err), vim.log.levels.ERROR)
      end
    end)
  end
  q.on_withdraw = function()
    q.answered(nil)
  end
  M.offer(q)
  local choice = coroutine.yield()
  q.done = true
  return choice
end

--- The `window/showMessageRequest` handler of bridge clients: a bridge older than
--- claude/permission asks this way (and any LSP server may). 0.10+: a picker, in the
--- request's coroutine. 0.7 to 0.9 would have to wait in the handler, reading keys typed
--- for the buffer; they get no answer (null: a permission is denied) and a message.
---@param params claude_bridge.PermissionRequestParams
function M.show_message_request(_, params, ctx)
  params = params or {}
  local actions = params.actions
  if type(actions) ~= 'table' or #actions == 0 then
    -- Nothing to choose: show the message, answer null.
    vim.notify(params.message or '', vim.log.levels.INFO)
    return vim.NIL
  end
  if not compat.in_yieldable_coroutine() then
    vim.notify(
      'claude-bridge: not answered (this Neovim cannot answer window/showMessageRequest without '
        .. 'reading the keys you type; update claude-bridge, which asks with claude/permission): '
        .. M.plain(params.message or ''),
      vim.log.levels.WARN
    )
    return vim.NIL
  end
  local q = {
    kind = 'message',
    message = params.message or 'Claude asks',
    actions = actions,
    task_id = params.taskId,
    tool = params.toolName,
    tool_use_id = params.toolUseId,
    client_id = ctx and ctx.client_id,
  }
  local choice = ask_async(q)
  if type(choice) == 'table' and choice.title then
    return { title = choice.title }
  end
  return vim.NIL
end

local resize_group = api.nvim_create_augroup('claude_bridge_question_resize', { clear = true })
api.nvim_create_autocmd('VimResized', {
  group = resize_group,
  callback = function()
    if #M.pending > 0 then
      M.refresh()
    end
  end,
})
api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'WinScrolled', 'WinEnter', 'TermEnter', 'TermLeave' }, {
  group = resize_group,
  callback = function()
    follow_cursor()
    if ui.q then
      watch_terminal()
    end
  end,
})
-- The window is a float, which lives in one tab page: it follows the user to another.
api.nvim_create_autocmd('TabEnter', {
  group = resize_group,
  callback = function()
    if #M.pending > 0 then
      vim.schedule(M.refresh)
    end
  end,
})

return M
