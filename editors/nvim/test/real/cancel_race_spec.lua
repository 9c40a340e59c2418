-- :ClaudeCancel right after :Claude or :ClaudeFollowUp (same tick): the cancel can reach
-- the bridge before it has registered the task, so the plugin sends it again once the task
-- shows up. Every task must end cancelled, fast, with no claude process left.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/cancel_race', function()
  local tasks = require('claude_bridge.tasks')
  H.setup({ prewarm = false }) -- no warm claude: the spec counts the task's own processes
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)

  for i = 1, 4 do
    vim.cmd('Claude take your time ' .. i)
    local t = tasks.last()
    vim.cmd('ClaudeCancel')
    H.wait_task(t, 15000, 'run ' .. i .. ' to end')
    H.eq('cancelled', t.status, 'run ' .. i)
  end
  -- follow-ups of a task whose claude started (a task cancelled before that has no
  -- conversation to continue, and the bridge refuses to follow it up)
  vim.cmd('Claude the base task')
  local base = tasks.last()
  H.wait(15000, function()
    return base.session_id ~= nil
  end, 'the base task to start')
  vim.cmd('ClaudeCancel')
  H.wait_task(base, 15000, 'the base task to end')
  for i = 1, 3 do
    require('claude_bridge').follow_up({ prompt = 'and then ' .. i, task = base })
    local t = tasks.last()
    H.eq('followUp', t.kind, 'follow-up record')
    vim.cmd('ClaudeCancel')
    H.wait_task(t, 15000, 'follow-up ' .. i .. ' to end')
    H.eq('cancelled', t.status, 'follow-up ' .. i)
  end
  H.eq({}, H.notes_matching('cancel failed'), 'no cancel reported as failed')
  H.wait(5000, function()
    return #H.claude_pids() == 0
  end, 'no claude process left (still: ' .. vim.inspect(H.claude_pids()) .. ')')
end)
