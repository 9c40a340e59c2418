-- claude_bridge.permissions: the questions put to the user, and the bridge's permission
-- questions (`window/showMessageRequest` with the actions Allow / Allow for this task /
-- Deny). A question is answered only by a deliberate answer: keys typed ahead (while the
-- question appears) are never taken as one, and an empty answer, <Esc> or <CR> never
-- denies. claude's own questions and plans (claude_bridge.questions) wait here too, asked
-- with offer() on every Neovim.
--
-- An LSP request handler must hand its answer back as its return value. How it can wait
-- depends on Neovim, detected at run time:
-- - Neovim 0.10+ calls request handlers inside a coroutine: the handler yields until the
--   question is answered. The question waits (the statusline component and a small
--   window say so) and opens in `vim.ui.select` once you are in Normal mode and have
--   stopped typing; closing the picker leaves it waiting, `:ClaudeAnswer` opens it again.
-- - Neovim 0.7 to 0.9 send whatever the handler returns at once, so the handler waits
--   (vim.wait keeps LSP messages flowing). The question shows in a window with a key per
--   answer ([a]llow, allow [f]or this task, [d]eny). Keys that arrive in the first
--   moments, or in a burst of typing, are not answers: they are kept and replayed after
--   the answer, so nothing typed is lost. <Esc> and <CR> only show a hint. After
--   `permission_timeout` seconds without an answer, the answer is Deny (the bridge
--   stops waiting after 10 minutes anyway).
local M = {}

local api = vim.api
local compat = require('claude_bridge.compat')
local config = require('claude_bridge.config')

local uv = compat.uv

--- Milliseconds a question must have been on screen before a key can answer it.
M.GUARD_MS = 600
--- Milliseconds without a key before an answer key counts (a pause, not typing).
M.QUIET_MS = 400
--- Milliseconds after an answer key in which another key makes it typing after all.
M.CONFIRM_MS = 250

-- The open questions, oldest first: { id, message, actions, task_id, tool, tool_use_id,
-- asked_at, answered = function(answer) (asked with offer: 0.10+, and claude's own
-- questions and plans on every version), present = function(q, done)?, presenting = bool }.
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

--- A hotkey for each action: the first letter of one of its words not taken yet (else any
--- free letter). Returns the keys and the titles with the key marked, `[a]llow`.
function M.hotkeys(actions)
  local used, keys, labels = {}, {}, {}
  for i, a in ipairs(actions) do
    local title = tostring(type(a) == 'table' and a.title or a)
    local at
    for pos, ch in title:gmatch('()(%w)') do
      local starts_word = pos == 1 or title:sub(pos - 1, pos - 1):match('%W')
      if starts_word and not used[ch:lower()] then
        at = pos
        break
      end
    end
    if not at then
      for pos, ch in title:gmatch('()(%w)') do
        if not used[ch:lower()] then
          at = pos
          break
        end
      end
    end
    if at then
      local key = title:sub(at, at):lower()
      used[key] = true
      keys[key] = i
      labels[i] = title:sub(1, at - 1) .. '[' .. title:sub(at, at):lower() .. ']' .. title:sub(at + 1)
    else
      labels[i] = title
    end
  end
  return keys, labels
end

local function task_label(q)
  local t = q.task_id and require('claude_bridge.tasks').get(q.task_id)
  return t and require('claude_bridge.tasks').label(t) or nil
end

-- The question window ------------------------------------------------------------------

local ns = api.nvim_create_namespace('claude_bridge_question')
local follow_cursor -- defined below

--- The screen row of a question window `height` lines high: where it is (`current`), else
--- the middle of the screen, as long as it stays off the line the cursor is on and the
--- lines next to it (where the user may be typing); else as far from the cursor as the
--- screen allows: at the top when the cursor is in the lower half, else at the bottom.
local function float_row(height, current)
  local total = height + 2 -- with its border
  local middle = math.max(0, math.floor((vim.o.lines - height) / 2) - 2)
  local win = api.nvim_get_current_win()
  if api.nvim_win_get_config(win).relative ~= '' then
    return current or middle
  end
  local cursor = api.nvim_win_get_position(win)[1] + vim.fn.winline() - 1
  local function clear(row)
    return cursor + 1 < row or cursor - 1 >= row + total
  end
  if current and clear(current) then
    return current
  elseif clear(middle) then
    return middle
  end
  if cursor >= vim.o.lines / 2 then
    return 0
  end
  -- At the bottom: above the statusline and the progress window, if it shows.
  local bottom = vim.o.lines - vim.o.cmdheight - (vim.o.laststatus > 0 and 1 or 0)
  local ui = require('claude_bridge.progress_ui')
  if ui.win and api.nvim_win_is_valid(ui.win) then
    bottom = bottom - api.nvim_win_get_height(ui.win)
  end
  return math.max(0, bottom - total)
end

local follow_group
--- Keeps the open question windows off the cursor's line while the cursor moves (typing
--- on past the window's top, scrolling, a resize).
function follow_cursor()
  if follow_group then
    return
  end
  follow_group = api.nvim_create_augroup('claude_bridge_question_windows', { clear = true })
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'WinScrolled', 'VimResized' }, {
    group = follow_group,
    callback = function()
      local any = false
      for _, q in ipairs(M.pending) do
        if q.win and api.nvim_win_is_valid(q.win) then
          any = true
          local cfg = api.nvim_win_get_config(q.win)
          -- Neovim 0.7 gives row and col as { [false] = n, [true] = n }.
          local function num(v)
            return type(v) == 'table' and v[false] or v
          end
          local row = float_row(cfg.height, num(cfg.row))
          if row ~= num(cfg.row) then
            pcall(api.nvim_win_set_config, q.win, { relative = 'editor', row = row, col = num(cfg.col) })
            q.row = row
          end
        end
      end
      if not any then
        pcall(api.nvim_del_augroup_by_id, follow_group)
        follow_group = nil
      end
    end,
  })
end

--- Shows (or updates) a question's window: the question with its code highlighted, the
--- task, and a last line (the answers, or a hint). `enter` = false: it never takes focus.
local function show_window(q, last_line, last_hl)
  local lines, marks = {}, {}
  local first = ''
  for _, p in ipairs(M.message_parts(q.message)) do
    if p[2] then
      table.insert(marks, { 0, #first, #first + #p[1] })
    end
    first = first .. p[1]
  end
  table.insert(lines, ' ' .. first)
  for _, m in ipairs(marks) do
    m[2], m[3] = m[2] + 1, m[3] + 1
  end
  local label = task_label(q)
  if label then
    table.insert(lines, ' Task: ' .. label)
  end
  table.insert(lines, '')
  table.insert(lines, ' ' .. last_line)
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l) + 1)
  end
  width = math.min(width, math.max(20, vim.o.columns - 6))
  if not (q.buf and api.nvim_buf_is_valid(q.buf)) then
    q.buf = api.nvim_create_buf(false, true)
    vim.bo[q.buf].bufhidden = 'wipe'
  end
  api.nvim_buf_set_lines(q.buf, 0, -1, false, lines)
  api.nvim_buf_clear_namespace(q.buf, ns, 0, -1)
  for _, m in ipairs(marks) do
    api.nvim_buf_add_highlight(q.buf, ns, 'String', m[1], m[2], m[3])
  end
  api.nvim_buf_add_highlight(q.buf, ns, last_hl or 'Question', #lines - 1, 0, -1)
  local cfg = {
    relative = 'editor',
    width = width,
    height = #lines,
    row = float_row(#lines, q.win and api.nvim_win_is_valid(q.win) and q.row or nil),
    col = math.floor((vim.o.columns - width) / 2),
    style = 'minimal',
    border = 'rounded',
    focusable = false,
  }
  q.win = compat.show_float(q.win, q.buf, cfg, 'Normal:NormalFloat,FloatBorder:FloatBorder')
  q.row = cfg.row
  follow_cursor()
  pcall(vim.cmd, 'redraw')
end

local function close_window(q)
  if q.win and api.nvim_win_is_valid(q.win) then
    pcall(api.nvim_win_close, q.win, true)
  end
  q.win = nil
end

local function remove(q)
  for i, p in ipairs(M.pending) do
    if p == q then
      table.remove(M.pending, i)
      break
    end
  end
  close_window(q)
  changed()
end

-- 0.7 to 0.9: wait in the handler, reading keys ---------------------------------------

local function now()
  return uv.now()
end

--- Waits for a deliberate answer key. Returns the chosen action (or nil on timeout) and
--- the keys typed meanwhile that were not answers, to replay.
local function wait_for_key(q)
  local keys, labels = M.hotkeys(q.actions)
  local answers_line = table.concat(labels, '   ')
  show_window(q, answers_line)
  local shown_at = now()
  local typed = {}
  local last_key_at
  local candidate
  local choice
  local hint_until
  -- Keys typed before the question showed were meant for something else.
  while true do
    local ok, c = pcall(vim.fn.getchar, 0)
    if not ok or c == 0 then
      break
    end
    table.insert(typed, type(c) == 'number' and vim.fn.nr2char(c) or c)
    last_key_at = now()
  end
  local timeout = math.floor((config.options.permission_timeout or 600) * 1000)
  vim.wait(timeout, function()
    while true do
      local ok, c = pcall(vim.fn.getchar, 0)
      if not ok then
        c = 3 -- CTRL-C
      end
      if c == 0 then
        break
      end
      local t = now()
      local raw = type(c) == 'number' and vim.fn.nr2char(c) or c
      if candidate then
        -- Another key right after it: that was typing, not an answer.
        table.insert(typed, candidate.raw)
        candidate = nil
      end
      local deliberate = t - shown_at >= M.GUARD_MS and (last_key_at == nil or t - last_key_at >= M.QUIET_MS)
      last_key_at = t
      local k = type(c) == 'number' and vim.fn.nr2char(c):lower() or nil
      if deliberate and k and keys[k] then
        candidate = { index = keys[k], raw = raw, at = t }
      elseif deliberate and (c == 27 or c == 13 or c == 3) then
        hint_until = t + 3000
        show_window(q, 'The question waits for an answer: ' .. answers_line, 'WarningMsg')
      else
        table.insert(typed, raw)
      end
    end
    if candidate and now() - candidate.at >= M.CONFIRM_MS then
      choice = q.actions[candidate.index]
      return true
    end
    if hint_until and now() > hint_until then
      hint_until = nil
      show_window(q, answers_line)
    end
    return false
  end, 20)
  return choice, typed
end

local function ask_blocking(q)
  local choice, typed = wait_for_key(q)
  remove(q)
  if not choice then
    vim.notify(
      string.format(
        'claude-bridge: %s: not answered in %d s, answered Deny (see :help claude-bridge-permissions)',
        M.plain(q.message),
        config.options.permission_timeout or 600
      ),
      vim.log.levels.WARN
    )
    for _, a in ipairs(q.actions) do
      if a.title == 'Deny' then
        choice = a
      end
    end
  end
  pcall(vim.cmd, 'redraw')
  if #typed > 0 then
    -- What was typed while the question showed goes where it was meant to.
    api.nvim_feedkeys(table.concat(typed), 't', false)
  end
  return choice
end

-- 0.10+: yield until answered ----------------------------------------------------------

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
    last_key = now()
  end, on_key_ns)
end

local function safe_to_ask()
  local mode = api.nvim_get_mode()
  return mode.mode == 'n' and not mode.blocking and now() - last_key >= M.QUIET_MS and vim.fn.getchar(1) == 0
end

--- The picker of a permission question: vim.ui.select of its actions.
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

--- Opens the question's picker: `q.present(q, done)` (claude's questions and plans), else
--- vim.ui.select of its actions. Closing it without an answer (done(nil)) leaves the question
--- waiting; an answer goes to `q.answered`.
function M.present(q)
  if q.presenting or not q.answered then
    return
  end
  q.presenting = true
  close_window(q)
  local present = q.present or select_action
  present(q, function(choice)
    q.presenting = false
    if choice == nil then
      -- Not an answer: the question waits (:ClaudeAnswer opens it again).
      show_window(q, q.hint or 'Waiting for your answer: :ClaudeAnswer', 'WarningMsg')
      changed()
      return
    end
    remove(q)
    q.answered(choice)
  end)
end

--- Puts a question to the user without blocking: it joins the pending questions, a small
--- window and the statusline say it waits, and its picker opens once it cannot take keys
--- typed for something else (Normal mode, nothing typed ahead, a pause in typing;
--- checked every 100 ms). `q.answered(answer)` gets the answer; :ClaudeAnswer reopens a
--- picker closed without one. Works on every Neovim: what waits is a timer, not the handler.
function M.offer(q)
  watch_keys()
  M.enqueue(q)
  show_window(q, q.hint or 'Waiting for your answer: :ClaudeAnswer', 'WarningMsg')
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
--- when the bridge said).
function M.withdraw(q, reason)
  if vim.tbl_contains(M.pending, q) then
    remove(q)
  end
  q.done = true
  if q.on_withdraw then
    q.on_withdraw(reason)
  end
end

--- Adds a question to the waiting ones without offering it yet (a review queued behind
--- another): the statusline counts it, :ClaudeAnswer and drop_task/drop_call know it.
function M.enqueue(q)
  if q.id then
    return
  end
  q.id = next_id
  next_id = next_id + 1
  q.asked_at = now()
  table.insert(M.pending, q)
  changed()
end

--- Answers a waiting question from elsewhere than its picker (an edit reviewed in its tab
--- with :ClaudeAccept): it stops waiting and `q.answered(choice)` runs.
function M.resolve(q, choice)
  q.presenting = false
  q.done = true
  if vim.tbl_contains(M.pending, q) then
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

local function ask_async(q)
  local co = coroutine.running()
  q.answered = function(choice)
    -- Resume from the event loop: a picker may call back before the handler yielded.
    vim.schedule(function()
      local ok, err = coroutine.resume(co, choice)
      if not ok then
        vim.notify('claude-bridge: answering a permission question failed: ' .. tostring(err), vim.log.levels.ERROR)
      end
    end)
  end
  M.offer(q)
  local choice = coroutine.yield()
  q.done = true
  return choice
end

--- `:ClaudeAnswer`: opens the oldest waiting question again (or says none waits).
function M.answer_pending()
  local q = M.pending[1]
  if not q then
    vim.notify('claude-bridge: no question waits for an answer', vim.log.levels.INFO)
    return false
  end
  if q.presenting and q.focus then
    q.focus() -- its tab is open (a review): go there
    return true
  end
  M.present(q)
  return true
end

--- Forgets the questions of a task that ended (the bridge withdrew them).
function M.drop_task(task_id, reason)
  for i = #M.pending, 1, -1 do
    local q = M.pending[i]
    if q.task_id == task_id and q.answered then
      M.withdraw(q, reason)
    end
  end
end

--- Forgets the question about a tool call (its answer came from elsewhere, or the bridge
--- gave it up).
function M.drop_call(task_id, tool_use_id, reason)
  for i = #M.pending, 1, -1 do
    local q = M.pending[i]
    if q.task_id == task_id and q.tool_use_id == tool_use_id and q.answered then
      M.withdraw(q, reason)
    end
  end
end

--- The `window/showMessageRequest` handler of bridge clients.
---@param params claude_bridge.PermissionRequestParams
function M.show_message_request(_, params, _ctx)
  params = params or {}
  local actions = params.actions
  if type(actions) ~= 'table' or #actions == 0 then
    -- Nothing to choose: show the message, answer null.
    vim.notify(params.message or '', vim.log.levels.INFO)
    return vim.NIL
  end
  local q = {
    message = params.message or 'Claude asks for permission',
    actions = actions,
    task_id = params.taskId,
    tool = params.toolName,
    tool_use_id = params.toolUseId,
  }
  local choice
  if compat.in_yieldable_coroutine() then
    choice = ask_async(q)
  else
    M.enqueue(q)
    choice = ask_blocking(q)
  end
  if type(choice) == 'table' and choice.title then
    return { title = choice.title }
  end
  return vim.NIL
end

return M
