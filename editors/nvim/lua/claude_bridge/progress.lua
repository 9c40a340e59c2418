-- claude_bridge.progress: what each task is doing right now (from the bridge's `$/progress`
-- reports and `claude/event`s), the statusline component, and the notification when a
-- task ends. The `$/progress` notifications themselves go through Neovim's own handler
-- first, so fidget.nvim and other progress UIs see them with no glue.
local M = {}

local tasks = require('claude_bridge.tasks')
local config = require('claude_bridge.config')

M.TOKEN_PREFIX = 'claude-bridge/'

--- The progress token this plugin puts in `workDoneToken` for a task it starts.
function M.token_for(id)
  return M.TOKEN_PREFIX .. id
end

--- When status() was last called: a statusline or a plugin shows it.
M.status_called_at = nil

local function changed()
  pcall(vim.cmd, 'redrawstatus!')
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'ClaudeBridgeStatus', modeline = false })
  require('claude_bridge.progress_ui').update()
end
M.changed = changed

local function task_for_token(token)
  if type(token) ~= 'string' then
    return nil
  end
  for _, t in ipairs(tasks.list()) do
    if t.token == token then
      return t
    end
  end
  return nil
end

--- Called for every `$/progress` of a bridge client (after Neovim's default handler).
function M.on_progress(token, value)
  local task = task_for_token(token)
  if not task or type(value) ~= 'table' then
    return
  end
  if value.message then
    task.message = value.message
  elseif value.kind == 'begin' then
    task.message = value.title
  end
  if value.kind == 'begin' and task.status == 'queued' and not task.saw_queued then
    task.status = 'starting'
  elseif value.kind == 'end' then
    task.progress_done = true
  end
  changed()
end

--- Called for every `claude/event` (after the transcript took it).
---@param ev claude_bridge.BridgeEvent
function M.on_event(task, ev)
  if ev.kind == 'queued' then
    task.saw_queued = true
    if not tasks.is_terminal(task.status) then
      -- waiting is false when the task got a slot at once: it is starting claude.
      task.status = ev.waiting == false and 'starting' or 'queued'
    end
  elseif ev.kind == 'started' then
    task.session_id = ev.sessionId ~= '' and ev.sessionId or task.session_id
    task.model = ev.model
    task.permission_mode = ev.permissionMode
    -- A claude runs in the folder now: its slash commands cost nothing to list.
    local conversation = require('claude_bridge.conversation')
    if task.folder then
      conversation.prefetch_commands(require('claude_bridge.lsp').client_by_id(task.client_id), task.folder)
    end
    if not tasks.is_terminal(task.status) then
      task.status = 'running'
    end
  elseif ev.kind == 'mode' then
    task.permission_mode = ev.permissionMode
    task.model = ev.model ~= '' and ev.model or task.model
  elseif ev.kind == 'permission' or ev.kind == 'question' or ev.kind == 'plan' or ev.kind == 'review' then
    -- The bridge decided (answered here, elsewhere, withdrawn or timed out).
    require('claude_bridge.permissions').drop_call(task.id, ev.toolUseId, ev.reason)
  elseif ev.kind == 'result' then
    -- The task ended: nothing it asked waits any more, whatever the bridge sends.
    require('claude_bridge.permissions').drop_task(task.id, 'the task ended (' .. tostring(ev.status) .. ')')
    -- "" when claude never started: keep the one a started event gave.
    task.session_id = (ev.sessionId or '') ~= '' and ev.sessionId or task.session_id
    task.cost = ev.costUsd
    task.duration_ms = ev.durationMs
  end
  changed()
end

local function first_line(s, max)
  s = tostring(s or ''):match('^%s*([^\n]*)') or ''
  if vim.fn.strchars(s) > max then
    s = vim.fn.strcharpart(s, 0, max) .. '…'
  end
  return s
end

--- The statusline component: '' when no task runs, else `Claude: <step>` for the newest
--- running task, with the count when several run.
function M.status()
  M.status_called_at = (vim.uv or vim.loop).now()
  local permissions = require('claude_bridge.permissions')
  local pending = permissions.pending
  if #pending > 0 then
    -- :ClaudeAnswer moves into a permission question's window, opens a picker that was
    -- closed (claude's questions and plans) or an edit's review.
    local hint = pending[1].answered and ' (:ClaudeAnswer)' or ''
    return 'Claude: ' .. permissions.waiting_phrase() .. hint
  end
  local running = tasks.running()
  if #running == 0 then
    return ''
  end
  local t = running[#running]
  local step = t.message or t.status
  local label = #running > 1 and string.format('Claude (%d)', #running) or 'Claude'
  return label .. ': ' .. first_line(step, 40)
end

-- Messages that insert mode hid, shown again when the user leaves it.
local deferred = {}
local defer_group

-- Whether vim.notify is Neovim's own (an echo), not a notification plugin's window.
local function builtin_notify()
  local info = debug.getinfo(vim.notify, 'S')
  return info and info.source and info.source:find('vim/_editor.lua', 1, true) ~= nil
end

-- In Insert or Replace mode the mode message ("-- INSERT --") covers an echoed message at
-- once (and one of several lines would stop typing at a hit-enter prompt): the message is
-- echoed, into :messages, when the user leaves the mode.
local function show_after_insert(chunks)
  table.insert(deferred, chunks)
  if defer_group then
    return
  end
  defer_group = vim.api.nvim_create_augroup('claude_bridge_end_message', { clear = true })
  vim.api.nvim_create_autocmd('InsertLeave', {
    group = defer_group,
    once = true,
    callback = function()
      defer_group = nil
      local all = deferred
      deferred = {}
      vim.schedule(function()
        for _, c in ipairs(all) do
          vim.api.nvim_echo(c, true, {})
        end
      end)
    end,
  })
end

--- The columns a message can take without scrolling the screen (and so without a
--- hit-enter prompt): v:echospace, else the screen less room for the ruler.
local function echo_room()
  local room = vim.v.echospace
  if type(room) ~= 'number' or room <= 0 then
    room = vim.o.columns - 12
  end
  return math.max(10, room - 1)
end

local function head_of(task, room)
  local extras = {}
  if type(task.duration_ms) == 'number' and task.duration_ms > 0 then
    table.insert(extras, string.format('%.1f s', task.duration_ms / 1000))
  end
  if type(task.cost) == 'number' and task.cost > 0 then
    table.insert(extras, string.format('$%.4f', task.cost))
  end
  local heads = { completed = 'Claude done', cancelled = 'Claude cancelled', interrupted = 'Claude interrupted' }
  local head = heads[task.status] or 'Claude failed'
  -- The duration and cost when there is room for them and some of the body.
  local with = #extras > 0 and (head .. ' (' .. table.concat(extras, ', ') .. ')') or head
  if room and vim.fn.strdisplaywidth(with) + 16 > room then
    return head
  end
  return with
end

--- What the task left to review (review afterTurn) in a few words, e.g. "2 files to
--- review", or nil.
local function review_text(task)
  return task.review ~= 'beforeWrite' and require('claude_bridge.changes').pending_text(task) or nil
end

--- The end-of-task message in one line that fits the screen (a longer one would stop
--- Neovim at a hit-enter prompt; the whole result is in :ClaudeLog):
--- `Claude done (4.2 s, $0.0123): <start of the result> · 2 files to review: :ClaudeChanges
--- (“<task>”)`. No zero cost.
function M.end_message(task)
  local room = echo_room()
  local head = head_of(task, room)
  -- Done: its answer; failed: why; cancelled: which task. Then, when there is room (the
  -- answer matters more), the changes it left to review and its prompt.
  local line
  local ended_early = task.status == 'cancelled' or task.status == 'interrupted'
  if ended_early then
    line = head .. ': ' .. first_line(tasks.label(task), room)
  else
    line = head .. ': ' .. first_line(task.result, room)
  end
  local function fits(extra)
    return vim.fn.strdisplaywidth(line .. extra) <= room
  end
  local review = review_text(task)
  if review then
    local long, short = ' · ' .. review .. ': :ClaudeChanges', ' · ' .. review
    line = line .. (fits(long) and long or fits(short) and short or '')
  end
  if not ended_early then
    local label = ' (“' .. tasks.label(task, 40) .. '”)'
    line = line .. (fits(label) and label or '')
  end
  if vim.fn.strdisplaywidth(line) > room then
    line = vim.fn.strcharpart(line, 0, room - 1) .. '…'
  end
  return line
end

--- The whole end-of-task message: for a failure, every line of the reason (the fix the
--- bridge leads with, claude's stderr), at most 12, then what it left to review; else
--- end_message().
function M.full_message(task)
  if task.status ~= 'failed' then
    return M.end_message(task)
  end
  local lines = {}
  for l in (tostring(task.result or '') .. '\n'):gmatch('(.-)\n') do
    if #lines < 12 then
      table.insert(lines, l)
    end
  end
  while #lines > 0 and lines[#lines]:match('^%s*$') do
    table.remove(lines)
  end
  local review = review_text(task)
  if review then
    table.insert(lines, review .. ': :ClaudeChanges')
  end
  return head_of(task) .. ' (“' .. tasks.label(task, 40) .. '”): ' .. table.concat(lines, '\n')
end

--- Shows one of the bridge's window/showMessage messages (LSP MessageType: 1 Error, 2
--- Warning, 3 Info, 4 Log). An error or a warning says what stops tasks and ends with its
--- fix ("claude CLI at … is not executable: run `chmod +x …`"), so it is shown whole, as a
--- task's failure is: Neovim's own handler cut it in the middle to fit the message line,
--- fix included. Anything else gets one line that fits, cut at its end. Never while you
--- type: in Insert mode it shows when you leave it. A notification plugin gets it whole.
function M.show_message(kind, message)
  if type(message) ~= 'string' or message == '' then
    return
  end
  local level = ({ vim.log.levels.ERROR, vim.log.levels.WARN })[kind] or vim.log.levels.INFO
  if not builtin_notify() then
    vim.notify(message, level)
    return
  end
  if level == vim.log.levels.INFO then
    local room = echo_room()
    local line = first_line(message, room)
    if vim.fn.strdisplaywidth(line) > room then
      line = vim.fn.strcharpart(line, 0, room - 1) .. '…'
    end
    message = line
  end
  local mode = vim.api.nvim_get_mode().mode
  if mode:sub(1, 1) == 'i' or mode:sub(1, 1) == 'R' then
    local hl = ({ [vim.log.levels.WARN] = 'WarningMsg', [vim.log.levels.ERROR] = 'ErrorMsg' })[level]
    show_after_insert({ { message, hl } })
    return
  end
  vim.notify(message, level)
end

--- Records a task's end (from the claude.run / claude.followUp reply or a failure on this
--- side) and tells the user: a notification plugin gets the whole message; Neovim's own
--- message line gets one line that fits (a failure: every line of why, which stops at a
--- hit-enter prompt, but never while you type: a message Insert mode would hide or
--- interrupt shows when you leave it, and stays in :messages).
function M.finished(task)
  task.finished = true
  require('claude_bridge.permissions').drop_task(task.id, 'the task ended (' .. tostring(task.status) .. ')')
  require('claude_bridge.progress_ui').finished(task)
  changed()
  if not config.options.notify or task.notified then
    return
  end
  task.notified = true
  local levels = { completed = vim.log.levels.INFO, cancelled = vim.log.levels.WARN, interrupted = vim.log.levels.INFO }
  local level = levels[task.status] or vim.log.levels.ERROR
  local full = M.full_message(task)
  if not builtin_notify() then
    vim.notify(full, level)
    return
  end
  local mode = vim.api.nvim_get_mode().mode
  if mode:sub(1, 1) == 'i' or mode:sub(1, 1) == 'R' then
    local hl = ({ [vim.log.levels.WARN] = 'WarningMsg', [vim.log.levels.ERROR] = 'ErrorMsg' })[level]
    show_after_insert({ { full, hl } })
    return
  end
  vim.notify(full, level)
end

return M
