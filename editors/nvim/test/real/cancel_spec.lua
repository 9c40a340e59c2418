-- (4) :ClaudeCancel on a long task (the stand-in holds its answer for a minute): the task
-- ends cancelled within seconds, progress ends, and no claude process is left.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/cancel', function()
  local progress = H.record_progress()
  H.setup({ prewarm = false }) -- no warm claude: the spec counts the task's own processes
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)

  vim.cmd('Claude take your time')
  local task = require('claude_bridge.tasks').last()
  H.wait(30000, function()
    return task.status == 'running' and #H.claude_pids() > 0
  end, 'the task to run with a claude process')
  -- let the CLI's API request reach the stand-in, which holds it
  H.wait(10000, function()
    return (task.message or ''):find('Thinking', 1, true)
  end, 'claude to be waiting for the API')
  local pids = H.claude_pids()
  H.log('claude pids before cancel:', pids)

  -- the log opened while the task runs keeps filling
  vim.cmd('ClaudeLog')
  local logbuf = vim.api.nvim_get_current_buf()
  H.contains(vim.api.nvim_buf_get_lines(logbuf, 0, -1, false), '● Started', 'live log')
  H.not_contains(vim.api.nvim_buf_get_lines(logbuf, 0, -1, false), 'cancelled', 'live log before the cancel')
  vim.cmd('wincmd p')

  local t0 = vim.loop.hrtime()
  vim.cmd('ClaudeCancel')
  H.wait_task(task, 15000, 'the cancelled task to end')
  local secs = (vim.loop.hrtime() - t0) / 1e9
  H.log(string.format('cancelled in %.2f s', secs))
  H.eq('cancelled', task.status, 'status')
  H.truthy(secs < 12, 'cancel took ' .. secs .. ' s')
  H.eq(1, #H.notes_matching('Claude cancelled'), 'notification')

  H.wait(5000, function()
    return #H.claude_pids() == 0
  end, 'no claude process left (still: ' .. vim.inspect(H.claude_pids()) .. ')')
  for _, pid in ipairs(pids) do
    H.eq(nil, vim.loop.fs_stat('/proc/' .. pid), 'claude process ' .. pid .. ' gone')
  end

  local last
  for _, p in ipairs(progress) do
    if p.token == task.token then
      last = p
    end
  end
  H.eq('end', last and last.kind, 'progress ended')
  H.contains(last.message, 'Cancelled', 'progress end message')
  H.contains(vim.api.nvim_buf_get_lines(logbuf, 0, -1, false), '■ cancelled', 'the open log got the end')

  -- a follow-up cancelled at once, by the id this side gave it (newTaskId); it ends
  -- cancelled and its claude process goes too
  vim.cmd('ClaudeFollowUp and now?')
  local follow = require('claude_bridge.tasks').last()
  vim.cmd('ClaudeCancel')
  H.wait_task(follow, 15000, 'the cancelled follow-up to end')
  H.eq('cancelled', follow.status, 'follow-up status')
  H.wait(5000, function()
    return #H.claude_pids() == 0
  end, 'no claude process left after the follow-up (still: ' .. vim.inspect(H.claude_pids()) .. ')')
end)
