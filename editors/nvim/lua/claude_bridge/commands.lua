-- claude_bridge.commands: what :Claude, :ClaudeFollowUp, :ClaudeCancel, :ClaudeTasks,
-- :ClaudeLog and :ClaudeAuth do, as Lua functions (plugin/claude_bridge.lua defines the
-- Ex commands).
local M = {}

local api = vim.api
local config = require('claude_bridge.config')
local compat = require('claude_bridge.compat')
local lsp = require('claude_bridge.lsp')
local tasks = require('claude_bridge.tasks')
local transcript = require('claude_bridge.transcript')
local progress = require('claude_bridge.progress')
local protocol = require('claude_bridge.types')

local function err(msg)
  vim.notify('claude-bridge: ' .. msg, vim.log.levels.ERROR)
end

local function trim(s)
  return (tostring(s or ''):gsub('^%s+', ''):gsub('%s+$', ''))
end

local function rel(path, folder)
  if folder and compat.is_under(path, folder) and path ~= folder then
    return path:sub(#folder + 2)
  end
  return vim.fn.fnamemodify(path, ':~:.')
end

--- The `context` entry for lines line1..line2 (1-based, inclusive) of a buffer: the range
--- ends at character 0 of the line after line2, which the bridge does not include.
function M.context_for_range(bufnr, line1, line2)
  local path = lsp.buf_path(bufnr)
  if not path then
    return nil, 'the selection is not in a file buffer, so it cannot be sent as context'
  end
  if line2 < line1 then
    line1, line2 = line2, line1
  end
  return {
    uri = vim.uri_from_fname(path),
    range = {
      start = { line = line1 - 1, character = 0 },
      ['end'] = { line = line2, character = 0 },
    },
  }, nil, path
end

--- The context entry and its label (`main.go#L5-10`) for a line range of a buffer.
function M.context(bufnr, folder, line1, line2)
  line2 = line2 or line1
  local ctx, e, path = M.context_for_range(bufnr, line1, line2)
  if not ctx then
    return nil, e
  end
  return ctx, nil, string.format('%s#L%d-%d', rel(path, folder), math.min(line1, line2), math.max(line1, line2))
end

local function save_workspace(folders)
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) and vim.bo[b].modified then
      local path = lsp.buf_path(b)
      if path then
        for _, f in ipairs(folders) do
          if compat.is_under(path, f) then
            local ok, e = pcall(api.nvim_buf_call, b, function()
              vim.cmd('silent update')
            end)
            if not ok then
              err('could not save ' .. path .. ' before the run: ' .. tostring(e))
            end
            break
          end
        end
      end
    end
  end
end

-- The reply of claude.run / claude.followUp (or a request error) ends the task here.
---@param result claude_bridge.RunResult|nil
local function on_reply(task, rpc_err, result)
  if rpc_err then
    if rpc_err.code == -32800 then
      task.status = 'cancelled'
      task.result = 'cancelled'
    else
      task.status = 'failed'
      task.result = rpc_err.message or tostring(rpc_err)
      task.is_error = true
    end
    transcript.note(
      task,
      string.format('✘ The bridge answered with an error (%s): %s', tostring(rpc_err.code), task.result)
    )
  elseif type(result) == 'table' then
    if result.taskId and result.taskId ~= task.id then
      tasks.rename(task, result.taskId)
      transcript.renamed(task)
    end
    task.status = result.status or 'completed'
    task.result = result.result
    task.is_error = result.isError
    task.cost = result.costUsd or task.cost
    task.duration_ms = result.durationMs or task.duration_ms
    task.num_turns = result.numTurns
    task.session_id = result.sessionId or task.session_id
    task.edited_files = result.editedFiles
    if type(result.changes) == 'table' then
      require('claude_bridge.changes').record(task, result.changes)
    end
    if not tasks.is_terminal(task.status) then
      task.status = 'completed'
    end
    if task.edited_files and #task.edited_files > 0 then
      local names = {}
      for _, u in ipairs(task.edited_files) do
        table.insert(names, rel(vim.uri_to_fname(u), task.folder))
      end
      transcript.note(task, 'Edited: ' .. table.concat(names, ', '))
    end
  else
    task.status = 'failed'
    task.result = 'the bridge sent an empty reply'
    transcript.note(task, '✘ ' .. task.result)
  end
  task.request_id = nil
  progress.finished(task)
end

-- Sends a run or follow-up once the folder's bridge is ready.
local function send(task, key, folders, command, arg, bufnr)
  lsp.when_ready(key, folders, function(client, e)
    if task.cancel_requested then
      return -- cancelled while its bridge was starting
    end
    if not client then
      task.status = 'failed'
      task.result = e
      transcript.note(task, '✘ ' .. tostring(e))
      progress.finished(task)
      return
    end
    task.client_id = client.id
    if bufnr then
      lsp.attach(bufnr, true)
    end
    local ok, req = lsp.execute(client, command, arg, function(rpc_err, result)
      on_reply(task, rpc_err, result)
    end, task.token)
    if not ok then
      task.status = 'failed'
      task.result = 'could not send ' .. command .. ' (the bridge is shutting down)'
      transcript.note(task, '✘ ' .. task.result)
      progress.finished(task)
      return
    end
    task.request_id = req
    progress.changed()
  end)
end

--- Adds the range's context (with the diagnostics of its lines), the images of the
--- prompt (@path) and, with a bang, the open files to arg, and saves the workspace when the
--- user asked for it: what :Claude and :ClaudeFollowUp share before sending. Returns false
--- (after saying why) when the range cannot be used, else true and the context's label.
local function prepare(arg, opts, bufnr, folder, folders)
  local conversation = require('claude_bridge.conversation')
  arg.prompt, arg.images = conversation.prompt_images(arg.prompt)
  local label
  if opts.line1 then
    local ctx, e
    ctx, e, label = M.context(bufnr, folder, opts.line1, opts.line2)
    if not ctx then
      err(e)
      return false
    end
    ctx.diagnostics = conversation.diagnostics(bufnr, opts.line1, opts.line2 or opts.line1)
    arg.context = { ctx }
  end
  if opts.bang then
    arg.openFiles = conversation.open_files(folders)
  end
  if config.options.save_before_run then
    save_workspace(folders)
  end
  return true, label
end

--- Starts a task: `opts` = { prompt, bufnr?, line1?, line2? (a range: the selection as
--- context) }. Returns the task record (its id is the taskId sent to the bridge).
function M.run(opts)
  local prompt = trim(opts.prompt)
  if prompt == '' then
    err('usage: :Claude {prompt}  (with a range, the selected lines go along as context)')
    return nil
  end
  local bufnr = opts.bufnr or api.nvim_get_current_buf()
  local folder, key, folders = lsp.folder_for_buf(bufnr)
  local arg = { prompt = prompt, workspaceFolder = vim.uri_from_fname(folder) }
  local ok, label = prepare(arg, opts, bufnr, folder, folders)
  if not ok then
    return nil
  end
  local id = tasks.new_id()
  arg.taskId = id
  arg.review = opts.review or config.options.review
  local task = tasks.add({
    id = id,
    kind = 'run',
    prompt = prompt,
    folder = folder,
    token = progress.token_for(id),
    context_label = label,
    status = 'queued',
    review = arg.review,
  })
  transcript.begin(task)
  send(task, key, folders, protocol.commands.run, arg, bufnr)
  return task
end

--- Continues the conversation of the last task (or opts.task) with a new prompt.
function M.follow_up(opts)
  local prompt = trim(opts.prompt)
  if prompt == '' then
    err('usage: :ClaudeFollowUp {prompt}')
    return nil
  end
  local prev = opts.task or tasks.last(function(t)
    return t.kind == 'run' or t.kind == 'followUp'
  end)
  if opts.session then
    -- A past conversation (:ClaudeSessions): resumed by its session id in its folder.
    prev = {
      id = 'session-' .. opts.session.sessionId,
      prompt = opts.session.title ~= '' and opts.session.title or opts.session.firstPrompt,
      session_id = opts.session.sessionId,
      folder = vim.uri_to_fname(opts.session.workspaceFolder),
      status = 'completed',
    }
  end
  if not prev then
    err('no earlier task to follow up: start one with :Claude {prompt}')
    return nil
  end
  if not tasks.is_terminal(prev.status) then
    err(string.format(
      '“%s” is still running: wait for it to end or :ClaudeCancel it, then follow up',
      tasks.label(prev)
    ))
    return nil
  end
  local folder = prev.folder or lsp.folder_for_buf(api.nvim_get_current_buf())
  local _, key, folders = lsp.folder_for_path(folder)
  local arg = { prompt = prompt }
  local alive = prev.client_id and lsp.client_by_id(prev.client_id)
  if opts.session then
    arg.sessionId, arg.workspaceFolder = prev.session_id, vim.uri_from_fname(prev.folder)
  elseif alive or not prev.session_id then
    arg.taskId = prev.id
  else
    arg.sessionId = prev.session_id -- the bridge that ran it is gone: resume by session
  end
  local bufnr = api.nvim_get_current_buf()
  local ok, label = prepare(arg, opts, bufnr, folder, folders)
  if not ok then
    return nil
  end
  -- The follow-up is named here (newTaskId), as a run is (taskId): its events, its log and
  -- :ClaudeTasks all use this one id, and two follow-ups with the same prompt never swap.
  local id = tasks.new_id()
  arg.newTaskId = id
  arg.review = opts.review or config.options.review
  local task = tasks.add({
    id = id,
    kind = 'followUp',
    parent = not opts.session and prev.id or nil,
    prompt = prompt,
    folder = folder,
    token = progress.token_for(id),
    context_label = label,
    session_id = prev.session_id,
    client_id = prev.client_id,
    status = 'queued',
    review = arg.review,
  })
  transcript.begin(task)
  send(task, key, folders, protocol.commands.follow_up, arg, opts.line1 and bufnr or nil)
  return task
end

--- Cancels a task (by id, else the last running one).
function M.cancel(id)
  id = id and trim(id) or ''
  local task
  if id ~= '' then
    task = tasks.get(id)
    if not task then
      -- Not started from here: ask every bridge.
      local any = false
      for _, r in ipairs(lsp.running()) do
        any = true
        lsp.execute(r.client, protocol.commands.cancel, { taskId = id }, function(e, res)
          ---@cast res claude_bridge.CancelResult|nil
          if not e and type(res) == 'table' and res.cancelled then
            vim.notify('Claude task ' .. id .. ' cancelled', vim.log.levels.INFO)
          end
        end)
      end
      if not any then
        err('no bridge is running, so there is no task ' .. id)
      end
      return
    end
  else
    task = tasks.last_running()
    if not task then
      vim.notify('claude-bridge: no Claude task is running', vim.log.levels.WARN)
      return
    end
  end
  if tasks.is_terminal(task.status) then
    local msg = string.format('claude-bridge: “%s” already ended (%s)', tasks.label(task), task.status)
    vim.notify(msg, vim.log.levels.WARN)
    return
  end
  task.cancel_requested = true
  if task.request_id == nil then
    -- Not sent yet (its bridge is still starting): it never will be.
    task.status = 'cancelled'
    task.result = 'cancelled before it started'
    transcript.note(task, '■ cancelled before it was sent to the bridge')
    progress.finished(task)
    return
  end
  local ok, e = lsp.cancel_task(task)
  if not ok then
    err(e)
  end
end

--- Opens the log of a task (by id, else the last task).
function M.log(id)
  id = id and trim(id) or ''
  local task
  if id ~= '' then
    task = tasks.get(id)
    if not task then
      err('no task ' .. id .. ' (see :ClaudeTasks)')
      return nil
    end
  else
    task = tasks.last()
    if not task then
      err('no Claude task yet: start one with :Claude {prompt}')
      return nil
    end
  end
  return transcript.open(task, config.options.log_window)
end

-- :ClaudeTasks ----------------------------------------------------------------------

--- "just now", "12 s ago", "3 min ago", "2 h ago" for an epoch time in seconds.
local function age(epoch)
  if type(epoch) ~= 'number' then
    return ''
  end
  local s = math.max(0, os.time() - epoch)
  if s < 10 then
    return 'just now'
  elseif s < 60 then
    return s .. ' s ago'
  elseif s < 3600 then
    return math.floor(s / 60 + 0.5) .. ' min ago'
  end
  return math.floor(s / 3600 + 0.5) .. ' h ago'
end

--- An RFC 3339 time in UTC (claude.tasks' startedAt) as epoch seconds, or nil.
local function parse_utc(s)
  local y, mo, d, h, mi, sec = tostring(s or ''):match('^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)')
  if not y then
    return nil
  end
  local t = os.time({ year = y, month = mo, day = d, hour = h, min = mi, sec = sec, isdst = false })
  -- os.time reads the table as local time: shift by this machine's offset from UTC.
  local now = os.time()
  local offset = os.difftime(now, os.time(os.date('!*t', now)))
  return t + offset
end

M.age, M.parse_utc = age, parse_utc

local MARKS = {
  queued = '…',
  starting = '…',
  running = '…',
  waiting = '?',
  completed = '✔',
  failed = '✘',
  cancelled = '■',
  interrupted = '⏸',
}

local function waiting_question(task)
  for _, q in ipairs(require('claude_bridge.permissions').pending) do
    if q.task_id == task.id then
      return q
    end
  end
  return nil
end

--- What :ClaudeTasks offers for a task, in order: `{ id, label, when(task), run(task) }`.
--- Add more with register_task_action (claude_bridge.conversation and .changes do).
M.task_actions = {
  {
    id = 'answer',
    label = 'Answer its question',
    when = function(t)
      local q = waiting_question(t)
      return q ~= nil and q.kind ~= 'review'
    end,
    run = function(t)
      require('claude_bridge.permissions').present(waiting_question(t))
    end,
  },
  {
    id = 'review_edit',
    label = 'Review the edit it waits on',
    when = function(t)
      local q = waiting_question(t)
      return q ~= nil and q.kind == 'review'
    end,
    run = function()
      -- Edits are reviewed in order: the oldest first.
      local q = require('claude_bridge.review').reviews[1]
      if q and q.presenting and q.focus then
        q.focus()
      elseif q then
        require('claude_bridge.permissions').present(q)
      end
    end,
  },
  {
    id = 'log',
    label = 'Open log',
    when = function()
      return true
    end,
    run = function(t)
      M.log(t.id)
    end,
  },
  {
    id = 'follow_up',
    label = 'Follow up…',
    when = function(t)
      return tasks.is_terminal(t.status) and (t.session_id ~= nil or t.client_id ~= nil)
    end,
    run = function(t)
      vim.ui.input({ prompt = 'Follow up “' .. tasks.label(t, 40) .. '”: ' }, function(prompt)
        if prompt and prompt:match('%S') then
          M.follow_up({ prompt = prompt, task = t })
        end
      end)
    end,
  },
  {
    id = 'cancel',
    label = 'Cancel',
    when = function(t)
      return not tasks.is_terminal(t.status)
    end,
    run = function(t)
      M.cancel(t.id)
    end,
  },
}

--- Adds an action to :ClaudeTasks: `{ id, label, when = function(task) -> bool,
--- run = function(task) }`, before the action `before` (an id) or at the end.
function M.register_task_action(action, before)
  for i, a in ipairs(M.task_actions) do
    if a.id == action.id then
      table.remove(M.task_actions, i)
      break
    end
  end
  for i, a in ipairs(M.task_actions) do
    if a.id == before then
      table.insert(M.task_actions, i, action)
      return
    end
  end
  table.insert(M.task_actions, action)
end

--- A task as :ClaudeTasks lists it: `✔ completed  3 min ago  add a --verbose flag`.
function M.format_task(t)
  local status = waiting_question(t) and 'waiting' or tostring(t.status or '?')
  local line = string.format('%s %-9s %-10s %s', MARKS[status] or ' ', status, age(t.started_at), tasks.label(t, 60))
  local review = require('claude_bridge.changes').pending_text(t)
  return review and (line .. '  (± ' .. review .. ')') or line
end

--- The actions that fit a task, then the chosen one runs.
function M.task_menu(task)
  local fit = {}
  for _, a in ipairs(M.task_actions) do
    if a.when(task) then
      table.insert(fit, a)
    end
  end
  -- Redraw first: the built-in picker prints below what the last one left on screen.
  vim.cmd('redraw')
  local prompt = string.format('“%s” (%s, %s):', tasks.label(task, 50), task.status, age(task.started_at))
  vim.ui.select(fit, {
    prompt = prompt,
    kind = 'claude_bridge_task_action',
    format_item = function(a)
      return a.label
    end,
  }, function(a)
    if a then
      a.run(task)
    end
  end)
end

--- :ClaudeTasks: one picker of the tasks (this Neovim's, and those its bridges list with
--- claude.tasks), newest first; the chosen task's actions follow. `done(list)` is called
--- with the task records listed, before the picker opens.
function M.tasks(done)
  local running = lsp.running()
  local pending = #running
  local function finish()
    local list = tasks.list()
    local items = {}
    for i = #list, 1, -1 do
      table.insert(items, list[i])
    end
    table.sort(items, function(a, b)
      return (a.started_at or 0) > (b.started_at or 0)
    end)
    if done then
      done(items)
    end
    if #items == 0 then
      vim.notify('claude-bridge: no tasks yet; start one with :Claude {prompt}', vim.log.levels.INFO)
      return
    end
    local opts = { prompt = 'Claude tasks', kind = 'claude_bridge_tasks', format_item = M.format_task }
    vim.ui.select(items, opts, function(task)
      if task then
        vim.schedule(function()
          M.task_menu(task)
        end)
      end
    end)
  end
  for _, r in ipairs(running) do
    local ok = lsp.execute(r.client, protocol.commands.tasks, vim.empty_dict(), function(e, res)
      ---@cast res claude_bridge.TaskInfo[]|nil
      if e then
        err('claude.tasks failed: ' .. tostring(e.message or e))
      elseif type(res) == 'table' then
        for _, info in ipairs(res) do
          local known = tasks.get(info.taskId)
          if known then
            known.unreviewed = info.unreviewedChanges == true
            known.review = info.review
            if not known.unreviewed then
              require('claude_bridge.changes').by_task[known.id] = nil -- reviewed elsewhere
            end
          end
          -- A task this Neovim did not start (another client of the bridge): a record of its own.
          if not tasks.get(info.taskId) then
            local t = tasks.add({
              id = info.taskId,
              kind = 'bridge',
              client_id = r.client.id,
              prompt = info.prompt,
              status = info.status,
              session_id = info.sessionId,
              folder = info.workspaceFolder and vim.uri_to_fname(info.workspaceFolder) or nil,
              started_at = parse_utc(info.startedAt),
              unreviewed = info.unreviewedChanges == true,
              review = info.review,
            })
            transcript.begin(t)
            transcript.note(t, '(this Neovim did not see the events of this task)')
          end
        end
      end
      pending = pending - 1
      if pending == 0 then
        finish()
      end
    end)
    if not ok then
      pending = pending - 1
    end
  end
  if pending == 0 then
    finish()
  end
end

-- Renders a JSON value as indented `key: value` lines.
local function render(value, indent, out)
  indent = indent or ''
  out = out or {}
  if type(value) ~= 'table' or value == vim.NIL then
    table.insert(out, indent .. tostring(value))
    return out
  end
  local keys = {}
  for k in pairs(value) do
    table.insert(keys, k)
  end
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(keys) do
    local v = value[k]
    local label = type(k) == 'number' and '-' or (tostring(k) .. ':')
    if type(v) == 'table' and next(v) ~= nil then
      table.insert(out, indent .. label)
      render(v, indent .. '  ', out)
    elseif type(v) == 'table' then
      table.insert(out, indent .. label .. ' (none)')
    else
      table.insert(out, indent .. label .. ' ' .. tostring(v))
    end
  end
  return out
end
M.render = render

--- Shows lines in a centred float (q or <Esc> closes it). Returns buf, win.
function M.float(title, lines)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'claude_bridge_auth'
  local width = #title + 4
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l) + 2)
  end
  width = math.min(width, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(1, vim.o.lines - 6))
  local win = api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = 'minimal',
    border = 'rounded',
  })
  for _, lhs in ipairs({ 'q', '<Esc>' }) do
    vim.keymap.set('n', lhs, '<cmd>close<cr>', { buffer = buf, silent = true })
  end
  return buf, win
end

--- Shows claude.authStatus of the current folder's bridge in a float. `done(result, err)`
--- is called with the answer.
function M.auth(done)
  local folder, key, folders = lsp.folder_for_buf(api.nvim_get_current_buf())
  lsp.when_ready(key, folders, function(client, e)
    if not client then
      err(e)
      if done then
        done(nil, e)
      end
      return
    end
    lsp.execute(client, protocol.commands.auth_status, vim.empty_dict(), function(rpc_err, res)
      ---@cast res claude_bridge.AuthStatus|nil
      if rpc_err then
        err('claude.authStatus failed: ' .. tostring(rpc_err.message or rpc_err))
        if done then
          done(nil, rpc_err)
        end
        return
      end
      local lines = { 'Claude authentication for ' .. folder, '' }
      render(res, '', lines)
      M.float('Claude authentication', lines)
      if done then
        done(res, nil)
      end
    end)
  end)
end

--- Known task ids, newest first, for command-line completion.
function M.complete_task_ids(arglead, running_only)
  local out = {}
  local list = tasks.list()
  for i = #list, 1, -1 do
    local t = list[i]
    if (not running_only or not tasks.is_terminal(t.status)) and t.id:sub(1, #arglead) == arglead then
      table.insert(out, t.id)
    end
  end
  return out
end

return M
