-- Permission questions on Neovim 0.7 to 0.9 (the handler waits and reads keys; never
-- inputlist, never vim.ui.select): Allow, Deny, and <Esc> that is no answer; a follow-up
-- named by this side (newTaskId) and cancelled by that id; :ClaudeTasks and :ClaudeAuth.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/permissions', function()
  local tasks = require('claude_bridge.tasks')
  H.setup()
  vim.fn.inputlist = function()
    error('inputlist must not be used')
  end
  local key = 'a'
  local questions = H.answer_questions(function()
    return key
  end)

  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()

  vim.cmd('Claude run bash please')
  local t1 = tasks.last()
  H.wait_task(t1, 8000)
  H.eq(1, #questions, 'one question')
  H.eq('Claude wants to run Bash: `touch x.txt`', questions[1].message, 'question text')
  H.eq(t1.id, questions[1].task_id, 'the question names its task')
  H.eq('Bash', questions[1].tool, 'and its tool')
  H.eq({ 'Allow', 'Allow for this task', 'Deny' }, vim.tbl_map(function(a)
    return a.title
  end, questions[1].actions), 'actions')
  local log = table.concat(require('claude_bridge.transcript').lines(t1), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: allowed (by you)')
  H.contains(log, '◀ Bash ok')

  key = 'd'
  vim.cmd('Claude bash again')
  local t2 = tasks.last()
  H.wait_task(t2, 8000)
  log = table.concat(require('claude_bridge.transcript').lines(t2), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: denied (by you): The user denied Bash in the editor.')
  H.contains(log, '◀ Bash error')

  -- <Esc> is no answer: the question waits for the next key (f). (The handler holds
  -- Neovim meanwhile, on 0.7 to 0.9: the answer comes from keys pressed later.)
  key = { { 900, '<Esc>' }, { 1800, 'f' } }
  vim.cmd('Claude bash with escape first')
  local t3 = tasks.last()
  H.wait_task(t3, 8000)
  log = table.concat(require('claude_bridge.transcript').lines(t3), '\n')
  H.contains(log, 'allowed for this task (by you)', '<Esc> did not deny; f answered')

  -- a follow-up is named here (newTaskId), so its cancel goes by that id at once
  vim.cmd('ClaudeFollowUp slow follow-up')
  local fu = tasks.last()
  vim.cmd('ClaudeCancel')
  H.wait_task(fu, 5000)
  H.eq('cancelled', fu.status, 'follow-up cancelled')
  local sent
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    local m = vim.json.decode(line)
    if m.method == 'workspace/executeCommand' and m.params.command == 'claude.followUp' then
      sent = m.params.arguments[1]
    end
    if m.method == 'workspace/executeCommand' and m.params.command == 'claude.cancel' then
      H.eq(fu.id, m.params.arguments[1].taskId, 'cancelled by its id')
    end
  end
  H.eq(fu.id, sent.newTaskId, 'the follow-up carries its id')
  H.eq(fu, tasks.get(fu.id), 'one id everywhere')

  -- :ClaudeTasks: one picker of tasks (status, age, prompt), then the actions of the task
  local listed, offered
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'claude_bridge_tasks' then
      listed = vim.tbl_map(opts.format_item, items)
      on_choice(items[#items]) -- the oldest: "run bash please"
    else
      offered = vim.tbl_map(opts.format_item, items)
      on_choice(items[1])
    end
  end
  vim.cmd('ClaudeTasks')
  H.wait(3000, function()
    return offered ~= nil
  end, 'the task actions')
  H.eq(4, #listed, 'four tasks listed: ' .. vim.inspect(listed))
  H.contains(listed[1], 'cancelled', 'newest first')
  H.contains(listed[1], 'slow follow-up')
  H.truthy(listed[4]:match('^✔ completed +just now +run bash please$'), 'status, age, prompt: ' .. listed[4])
  H.eq({ 'Open log', 'Follow up…' }, offered, 'actions of a finished task')
  H.wait(2000, function()
    return vim.api.nvim_buf_get_name(0):match('claude%-bridge://log/')
  end, 'a log window')
  vim.cmd('close')

  -- :ClaudeAuth shows claude.authStatus in a float
  vim.cmd('ClaudeAuth')
  H.wait(3000, function()
    return vim.api.nvim_win_get_config(0).relative ~= ''
  end, 'the auth float')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.contains(lines, 'status: ok')
  H.contains(lines, 'source: keyFile')
  H.contains(lines, '  path: ' .. vim.env.HOME .. '/.claude/api_key')
  H.contains(lines, '  foundIn: PATH')
  vim.cmd('close')
end)
