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

local function changed()
  pcall(vim.cmd, 'redrawstatus!')
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'ClaudeBridgeStatus', modeline = false })
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
    if not tasks.is_terminal(task.status) then
      task.status = 'running'
    end
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
  local running = tasks.running()
  if #running == 0 then
    return ''
  end
  local t = running[#running]
  local step = t.message or t.status
  local label = #running > 1 and string.format('Claude (%d)', #running) or 'Claude'
  return label .. ': ' .. first_line(step, 40)
end

--- Records a task's end (from the claude.run / claude.followUp reply or a failure on this
--- side) and tells the user, in one line that fits the screen (a longer message would
--- stop Neovim at a hit-enter prompt; the whole result is in :ClaudeLog).
function M.finished(task)
  task.finished = true
  changed()
  if not config.options.notify or task.notified then
    return
  end
  task.notified = true
  local extras = {}
  if type(task.duration_ms) == 'number' then
    table.insert(extras, string.format('%.1f s', task.duration_ms / 1000))
  end
  if type(task.cost) == 'number' then
    table.insert(extras, string.format('$%.4f', task.cost))
  end
  local head = ({ completed = 'Claude done', cancelled = 'Claude cancelled' })[task.status] or 'Claude failed'
  if #extras > 0 then
    head = head .. ' (' .. table.concat(extras, ', ') .. ')'
  end
  local body = task.status == 'cancelled' and task.prompt or task.result
  local room = math.max(30, vim.o.columns - 15 - vim.fn.strdisplaywidth(head))
  local msg = head .. ': ' .. first_line(body, room)
  local levels = { completed = vim.log.levels.INFO, cancelled = vim.log.levels.WARN }
  local level = levels[task.status] or vim.log.levels.ERROR
  vim.notify(msg, level)
end

return M
