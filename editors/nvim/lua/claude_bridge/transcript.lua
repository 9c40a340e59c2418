-- claude_bridge.transcript: each task's transcript, built from its `claude/event`
-- notifications (text, tool uses and results, permission answers, retries, the result
-- with cost and duration), and the scratch buffers of :ClaudeLog that show it live.
local M = {}

local api = vim.api
local RESULT_LINES = 4 -- lines of a tool's output shown unfolded in the log
local MAX_RESULT_LINES = 400 -- lines of a tool's output kept in the log

local function new_transcript()
  return {
    lines = {},
    dirty_from = nil, -- first line changed since the buffers were last updated
    block = nil, -- the streaming block: { kind = 'text'|'thinking', id = messageId }
    last_seq = 0,
    fold_level = {}, -- line number -> true: the line is folded (long output, long diffs)
  }
end

local function get(task)
  task.transcript = task.transcript or new_transcript()
  return task.transcript
end

local function mark(tr, idx)
  if tr.dirty_from == nil or idx < tr.dirty_from then
    tr.dirty_from = idx
  end
end

local function split_lines(s)
  local out = {}
  s = tostring(s or ''):gsub('\r\n', '\n')
  for line in (s .. '\n'):gmatch('(.-)\n') do
    table.insert(out, line)
  end
  return out
end

--- Appends whole lines (ends any streaming block).
local function add_lines(tr, lines)
  tr.block = nil
  mark(tr, #tr.lines + 1)
  for _, l in ipairs(lines) do
    table.insert(tr.lines, l)
  end
end

local function add(tr, ...)
  add_lines(tr, { ... })
end

--- Appends streamed text to the current block (same kind and message), else opens a
--- new block on a fresh line. `prefix` starts each line of a block.
local function stream(tr, kind, id, text, prefix)
  prefix = prefix or ''
  if not (tr.block and tr.block.kind == kind and tr.block.id == id) then
    if #tr.lines > 0 and tr.lines[#tr.lines] ~= '' then
      add(tr, '')
    end
    tr.block = { kind = kind, id = id }
    mark(tr, #tr.lines + 1)
    table.insert(tr.lines, prefix)
  end
  local parts = split_lines(text)
  local n = #tr.lines
  mark(tr, n)
  tr.lines[n] = tr.lines[n] .. parts[1]
  for i = 2, #parts do
    table.insert(tr.lines, prefix .. parts[i])
  end
end

local function one_line(s, max)
  s = tostring(s or ''):gsub('%s*\n%s*', ' ⏎ ')
  if max and vim.fn.strchars(s) > max then
    s = vim.fn.strcharpart(s, 0, max) .. '…'
  end
  return s
end

local function json(v)
  local ok, s = pcall(vim.json.encode, v)
  if not ok then
    return vim.inspect(v)
  end
  s = s:gsub('\\/', '/') -- vim.json escapes every slash
  return s
end

local function seconds(ms)
  if type(ms) ~= 'number' then
    return '?'
  end
  return string.format('%.1f s', ms / 1000)
end

local function cost(usd)
  if type(usd) ~= 'number' then
    return '$?'
  end
  return string.format('$%.4f', usd)
end

--- The header of a task: its prompt as the title, then the task's id, its folder, the
--- whole prompt when the title cut it, the context.
function M.begin(task)
  local tr = get(task)
  if #tr.lines > 0 then
    return
  end
  local tasks = require('claude_bridge.tasks')
  add(tr, '# ' .. tasks.label(task, 100))
  local parent = task.parent and tasks.get(task.parent)
  add(tr, 'Task ' .. task.id .. (parent and (' · follow-up of “' .. tasks.label(parent, 50) .. '”') or ''))
  if task.folder then
    add(tr, 'Workspace: ' .. task.folder)
  end
  local prompt = split_lines(task.prompt or '')
  if #prompt > 1 or vim.fn.strchars(prompt[1] or '') > 100 then
    for i, l in ipairs(prompt) do
      add(tr, (i == 1 and 'Prompt: ' or '        ') .. l)
    end
  end
  if task.context_label then
    add(tr, 'Context: ' .. task.context_label)
  end
  add(tr, '')
end

-- One renderer per event kind (see claude_bridge.types for each kind's fields).
local renderers = {}

---@param ev claude_bridge.QueuedEvent
function renderers.queued(tr, ev)
  -- Only a task that has to wait for others is worth a line.
  if type(ev.position) == 'number' and ev.position > 0 then
    add(tr, string.format('… Queued (%d task%s ahead)', ev.position, ev.position == 1 and '' or 's'))
  end
end

---@param ev claude_bridge.StartedEvent
function renderers.started(tr, ev)
  add(
    tr,
    string.format(
      '● Started: model %s, permission mode %s, key from %s, claude %s',
      ev.model or '?',
      ev.permissionMode or '?',
      ev.apiKeySource or '?',
      ev.claudeVersion or '?'
    )
  )
  if ev.sessionId then
    add(tr, '  session ' .. ev.sessionId .. (ev.cwd and ('  cwd ' .. ev.cwd) or ''))
  end
end

-- A subagent's events (parentToolUseId: the Agent call that started it) are its own, not
-- the task's: indented under SUBAGENT, never read as the task's answer.
local SUBAGENT = '  ↳ '

---@param ev claude_bridge.TextEvent
function renderers.text(tr, ev)
  if (ev.parentToolUseId or '') ~= '' then
    stream(tr, 'text', ev.parentToolUseId .. '/' .. tostring(ev.messageId), ev.text or '', SUBAGENT .. 'subagent: ')
    return
  end
  stream(tr, 'text', ev.messageId, ev.text or '', '')
end

---@param ev claude_bridge.ThinkingEvent
function renderers.thinking(tr, ev)
  if (ev.parentToolUseId or '') ~= '' then
    stream(tr, 'thinking', ev.parentToolUseId .. '/' .. tostring(ev.messageId), ev.text or '', SUBAGENT .. '┆ ')
    return
  end
  stream(tr, 'thinking', ev.messageId, ev.text or '', '  ┆ ')
end

--- Folds lines from..to of the transcript (long output, long diffs): `zo` opens them.
local function fold(tr, from, to)
  for i = from, to do
    tr.fold_level[i] = true
  end
end

--- Appends lines indented under a tool, folding all but the first `keep` when there are
--- more than `keep + 3`.
local function add_block(tr, lines, keep)
  local first = #tr.lines + 1
  local out = {}
  for _, l in ipairs(lines) do
    table.insert(out, '    ' .. l)
  end
  add_lines(tr, out)
  if #lines > keep + 3 then
    fold(tr, first + keep, #tr.lines)
  end
end

--- A small diff from old to new text (lines only), `- old` / `+ new` with the lines both
--- share as context around the change.
function M.diff(old, new)
  local a, b = split_lines(old or ''), split_lines(new or '')
  local pre = 0
  while pre < #a and pre < #b and a[pre + 1] == b[pre + 1] do
    pre = pre + 1
  end
  local post = 0
  while post < #a - pre and post < #b - pre and a[#a - post] == b[#b - post] do
    post = post + 1
  end
  local out = {}
  for i = math.max(1, pre - 1), pre do
    table.insert(out, '  ' .. a[i])
  end
  for i = pre + 1, #a - post do
    table.insert(out, '- ' .. a[i])
  end
  for i = pre + 1, #b - post do
    table.insert(out, '+ ' .. b[i])
  end
  for i = #a - post + 1, math.min(#a, #a - post + 2) do
    table.insert(out, '  ' .. a[i])
  end
  return out
end

--- The fields of an input a tool renderer did not show, as short `key: value` lines.
local function fields(input, skip)
  local keys = {}
  for k in pairs(type(input) == 'table' and input or {}) do
    if not skip[k] then
      table.insert(keys, k)
    end
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = input[k]
    if v ~= nil and v ~= vim.NIL and v ~= '' then
      v = type(v) == 'table' and json(v) or tostring(v)
      table.insert(out, k .. ': ' .. one_line(v, 100))
    end
  end
  return out
end

local function set(...)
  local out = {}
  for _, k in ipairs({ ... }) do
    out[k] = true
  end
  return out
end

--- How each tool's input reads, by tool name: the command or the file first (the summary
--- names the file), then the other fields; edits as a small diff.
M.tool_inputs = {
  Bash = function(i)
    local out = {}
    for n, l in ipairs(split_lines(i.command or '')) do
      table.insert(out, (n == 1 and '$ ' or '  ') .. l)
    end
    vim.list_extend(out, fields(i, set('command')))
    return out, 12
  end,
  Edit = function(i)
    local out = M.diff(i.old_string, i.new_string)
    vim.list_extend(out, fields(i, set('file_path', 'old_string', 'new_string', 'replace_all')))
    return out, 12
  end,
  MultiEdit = function(i)
    local out = {}
    for _, e in ipairs(type(i.edits) == 'table' and i.edits or {}) do
      vim.list_extend(out, M.diff(e.old_string, e.new_string))
    end
    return out, 12
  end,
  Write = function(i)
    local out = {}
    for _, l in ipairs(split_lines(i.content or '')) do
      table.insert(out, '+ ' .. l)
    end
    return out, 6
  end,
  Read = function(i)
    return fields(i, set('file_path')), 6
  end,
  default = function(i)
    return fields(i, set('file_path', 'notebook_path')), 8
  end,
}

-- Tools whose event says it better: the questions with their answers (question), the plan
-- (plan), the to-do list (todos).
local function nothing()
  return {}, 0
end
local told = { 'AskUserQuestion', 'ExitPlanMode', 'TodoWrite', 'TaskCreate', 'TaskUpdate', 'TaskList', 'TaskGet' }
for _, tool in ipairs(told) do
  M.tool_inputs[tool] = nothing
end

---@param ev claude_bridge.ToolUseEvent
function renderers.toolUse(tr, ev)
  local what = (ev.summary or '') ~= '' and ev.summary or ev.name or 'tool'
  if (ev.parentToolUseId or '') ~= '' then
    -- A subagent's call: one line, its input left to the subagent.
    add(tr, SUBAGENT .. 'subagent ▶ ' .. what)
    return
  end
  add(tr, '')
  add(tr, '▶ ' .. what)
  local render = M.tool_inputs[ev.name] or M.tool_inputs.default
  local lines, keep = render(type(ev.input) == 'table' and ev.input or {})
  add_block(tr, lines, keep)
end

---@param ev claude_bridge.ToolResultEvent
function renderers.toolResult(tr, ev)
  if (ev.parentToolUseId or '') ~= '' then
    local line = string.format('%ssubagent ◀ %s %s', SUBAGENT, ev.name or 'tool', ev.isError and 'error' or 'ok')
    if ev.isError then
      line = line .. ': ' .. one_line(ev.content, 100)
    end
    add(tr, line)
    return
  end
  add(tr, string.format('◀ %s %s', ev.name or 'tool', ev.isError and 'error' or 'ok'))
  local content = ev.content
  if type(content) ~= 'string' then
    content = content == nil and '' or json(content)
  end
  local lines = split_lines(content)
  while #lines > 0 and lines[#lines] == '' do
    table.remove(lines)
  end
  local shown = {}
  for i = 1, math.min(#lines, MAX_RESULT_LINES) do
    table.insert(shown, lines[i])
  end
  if #lines > MAX_RESULT_LINES then
    table.insert(shown, string.format('… %d more lines', #lines - MAX_RESULT_LINES))
  end
  add_block(tr, shown, RESULT_LINES)
end

---@param ev claude_bridge.PermissionEvent
function renderers.permission(tr, ev)
  local words = { allow = 'allowed', allowTask = 'allowed for this task', deny = 'denied' }
  local line = string.format(
    '? Permission for %s: %s%s',
    ev.summary or ev.name or 'tool',
    words[ev.decision] or tostring(ev.decision),
    ev.automatic and ' (automatically)' or ' (by you)'
  )
  if ev.reason and ev.reason ~= '' then
    line = line .. ': ' .. one_line(ev.reason)
  end
  add(tr, line)
end

---@param ev claude_bridge.QuestionEvent
function renderers.question(tr, ev)
  local answers = type(ev.answers) == 'table' and ev.answers or {}
  local why = (ev.reason or '') ~= '' and (': ' .. ev.reason) or ''
  for _, q in ipairs(ev.questions or {}) do
    local head = (q.header or '') ~= '' and (' (' .. q.header .. ')') or ''
    add(tr, '? Claude asked' .. head .. ': ' .. one_line(q.question))
    local a = answers[q.question]
    add(tr, '    → ' .. (a and one_line(a) or ('not answered' .. why)))
  end
end

---@param ev claude_bridge.PlanEvent
function renderers.plan(tr, ev)
  add(tr, '')
  add(tr, '☰ Plan')
  add_block(tr, split_lines((ev.plan or ''):gsub('\n+$', '')), 12)
  if ev.decision == 'approve' then
    add(tr, '  ✓ approved, carried out in ' .. tostring(ev.permissionMode or 'default') .. ' mode')
  elseif (ev.feedback or '') ~= '' then
    add(tr, '  ↺ keep planning: ' .. one_line(ev.feedback))
  else
    add(tr, '  ↺ keep planning' .. ((ev.reason or '') ~= '' and (' (' .. ev.reason .. ')') or ''))
  end
end

---@param ev claude_bridge.ReviewEvent
function renderers.review(tr, ev)
  local file = ev.uri and vim.fn.fnamemodify(vim.uri_to_fname(ev.uri), ':t') or '?'
  local what
  if (ev.reason or '') ~= '' then
    what = 'not written (' .. ev.reason .. ')'
  elseif ev.decision == 'reject' then
    what = 'rejected by you'
  elseif ev.edited then
    what = 'written as you edited it'
  elseif #(ev.rejectedHunks or {}) > 0 then
    what = string.format(
      'written %s, rejected %s',
      table.concat(ev.acceptedHunks or {}, ', '),
      table.concat(ev.rejectedHunks, ', ')
    )
  else
    what = 'accepted by you'
  end
  add(tr, string.format('? Review of %s (%s): %s', file, ev.tool or 'Edit', what))
  if (ev.feedback or '') ~= '' then
    add(tr, '    → ' .. one_line(ev.feedback))
  end
end

---@param ev claude_bridge.ModeEvent
function renderers.mode(tr, ev)
  add(tr, '· Mode: ' .. tostring(ev.permissionMode) .. ((ev.model or '') ~= '' and (', model ' .. ev.model) or ''))
end

local TODO_MARKS = { completed = '☑', in_progress = '◐', pending = '☐' }

---@param ev claude_bridge.TodosEvent
function renderers.todos(tr, ev)
  local todos = ev.todos or {}
  local done = 0
  for _, t in ipairs(todos) do
    if t.status == 'completed' then
      done = done + 1
    end
  end
  add(tr, string.format('☰ To-dos (%d/%d done)', done, #todos))
  for _, t in ipairs(todos) do
    local what = t.content or ''
    if t.status == 'in_progress' and (t.activeForm or '') ~= '' then
      what = t.activeForm
    end
    add(tr, '    ' .. (TODO_MARKS[t.status] or '·') .. ' ' .. one_line(what))
  end
end

---@param ev claude_bridge.UserMessageEvent
function renderers.userMessage(tr, ev)
  add(tr, '')
  local lines = split_lines(ev.text or '')
  for i, l in ipairs(lines) do
    add(tr, (i == 1 and '» ' or '  ') .. l)
  end
  if (ev.imageCount or 0) > 0 then
    add(tr, string.format('  (%d image%s)', ev.imageCount, ev.imageCount == 1 and '' or 's'))
  end
end

---@param ev claude_bridge.RetryEvent
function renderers.retry(tr, ev)
  add(
    tr,
    string.format(
      '↻ Retry %s of %s in %s ms: %s%s',
      tostring(ev.attempt or '?'),
      tostring(ev.maxRetries or '?'),
      tostring(ev.delayMs or '?'),
      -- errorStatus is 0 when the request got no HTTP answer (and 0 is true in Lua).
      (ev.errorStatus or 0) ~= 0 and ('HTTP ' .. tostring(ev.errorStatus) .. ' ') or '',
      one_line(ev.error or '')
    )
  )
end

---@param ev claude_bridge.StatusEvent
function renderers.status(tr, ev)
  add(tr, '· ' .. one_line(ev.message or ''))
end

--- A message from claude the bridge passed through: one line the first time its kind
--- comes, nothing for more of the same kind (claude sends some in runs, one per delta),
--- so streamed text around them stays one block.
---@param ev claude_bridge.OtherEvent
function renderers.other(tr, ev)
  local raw = ev.raw
  local what = type(raw) == 'table' and table.concat({ raw.type or '?', raw.subtype }, '/') or one_line(json(raw), 80)
  tr.others = tr.others or {}
  tr.others[what] = (tr.others[what] or 0) + 1
  if tr.others[what] == 1 then
    add(tr, '· (' .. what .. ')')
  end
end

---@param ev claude_bridge.ResultEvent
function renderers.result(tr, ev)
  add(tr, '')
  local mark_char = ({ completed = '✔', failed = '✘', cancelled = '■', interrupted = '⏸' })[ev.status] or '■'
  local lines = split_lines(ev.result or '')
  local first = #lines > 0 and lines[1] ~= '' and (': ' .. lines[1]) or ''
  add(tr, string.format('%s %s%s', mark_char, ev.status or 'finished', first))
  for i = 2, #lines do
    add(tr, '  ' .. lines[i])
  end
  local facts = {}
  if type(ev.durationMs) == 'number' and ev.durationMs > 0 then
    table.insert(facts, seconds(ev.durationMs))
  end
  if type(ev.numTurns) == 'number' and ev.numTurns > 0 then
    table.insert(facts, string.format('%d turn%s', ev.numTurns, ev.numTurns == 1 and '' or 's'))
  end
  if type(ev.costUsd) == 'number' and ev.costUsd > 0 then
    table.insert(facts, cost(ev.costUsd))
  end
  if (ev.sessionId or '') ~= '' then
    table.insert(facts, 'session ' .. ev.sessionId)
  end
  if #facts > 0 then
    add(tr, '  ' .. table.concat(facts, ' · '))
  end
end

--- Adds one `claude/event` to the task's transcript and updates its log buffers.
--- Events with a seq already seen are ignored.
---@param ev claude_bridge.BridgeEvent
function M.event(task, ev)
  local tr = get(task)
  if type(ev.seq) == 'number' then
    if ev.seq <= tr.last_seq then
      return
    end
    if tr.last_seq > 0 and ev.seq > tr.last_seq + 1 then
      add(tr, string.format('· (events %d to %d were not received)', tr.last_seq + 1, ev.seq - 1))
    end
    tr.last_seq = ev.seq
  end
  local render = renderers[ev.kind]
  if render then
    render(tr, ev)
  else
    add(tr, '· ' .. tostring(ev.kind) .. ' ' .. one_line(json(ev), 200))
  end
  M.flush(task)
end

--- Adds a note from this side (the reply of a request, an error, the bridge exiting).
function M.note(task, text)
  local tr = get(task)
  if tr.block and tr.lines[#tr.lines] ~= '' then
    add(tr, '') -- set a note apart from streamed text
  end
  add_lines(tr, split_lines(text))
  M.flush(task)
end

--- The transcript's lines.
function M.lines(task)
  return get(task).lines
end

local function buf_name(task)
  return 'claude-bridge://log/' .. task.id
end

local function valid_bufs(task)
  local out = {}
  for _, b in ipairs(task.log_bufs or {}) do
    if api.nvim_buf_is_valid(b) then
      table.insert(out, b)
    end
  end
  task.log_bufs = out
  return out
end

--- Writes the changed tail of the transcript into the task's log buffers, keeping windows
--- that were at the end of the log at the end.
function M.flush(task)
  local tr = get(task)
  local from = tr.dirty_from
  if from == nil then
    return
  end
  tr.dirty_from = nil
  for _, buf in ipairs(valid_bufs(task)) do
    local count = api.nvim_buf_line_count(buf)
    local follow = {}
    for _, win in ipairs(api.nvim_list_wins()) do
      if api.nvim_win_get_buf(win) == buf and api.nvim_win_get_cursor(win)[1] >= count then
        table.insert(follow, win)
      end
    end
    local tail = {}
    for i = from, #tr.lines do
      table.insert(tail, tr.lines[i])
    end
    vim.bo[buf].modifiable = true
    api.nvim_buf_set_lines(buf, from - 1, -1, false, tail)
    vim.bo[buf].modifiable = false
    local last = api.nvim_buf_line_count(buf)
    for _, win in ipairs(follow) do
      pcall(api.nvim_win_set_cursor, win, { last, 0 })
    end
  end
end

--- The task's log buffer (created and filled when needed).
function M.buffer(task)
  local bufs = valid_bufs(task)
  if bufs[1] then
    return bufs[1]
  end
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  pcall(api.nvim_buf_set_name, buf, buf_name(task))
  api.nvim_buf_set_lines(buf, 0, -1, false, get(task).lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'claude_bridge_log'
  vim.b[buf].claude_bridge_task = task.id
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, silent = true, desc = 'Close the Claude log' })
  task.log_bufs = { buf }
  return buf
end

--- Renames the log buffers after a task got its id from the bridge.
function M.renamed(task)
  for _, buf in ipairs(valid_bufs(task)) do
    pcall(api.nvim_buf_set_name, buf, buf_name(task))
    vim.b[buf].claude_bridge_task = task.id
  end
end

--- 'foldexpr' of log windows: long output and long diffs are folded.
function M.foldexpr(lnum)
  local task = require('claude_bridge.tasks').get(vim.b.claude_bridge_task or '')
  return task and get(task).fold_level[lnum] and 1 or 0
end

--- 'foldtext' of log windows.
function M.foldtext()
  return string.format('    ⋯ %d more lines (zo shows them)', vim.v.foldend - vim.v.foldstart + 1)
end

--- Opens the task's log in a window (`how`: split, vsplit, tab, current) and puts the
--- cursor at its end so it keeps following the stream.
function M.open(task, how)
  local buf = M.buffer(task)
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == buf then
      api.nvim_set_current_win(win)
      pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(buf), 0 })
      return buf, win
    end
  end
  if how == 'vsplit' then
    vim.cmd('vsplit')
  elseif how == 'tab' then
    vim.cmd('tab split')
  elseif how ~= 'current' then
    vim.cmd('split')
  end
  local win = api.nvim_get_current_win()
  api.nvim_win_set_buf(win, buf)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].foldmethod = 'expr'
  vim.wo[win].foldexpr = "v:lua.require'claude_bridge.transcript'.foldexpr(v:lnum)"
  vim.wo[win].foldtext = "v:lua.require'claude_bridge.transcript'.foldtext()"
  vim.wo[win].foldlevel = 0
  vim.wo[win].foldenable = true
  vim.wo[win].fillchars = 'fold: '

  pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(buf), 0 })
  return buf, win
end

return M
