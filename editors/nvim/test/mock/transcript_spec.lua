-- The transcript renders events as the bridge sends them (editors/protocol.schema.json:
-- every field present, 0 and "" for "none"): a retry without an HTTP status says no
-- "HTTP 0", a result of a task claude never started names no empty session.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/transcript', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  local protocol = require('claude_bridge.types')
  H.eq('claude.run', protocol.commands.run, 'command names come from the generated types')

  local task = tasks.add({ id = 't1', kind = 'run', prompt = 'p' })
  local head = { taskId = 't1' }
  local function ev(seq, kind, fields)
    return vim.tbl_extend('error', head, { seq = seq, kind = kind }, fields)
  end
  transcript.event(task, ev(1, 'retry', { attempt = 1, maxRetries = 10, delayMs = 500, errorStatus = 0, error = 'socket hang up' }))
  transcript.event(task, ev(2, 'retry', { attempt = 2, maxRetries = 10, delayMs = 900, errorStatus = 529, error = 'overloaded' }))
  transcript.event(task, ev(3, 'result', {
    status = 'failed', result = 'claude exited', isError = true, costUsd = 0, durationMs = 0, numTurns = 0, sessionId = '',
  }))
  local text = table.concat(transcript.lines(task), '\n')
  H.contains(text, '↻ Retry 1 of 10 in 500 ms: socket hang up', 'no HTTP status')
  H.not_contains(text, 'HTTP 0', 'errorStatus 0 is no status')
  H.contains(text, '↻ Retry 2 of 10 in 900 ms: HTTP 529 overloaded', 'an HTTP status')
  H.contains(text, '✘ failed: claude exited', 'result')
  H.not_contains(text, 'session', 'no session when claude never started')

  -- A subagent's text and calls are marked as the subagent's, never the task's answer.
  local sub = tasks.add({ id = 't2', kind = 'run', prompt = 'p' })
  local function sev(seq, kind, fields)
    return vim.tbl_extend('error', { taskId = 't2', seq = seq, kind = kind }, fields)
  end
  transcript.event(sub, sev(1, 'toolUse', { toolUseId = 'a1', name = 'Agent', input = { description = 'look' }, summary = 'Agent: look' }))
  transcript.event(sub, sev(2, 'text', { messageId = 'm9', text = 'sub says\nhi', parentToolUseId = 'a1' }))
  transcript.event(sub, sev(3, 'toolUse', { toolUseId = 's1', name = 'Read', input = { file_path = '/w/x' }, summary = 'Read x', parentToolUseId = 'a1' }))
  transcript.event(sub, sev(4, 'toolResult', { toolUseId = 's1', name = 'Read', isError = true, content = 'no such file', parentToolUseId = 'a1' }))
  transcript.event(sub, sev(5, 'text', { messageId = 'm1', text = 'main answer' }))
  local lines = transcript.lines(sub)
  H.contains(table.concat(lines, '\n'), '  ↳ subagent: sub says\n  ↳ subagent: hi', 'the subagent text, marked on each line')
  H.contains(table.concat(lines, '\n'), '  ↳ subagent ▶ Read x\n  ↳ subagent ◀ Read error: no such file', 'its calls, marked')
  H.eq('main answer', lines[#lines], 'the task\'s own text unmarked')

  require('claude_bridge.progress').on_event(task, ev(4, 'started', {
    sessionId = 's1', model = 'm', cwd = '/w', permissionMode = 'default', apiKeySource = 'none', claudeVersion = '2',
  }))
  require('claude_bridge.progress').on_event(task, ev(5, 'result', {
    status = 'failed', result = 'x', isError = true, costUsd = 0, durationMs = 0, numTurns = 0, sessionId = '',
  }))
  H.eq('s1', task.session_id, 'a result without a session keeps the one claude started with')

  -- A run of messages of a kind the bridge passes through (an older bridge passed on one
  -- per thinking delta): one line for the kind, and the thinking stays one block.
  local t2 = tasks.add({ id = 't2b', kind = 'run', prompt = 'think' })
  local seq = 0
  local function ev2(kind, fields)
    seq = seq + 1
    return vim.tbl_extend('error', { taskId = 't2b', seq = seq, kind = kind }, fields)
  end
  for i = 1, 300 do
    transcript.event(t2, ev2('other', { raw = { type = 'system', subtype = 'thinking_tokens', estimated_tokens = i * 3 } }))
    transcript.event(t2, ev2('thinking', { messageId = 'm1', text = 'thought' .. i .. ' ' }))
  end
  local tlines = transcript.lines(t2)
  local kinds, thinking = 0, 0
  for _, l in ipairs(tlines) do
    if l == '· (system/thinking_tokens)' then
      kinds = kinds + 1
    end
    if l:find('┆', 1, true) then
      thinking = thinking + 1
    end
  end
  H.eq(1, kinds, 'one line for the kind')
  H.eq(1, thinking, 'the thinking in one block (one line here)')
  H.truthy(#tlines < 12, 'a short log: ' .. #tlines .. ' lines')
  H.contains(table.concat(tlines, '\n'), 'thought1 thought2', 'the thinking joined')
  H.contains(table.concat(tlines, '\n'), 'thought300', 'to its end')

  -- The end message: one line that fits the message line for a done task (no hit-enter
  -- prompt, at 40 columns too); a failure in full, its fix at the end included.
  local progress = require('claude_bridge.progress')
  local done = tasks.add({ id = 't3', kind = 'run', prompt = 'tidy up', status = 'completed' })
  done.result, done.duration_ms, done.cost = 'I left it as it was, and here is a long explanation of why.', 1700, 0.0236
  for _, cols in ipairs({ 120, 40 }) do
    vim.o.columns = cols
    local msg = progress.end_message(done)
    H.truthy(vim.fn.strdisplaywidth(msg) < vim.v.echospace, cols .. ' columns: fits: ' .. msg)
    H.contains(msg, cols == 120 and 'Claude done (1.7 s, $0.0236): I left it' or 'Claude done: I left', 'its head: ' .. msg)
  end
  vim.o.columns = 120
  local failed = tasks.add({ id = 't4', kind = 'run', prompt = 'p', status = 'failed' })
  failed.result = 'claude CLI not found: install it with `npm install -g @anthropic-ai/claude-code`, '
    .. 'or set claudePath to its location (looked in: PATH; ~/.local/bin; ~/.claude/local; ~/.npm-global/bin)'
  H.contains(progress.full_message(failed), failed.result, 'the whole reason, its fix included')
  failed.result = 'claude exited with code 3 before it finished the task: boom\nsecond line'
  H.contains(progress.full_message(failed), 'boom\nsecond line', 'every line')

  -- The log's colours: a diff's lines and the command have groups that show, and
  -- claude's own indented text (code in its answer) is not coloured as tool output.
  vim.cmd('syntax enable')
  local t5 = tasks.add({ id = 't5', kind = 'run', prompt = 'edit it' })
  transcript.begin(t5)
  local n = 0
  local function ev5(kind, fields)
    n = n + 1
    return vim.tbl_extend('error', { taskId = 't5', seq = n, kind = kind }, fields)
  end
  transcript.event(t5, ev5('text', { messageId = 'm1', text = 'Here is the code:\n\n    func main() {}\n' }))
  transcript.event(t5, ev5('toolUse', { toolUseId = 'u1', name = 'Bash', input = { command = 'go test ./...' }, summary = 'Bash: go test ./...' }))
  transcript.event(t5, ev5('toolUse', {
    toolUseId = 'u2', name = 'Edit', summary = 'Edit main.go',
    input = { file_path = '/w/main.go', old_string = 'a\nhello\nb', new_string = 'a\nhello, claude\nb' },
  }))
  transcript.event(t5, ev5('toolResult', { toolUseId = 'u2', name = 'Edit', isError = false, content = 'updated\n    indented output' }))
  transcript.event(t5, ev5('text', { messageId = 'm2', text = 'Done:\n\n    more code\n' }))
  local buf = transcript.open(t5, 'current')
  local function group(wanted)
    for l, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if line == wanted then
        local id = vim.fn.synID(l, 5, 1)
        return vim.fn.synIDattr(id, 'name'), vim.fn.synIDattr(vim.fn.synIDtrans(id), 'name')
      end
    end
    error('no line ' .. wanted .. ' in ' .. vim.inspect(vim.api.nvim_buf_get_lines(buf, 0, -1, false)))
  end
  H.eq({ 'claudeBridgeLogDel', 'DiffDelete' }, { group('    - hello') }, 'a removed line')
  H.eq({ 'claudeBridgeLogAdd', 'DiffAdd' }, { group('    + hello, claude') }, 'an added line')
  H.eq('claudeBridgeLogCommand', (group('    $ go test ./...')), 'the command')
  H.eq('claudeBridgeLogToolOut', (group('        indented output')), 'tool output')
  H.eq('', (group('    func main() {}')), "claude's indented text is not tool output")
  H.eq('', (group('    more code')), 'after a tool block too')
  local task_id_hl = vim.fn.synIDattr(vim.fn.synIDtrans(vim.fn.hlID('claudeBridgeLogTaskId')), 'name')
  H.eq('Comment', task_id_hl, 'the task id line is linked')
end)
