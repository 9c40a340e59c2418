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
      task.status = 'queued'
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
  elseif ev.kind == 'question' or ev.kind == 'plan' or ev.kind == 'review' then
    -- The bridge decided (answered here, elsewhere, withdrawn or timed out).
    require('claude_bridge.permissions').drop_call(task.id, ev.toolUseId, ev.reason)
  elseif ev.kind == 'result' then
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
    -- :ClaudeAnswer opens a question whose picker was closed (0.10+), or an edit's review;
    -- on 0.7 to 0.9 a permission question's window is on screen.
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
-- once; the message is echoed again when the user leaves the mode (it is in :messages
-- already, once).
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
          vim.api.nvim_echo(c, false, {})
        end
      end)
    end,
  })
end

--- The end-of-task message, one line that fits the screen (a longer one would stop Neovim
--- at a hit-enter prompt; the whole result is in :ClaudeLog):
--- `Claude done (4.2 s, $0.0123): <task>: <start of the result>`. No zero cost.
function M.end_message(task)
  local extras = {}
  if type(task.duration_ms) == 'number' and task.duration_ms > 0 then
    table.insert(extras, string.format('%.1f s', task.duration_ms / 1000))
  end
  if type(task.cost) == 'number' and task.cost > 0 then
    table.insert(extras, string.format('$%.4f', task.cost))
  end
  local heads = { completed = 'Claude done', cancelled = 'Claude cancelled', interrupted = 'Claude interrupted' }
  local head = heads[task.status] or 'Claude failed'
  if #extras > 0 then
    head = head .. ' (' .. table.concat(extras, ', ') .. ')'
  end
  -- Done: its answer; failed: why; cancelled: which task. Then, when there is room (the
  -- answer matters more), the changes it left to review (review afterTurn) and its prompt.
  local room = math.max(30, vim.o.columns - 15 - vim.fn.strdisplaywidth(head))
  local body
  if task.status == 'cancelled' or task.status == 'interrupted' then
    body = first_line(tasks.label(task), room)
  else
    body = first_line(task.result, room)
  end
  local function fits(extra)
    return vim.fn.strdisplaywidth(body .. extra) <= room
  end
  local review = task.review ~= 'beforeWrite' and require('claude_bridge.changes').pending_text(task)
  if review then
    local long, short = ' · ' .. review .. ': :ClaudeChanges', ' · ' .. review
    body = body .. (fits(long) and long or fits(short) and short or '')
  end
  if task.status ~= 'cancelled' and task.status ~= 'interrupted' then
    local label = ' (“' .. tasks.label(task, 40) .. '”)'
    body = body .. (fits(label) and label or '')
  end
  return head .. ': ' .. body
end

--- Records a task's end (from the claude.run / claude.followUp reply or a failure on this
--- side) and tells the user; a message that insert mode hid shows again when it ends.
function M.finished(task)
  task.finished = true
  require('claude_bridge.permissions').drop_task(task.id, 'the task ended (' .. tostring(task.status) .. ')')
  require('claude_bridge.progress_ui').finished(task)
  changed()
  if not config.options.notify or task.notified then
    return
  end
  task.notified = true
  local msg = M.end_message(task)
  local levels = { completed = vim.log.levels.INFO, cancelled = vim.log.levels.WARN, interrupted = vim.log.levels.INFO }
  local level = levels[task.status] or vim.log.levels.ERROR
  vim.notify(msg, level)
  local mode = vim.api.nvim_get_mode().mode
  if (mode:sub(1, 1) == 'i' or mode:sub(1, 1) == 'R') and builtin_notify() then
    local hl = ({ [vim.log.levels.WARN] = 'WarningMsg', [vim.log.levels.ERROR] = 'ErrorMsg' })[level]
    show_after_insert({ { msg, hl } })
  end
end

return M
