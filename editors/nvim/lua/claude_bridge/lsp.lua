-- claude_bridge.lsp: one bridge client per workspace root (the nearest folder holding a
-- root marker such as .git, else the current directory; or one client for all the
-- folders listed in `workspace_folders`), started through Neovim's own LSP client and
-- attached to the buffers under its folders, so the bridge sees open and unsaved buffers
-- through the usual didOpen/didChange and edits them with workspace/applyEdit.
local M = {}

local api = vim.api
local compat = require('claude_bridge.compat')
local config = require('claude_bridge.config')
local tasks = require('claude_bridge.tasks')
local transcript = require('claude_bridge.transcript')
local progress = require('claude_bridge.progress')
local permissions = require('claude_bridge.permissions')
local protocol = require('claude_bridge.types')

M.CLIENT_NAME = 'claude-bridge'

-- key -> group. A group is { key, folders = {path...}, client_id, ready, queue }.
M.groups = {}
local warned_missing = false

local function uri(path)
  return vim.uri_from_fname(path)
end

--- The bridge executable is there (a path or a name on PATH).
function M.bridge_executable()
  local exe = config.options.cmd[1]
  return vim.fn.executable(exe) == 1, exe
end

function M.missing_bridge_message(exe)
  return string.format(
    'claude-bridge: cannot run %q (not found or not executable). Install the bridge '
      .. '(`go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest`, or `make build` '
      .. 'in a clone and use bin/claude-bridge), then put it on PATH or pass its path: '
      .. "require('claude_bridge').setup({ cmd = { '/path/to/claude-bridge' } }). "
      .. ':checkhealth claude_bridge checks the whole setup.',
    exe
  )
end

-- Root finding ---------------------------------------------------------------------

local function find_marker_root(dir)
  local markers = config.options.root_markers
  while dir and dir ~= '' do
    for _, m in ipairs(markers) do
      if compat.uv.fs_stat(dir .. '/' .. m) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return nil
end

local function configured_folders()
  local list = config.options.workspace_folders
  if not list then
    return nil
  end
  local out = {}
  for _, f in ipairs(list) do
    table.insert(out, compat.normalize(vim.fn.expand(f)))
  end
  return out
end

--- The folder (workspace root) for a file or directory path, its group key, and the
--- group's folders.
function M.folder_for_path(path)
  local folders = configured_folders()
  if folders and #folders > 0 then
    local best
    for _, f in ipairs(folders) do
      if compat.is_under(path, f) and (best == nil or #f > #best) then
        best = f
      end
    end
    if best then
      return best, 'folders:' .. folders[1], folders
    end
  end
  local dir = vim.fn.isdirectory(path) == 1 and path or vim.fn.fnamemodify(path, ':h')
  local root = find_marker_root(dir)
  if not root then
    local cwd = compat.normalize(vim.fn.getcwd())
    root = compat.is_under(path, cwd) and cwd or dir
  end
  return root, root, { root }
end

--- The file path of a buffer that can be attached (a normal buffer with a file name that is
--- not a URI such as fugitive://), else nil.
function M.buf_path(bufnr)
  if not api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  return compat.normalize(name)
end

--- The workspace folder, group key and group folders for running a command from a buffer:
--- the buffer's root for a file buffer, else the root of the current directory.
function M.folder_for_buf(bufnr)
  local path = M.buf_path(bufnr)
  if path then
    return M.folder_for_path(path)
  end
  local cwd = compat.normalize(vim.fn.getcwd())
  local folders = configured_folders()
  if folders and #folders > 0 then
    return M.folder_for_path(cwd)
  end
  local root = find_marker_root(cwd) or cwd
  return root, root, { root }
end

-- Clients --------------------------------------------------------------------------

local function client_of(group)
  return group and group.client_id and vim.lsp.get_client_by_id(group.client_id) or nil
end

local function group_of_client(client_id)
  for _, g in pairs(M.groups) do
    if g.client_id == client_id then
      return g
    end
  end
  return nil
end

--- The task for a bridge event: known, or a new record (a task another client started).
---@param ev claude_bridge.BridgeEvent
local function task_for_event(client_id, ev)
  local task = tasks.get(ev.taskId)
  if task then
    return task
  end
  local group = group_of_client(client_id)
  task = tasks.add({
    id = ev.taskId,
    kind = 'bridge',
    client_id = client_id,
    prompt = ev.prompt or '',
    folder = group and group.folders[1] or nil,
  })
  transcript.begin(task)
  return task
end

---@param ev claude_bridge.BridgeEvent
local function on_event(_, ev, ctx)
  if type(ev) ~= 'table' or not ev.taskId then
    return
  end
  local task = task_for_event(ctx.client_id, ev)
  task.events_seen = (task.events_seen or 0) + 1
  transcript.event(task, ev)
  progress.on_event(task, ev)
  local cancel_unconfirmed = task.cancel_requested and not task.cancel_confirmed
  if cancel_unconfirmed and not tasks.is_terminal(task.status) and ev.kind ~= 'result' then
    M.cancel_task(task) -- the bridge knows the task now
  end
end

local function on_progress(err, result, ctx, cfg)
  local default = vim.lsp.handlers['$/progress']
  if default then
    default(err, result, ctx, cfg)
  end
  if type(result) == 'table' then
    progress.on_progress(result.token, result.value)
  end
end

-- The bridge also tells the user with window/showMessage (Neovim shows it); the task's log
-- keeps a line for it. Without a known task, the plugin warns itself.
---@param params claude_bridge.EditConflictParams
local function on_edit_conflict(_, params)
  if type(params) ~= 'table' then
    return
  end
  local file = params.uri and vim.uri_to_fname(params.uri) or '?'
  local msg = string.format(
    'Claude edit not applied to %s: %s',
    vim.fn.fnamemodify(file, ':~:.'),
    params.message or 'it overlaps unsaved changes'
  )
  local task = params.taskId and tasks.get(params.taskId)
  if task then
    transcript.note(task, '! ' .. msg)
  else
    vim.notify(msg, vim.log.levels.WARN)
  end
end

local auth_seen = {} -- client id -> the last claude/authChanged status

-- The first report of a bridge is only shown when something is wrong; later ones are
-- changes the user should know about.
---@param params claude_bridge.AuthChangedParams
local function on_auth_changed(_, params, ctx)
  if type(params) ~= 'table' then
    return
  end
  local id = ctx and ctx.client_id or 0
  local first = auth_seen[id] == nil
  auth_seen[id] = tostring(params.status)
  local ok = params.status == 'ok' or params.status == 'inherit'
  if first and ok then
    return
  end
  vim.notify(
    string.format(
      'Claude authentication: %s (key from %s)',
      tostring(params.status or '?'),
      tostring(params.source or '?')
    ),
    ok and vim.log.levels.INFO or vim.log.levels.WARN
  )
end

-- Edits ------------------------------------------------------------------------------
--
-- Measured on Neovim 0.7.2 (runtime/lua/vim/lsp): didOpen has version 0 and every later
-- didChange the buffer's changedtick (util.buf_versions); didChange is debounced
-- (debounce_text_changes, 150 ms), and any notification the client sends other than
-- didChange first sends the pending one (changetracking.flush). The stock
-- workspace/applyEdit handler skips an edit whose version is older than the buffer, or
-- never checks one for version 0 (`version > 0`), and answers applied=true either way. So
-- this handler sends the pending didChange, refuses an edit for any other version than
-- the buffer's (the bridge then recomputes it against the text it now has), applies it,
-- and sends the edit's didChange at once.

local function flush(client)
  -- Any notification but didChange flushes the client's pending didChanges (0.7 to 0.11);
  -- the bridge ignores this one.
  client.notify('$/claudeBridge/flush', vim.empty_dict())
end

--- The bytes Neovim writes for the buffer (its 'fileformat', 'eol'/'fixeol', 'bomb'), or
--- nil when it is not UTF-8 (the bridge never edits such a buffer).
local function written_bytes(buf)
  local fenc = vim.bo[buf].fileencoding
  if fenc ~= '' and fenc ~= 'utf-8' then
    return nil
  end
  local nl = ({ unix = '\n', dos = '\r\n', mac = '\r' })[vim.bo[buf].fileformat] or '\n'
  local lines = api.nvim_buf_get_lines(buf, 0, -1, false)
  local text = table.concat(lines, nl)
  if #lines == 1 and lines[1] == '' then
    text = '' -- an empty buffer is written as an empty file
  elseif vim.bo[buf].eol or (vim.bo[buf].fixeol and not vim.bo[buf].binary) then
    text = text .. nl
  end
  if vim.bo[buf].bomb then
    text = '\239\187\191' .. text
  end
  return text
end

--- After a carried edit: Neovim recorded the file's timestamp when it read it, so the next
--- :w would ask "The file has been changed since reading it!!!" and :checktime warn W12,
--- although the buffer has the change. The file is read (off the UI) and compared with
--- what Neovim would write. A buffer that equals it reads it in again (:edit, which keeps
--- the undo history as 'undoreload' says): no question at :w, the file's timestamp,
--- 'modified' off. A buffer with unsaved changes merged in cannot be read again: only the
--- W12 warning is spared (:checktime with a FileChangedShell that leaves v:fcs_choice
--- empty stores the timestamp), and its next :w asks once (measured on 0.7.2: the time of
--- the last read, which that question compares, is set only by reading or writing the
--- file, and :w! asks too). So does a buffer equal to the file that is longer than
--- 'undoreload' (reading it in would drop its undo history) or being typed in.
local function sync_with_disk(buf)
  local path = api.nvim_buf_get_name(buf)
  local uv = compat.uv
  uv.fs_open(path, 'r', 438, function(err, fd)
    if err or not fd then
      return
    end
    uv.fs_fstat(fd, function(serr, st)
      if serr or not st or st.size > 64 * 1024 * 1024 then
        uv.fs_close(fd)
        return
      end
      uv.fs_read(fd, st.size, 0, function(rerr, data)
        uv.fs_close(fd)
        if rerr then
          return
        end
        vim.schedule(function()
          if not api.nvim_buf_is_valid(buf) then
            return
          end
          local equal = written_bytes(buf) == data or (data == '' and written_bytes(buf) == '\n')
          local ur = vim.o.undoreload
          local keeps_undo = ur < 0 or (ur > 0 and api.nvim_buf_line_count(buf) <= ur)
          local typing = api.nvim_get_current_buf() == buf and vim.fn.mode():sub(1, 1) ~= 'n'
          if equal and keeps_undo and not typing then
            -- It holds the file: read the file in (:edit keeps the undo history, as
            -- 'undoreload' says), which takes its timestamp.
            vim.bo[buf].modified = false
            api.nvim_buf_call(buf, function()
              pcall(vim.cmd, 'silent edit')
            end)
            return
          end
          local group = api.nvim_create_augroup('claude_bridge_sync', { clear = true })
          api.nvim_create_autocmd('FileChangedShell', {
            group = group,
            buffer = buf,
            callback = function()
              api.nvim_set_vvar('fcs_choice', '') -- leave the buffer as it is; the timestamp is taken
            end,
          })
          pcall(vim.cmd, 'silent checktime ' .. buf)
          api.nvim_create_augroup('claude_bridge_sync', { clear = true })
          if equal then
            -- Too long to be read in with its undo history, or being typed in: not
            -- modified, and :w asks once.
            vim.bo[buf].modified = false
          end
        end)
      end)
    end)
  end)
end

local function on_apply_edit(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if type(params) ~= 'table' or type(params.edit) ~= 'table' or not client then
    return { applied = false, failureReason = 'no edit' }
  end
  flush(client)
  local bufs = {}
  for _, change in ipairs(params.edit.documentChanges or {}) do
    local td = change.textDocument
    if td and td.uri then
      local buf = vim.uri_to_bufnr(td.uri)
      table.insert(bufs, buf)
      local have = vim.lsp.util.buf_versions[buf]
      if td.version ~= nil and td.version ~= vim.NIL and have ~= nil and have ~= td.version then
        return {
          applied = false,
          failureReason = string.format('the buffer changed (version %d, the edit is for %d)', have, td.version),
        }
      end
    end
  end
  for u in pairs(params.edit.changes or {}) do
    table.insert(bufs, vim.uri_to_bufnr(u))
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, params.edit, client.offset_encoding or 'utf-16')
  flush(client)
  if ok then
    for _, buf in ipairs(bufs) do
      sync_with_disk(buf)
    end
  end
  return { applied = ok, failureReason = not ok and tostring(err) or nil }
end

local function handlers()
  local questions = require('claude_bridge.questions')
  return {
    ['$/progress'] = on_progress,
    ['workspace/applyEdit'] = on_apply_edit,
    ['window/showMessageRequest'] = permissions.show_message_request,
    ['window/showMessage'] = function(_, params)
      if type(params) == 'table' then
        progress.show_message(params.type, params.message)
      end
    end,
    [protocol.requests.permission] = permissions.handle_permission,
    [protocol.requests.ask] = questions.handle_ask,
    [protocol.requests.plan] = questions.handle_plan,
    [protocol.requests.review_edit] = function(...)
      return require('claude_bridge.review').handle(...)
    end,
    [protocol.notifications.event] = on_event,
    [protocol.notifications.edit_conflict] = on_edit_conflict,
    [protocol.notifications.auth_changed] = on_auth_changed,
    [protocol.notifications.changes] = function(...)
      return require('claude_bridge.changes').on_changes(...)
    end,
  }
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.workspace = caps.workspace or {}
  caps.workspace.applyEdit = true
  caps.workspace.workspaceFolders = true
  -- Neovim applies versioned documentChanges (it skips an edit older than the
  -- buffer) but 0.7 to 0.11 do not say so; without it the bridge sends plain
  -- `changes`, which Neovim applies without checking the version.
  caps.workspace.workspaceEdit = caps.workspace.workspaceEdit or {}
  caps.workspace.workspaceEdit.documentChanges = true
  -- This plugin's workspace/applyEdit handler refuses an edit for another version than
  -- the buffer's, version 0 included (on_apply_edit). Permission questions come as
  -- claude/permission (claude_bridge.permissions), claude's questions and plans as
  -- claude/ask and claude/plan (claude_bridge.questions), edits held for review as
  -- claude/reviewEdit (claude_bridge.review): each is answered later with claude.answer,
  -- so no handler waits and no typed key is read.
  caps.experimental = caps.experimental or {}
  caps.experimental.claudeBridge = {
    checksEditVersions = true,
    permission = true,
    ask = true,
    plan = true,
    reviewEdit = true,
  }
  return caps
end

local function run_queue(group, err)
  local queue = group.queue or {}
  group.queue = {}
  local client = not err and client_of(group) or nil
  for _, fn in ipairs(queue) do
    local ok, e = pcall(fn, client, err)
    if not ok then
      vim.notify('claude-bridge: ' .. tostring(e), vim.log.levels.ERROR)
    end
  end
end

local function on_exit(group, code, signal, client_id)
  vim.schedule(function()
    local by_signal = signal and signal ~= 0 and (', signal ' .. signal) or ''
    local reason = string.format('the bridge exited (code %s%s)', tostring(code), by_signal)
    if group.client_id == client_id then
      group.client_id = nil
      group.ready = false
      run_queue(group, reason)
    end
    for _, t in ipairs(tasks.fail_client(client_id, reason)) do
      transcript.note(t, '✘ ' .. reason)
      progress.finished(t)
    end
    permissions.drop_client(client_id)
    if code ~= 0 and vim.v.exiting == vim.NIL then
      vim.notify(
        'claude-bridge: ' .. reason .. ' for ' .. group.folders[1]
          .. '; see the bridge log file (claude-bridge --log-file) for why',
        vim.log.levels.ERROR
      )
    end
    progress.changed()
  end)
end

--- Returns the group for `key`, starting its client when none runs. Returns nil and a
--- message when the bridge cannot be started.
function M.ensure(key, folders)
  local group = M.groups[key]
  if group and client_of(group) then
    return group
  end
  local ok, exe = M.bridge_executable()
  if not ok then
    return nil, M.missing_bridge_message(exe)
  end
  group = group or { key = key }
  group.folders = folders
  group.ready = false
  group.queue = group.queue or {}
  M.groups[key] = group

  local wf = {}
  for _, f in ipairs(folders) do
    table.insert(wf, { uri = uri(f), name = vim.fn.fnamemodify(f, ':t') })
  end
  local opts = config.options
  local settings = config.bridge_settings()
  local cfg = {
    name = M.CLIENT_NAME,
    cmd = vim.deepcopy(opts.cmd),
    cmd_env = opts.cmd_env,
    root_dir = folders[1],
    workspace_folders = wf,
    init_options = settings,
    settings = { claudeBridge = settings },
    capabilities = capabilities(),
    handlers = handlers(),
    flags = { debounce_text_changes = opts.debounce_text_changes },
    on_init = function()
      vim.schedule(function()
        group.ready = true
        run_queue(group, nil)
        progress.changed()
      end)
    end,
    on_exit = function(code, signal, client_id)
      on_exit(group, code, signal, client_id)
    end,
  }
  local started, id = pcall(compat.start_client, cfg)
  if not started or not id then
    local why = started and '' or (': ' .. tostring(id))
    return nil, 'claude-bridge: could not start ' .. table.concat(opts.cmd, ' ') .. why
  end
  group.client_id = id
  if not opts.autostart then
    M.attach_all(group)
  end
  return group
end

--- Calls fn(client, err) once the client for `key` has answered `initialize`.
function M.when_ready(key, folders, fn)
  local group, err = M.ensure(key, folders)
  if not group then
    fn(nil, err)
    return
  end
  if group.ready and client_of(group) then
    fn(client_of(group), nil)
    return
  end
  table.insert(group.queue, fn)
end

--- Attaches a buffer to its folder's bridge (starting one when `autostart` or `force`).
function M.attach(bufnr, force)
  local path = M.buf_path(bufnr)
  if not path then
    return
  end
  local folder, key, folders = M.folder_for_path(path)
  if not compat.is_under(path, folder) then
    return
  end
  local group = M.groups[key]
  if not client_of(group) then
    if not (config.options.autostart or force) then
      return
    end
    local err
    group, err = M.ensure(key, folders)
    if not group then
      if not warned_missing then
        warned_missing = true
        vim.notify(err, vim.log.levels.ERROR)
      end
      return
    end
  end
  if not vim.lsp.buf_is_attached(bufnr, group.client_id) then
    vim.lsp.buf_attach_client(bufnr, group.client_id)
  end
end

--- Attaches every loaded buffer under the group's folders.
function M.attach_all(group)
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) then
      local path = M.buf_path(b)
      if path then
        for _, f in ipairs(group.folders) do
          if compat.is_under(path, f) then
            local _, key = M.folder_for_path(path)
            if key == group.key and not vim.lsp.buf_is_attached(b, group.client_id) then
              vim.lsp.buf_attach_client(b, group.client_id)
            end
            break
          end
        end
      end
    end
  end
end

--- The running bridge clients: list of { group, client }.
function M.running()
  local out = {}
  for _, g in pairs(M.groups) do
    local c = client_of(g)
    if c then
      table.insert(out, { group = g, client = c })
    end
  end
  table.sort(out, function(a, b)
    return a.group.key < b.group.key
  end)
  return out
end

function M.client_by_id(id)
  return id and vim.lsp.get_client_by_id(id) or nil
end

--- Sends a request on a client; returns ok, request id.
function M.request(client, method, params, handler)
  return compat.client_call(client, 'request', method, params, handler, nil)
end

function M.notify(client, method, params)
  return compat.client_call(client, 'notify', method, params)
end

--- Sends `workspace/executeCommand` for a bridge command.
function M.execute(client, command, arg, handler, token)
  local params = { command = command, arguments = { arg } }
  if token then
    params.workDoneToken = token
  end
  return M.request(client, 'workspace/executeCommand', params, handler)
end

local MAX_CANCEL_ATTEMPTS = 5

--- Asks the bridge to cancel a task it runs; returns false and a message when its bridge
--- is gone. A cancel that closely follows claude.run / claude.followUp can reach the
--- bridge before the bridge has registered the task (it serves requests concurrently), so
--- until the bridge confirms, the cancel is sent again once the task has sent an event.
function M.cancel_task(task)
  local client = M.client_by_id(task.client_id)
  if not client then
    return false, 'the bridge that runs task ' .. task.id .. ' is not running'
  end
  task.cancel_requested = true
  if task.cancel_pending or (task.cancel_attempts or 0) >= MAX_CANCEL_ATTEMPTS then
    return true
  end
  task.cancel_attempts = (task.cancel_attempts or 0) + 1
  task.cancel_pending = true
  local seen = task.events_seen or 0
  M.execute(client, protocol.commands.cancel, { taskId = task.id }, function(e, res)
    ---@cast res claude_bridge.CancelResult|nil
    task.cancel_pending = false
    if not e and type(res) == 'table' and res.cancelled then
      task.cancel_confirmed = true
    elseif not tasks.is_terminal(task.status) and (task.events_seen or 0) > seen then
      M.cancel_task(task) -- events came meanwhile: the bridge knows the task now
    end
  end)
  return true
end

--- Sends the current settings to every running bridge (setup() called again).
function M.push_settings()
  local settings = config.bridge_settings()
  for _, r in ipairs(M.running()) do
    r.client.config.settings = { claudeBridge = settings }
    if r.client.settings ~= nil then
      r.client.settings = r.client.config.settings
    end
    M.notify(r.client, 'workspace/didChangeConfiguration', { settings = { claudeBridge = settings } })
  end
end

return M
