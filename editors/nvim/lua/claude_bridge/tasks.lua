-- claude_bridge.tasks: the tasks this Neovim knows about, keyed by the bridge's taskId.
-- A task is created when a command sends claude.run or claude.followUp (with an id chosen
-- here: taskId, newTaskId) or when a bridge reports a task this Neovim did not start.
local M = {}

local terminal = { completed = true, failed = true, cancelled = true }

M.by_id = {} -- taskId -> task
M.order = {} -- taskIds, oldest first

local counter = 0

--- A fresh task id: unique within this Neovim and across Neovims sharing nothing.
function M.new_id()
  counter = counter + 1
  local uv = vim.uv or vim.loop
  return string.format('nvim-%d-%d-%d', uv.getpid(), os.time(), counter)
end

function M.is_terminal(status)
  return terminal[status] == true
end

--- A task as a person names it: the first line of its prompt, at most `max` (50)
--- characters.
function M.label(task, max)
  max = max or 50
  local s = tostring(task.prompt or ''):match('^%s*([^\n]*)') or ''
  s = s:gsub('%s+$', '')
  if s == '' then
    return task.id
  end
  if vim.fn.strchars(s) > max then
    s = vim.fn.strcharpart(s, 0, max - 1) .. '…'
  end
  return s
end

--- Adds a task record. Fields: id, client_id, folder (path), prompt, status, kind
--- ('run' or 'followUp'), token (progress token), and whatever the bridge tells later.
function M.add(task)
  assert(task.id, 'task needs an id')
  if M.by_id[task.id] then
    return M.by_id[task.id]
  end
  task.status = task.status or 'queued'
  task.created = (vim.uv or vim.loop).now()
  task.started_at = task.started_at or os.time() -- epoch seconds, for "3 min ago"
  M.by_id[task.id] = task
  table.insert(M.order, task.id)
  return task
end

function M.get(id)
  return M.by_id[id]
end

--- The task most recently started from this Neovim (optionally only those satisfying pred).
function M.last(pred)
  for i = #M.order, 1, -1 do
    local t = M.by_id[M.order[i]]
    if t and (pred == nil or pred(t)) then
      return t
    end
  end
  return nil
end

function M.last_running()
  return M.last(function(t)
    return not M.is_terminal(t.status)
  end)
end

function M.running()
  local out = {}
  for _, id in ipairs(M.order) do
    local t = M.by_id[id]
    if t and not M.is_terminal(t.status) then
      table.insert(out, t)
    end
  end
  return out
end

function M.list()
  local out = {}
  for _, id in ipairs(M.order) do
    table.insert(out, M.by_id[id])
  end
  return out
end

--- Gives a task record the bridge's id.
function M.rename(task, new_id)
  if task.id == new_id then
    return task
  end
  local old = task.id
  if M.by_id[new_id] and M.by_id[new_id] ~= task then
    -- The bridge already reported the id: merge what we know into that record.
    local existing = M.by_id[new_id]
    for k, v in pairs(task) do
      if existing[k] == nil then
        existing[k] = v
      end
    end
    task = existing
  else
    M.by_id[new_id] = task
  end
  M.by_id[old] = nil
  for i, id in ipairs(M.order) do
    if id == old then
      M.order[i] = new_id
    end
  end
  -- keep only the first occurrence of new_id in the order
  local seen = false
  for i = #M.order, 1, -1 do
    if M.order[i] == new_id then
      if seen then
        table.remove(M.order, i)
      end
      seen = true
    end
  end
  task.id = new_id
  task.local_id = old
  return task
end

--- Marks every unfinished task of a client as failed (the bridge went away).
function M.fail_client(client_id, reason)
  local failed = {}
  for _, t in ipairs(M.running()) do
    if t.client_id == client_id then
      t.status = 'failed'
      t.result = reason
      t.is_error = true
      table.insert(failed, t)
    end
  end
  return failed
end

return M
