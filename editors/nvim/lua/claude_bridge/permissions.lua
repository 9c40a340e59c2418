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
--   The user answers by moving into it (|:ClaudeAnswer|, a mapping of it, or <C-w>w) and
--   pressing `a` (Allow), `f` (Allow for this task) or `d` (Deny); `q` or <Esc> leaves it
--   waiting. Typing in any other buffer never answers it.
-- - claude's questions and plans (offer()) show in the same window and open in
--   vim.ui.select once you are in Normal mode and stopped typing; :ClaudeAnswer opens it.
-- - An edit held for review (claude_bridge.review) waits here too (enqueue(), then
--   offer() when the reviews before it are done): the window and the statusline say so,
--   its tab opens like a picker; its answer comes from the tab (:ClaudeAccept, resolve()).
-- - A question goes away when its task ends (its `result` event, the reply, the bridge
--   exiting) or its call is decided (its `permission`, `question`, `plan` or `review`
--   event), whatever the bridge sends.
-- - The window keeps off the line the cursor is on (where the user may be typing).
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
-- they stay in sight however long the question is and wherever it is scrolled.
local ui = {}
local ns = api.nvim_create_namespace('claude_bridge_question')

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

--- The key line on the window's bottom border, the longest that fits `width` columns;
--- `more`: other questions waiting; `hidden`: the question has more rows than shown.
function M.keys_line(q, focused, more, width, hidden)
  local options
  if q.kind == 'permission' and focused then
    options = {
      '[a]llow  Allow [f]or this task  [d]eny  [q] later',
      '[a]llow [f]or task [d]eny [q] later',
      'a/f/d, q: later',
      'a/f/d',
    }
  elseif q.kind == 'permission' and hidden then
    options = {
      'more below: :ClaudeAnswer to read it all, then [a]llow  Allow [f]or this task  [d]eny',
      'more below: :ClaudeAnswer to read it all, then a/f/d',
      'more: :ClaudeAnswer, then a/f/d',
      ':ClaudeAnswer, then a/f/d',
      ':ClaudeAnswer',
    }
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

--- The rows of the editor free for floats: without the command line, the statusline and
--- the tabline, and the rows the progress window takes at the bottom.
local function editor_rows()
  local rows = vim.o.lines - vim.o.cmdheight
  if vim.o.laststatus == 2 or (vim.o.laststatus == 1 and #api.nvim_tabpage_list_wins(0) > 1) then
    rows = rows - 1
  end
  if vim.o.showtabline == 2 or (vim.o.showtabline == 1 and #api.nvim_list_tabpages() > 1) then
    rows = rows - 1
  end
  return rows
end

--- Where the window goes when nothing is in its way: a third of the way down the room.
local function preferred_row(height, progress)
  return math.max(0, math.floor((editor_rows() - progress - height - 2) / 3))
end

--- The screen row of the question window, `height` rows high without its border: where it
--- is (`current`), else `preferred`, as long as it stays off the line the cursor is on and
--- the lines next to it (where the user may be typing); else as far from the cursor as the
--- screen allows: at the top when the cursor is in the lower half, else at the bottom,
--- above the progress window (`progress` rows).
local function float_row(height, preferred, current, progress)
  local total = height + 2 -- with its border
  local bottom = math.max(0, editor_rows() - progress - total)
  if current and current > bottom then
    current = nil -- it no longer fits there (a taller question, a smaller screen)
  end
  local win = api.nvim_get_current_win()
  if api.nvim_win_get_config(win).relative ~= '' then
    return current or preferred -- the cursor is in a float (the question window itself)
  end
  local cursor = api.nvim_win_get_position(win)[1] + vim.fn.winline() - 1
  local function clear(row)
    return cursor + 1 < row or cursor - 1 >= row + total
  end
  if current and clear(current) then
    return current
  elseif clear(preferred) then
    return preferred
  elseif cursor >= vim.o.lines / 2 then
    return 0
  end
  return bottom
end

local function close_ui()
  for _, w in ipairs({ ui.keys_win, ui.win }) do
    if w and api.nvim_win_is_valid(w) then
      pcall(api.nvim_win_close, w, true)
    end
  end
  ui.win, ui.keys_win, ui.q, ui.row = nil, nil, nil, nil
end

local function focused()
  return ui.win ~= nil and api.nvim_get_current_win() == ui.win
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
    if back and api.nvim_win_is_valid(back) and back ~= ui.win then
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
  ui.buf = scratch('claude-bridge://question')
  vim.bo[ui.buf].filetype = 'claude_bridge_question'
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = ui.buf, nowait = true, silent = true, desc = desc })
  end
  for _, a in ipairs(M.PERMISSION_ACTIONS) do
    map(a.key, function()
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
    callback = function()
      vim.schedule(M.refresh)
    end,
  })
  return ui.buf
end

local function keys_buffer()
  if not (ui.keys_buf and api.nvim_buf_is_valid(ui.keys_buf)) then
    ui.keys_buf = scratch('claude-bridge://question-keys')
  end
  return ui.keys_buf
end

--- Shows (or updates, or closes) the question window: the question the user is in, else
--- the one that waits longest. Called whenever the questions, the focus or the screen
--- size change.
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
  ui.q = q
  local content = M.content(q)
  local lines = {}
  for _, l in ipairs(content) do
    table.insert(lines, l[1])
  end
  local is_focused = focused()
  local more = #M.pending - 1
  local max_width = math.max(20, vim.o.columns - 4)
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l) + 1)
  end
  width = math.max(width, vim.fn.strdisplaywidth(M.keys_line(q, false, more, max_width)) + 2)
  width = math.min(width, max_width)
  -- Room: the editor's rows without two border rows and the progress window's rows.
  local progress = require('claude_bridge.progress_ui').height()
  local room = math.max(1, editor_rows() - 2 - progress)
  local rows = M.rows(lines, width)
  local height = math.max(1, math.min(rows, room))
  local buf = question_buffer()
  set_lines(buf, lines)
  api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for i, l in ipairs(content) do
    if l[2] then
      api.nvim_buf_add_highlight(buf, ns, l[2], i - 1, 0, -1)
    end
  end
  local current = ui.win and api.nvim_win_is_valid(ui.win) and ui.row or nil
  local row = float_row(height, preferred_row(height, progress), current, progress)
  ui.row = row
  local col = math.max(0, math.floor((vim.o.columns - width - 2) / 2))
  local cfg = {
    relative = 'editor',
    row = row,
    col = col,
    width = width,
    height = height,
    style = 'minimal',
    border = 'rounded',
    focusable = true,
    zindex = 50,
  }
  local hl = 'Normal:NormalFloat,FloatBorder:FloatBorder'
  if ui.win and api.nvim_win_is_valid(ui.win) then
    api.nvim_win_set_config(ui.win, cfg)
    if api.nvim_win_get_buf(ui.win) ~= buf then
      api.nvim_win_set_buf(ui.win, buf)
    end
  else
    cfg.noautocmd = true
    ui.win = api.nvim_open_win(buf, false, cfg)
    vim.wo[ui.win].winhighlight = hl
    vim.wo[ui.win].wrap = true
    vim.wo[ui.win].linebreak = false
    api.nvim_create_autocmd('WinClosed', {
      pattern = tostring(ui.win),
      once = true,
      callback = function()
        vim.schedule(M.refresh) -- closed by hand: the question still waits
      end,
    })
  end
  -- The keys, centred on the bottom border.
  local keys = M.keys_line(q, is_focused, more, width, rows > height)
  local kw = vim.fn.strdisplaywidth(keys)
  local kbuf = keys_buffer()
  set_lines(kbuf, { keys })
  local kcfg = {
    relative = 'editor',
    row = row + height + 1,
    col = col + 1 + math.max(0, math.floor((width - kw) / 2)),
    width = math.max(1, kw),
    height = 1,
    style = 'minimal',
    focusable = false,
    zindex = 51,
  }
  local khl = is_focused and 'Normal:Search' or 'Normal:WarningMsg'
  ui.keys_win = compat.show_float(ui.keys_win, kbuf, kcfg, khl)
  vim.wo[ui.keys_win].winhighlight = khl
  pcall(vim.cmd, 'redraw')
end

--- Keeps the window (and its keys) off the cursor's line while the cursor moves: typing on
--- past the window's top, scrolling. Moves it only; refresh() redraws it.
local function follow_cursor()
  if not (ui.win and api.nvim_win_is_valid(ui.win)) then
    return
  end
  local height = api.nvim_win_get_height(ui.win)
  local progress = require('claude_bridge.progress_ui').height()
  local row = float_row(height, preferred_row(height, progress), ui.row, progress)
  if row == ui.row then
    return
  end
  ui.row = row
  -- Neovim 0.7 gives row and col as { [false] = n, [true] = n }.
  local function col_of(win)
    local c = api.nvim_win_get_config(win).col
    return type(c) == 'table' and c[false] or c
  end
  pcall(api.nvim_win_set_config, ui.win, { relative = 'editor', row = row, col = col_of(ui.win) })
  if ui.keys_win and api.nvim_win_is_valid(ui.keys_win) then
    local kcfg = { relative = 'editor', row = row + height + 1, col = col_of(ui.keys_win) }
    pcall(api.nvim_win_set_config, ui.keys_win, kcfg)
  end
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
  if not (ui.win and api.nvim_win_is_valid(ui.win)) then
    return false
  end
  if not focused() then
    ui.prev_win = api.nvim_get_current_win()
  end
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
api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'WinScrolled' }, {
  group = resize_group,
  callback = follow_cursor,
})

return M
