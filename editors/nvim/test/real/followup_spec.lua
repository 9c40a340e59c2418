-- (5) :ClaudeFollowUp continues the same session with the real bridge and claude CLI: the
-- follow-up reports the same session, and the stand-in's second request carries the
-- earlier turns (it is answered as turn 1: one assistant message before it).
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/followup', function()
  local tasks = require('claude_bridge.tasks')
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)

  vim.cmd('Claude remember the number 42')
  local first = tasks.last()
  H.wait_task(first, 60000)
  H.eq('completed', first.status, 'first task (result: ' .. tostring(first.result) .. ')')
  H.contains(first.result, 'First answer', 'first answer')
  H.truthy(first.session_id, 'first task has a session')

  vim.cmd('ClaudeFollowUp which number was it?')
  local follow = tasks.last()
  H.eq('followUp', follow.kind, 'follow-up record')
  H.wait_task(follow, 60000)
  H.eq('completed', follow.status, 'follow-up (result: ' .. tostring(follow.result) .. ')')
  H.contains(follow.result, 'Second answer', 'second answer')
  H.eq(first.session_id, follow.session_id, 'same session')
  H.truthy(follow.id ~= first.id, 'a new task id')
  H.truthy(tasks.get(follow.id) == follow, 'follow-up known by its one id ' .. follow.id)
  H.truthy(follow.id:match('^nvim%-'), 'named by this side (newTaskId)')
  local log = table.concat(require('claude_bridge.transcript').lines(follow), '\n')
  H.contains(log, 'Second answer: it is still 42.', 'follow-up log has its own text')
  H.not_contains(log, 'First answer', 'follow-up log has only its own events')

  local turns = H.api_turns()
  H.log('stand-in turns:', turns)
  H.eq({ 0, 1 }, turns, 'the second request carried the first exchange')
  local sessions = H.claude_sessions()
  H.contains(sessions, 'remember the number 42')
  H.contains(sessions, 'which number was it?')

  -- :ClaudeTasks lists both tasks by prompt, newest first; the first one's "Open log" opens it
  local listed, offered
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'claude_bridge_tasks' then
      listed = vim.tbl_map(opts.format_item, items)
      for _, it in ipairs(items) do
        if it.id == first.id then
          return on_choice(it)
        end
      end
      error('the first task is not in the list')
    end
    offered = vim.tbl_map(opts.format_item, items)
    on_choice(items[1]) -- "Open log"
  end
  vim.cmd('ClaudeTasks')
  H.wait(5000, function()
    return vim.api.nvim_buf_get_name(0):find('claude-bridge://log/' .. first.id, 1, true)
  end, "the first task's log from :ClaudeTasks")
  H.log('tasks listed:', listed)
  H.eq(2, #listed, 'two tasks listed')
  H.contains(listed[1], 'which number was it?', 'the follow-up first, by its prompt')
  H.contains(listed[2], 'completed just now   remember the number 42')
  H.eq({ 'Open log', 'Follow up…' }, offered, 'actions of a finished task')
  H.contains(vim.api.nvim_buf_get_lines(0, 0, -1, false), 'First answer: the number is 42.')
  vim.cmd('close')

  -- :ClaudeAuth shows the bridge's claude.authStatus in a float
  vim.cmd('ClaudeAuth')
  H.wait(5000, function()
    return vim.api.nvim_win_get_config(0).relative ~= ''
  end, 'the auth float')
  local auth = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.log('auth float:\n' .. table.concat(auth, '\n'))
  H.contains(auth, 'status: ok')
  H.contains(auth, 'source: keyFile')
  vim.cmd('close')
end)
