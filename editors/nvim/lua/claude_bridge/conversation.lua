-- claude_bridge.conversation: the conversation beyond a task's prompt: messages sent into a
-- running task (:ClaudeSend), its interrupt (:ClaudeInterrupt), its permission mode and
-- model (:ClaudeMode, :ClaudeModel), claude's slash commands (completed in :Claude), past
-- conversations (:ClaudeSessions), and what a prompt carries besides its text: the
-- diagnostics of the selection, the open files (:Claude!), images (@path).
local M = {}

local api = vim.api
local compat = require('claude_bridge.compat')
local lsp = require('claude_bridge.lsp')
local tasks = require('claude_bridge.tasks')
local protocol = require('claude_bridge.types')

local function err(msg)
  vim.notify('claude-bridge: ' .. msg, vim.log.levels.ERROR)
end

local function info(msg)
  vim.notify('claude-bridge: ' .. msg, vim.log.levels.INFO)
end

-- What a prompt carries ----------------------------------------------------------------

local IMAGE_EXT = { png = true, jpg = true, jpeg = true, gif = true, webp = true }

-- Punctuation that may follow an @path in a sentence without being part of the name.
local TRAILING = "[,.;:!?)%]}'\"]$"

local function is_image_file(path)
  local full = vim.fn.fnamemodify(path, ':p')
  local ext = (full:match('%.(%w+)$') or ''):lower()
  return IMAGE_EXT[ext] and vim.fn.filereadable(full) == 1, full
end

--- Reads the name after an `@` at position i of the prompt: `"a b.png"` or `'a b.png'`
--- (quoted), else up to the next blank, where `\ ` is a space of the name. Returns the
--- name and the position after it, or nil when there is none.
local function read_name(prompt, i)
  local q = prompt:sub(i, i)
  if q == '"' or q == "'" then
    local close = prompt:find(q, i + 1, true)
    if not close or close == i + 1 then
      return nil
    end
    return prompt:sub(i + 1, close - 1), close + 1
  end
  local name, j = {}, i
  while j <= #prompt do
    local c = prompt:sub(j, j)
    if c == '\\' and prompt:sub(j + 1, j + 1) == ' ' then
      table.insert(name, ' ')
      j = j + 2
    elseif c:match('%s') then
      break
    else
      table.insert(name, c)
      j = j + 1
    end
  end
  if #name == 0 then
    return nil
  end
  return table.concat(name), j
end

--- Takes the images out of a prompt: each `@path` (at the start of the prompt or after a
--- blank or an opening bracket) that names an image file (png, jpg, jpeg, gif, webp; `~` and
--- relative paths work) goes as an image, its `@` dropped from the text. The path may be
--- quoted (`@"shots/a b.png"`), have its spaces escaped (`@shots/a\ b.png`), or be followed by
--- punctuation (`@shot.png, please`: the comma is not the name's). An `@` inside a word (an
--- e-mail address) or before something that is no image file stays as it is. Returns the
--- prompt and the `images` list (nil for none).
function M.prompt_images(prompt)
  local images, out, i = {}, {}, 1
  while i <= #prompt do
    local at = prompt:find('@', i, true)
    if not at then
      break
    end
    table.insert(out, prompt:sub(i, at - 1))
    local before = at > 1 and prompt:sub(at - 1, at - 1) or ' '
    local name, after = nil, nil
    if before:match('[%s(%[{]') then
      name, after = read_name(prompt, at + 1)
    end
    local path, rest = name, ''
    -- Punctuation after the name (a comma, a full stop) is the sentence's, not the name's.
    while path and not is_image_file(path) and path:match(TRAILING) do
      rest = path:sub(-1) .. rest
      path = path:sub(1, -2)
    end
    local ok, full = false, nil
    if path and path ~= '' then
      ok, full = is_image_file(path)
    end
    if ok then
      table.insert(images, { uri = vim.uri_from_fname(full) })
      -- The text keeps the name as typed, without the @ (and with what followed it).
      local typed = prompt:sub(at + 1, after - 1)
      table.insert(out, typed:sub(1, #typed - #rest) .. rest)
      i = after
    else
      table.insert(out, '@')
      i = at + 1
    end
  end
  table.insert(out, prompt:sub(i))
  return table.concat(out), #images > 0 and images or nil
end

--- The diagnostics of lines line1..line2 (1-based) of a buffer, as LSP has them: the
--- language server's own when it sent them, else built from vim.diagnostic.
function M.diagnostics(bufnr, line1, line2)
  if not vim.diagnostic then
    return nil
  end
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum >= line1 - 1 and d.lnum <= line2 - 1 then
      local orig = d.user_data and d.user_data.lsp
      if type(orig) == 'table' and orig.range and orig.message then
        table.insert(out, orig)
      else
        table.insert(out, {
          range = {
            start = { line = d.lnum, character = d.col or 0 },
            ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col or 0 },
          },
          severity = d.severity,
          source = d.source,
          code = d.code,
          message = d.message or '',
        })
      end
    end
  end
  return #out > 0 and out or nil
end

--- The URIs of the file buffers open under `folders` (for :Claude!).
function M.open_files(folders)
  local out = {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) and vim.bo[b].buflisted then
      local path = lsp.buf_path(b)
      if path then
        for _, f in ipairs(folders) do
          if compat.is_under(path, f) then
            table.insert(out, vim.uri_from_fname(path))
            break
          end
        end
      end
    end
  end
  return #out > 0 and out or nil
end

-- Slash commands -----------------------------------------------------------------------

-- folder -> claude.commands reply (its commands and models), filled in the background.
M.commands_cache = {}
-- folder -> the stamp of the command files (commands_stamp) the cached reply was asked with.
local cache_stamps = {}
local fetching = {}

local MAX_STAMP_ENTRIES = 5000

--- Writes the stamp of `path` (size and modification time), and of everything below it
--- when it is a folder (symbolic links followed, 16 levels at most), into `parts`.
local function stamp_tree(path, depth, parts, budget)
  budget.n = budget.n - 1
  local st = budget.n >= 0 and vim.loop.fs_stat(path)
  if not st then
    table.insert(parts, path .. ':-')
    return
  end
  table.insert(parts, string.format('%s:%s:%d:%d.%d', path, st.type, st.size, st.mtime.sec, st.mtime.nsec or 0))
  if st.type ~= 'directory' or depth >= 16 then
    return
  end
  local names = {}
  local h = vim.loop.fs_scandir(path)
  while h do
    local name = vim.loop.fs_scandir_next(h)
    if not name then
      break
    end
    table.insert(names, name)
  end
  table.sort(names)
  for _, name in ipairs(names) do
    if budget.n < 0 then
      return
    end
    stamp_tree(path .. '/' .. name, depth + 1, parts, budget)
  end
end

--- The stamp of the files claude reads slash commands and skills from for `folder`
--- (.claude/commands and .claude/skills of the folder and of the home directory, every
--- file and folder in them by size and modification time): a command edited in place,
--- added in a subfolder or removed changes it. A few stat calls for a usual tree; a tree
--- of over 5000 entries gets a new stamp each time (never served from the cache).
function M.commands_stamp(folder)
  local parts, budget = {}, { n = MAX_STAMP_ENTRIES }
  for _, root in ipairs({ folder, vim.loop.os_homedir() }) do
    if root then
      for _, sub in ipairs({ 'commands', 'skills' }) do
        stamp_tree(root .. '/.claude/' .. sub, 0, parts, budget)
      end
    end
  end
  if budget.n < 0 then
    return 'too many entries ' .. tostring(vim.loop.hrtime())
  end
  return table.concat(parts, '\n')
end

--- The cached claude.commands reply for `folder` while the command files are as they
--- were when it was asked for; nil when there is none or they changed since.
function M.fresh_commands(folder)
  local list = folder and M.commands_cache[folder]
  if list and cache_stamps[folder] == M.commands_stamp(folder) then
    return list
  end
  return nil
end

--- Asks the bridge for claude's commands in `folder` (in the background; the bridge reads
--- them from a claude already running there, else starts one briefly), unless the cached
--- list is still fresh or a request is on its way.
function M.prefetch_commands(client, folder)
  if not client or not folder or fetching[folder] or M.fresh_commands(folder) then
    return
  end
  fetching[folder] = true
  local stamp = M.commands_stamp(folder)
  lsp.execute(client, protocol.commands.commands, { workspaceFolder = vim.uri_from_fname(folder) }, function(e, res)
    ---@cast res claude_bridge.CommandsResult|nil
    fetching[folder] = nil
    if not e and type(res) == 'table' then
      M.commands_cache[folder] = res
      cache_stamps[folder] = stamp
    end
  end)
end

--- The client of the current buffer's bridge (nil when none runs) and its folder.
local function current_client()
  local folder, key = lsp.folder_for_buf(api.nvim_get_current_buf())
  local group = lsp.groups[key]
  return group and lsp.client_by_id(group.client_id), folder, key
end

--- :Claude's completion: claude's slash commands (`/compact`, `/review`, the project's and
--- your own) for the first word when it starts with "/".
function M.complete_prompt(arglead, cmdline)
  local args = cmdline:gsub('^%s*[%d,.$\'<>%%]*%s*Claude!?%s*', '', 1)
  if not arglead:match('^/') or args ~= arglead then
    return {}
  end
  local client, folder = current_client()
  local list = M.fresh_commands(folder)
  if not list then
    -- None yet, or the command files changed since (never an old list): ready at the
    -- next <Tab>. (A completion function cannot wait for the bridge: vim.wait would run
    -- the plugin's other callbacks under the command line's text lock.)
    M.prefetch_commands(client, folder)
    return {}
  end
  local out = {}
  for _, c in ipairs(list.commands or {}) do
    local name = '/' .. c.name
    if name:sub(1, #arglead) == arglead then
      table.insert(out, name)
    end
  end
  return out
end

--- Refreshes the slash commands of the current buffer's folder when its command files
--- changed since they were listed (on CmdlineEnter: ready by the time :Claude /<Tab> asks).
function M.refresh_commands()
  local client, folder = current_client()
  if client and folder and M.commands_cache[folder] then
    M.prefetch_commands(client, folder)
  end
end

--- Model names for :ClaudeModel's completion.
function M.complete_model(arglead)
  local _, folder = current_client()
  local list = M.commands_cache[folder]
  local out = {}
  for _, m in ipairs(list and list.models or {}) do
    if m.value:sub(1, #arglead) == arglead then
      table.insert(out, m.value)
    end
  end
  return out
end

-- Steering a running task ----------------------------------------------------------------

--- The task a steering command acts on: by id, else the last one running.
local function target(id)
  id = vim.trim(id or '')
  local task = id ~= '' and tasks.get(id) or tasks.last_running()
  if not task then
    err(id ~= '' and ('no task ' .. id) or 'no Claude task is running')
    return nil
  end
  if tasks.is_terminal(task.status) then
    err(string.format('“%s” already ended (%s): :ClaudeFollowUp continues it', tasks.label(task), task.status))
    return nil
  end
  local client = lsp.client_by_id(task.client_id)
  if not client then
    err('the bridge that runs “' .. tasks.label(task) .. '” is not running')
    return nil
  end
  return task, client
end

--- Runs a command on a task's bridge; `ok(result)` gets the reply.
local function steer(task, client, command, arg, ok)
  lsp.execute(client, command, arg, function(e, res)
    if e then
      err(command .. ': ' .. tostring(e.message or e))
    elseif ok then
      ok(res)
    end
  end)
  return task
end

--- :ClaudeSend: sends a message into the last running task (opts.task: that one), with the
--- selected lines (opts.line1/line2) as context. claude reads it at its next step.
function M.send(opts)
  local prompt = vim.trim(opts.prompt or '')
  if prompt == '' then
    err('usage: :ClaudeSend {message}  (into the running task)')
    return nil
  end
  local task, client = target(opts.task)
  if not task then
    return nil
  end
  local text, images = M.prompt_images(prompt)
  local arg = { taskId = task.id, prompt = text, images = images }
  if opts.line1 then
    local bufnr = api.nvim_get_current_buf()
    local ctx, e = require('claude_bridge.commands').context(bufnr, task.folder, opts.line1, opts.line2)
    if not ctx then
      err(e)
      return nil
    end
    ctx.diagnostics = M.diagnostics(bufnr, opts.line1, opts.line2 or opts.line1)
    arg.context = { ctx }
  end
  return steer(task, client, protocol.commands.send, arg, function()
    require('claude_bridge.transcript').note(task, '» (sent) ' .. text)
  end)
end

--- :ClaudeInterrupt: stops the running turn of a task (default: the last one running) and
--- keeps its conversation for :ClaudeFollowUp.
function M.interrupt(id)
  local task, client = target(id)
  if not task then
    return nil
  end
  return steer(task, client, protocol.commands.interrupt, { taskId = task.id }, function(res)
    ---@cast res claude_bridge.InterruptResult|nil
    if type(res) == 'table' and res.interrupted == false then
      info('“' .. tasks.label(task) .. '” had no turn running to interrupt')
    end
  end)
end

--- :ClaudeMode {mode}: the permission mode of the last running task (claude's next tool
--- call follows it).
function M.set_mode(mode, id)
  mode = vim.trim(mode or '')
  if not vim.tbl_contains(protocol.permission_modes, mode) then
    err('usage: :ClaudeMode {' .. table.concat(protocol.permission_modes, '|') .. '}')
    return nil
  end
  local task, client = target(id)
  if not task then
    return nil
  end
  return steer(task, client, protocol.commands.set_permission_mode, { taskId = task.id, mode = mode }, function(res)
    ---@cast res claude_bridge.SetPermissionModeResult|nil
    info('“' .. tasks.label(task) .. '” now runs in ' .. tostring(res and res.permissionMode or mode) .. ' mode')
  end)
end

--- :ClaudeModel {model}: the model of the last running task, from claude's next request.
function M.set_model(model, id)
  model = vim.trim(model or '')
  if model == '' then
    err('usage: :ClaudeModel {model}  (e.g. sonnet, opus)')
    return nil
  end
  local task, client = target(id)
  if not task then
    return nil
  end
  return steer(task, client, protocol.commands.set_model, { taskId = task.id, model = model }, function(res)
    ---@cast res claude_bridge.SetModelResult|nil
    info(string.format('“%s” uses %s from its next request', tasks.label(task), tostring(res and res.model or model)))
  end)
end

-- Past conversations -----------------------------------------------------------------------

--- A session as :ClaudeSessions lists it: `Greeting work · 3 turns · 2 h ago`.
---@param s claude_bridge.SessionInfo
function M.format_session(s)
  local title = (s.title or '') ~= '' and s.title or s.firstPrompt or s.sessionId
  title = tostring(title):match('^%s*([^\n]*)') or ''
  if vim.fn.strchars(title) > 60 then
    title = vim.fn.strcharpart(title, 0, 59) .. '…'
  end
  local commands = require('claude_bridge.commands')
  local when = commands.age(commands.parse_utc(s.lastActivity))
  return string.format('%s · %d turn%s · %s', title, s.turns or 0, s.turns == 1 and '' or 's', when)
end

--- Opens a past conversation's transcript (claude.transcript) as a log.
---@param s claude_bridge.SessionInfo
function M.open_transcript(client, s)
  local arg = { sessionId = s.sessionId, workspaceFolder = s.workspaceFolder }
  lsp.execute(client, protocol.commands.transcript, arg, function(e, res)
    ---@cast res claude_bridge.TranscriptResult|nil
    if e or type(res) ~= 'table' then
      err('claude.transcript: ' .. tostring(e and e.message or 'no reply'))
      return
    end
    local transcript = require('claude_bridge.transcript')
    local id = 'session-' .. s.sessionId
    local task = tasks.get(id)
    if not task then
      task = tasks.add({
        id = id,
        kind = 'session',
        prompt = res.title,
        folder = vim.uri_to_fname(s.workspaceFolder),
        session_id = s.sessionId,
        client_id = client.id,
        status = 'completed',
        started_at = os.time(),
      })
      transcript.begin(task)
      transcript.note(task, 'A past conversation, as claude keeps it (' .. M.format_session(s) .. ')')
      for _, ev in ipairs(res.events or {}) do
        transcript.event(task, ev)
      end
    end
    transcript.open(task, require('claude_bridge.config').options.log_window)
  end)
end

--- :ClaudeSessions: the past conversations of the current workspace (claude's own, those
--- started in a terminal too), newest first; pick one, then follow it up or read it.
function M.sessions(done)
  local folder, key, folders = lsp.folder_for_buf(api.nvim_get_current_buf())
  lsp.when_ready(key, folders, function(client, e)
    if not client then
      err(e)
      return
    end
    local arg = { workspaceFolder = vim.uri_from_fname(folder) }
    lsp.execute(client, protocol.commands.sessions, arg, function(rpc_err, res)
      ---@cast res claude_bridge.SessionsResult|nil
      if rpc_err or type(res) ~= 'table' then
        err('claude.sessions: ' .. tostring(rpc_err and rpc_err.message or 'no reply'))
        return
      end
      local list = res.sessions or {}
      if done then
        done(list)
      end
      if #list == 0 then
        info('no past conversations in ' .. folder)
        return
      end
      local opts = { prompt = 'Claude conversations', kind = 'claude_bridge_sessions', format_item = M.format_session }
      vim.ui.select(list, opts, function(s)
        if not s then
          return
        end
        vim.schedule(function()
          M.session_menu(client, s)
        end)
      end)
    end)
  end)
end

--- What to do with a past conversation: follow it up, or open its transcript.
function M.session_menu(client, s)
  local actions = {
    { label = 'Follow up…', run = function()
      vim.ui.input({ prompt = 'Follow up “' .. M.format_session(s) .. '”: ' }, function(prompt)
        if prompt and prompt:match('%S') then
          require('claude_bridge.commands').follow_up({ prompt = prompt, session = s })
        end
      end)
    end },
    { label = 'Open transcript', run = function()
      M.open_transcript(client, s)
    end },
  }
  vim.ui.select(actions, {
    prompt = M.format_session(s) .. ':',
    kind = 'claude_bridge_session_action',
    format_item = function(a)
      return a.label
    end,
  }, function(a)
    if a then
      a.run()
    end
  end)
end

-- :ClaudeTasks actions for a running task ---------------------------------------------------

function M.register_task_actions()
  local commands = require('claude_bridge.commands')
  local running = function(t)
    return not tasks.is_terminal(t.status) and t.client_id ~= nil
  end
  commands.register_task_action({
    id = 'send',
    label = 'Send a message…',
    when = running,
    run = function(t)
      vim.ui.input({ prompt = 'Message to “' .. tasks.label(t, 40) .. '”: ' }, function(text)
        if text and text:match('%S') then
          M.send({ prompt = text, task = t.id })
        end
      end)
    end,
  }, 'cancel')
  commands.register_task_action({
    id = 'interrupt',
    label = 'Interrupt (keep the conversation)',
    when = running,
    run = function(t)
      M.interrupt(t.id)
    end,
  }, 'cancel')
  commands.register_task_action({
    id = 'mode',
    label = 'Change its permission mode…',
    when = running,
    run = function(t)
      local opts = { prompt = 'Permission mode for “' .. tasks.label(t, 40) .. '”:' }
      vim.ui.select(protocol.permission_modes, opts, function(mode)
        if mode then
          M.set_mode(mode, t.id)
        end
      end)
    end,
  }, 'cancel')
end

return M
