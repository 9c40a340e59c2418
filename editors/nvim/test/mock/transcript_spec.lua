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
end)
