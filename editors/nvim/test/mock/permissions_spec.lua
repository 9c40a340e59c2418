-- Permission questions go through vim.ui.select (never inputlist): Allow, then Deny; an
-- asynchronous vim.ui.select that answers later is waited for; cancel of a follow-up the
-- bridge has not named yet goes by its progress token; :ClaudeTasks and :ClaudeAuth.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/permissions', function()
  local tasks = require('claude_bridge.tasks')
  H.setup()
  vim.fn.inputlist = function()
    error('inputlist must not be used')
  end

  local asked = {}
  local pick = 'Allow'
  local async = false
  vim.ui.select = function(items, opts, on_choice)
    local titles = {}
    for _, it in ipairs(items) do
      table.insert(titles, opts.format_item and opts.format_item(it) or tostring(it))
    end
    table.insert(asked, { prompt = opts.prompt, items = titles, kind = opts.kind })
    local choice
    for _, it in ipairs(items) do
      if (type(it) == 'table' and it.title or it) == pick then
        choice = it
      end
    end
    if async then
      vim.defer_fn(function()
        on_choice(choice)
      end, 200)
    else
      on_choice(choice)
    end
  end

  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()
  H.log('client ready')

  vim.cmd('Claude run bash please')
  local t1 = tasks.last()
  H.wait_task(t1, 5000)
  H.eq(1, #asked, 'one question')
  H.eq('Claude wants to run Bash: touch x.txt', asked[1].prompt, 'question text')
  H.eq({ 'Allow', 'Allow for this task', 'Deny' }, asked[1].items, 'actions')
  H.eq('claude_bridge_permission', asked[1].kind, 'select kind')
  local log = table.concat(require('claude_bridge.transcript').lines(t1), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: allowed (by you)')
  H.contains(log, '◀ Bash ok')

  pick = 'Deny'
  vim.cmd('Claude bash again')
  local t2 = tasks.last()
  H.wait_task(t2, 5000)
  log = table.concat(require('claude_bridge.transcript').lines(t2), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: denied (by you): denied by the user')
  H.contains(log, '◀ Bash error')

  -- a picker that answers later (like telescope or dressing)
  pick = 'Allow for this task'
  async = true
  vim.cmd('Claude bash with an async picker')
  local t3 = tasks.last()
  H.wait_task(t3, 5000)
  log = table.concat(require('claude_bridge.transcript').lines(t3), '\n')
  H.contains(log, 'allowed for this task (by you)')

  -- a picker that is dismissed: null, i.e. Deny
  pick = 'nothing'
  async = false
  vim.cmd('Claude bash dismissed')
  local t4 = tasks.last()
  H.wait_task(t4, 5000)
  H.contains(table.concat(require('claude_bridge.transcript').lines(t4), '\n'), 'denied (by you)')

  -- cancel a follow-up before the bridge named it: by progress token
  vim.cmd('ClaudeFollowUp slow follow-up')
  local fu = tasks.last()
  H.eq(nil, fu.local_id, 'follow-up not named yet')
  vim.cmd('ClaudeCancel')
  H.wait_task(fu, 5000)
  H.eq('cancelled', fu.status, 'follow-up cancelled')
  local cancels = 0
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    local m = vim.json.decode(line)
    if m.method == 'window/workDoneProgress/cancel' then
      cancels = cancels + 1
      H.eq(fu.token, m.params.token, 'cancel token')
    end
  end
  H.eq(1, #(cancels == 1 and { 1 } or {}), 'one workDoneProgress/cancel')

  -- :ClaudeTasks lists the bridge's tasks; picking one and "Open log" opens it
  local listed
  pick = nil
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'claude_bridge_tasks' then
      listed = {}
      for _, it in ipairs(items) do
        table.insert(listed, opts.format_item(it))
      end
      on_choice(items[#items])
    else
      on_choice(items[1])
    end
  end
  vim.cmd('ClaudeTasks')
  H.wait(3000, function()
    return listed ~= nil
  end, 'the task list')
  H.eq(5, #listed, 'five tasks listed')
  H.contains(listed, 'completed')
  H.contains(listed, 'cancelled')
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
  H.contains(lines, '  path: /tmp/helper.sh')
  vim.cmd('close')
end)
