-- claude_bridge.changes: what a task changed, reviewed after its turn (the `review` setting
-- `afterTurn`, and `beforeWrite`): the bridge keeps a checkpoint of every file a task
-- changes and lists the task's changes when it ends (`claude/changes`, and the reply's
-- `changes`). :ClaudeChanges puts the task's hunks in the quickfix list and opens a tab
-- with the file beside its checkpoint, in diff mode (the checkpoint follows the file the
-- quickfix list opens); :ClaudeRevert takes back a hunk, a file or the whole task
-- (claude.revert: unsaved edits in open buffers kept, what could not be reverted said
-- with the reason); :ClaudeAcceptChanges keeps them (claude.accept).
local M = {}

local api = vim.api
local compat = require('claude_bridge.compat')
local tasks = require('claude_bridge.tasks')
local transcript = require('claude_bridge.transcript')
local protocol = require('claude_bridge.types')

local function lsp()
  return require('claude_bridge.lsp')
end

local function notify(msg, level)
  vim.notify('claude-bridge: ' .. msg, level or vim.log.levels.INFO)
end

-- taskId -> the task's changes as the bridge last listed them (claude_bridge.ChangesParams).
M.by_task = {}

-- The changes tab: { task_id, tab, file_win, ckpt_win, ckpt_buf, path, items, qf_id,
-- hunks = { [path] = { {id, s, e, cs, ce} } } } (s/e: lines now, cs/ce: in the checkpoint).
M.view = nil

-- Lines of a text (no line breaks); "" has none.
local function text_lines(text)
  local s = tostring(text or ''):gsub('\r\n', '\n')
  if s == '' then
    return {}
  end
  if s:sub(-1) == '\n' then
    s = s:sub(1, -2)
  end
  return vim.split(s, '\n', { plain = true })
end

local function path_of(uri)
  return compat.normalize(vim.uri_to_fname(uri))
end

local function rel(path, task)
  local folder = task and task.folder
  if folder and compat.is_under(path, folder) and path ~= folder then
    return path:sub(#folder + 2)
  end
  return vim.fn.fnamemodify(path, ':~:.')
end

--- Counts of a task's changes: files, hunks, lines added and removed.
function M.counts(changes)
  local n = { files = 0, hunks = 0, plus = 0, minus = 0 }
  for _, f in ipairs(changes and changes.files or {}) do
    n.files = n.files + 1
    for _, h in ipairs(f.hunks or {}) do
      n.hunks = n.hunks + 1
      n.plus = n.plus + #text_lines(h.newText)
      n.minus = n.minus + #text_lines(h.originalText)
    end
  end
  return n
end

--- "2 files to review" for :ClaudeTasks and the end message ("2 files changed" for a task
--- whose edits were reviewed before they were written: it can still be taken back); nil
--- when none.
function M.pending_text(task)
  local c = M.by_task[task.id]
  local files = c and #(c.files or {}) or 0
  local what = task.review == 'beforeWrite' and 'changed' or 'to review'
  if files == 0 then
    return task.unreviewed and ('changes ' .. what) or nil
  end
  return string.format('%d file%s %s', files, files == 1 and '' or 's', what)
end

--- Records a task's changes (claude/changes, the reply's changes, claude.changes).
---@param changes claude_bridge.ChangesParams
function M.record(task, changes)
  local first = M.by_task[task.id] == nil
  M.by_task[task.id] = changes
  task.unreviewed = #(changes.files or {}) > 0
  if first and task.unreviewed then
    local parts = {}
    for _, f in ipairs(changes.files) do
      local n = #(f.hunks or {})
      local what = f.binary and 'binary'
        or f.status ~= 'modified' and f.status
        or n == 0 and (f.note or '') ~= '' and f.note
        or string.format('%d hunk%s', n, n == 1 and '' or 's')
      table.insert(parts, string.format('%s (%s)', rel(path_of(f.uri), task), what))
    end
    transcript.note(task, '± Changed: ' .. table.concat(parts, ', ') .. ' · :ClaudeChanges to review')
    for _, u in ipairs(changes.uncovered or {}) do
      transcript.note(task, '! ' .. u)
    end
  end
  require('claude_bridge.progress').changed()
end

--- The `claude/changes` notification.
---@param params claude_bridge.ChangesParams
function M.on_changes(_, params, ctx)
  if type(params) ~= 'table' or not params.taskId then
    return
  end
  local task = tasks.get(params.taskId)
  if not task then
    task = tasks.add({ id = params.taskId, kind = 'bridge', client_id = ctx and ctx.client_id, prompt = '' })
    transcript.begin(task)
  end
  M.record(task, params)
end

-- Which task ------------------------------------------------------------------------

--- The task a command is about: `id`, else the one whose changes the current tab or
--- quickfix list shows, else the newest with changes to review.
local function pick_task(id)
  if id and id ~= '' then
    return tasks.get(id) or { id = id, prompt = id }
  end
  local v = M.view
  if v and v.tab == api.nvim_get_current_tabpage() then
    return tasks.get(v.task_id) or { id = v.task_id }
  end
  local ctx = vim.fn.getqflist({ context = 0 }).context
  if type(ctx) == 'table' and ctx.claude_bridge_task then
    return tasks.get(ctx.claude_bridge_task) or { id = ctx.claude_bridge_task }
  end
  return tasks.last(function(t)
    return t.unreviewed == true
  end)
end

--- Calls fn(client) with the bridge that ran the task, else the current folder's (the
--- bridge keeps checkpoints across its runs).
local function with_client(task, fn)
  local client = task.client_id and lsp().client_by_id(task.client_id)
  if client then
    return fn(client)
  end
  local _, key, folders = lsp().folder_for_buf(api.nvim_get_current_buf())
  lsp().when_ready(key, folders, function(c, e)
    if not c then
      notify(tostring(e), vim.log.levels.ERROR)
      return
    end
    fn(c)
  end)
end

-- Checkpoints -----------------------------------------------------------------------

-- The file's lines in its buffer when that has unsaved changes (nil otherwise: an unmodified
-- buffer holds the file, and the empty buffer Neovim keeps for a file that is gone or empty
-- reads as one empty line, which is not in the file), and on disk.
local function file_lines(path)
  local b = vim.fn.bufnr(path)
  local unsaved = b > 0 and api.nvim_buf_is_loaded(b) and vim.bo[b].modified
  local from_buf = unsaved and api.nvim_buf_get_lines(b, 0, -1, false) or nil
  local from_disk = vim.fn.filereadable(path) == 1 and vim.fn.readfile(path) or {}
  return from_buf, from_disk
end

--- The file's checkpoint rebuilt from its lines now and the task's hunks (their ranges
--- are in the file now), and where each hunk is now and in the checkpoint. nil when the
--- lines do not hold the hunks' text (the file changed since claude.changes answered).
--- Rebuilt from an open buffer, it keeps the user's unsaved changes, so a diff with the
--- buffer shows the task's changes alone.
local function rebuild(lines, f)
  local hs = {}
  for _, h in ipairs(f.hunks or {}) do
    local s = h.range.start.line
    table.insert(hs, { id = h.id, s = s, new = text_lines(h.newText), old = text_lines(h.originalText) })
  end
  table.sort(hs, function(a, b)
    return a.s < b.s
  end)
  local out, at, shift, spans = {}, 0, 0, {}
  for _, h in ipairs(hs) do
    local e = h.s + #h.new
    if h.s < at or e > #lines then
      return nil
    end
    for i = h.s + 1, e do
      if lines[i] ~= h.new[i - h.s] then
        return nil
      end
    end
    for i = at + 1, h.s do
      table.insert(out, lines[i])
    end
    vim.list_extend(out, h.old)
    table.insert(spans, { id = h.id, s = h.s, e = e, cs = h.s + shift, ce = h.s + shift + #h.old })
    shift = shift + #h.old - #h.new
    at = e
  end
  for i = at + 1, #lines do
    table.insert(out, lines[i])
  end
  return out, spans
end

local function checkpoint(path, f)
  local from_buf, from_disk = file_lines(path)
  local lines, spans
  if from_buf then
    lines, spans = rebuild(from_buf, f)
  end
  if not lines then
    lines, spans = rebuild(from_disk, f)
  end
  return lines, spans
end

local function file_change(task_id, path)
  local c = M.by_task[task_id]
  for _, f in ipairs(c and c.files or {}) do
    if path_of(f.uri) == path then
      return f
    end
  end
  return nil
end

-- The quickfix list ------------------------------------------------------------------

local function hunk_text(f, h)
  local new, old = text_lines(h.newText), text_lines(h.originalText)
  local first = new[1] or old[1] or ''
  local sign = #new > 0 and '' or '−'
  local counts = string.format('−%d +%d', #old, #new)
  local status = f.status ~= 'modified' and (' (' .. f.status .. ')') or ''
  return string.format('%s %s%s  %s%s', h.id, counts, status, sign, vim.trim(first))
end

--- The quickfix items of a task's changes, and what each is about.
local function qf_items(task_id)
  local items, about = {}, {}
  local c = M.by_task[task_id]
  for _, f in ipairs(c and c.files or {}) do
    local path = path_of(f.uri)
    if f.binary or #(f.hunks or {}) == 0 then
      local what = f.binary and 'binary file, reverted whole'
        or (f.note or '') ~= '' and f.status ~= 'modified' and f.status
        or (f.note or '') ~= '' and 'reverted whole'
        or f.status == 'modified' and 'changed since the task: nothing of it left to revert'
        or f.status
      local note = (f.note or '') ~= '' and (': ' .. f.note) or ''
      table.insert(items, { filename = path, lnum = 1, col = 1, text = '(' .. what .. ')' .. note })
      table.insert(about, { path = path, uri = f.uri })
    else
      for _, h in ipairs(f.hunks) do
        local lnum = math.max(1, h.range.start.line + 1)
        -- A hunk another task shares: a revert leaves it, and says why.
        local text = hunk_text(f, h) .. ((h.note or '') ~= '' and ('  [not this task’s alone: ' .. h.note .. ']') or '')
        table.insert(items, { filename = path, lnum = lnum, col = 1, text = text })
        table.insert(about, { path = path, uri = f.uri, hunk = h.id })
      end
      if (f.note or '') ~= '' then
        table.insert(items, { filename = path, lnum = 1, col = 1, text = '(' .. f.note .. ')' })
        table.insert(about, { path = path, uri = f.uri })
      end
    end
  end
  return items, about
end

local function qf_title(task)
  return 'Claude changes: ' .. tasks.label(task, 50)
end

--- Fills (or refreshes) the quickfix list with the task's hunks.
local function fill_qf(task)
  local items, about = qf_items(task.id)
  local what = {
    title = qf_title(task) .. (#items == 0 and ' (nothing left to review)' or ''),
    items = items,
    context = { claude_bridge_task = task.id },
  }
  local v = M.view
  local cur = vim.fn.getqflist({ id = 0, context = 0 })
  local ours = type(cur.context) == 'table' and cur.context.claude_bridge_task == task.id
  if ours then
    vim.fn.setqflist({}, 'r', vim.tbl_extend('force', what, { id = cur.id }))
  else
    vim.fn.setqflist({}, ' ', what)
  end
  M.qf_about = { task_id = task.id, id = vim.fn.getqflist({ id = 0 }).id, about = about }
  if v and v.task_id == task.id then
    v.qf_id = M.qf_about.id
  end
end

-- The changes tab -------------------------------------------------------------------

local function valid_win(w)
  return w and api.nvim_win_is_valid(w)
end

local function view_open()
  local v = M.view
  return v and valid_win(v.file_win) and valid_win(v.ckpt_win) and v or nil
end

--- Shows `path`'s checkpoint in the checkpoint window, diffed with the file window.
local function show_checkpoint(v, path)
  local f = file_change(v.task_id, path)
  local lines, spans
  if f then
    lines, spans = checkpoint(path, f)
  end
  v.path = path
  v.spans = spans or {}
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  local label = f and '(before the task)' or '(not changed by the task)'
  if f and f.binary then
    lines, label = {}, '(binary: not shown; :ClaudeRevert file restores it whole)'
  elseif f and #(f.hunks or {}) == 0 and (f.note or '') ~= '' then
    label = '(' .. f.note .. '; :ClaudeRevert file takes it back)'
  elseif f and #(f.hunks or {}) == 0 and f.status == 'modified' then
    label = '(changed since the task: nothing of it left)'
  elseif f and not lines then
    label = '(checkpoint unknown: the file changed since; :ClaudeChanges again)'
  end
  api.nvim_buf_set_lines(buf, 0, -1, false, lines or {})
  vim.bo[buf].modifiable = false
  local open = vim.fn.bufnr(path)
  if open > 0 and vim.bo[open].filetype ~= '' then
    vim.bo[buf].filetype = vim.bo[open].filetype
  end
  local old = v.ckpt_buf
  api.nvim_win_set_buf(v.ckpt_win, buf)
  v.ckpt_buf = buf
  if old and old ~= buf and api.nvim_buf_is_valid(old) then
    pcall(api.nvim_buf_delete, old, { force = true })
  end
  -- Named once the one it replaces is gone; a tab label shortens it to
  -- `c//main.go (before the task)`.
  pcall(api.nvim_buf_set_name, buf, 'claude-bridge://' .. rel(path) .. ' (before the task)')
  vim.wo[v.ckpt_win].statusline = (' ' .. rel(path) .. ' ' .. label):gsub('%%', '%%%%')
  local diff = not (f and f.binary)
  -- A buffer the file window showed before stays in the diff while hidden: diffoff! drops it.
  api.nvim_win_call(v.file_win, function()
    vim.cmd('diffoff!')
  end)
  for _, w in ipairs({ v.ckpt_win, v.file_win }) do
    api.nvim_win_call(w, function()
      vim.cmd(diff and 'diffthis' or 'diffoff')
    end)
  end
end

--- The quickfix list opened a file in the tab's windows: the checkpoint follows it.
local function on_buf_win_enter()
  local v = view_open()
  if not v or api.nvim_get_current_tabpage() ~= v.tab then
    return
  end
  local win = api.nvim_get_current_win()
  local buf = api.nvim_get_current_buf()
  if win ~= v.file_win and win ~= v.ckpt_win then
    return
  end
  local path = lsp().buf_path(buf)
  if not path then
    return
  end
  vim.schedule(function()
    if not view_open() then
      return
    end
    if win == v.ckpt_win then
      -- Opened where the checkpoint was: the file goes to its own window.
      local pos = api.nvim_win_get_cursor(win)
      api.nvim_win_set_buf(v.file_win, buf)
      pcall(api.nvim_win_set_cursor, v.file_win, pos)
      api.nvim_set_current_win(v.file_win)
      show_checkpoint(v, path)
    elseif path ~= v.path then
      show_checkpoint(v, path)
    end
  end)
end

--- Opens (or refreshes) the changes tab of a task on `path`.
local function open_view(task, path)
  local v = view_open()
  if v and v.task_id ~= task.id then
    pcall(api.nvim_set_current_tabpage, v.tab)
    vim.cmd('tabclose')
    v = nil
  end
  if not v then
    v = { task_id = task.id, prev_win = api.nvim_get_current_win() }
    vim.cmd('tabnew')
    local empty = api.nvim_get_current_buf()
    v.tab = api.nvim_get_current_tabpage()
    v.file_win = api.nvim_get_current_win()
    local b = vim.fn.bufadd(path)
    vim.bo[b].buflisted = true
    api.nvim_win_set_buf(v.file_win, b)
    if empty ~= b and api.nvim_buf_is_valid(empty) then
      pcall(api.nvim_buf_delete, empty, { force = true })
    end
    vim.cmd('leftabove vsplit')
    v.ckpt_win = api.nvim_get_current_win()
    M.view = v
    v.augroup = api.nvim_create_augroup('claude_bridge_changes', { clear = true })
    api.nvim_create_autocmd('BufWinEnter', { group = v.augroup, callback = on_buf_win_enter })
    api.nvim_create_autocmd('TabClosed', {
      group = v.augroup,
      callback = function()
        if M.view == v and not api.nvim_tabpage_is_valid(v.tab) then
          pcall(api.nvim_del_augroup_by_id, v.augroup)
          M.view = nil
        end
      end,
    })
  else
    api.nvim_set_current_tabpage(v.tab)
    local b = vim.fn.bufadd(path)
    vim.bo[b].buflisted = true
    api.nvim_win_set_buf(v.file_win, b)
  end
  show_checkpoint(v, path)
  api.nvim_set_current_win(v.file_win)
  vim.cmd('botright copen ' .. math.max(3, math.min(10, #vim.fn.getqflist() + 1)))
  vim.cmd('wincmd p')
  if api.nvim_get_current_win() ~= v.file_win then
    api.nvim_set_current_win(v.file_win)
  end
  local first = v.spans[1]
  if first then
    pcall(api.nvim_win_set_cursor, v.file_win, { math.max(1, first.s + 1), 0 })
  end
  return v
end

--- Closes the changes tab (nothing left to review).
local function close_view()
  local v = view_open()
  if v then
    pcall(api.nvim_del_augroup_by_id, v.augroup)
    for _, w in ipairs(api.nvim_tabpage_list_wins(v.tab)) do
      pcall(api.nvim_win_close, w, false)
    end
  end
  M.view = nil
end

-- Commands --------------------------------------------------------------------------

--- Asks the bridge for the task's changes now (claude.changes) and records them;
--- done(changes) or done(nil, err).
local function fetch(task, done)
  with_client(task, function(client)
    lsp().execute(client, protocol.commands.changes, { taskId = task.id }, function(e, res)
      ---@cast res claude_bridge.ChangesParams|nil
      if e or type(res) ~= 'table' then
        done(nil, e and (e.message or tostring(e)) or 'no answer')
        return
      end
      if tasks.get(task.id) then
        M.record(task, res)
      else
        M.by_task[task.id] = res
      end
      done(res)
    end)
  end)
end

--- :ClaudeChanges [taskId]: the task's hunks in the quickfix list, and a tab with the file
--- under the cursor (else the first changed file) beside its checkpoint. done(changes)
--- when shown.
function M.show(id, done)
  local task = pick_task(id)
  if not task then
    notify('no task has changes to review (a task reviewed afterTurn lists them when it ends)', vim.log.levels.WARN)
    return
  end
  local here = lsp().buf_path(api.nvim_get_current_buf())
  fetch(task, function(changes, e)
    if not changes then
      notify(string.format('no changes of “%s” to review: %s', tasks.label(task), tostring(e)), vim.log.levels.WARN)
      return
    end
    fill_qf(task)
    if #(changes.files or {}) == 0 then
      notify(string.format('“%s” has no changes left to review', tasks.label(task)))
      return
    end
    local path = path_of(changes.files[1].uri)
    if here and file_change(task.id, here) then
      path = here
    end
    open_view(task, path)
    local n = M.counts(changes)
    local head = {
      string.format('%d file%s, %d hunk%s (+%d −%d): ', n.files, n.files == 1 and '' or 's', n.hunks,
        n.hunks == 1 and '' or 's', n.plus, n.minus),
      'Title',
    }
    local hint = { ':ClaudeRevert [hunk|file|task] · :ClaudeAcceptChanges', 'Comment' }
    require('claude_bridge.review').echo({ head, hint }, { hint })
    if done then
      done(changes)
    end
  end)
end

--- The file and hunk under the cursor: in the quickfix list, the entry's; in the
--- checkpoint window, the file it shows; else the current buffer's file and the hunk
--- whose lines hold the cursor.
local function at_cursor(task_id)
  local win = api.nvim_get_current_win()
  local buf = api.nvim_get_current_buf()
  local line = api.nvim_win_get_cursor(win)[1] - 1
  if vim.bo[buf].buftype == 'quickfix' then
    local qa = M.qf_about
    local cur = vim.fn.getqflist({ id = 0 }).id
    if qa and qa.task_id == task_id and qa.id == cur then
      local a = qa.about[line + 1]
      if a then
        return a.path, a.hunk
      end
    end
    return nil
  end
  local v = view_open()
  local path, spans, key = lsp().buf_path(buf), nil, 's'
  if v and v.task_id == task_id and (win == v.ckpt_win or buf == v.ckpt_buf) then
    path, spans, key = v.path, v.spans, 'cs'
  elseif path then
    local f = file_change(task_id, path)
    if f then
      local _, sp = checkpoint(path, f)
      spans = sp
    end
  end
  if not path then
    return nil
  end
  local ekey = key == 's' and 'e' or 'ce'
  for _, sp in ipairs(spans or {}) do
    if line >= sp[key] and line < sp[ekey] then
      return path, sp.id
    end
  end
  for _, sp in ipairs(spans or {}) do
    if sp[key] == sp[ekey] and (line == sp[key] or line == sp[key] - 1) then
      return path, sp.id
    end
  end
  return path, nil
end

--- Refreshes what shows the task's changes after a revert or an accept.
local function refresh(task)
  fetch(task, function(changes)
    if not changes then
      M.by_task[task.id] = { taskId = task.id, files = {} }
      task.unreviewed = false
    end
    local qa = M.qf_about
    if qa and qa.task_id == task.id then
      fill_qf(task)
    end
    local v = view_open()
    if v and v.task_id == task.id then
      if not changes or #(changes.files or {}) == 0 then
        close_view()
      else
        show_checkpoint(v, v.path)
      end
    end
    require('claude_bridge.progress').changed()
  end)
end

local function report(task, res)
  local done, problems = {}, {}
  for _, f in ipairs(res.files or {}) do
    local name = rel(path_of(f.uri), task)
    local n = #(f.reverted or {})
    if f.restored then
      table.insert(done, name .. ' (restored)')
    elseif n > 0 then
      table.insert(done, string.format('%s (%d hunk%s)', name, n, n == 1 and '' or 's'))
    end
    for _, nr in ipairs(f.notReverted or {}) do
      table.insert(problems, string.format('Not reverted: %s %s: %s', name, nr.id, nr.reason))
    end
  end
  if #done == 0 and #problems == 0 then
    notify('nothing to revert')
    return
  end
  local lines = {}
  if #done > 0 then
    table.insert(lines, 'Reverted: ' .. table.concat(done, ', '))
  end
  vim.list_extend(lines, problems)
  if tasks.get(task.id) then
    transcript.note(task, '↶ ' .. table.concat(lines, '\n  '))
  end
  -- What could not be reverted stays as it is (nothing of the user's is overwritten); a
  -- warning says which hunk and why.
  vim.notify(table.concat(lines, '\n'), #problems > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
end

--- What a revert or an accept is about: the scope word checked against `scopes` (the first
--- is the default), the task, and arguments[0] with the file (and hunk) under the cursor.
--- nil after telling the user what is wrong.
local function target(usage, scopes, scope, id)
  scope = (scope and scope ~= '') and scope or scopes[1]
  if not vim.tbl_contains(scopes, scope) then
    notify('usage: ' .. usage, vim.log.levels.ERROR)
    return nil
  end
  local task = pick_task(id)
  if not task then
    notify('no task has changes to review', vim.log.levels.WARN)
    return nil
  end
  local arg = { taskId = task.id }
  if scope == 'task' then
    return task, arg
  end
  local path, hunk = at_cursor(task.id)
  local f = path and file_change(task.id, path)
  if not f then
    local why = 'the cursor is not in a file “%s” changed: :ClaudeChanges lists them'
    notify(string.format(why, tasks.label(task)), vim.log.levels.WARN)
    return nil
  end
  arg.uri = f.uri
  if scope == 'hunk' then
    if not hunk then
      local why = 'no hunk of the task under the cursor (:ClaudeRevert file takes back the whole file)'
      notify(why, vim.log.levels.WARN)
      return nil
    end
    arg.hunks = { hunk }
  end
  return task, arg
end

--- Sends a command about the task's changes to its bridge; on_result(res), then what
--- shows the changes is refreshed and done(res) called.
local function send(task, command, arg, on_result, done)
  with_client(task, function(client)
    lsp().execute(client, command, arg, function(e, res)
      if e then
        notify(command .. ' failed: ' .. tostring(e.message or e), vim.log.levels.ERROR)
        return
      end
      on_result(res or {})
      refresh(task)
      if done then
        done(res)
      end
    end)
  end)
end

--- :ClaudeRevert [hunk|file|task] [taskId]: takes back the hunk under the cursor (the
--- default), the file's changes or the whole task's. done(result) with the reply.
function M.revert(scope, id, done)
  local task, arg = target(':ClaudeRevert [hunk|file|task] [taskId]', { 'hunk', 'file', 'task' }, scope, id)
  if task then
    ---@param res claude_bridge.RevertResult
    send(task, protocol.commands.revert, arg, function(res)
      report(task, res)
    end, done)
  end
end

--- :ClaudeAcceptChanges [task|file] [taskId]: keeps the task's changes (all, or the
--- file's under the cursor) and drops their checkpoint.
function M.accept(scope, id, done)
  local task, arg = target(':ClaudeAcceptChanges [task|file] [taskId]', { 'task', 'file' }, scope, id)
  if not task then
    return
  end
  ---@param res claude_bridge.AcceptResult
  send(task, protocol.commands.accept, arg, function(res)
    local names = {}
    for _, u in ipairs(res.accepted or {}) do
      table.insert(names, rel(path_of(u), task))
    end
    local msg = #names > 0 and ("Kept Claude's changes to " .. table.concat(names, ', ')) or 'nothing to accept'
    notify(msg)
    if tasks.get(task.id) then
      transcript.note(task, '✓ ' .. msg)
    end
  end, done)
end

--- :ClaudeTasks offers the review of a task's changes.
function M.register_task_actions()
  local commands = require('claude_bridge.commands')
  local function has(t)
    return M.pending_text(t) ~= nil
  end
  local actions = {
    { 'changes', 'Review its changes (:ClaudeChanges)', function(t) M.show(t.id) end },
    { 'revert', 'Revert all its changes', function(t) M.revert('task', t.id) end },
    { 'accept_changes', 'Accept all its changes', function(t) M.accept('task', t.id) end },
  }
  for _, a in ipairs(actions) do
    commands.register_task_action({ id = a[1], label = a[2], when = has, run = a[3] }, 'follow_up')
  end
end

return M
