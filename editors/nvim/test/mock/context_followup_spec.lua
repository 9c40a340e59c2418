-- A visual-range :Claude sends the selection as context {uri, range}; :ClaudeFollowUp sends
-- claude.followUp with the last task's id and the follow-up's own (newTaskId), and the
-- follow-up's events land in the follow-up's own log; a failing task notifies as an error.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local function commands_sent(name)
  local out = {}
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    local m = vim.json.decode(line)
    if m.method == 'workspace/executeCommand' and m.params.command == name then
      table.insert(out, m.params)
    end
  end
  return out
end

H.run('mock/context_followup', function()
  local tasks = require('claude_bridge.tasks')
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()

  -- select lines 5-6 linewise, then :'<,'>Claude
  vim.cmd('normal! 5GVj\27')
  vim.cmd("'<,'>Claude explain this")
  local first = tasks.last()
  H.wait_task(first, 5000)
  local run = commands_sent('claude.run')[1].arguments[1]
  H.eq({
    {
      uri = vim.uri_from_fname(H.env.ws .. '/main.go'),
      range = { start = { line = 4, character = 0 }, ['end'] = { line = 6, character = 0 } },
    },
  }, run.context, 'context of the selection')
  H.contains(first.result, '@main.go#L5-6', 'mention the bridge made')
  H.contains(table.concat(require('claude_bridge.transcript').lines(first), '\n'), 'Context: main.go#L5-6', 'log header')

  -- follow-up
  vim.cmd('ClaudeFollowUp and now the rest')
  local follow = tasks.last()
  H.eq('followUp', follow.kind, 'follow-up record')
  H.wait_task(follow, 5000)
  local fu = commands_sent('claude.followUp')[1]
  H.eq({ taskId = first.id, prompt = 'and now the rest', newTaskId = follow.id, review = 'afterTurn' }, fu.arguments[1], 'claude.followUp arguments')
  H.eq('claude-bridge/' .. follow.id, fu.workDoneToken, 'follow-up progress token')
  H.truthy(follow.id:match('^nvim%-'), 'the follow-up keeps the id this side gave it: ' .. follow.id)
  H.eq(first.session_id, follow.session_id, 'same session')
  H.contains(follow.result, 'history: 4', 'the bridge continued the conversation')
  local log = table.concat(require('claude_bridge.transcript').lines(follow), '\n')
  H.contains(log, '# and now the rest')
  H.contains(log, 'follow-up of “explain this”')
  H.contains(log, 'Working on it.')
  H.contains(log, '✔ completed')
  H.eq(follow, tasks.get(follow.id), 'registry under its id')

  -- a follow-up while a task runs is refused locally with a clear message
  vim.cmd('Claude slow one')
  local slow = tasks.last()
  H.wait(3000, function()
    return slow.status == 'running'
  end, 'slow task running')
  vim.cmd('ClaudeFollowUp too early')
  H.truthy(#H.notes_matching('is still running') == 1, 'refused follow-up notified')
  vim.cmd('ClaudeCancel')
  H.wait_task(slow, 5000)
  H.eq('cancelled', slow.status, 'cancelled')
  H.eq(1, #H.notes_matching('Claude cancelled'), 'cancel notified')

  -- a failing task
  vim.cmd('Claude this will fail')
  local bad = tasks.last()
  H.wait_task(bad, 5000)
  H.eq('failed', bad.status)
  local errs = H.notes_matching('Claude failed')
  H.eq(1, #errs, 'failure notified')
  H.eq(vim.log.levels.ERROR, errs[1].level, 'failure is an error')
  H.contains(errs[1].msg, 'it broke')

  -- the bridge dies in the middle of a task: the task fails with the reason, and the next
  -- command starts a new bridge
  vim.cmd('Claude crash now')
  local crashed = tasks.last()
  H.wait_task(crashed, 5000)
  H.eq('failed', crashed.status, 'crashed task')
  H.contains(table.concat(require('claude_bridge.transcript').lines(crashed), '\n'), '✘ the bridge exited (code 3)')
  H.eq(1, #H.notes_matching('claude-bridge: the bridge exited (code 3)'), 'crash reported')
  vim.cmd('Claude once more')
  local after = tasks.last()
  H.wait_task(after, 5000)
  H.eq('completed', after.status, 'a new bridge serves the next task')

  -- a range outside a file buffer is refused
  vim.cmd('enew')
  vim.cmd('setlocal buftype=nofile')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'x', 'y' })
  vim.cmd('1,2Claude explain')
  H.eq(1, #H.notes_matching('not in a file buffer'), 'range in a scratch buffer refused')
end)
