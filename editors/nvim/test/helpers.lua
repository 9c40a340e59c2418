-- Test helpers for the Neovim plugin specs. A spec is a Lua file run by a headless
-- Neovim (`nvim --headless -u NONE -i NONE -n -c "luafile SPEC"`) started by test/run.sh,
-- which passes everything through the environment:
--   CB_PLUGIN      the plugin folder (editors/nvim)
--   CB_BRIDGE      the bridge command (bin/claude-bridge, or `node test/mock/bridge.js`)
--   CB_WS          the workspace folder (a git repository with main.go)
--   CB_TMP         the spec's temp folder
--   CB_RESULT      file the spec writes PASS or the failure into
--   CB_FAKEAPI_LOG the stand-in's request log (stderr), real-bridge specs only
--   CB_REQUESTS    the stand-in's --requests-log file, when it has that flag
--   CB_RUN_ID      a marker in the environment of every process the spec starts
local H = {}

H.env = {
  plugin = assert(vim.env.CB_PLUGIN, 'CB_PLUGIN not set: run specs through test/run.sh'),
  bridge = assert(vim.env.CB_BRIDGE, 'CB_BRIDGE not set'),
  ws = assert(vim.env.CB_WS, 'CB_WS not set'),
  tmp = assert(vim.env.CB_TMP, 'CB_TMP not set'),
  result = assert(vim.env.CB_RESULT, 'CB_RESULT not set'),
  fakeapi_log = vim.env.CB_FAKEAPI_LOG,
  requests = vim.env.CB_REQUESTS,
  run_id = vim.env.CB_RUN_ID,
}

vim.opt.rtp:prepend(H.env.plugin)
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. 'F'
vim.cmd('runtime plugin/claude_bridge.lua')

local started = (vim.uv or vim.loop).hrtime()
local function elapsed()
  return string.format('%6.2fs', ((vim.uv or vim.loop).hrtime() - started) / 1e9)
end

function H.log(...)
  local parts = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    table.insert(parts, type(v) == 'string' and v or vim.inspect(v))
  end
  io.stderr:write('[' .. elapsed() .. '] ' .. table.concat(parts, ' ') .. '\n')
end

-- Every vim.notify is recorded (and echoed to stderr).
H.notes = {}
vim.notify = function(msg, level)
  table.insert(H.notes, { msg = tostring(msg), level = level })
  H.log('notify[' .. tostring(level) .. ']', tostring(msg))
end

function H.bridge_cmd()
  local cmd = {}
  for word in H.env.bridge:gmatch('%S+') do
    table.insert(cmd, word)
  end
  return cmd
end

--- setup() with the spec's bridge and no didChange debounce; extra options merged in.
function H.setup(extra)
  local opts = vim.tbl_extend('force', {
    cmd = H.bridge_cmd(),
    debounce_text_changes = 0,
  }, extra or {})
  require('claude_bridge').setup(opts)
end

--- Waits until cond() is truthy (processing events); fails the spec with `what` after ms.
function H.wait(ms, cond, what)
  local ok = vim.wait(ms, function()
    local good, v = pcall(cond)
    return good and v
  end, 10)
  if not ok then
    error('timed out after ' .. ms .. ' ms waiting for: ' .. (what or '?'), 2)
  end
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(string.format('%s: expected %s, got %s', what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or 'assertion') .. ' failed', 2)
  end
  return v
end

--- Fails unless `text` (a string or list of lines) contains `needle` (plain).
function H.contains(text, needle, what)
  if type(text) == 'table' then
    text = table.concat(text, '\n')
  end
  if not tostring(text):find(needle, 1, true) then
    error(string.format('%s: %q not found in:\n%s', what or 'text', needle, tostring(text)), 2)
  end
end

function H.not_contains(text, needle, what)
  if type(text) == 'table' then
    text = table.concat(text, '\n')
  end
  if tostring(text):find(needle, 1, true) then
    error(string.format('%s: %q found but should not be in:\n%s', what or 'text', needle, tostring(text)), 2)
  end
end

function H.read(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local s = f:read('*a')
  f:close()
  return s
end

function H.write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

function H.buf_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false), '\n')
end

--- The bridge client(s) of this Neovim.
function H.clients()
  return require('claude_bridge.lsp').running()
end

function H.wait_client(ms)
  H.wait(ms or 10000, function()
    local r = H.clients()[1]
    return r and r.group.ready
  end, 'the bridge client to initialize')
  return H.clients()[1].client
end

--- Waits until the task ends (its reply arrived and it was reported) and returns it.
function H.wait_task(task, ms, what)
  H.wait(ms or 60000, function()
    local t = require('claude_bridge.tasks').get(task.id) or task
    return require('claude_bridge.tasks').is_terminal(t.status) and t.finished
  end, what or ('task ' .. task.id .. ' to end'))
  return task
end

function H.notes_matching(pattern)
  local out = {}
  for _, n in ipairs(H.notes) do
    if n.msg:find(pattern, 1, true) then
      table.insert(out, n)
    end
  end
  return out
end

--- Records $/progress as Neovim's standard machinery exposes it: in 0.7 to 0.9 the
--- `User LspProgressUpdate` autocmd with client.messages.progress, in 0.10+ the
--- `LspProgress` autocmd with the value in its data. Returns a list of
--- { token, kind, title, message } that fills as the autocmds fire.
function H.record_progress()
  local seen = {}
  local last = {}
  local ok_new = pcall(vim.api.nvim_create_autocmd, 'LspProgress', {
    callback = function(args)
      local data = args.data or {}
      local p = data.params or data.result or {}
      local v = p.value or {}
      table.insert(seen, { token = p.token, kind = v.kind, title = v.title, message = v.message })
    end,
  })
  if not ok_new then
    vim.api.nvim_create_autocmd('User', {
      pattern = 'LspProgressUpdate',
      callback = function()
        for _, r in ipairs(H.clients()) do
          local msgs = r.client.messages and r.client.messages.progress or {}
          for token, p in pairs(msgs) do
            local state = p.done and 'end' or (last[token] and 'report' or 'begin')
            local key = state .. '\0' .. tostring(p.message)
            if last[token] ~= key then
              last[token] = key
              table.insert(seen, { token = token, kind = state, title = p.title, message = p.message })
            end
          end
        end
      end,
    })
  end
  return seen
end

--- The pids of processes started under this spec (CB_RUN_ID in their environment, or
--- running in the spec's temp folder) whose executable or argv[0] is the claude CLI.
function H.claude_pids()
  local out = {}
  local marker = 'CB_RUN_ID=' .. tostring(H.env.run_id)
  for _, pid in ipairs(vim.fn.readdir('/proc')) do
    if pid:match('^%d+$') then
      local env = H.read('/proc/' .. pid .. '/environ') or ''
      local cwd = (vim.uv or vim.loop).fs_readlink('/proc/' .. pid .. '/cwd') or ''
      if env:find(marker, 1, true) or cwd:sub(1, #H.env.tmp) == H.env.tmp then
        local cmdline = (H.read('/proc/' .. pid .. '/cmdline') or ''):gsub('%z', ' ')
        local exe = (vim.uv or vim.loop).fs_readlink('/proc/' .. pid .. '/exe') or ''
        local argv0 = cmdline:match('^(%S+)') or ''
        local is_claude = exe:match('/claude%.exe$') or exe:match('/claude$') or argv0:match('/claude$') or argv0:match('/claude%.exe$') or argv0 == 'claude'
        -- argv0, not the whole command line: claude's names its settings file in
        -- the bridge's runtime directory (.../claude-bridge/run/...).
        if is_claude and not argv0:find('claude%-bridge') then
          table.insert(out, tonumber(pid))
        end
      end
    end
  end
  return out
end

--- What the Messages API stand-in received, as one string (its --requests-log file when
--- there is one, else its stderr request log).
function H.api_requests()
  local s = ''
  if H.env.requests then
    s = H.read(H.env.requests) or ''
  end
  if s == '' and H.env.fakeapi_log then
    s = H.read(H.env.fakeapi_log) or ''
  end
  return s
end

--- The turn index of each POST /v1/messages the stand-in answered, from its stderr log
--- (`turn=N` is the number of assistant messages the request carried).
function H.api_turns()
  local out = {}
  for line in (H.read(H.env.fakeapi_log or '') or ''):gmatch('[^\n]+') do
    local turn = line:match('POST /v1/messages%S* .-turn=(%d+)')
    if turn then
      table.insert(out, tonumber(turn))
    end
  end
  return out
end

--- The claude CLI's own session transcripts ($HOME/.claude/projects/*/*.jsonl), as one
--- string: what the CLI was given and what it sent and received, per session.
function H.claude_sessions()
  local parts = {}
  for _, f in ipairs(vim.fn.glob(vim.env.HOME .. '/.claude/projects/*/*.jsonl', true, true)) do
    table.insert(parts, H.read(f) or '')
  end
  return table.concat(parts, '\n')
end

--- The messages the mock bridge received (mock specs), decoded, in order.
function H.mock_messages()
  local out = {}
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    table.insert(out, vim.json.decode(line))
  end
  return out
end

--- The arguments[0] of each workspace/executeCommand `command` (or the params of each
--- message of that method) the mock bridge received.
function H.mock_sent(command)
  local out = {}
  for _, m in ipairs(H.mock_messages()) do
    if m.method == 'workspace/executeCommand' and m.params.command == command then
      table.insert(out, m.params.arguments[1])
    elseif m.method == command then
      table.insert(out, m.params)
    end
  end
  return out
end

--- Answers permission questions as a person does: `pick(question)` returns the key to press
--- in the question's window (`'a'`, `'f'`, `'d'`), pressed `delay_ms` (300) after the question
--- shows, after :ClaudeAnswer moved into the window; or a list of `{ ms, keys, 'here'? }`
--- (`'here'`: typed where the cursor is, without :ClaudeAnswer). Returns the questions seen
--- (with `stop()`, which ends the answering).
--- (Claude's questions and plans are answered through vim.ui.select: see the ask spec.)
function H.answer_questions(pick, delay_ms)
  local seen, done = {}, {}
  local timer = (vim.uv or vim.loop).new_timer()
  timer:start(20, 20, vim.schedule_wrap(function()
    for _, q in ipairs(require('claude_bridge.permissions').pending) do
      if not done[q] then
        done[q] = true
        table.insert(seen, {
          message = q.message,
          task_id = q.task_id,
          tool = q.tool,
          actions = q.actions,
          key_input = q.key_input,
          kind = q.kind,
        })
        local keys = pick(q)
        if type(keys) == 'string' then
          keys = { { delay_ms or 300, keys } }
        end
        for _, k in ipairs(keys or {}) do
          vim.defer_fn(function()
            -- As a person does: :ClaudeAnswer moves into the question's window, then the key
            -- (fed to be executed at once: a headless Neovim reads no terminal).
            if k[3] ~= 'here' then
              vim.cmd('ClaudeAnswer')
            end
            vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(k[2], true, false, true), 'xt', false)
          end, k[1])
        end
      end
    end
  end))
  -- seen.stop() ends the answering.
  seen.stop = function()
    if not timer:is_closing() then
      timer:close()
    end
  end
  return seen
end

--- Functions run when the spec ends, pass or fail (a tmux server to stop, say).
H.at_end = {}

--- Runs the spec body and ends Neovim: exit 0 and PASS on success, else the error.
function H.run(name, body)
  local ok, err = xpcall(body, debug.traceback)
  for _, f in ipairs(H.at_end) do
    pcall(f)
  end
  if ok then
    H.write(H.env.result, 'PASS\n')
    H.log('PASS ' .. name)
  else
    H.write(H.env.result, 'FAIL ' .. name .. '\n' .. tostring(err) .. '\n')
    H.log('FAIL ' .. name .. '\n' .. tostring(err))
    pcall(function()
      for _, t in ipairs(require('claude_bridge.tasks').list()) do
        H.log('transcript of ' .. t.id .. ' (' .. tostring(t.status) .. '):\n' .. table.concat(require('claude_bridge.transcript').lines(t), '\n'))
      end
    end)
  end
  -- Stop the bridges and give them a moment to shut down cleanly.
  pcall(function()
    for _, r in ipairs(H.clients()) do
      require('claude_bridge.compat').client_call(r.client, 'stop')
    end
    vim.wait(3000, function()
      return #H.clients() == 0
    end, 20)
    H.log('bridges stopped')
  end)
  if ok then
    vim.cmd('qall!')
  else
    vim.cmd('cquit! 1')
  end
end

return H
