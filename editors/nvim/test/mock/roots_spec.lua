-- Workspace roots: one bridge per git root, buffers attached to the bridge of their root,
-- scratch buffers never attached, workspace_folders sharing one bridge, autostart = false,
-- save_before_run, and a clear error when the bridge is missing.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local function mock_log()
  local out = {}
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    table.insert(out, vim.json.decode(line))
  end
  return out
end

local function git_repo(dir)
  vim.fn.mkdir(dir .. '/.git', 'p')
  H.write(dir .. '/a.txt', 'alpha\n')
  return vim.loop.fs_realpath(dir)
end

local function attached_clients(buf)
  local out = {}
  for _, r in ipairs(H.clients()) do
    if vim.lsp.buf_is_attached(buf, r.client.id) then
      table.insert(out, r.group.key)
    end
  end
  return out
end

H.run('mock/roots', function()
  local tasks = require('claude_bridge.tasks')
  local one = git_repo(H.env.tmp .. '/one')
  local two = git_repo(H.env.tmp .. '/two')
  vim.fn.mkdir(one .. '/sub/dir', 'p')
  H.write(one .. '/sub/dir/b.txt', 'beta\n')

  -- the bridge missing: a command says what to do, nothing crashes
  H.setup({ cmd = { H.env.tmp .. '/nowhere/claude-bridge' } })
  vim.cmd('edit ' .. one .. '/a.txt')
  vim.cmd('Claude hello')
  local notes = H.notes_matching('cannot run')
  H.truthy(#notes >= 1, 'missing bridge reported')
  H.contains(notes[1].msg, 'go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest')
  H.contains(notes[1].msg, ':checkhealth claude_bridge')
  H.eq('failed', tasks.last().status, 'the task failed')
  vim.cmd('bwipeout!')

  -- per-root bridges
  H.setup()
  vim.cmd('edit ' .. one .. '/a.txt')
  local a = vim.api.nvim_get_current_buf()
  vim.cmd('edit ' .. one .. '/sub/dir/b.txt')
  local b = vim.api.nvim_get_current_buf()
  vim.cmd('edit ' .. two .. '/a.txt')
  local c = vim.api.nvim_get_current_buf()
  H.wait(5000, function()
    local n = 0
    for _, r in ipairs(H.clients()) do
      n = n + (r.group.ready and 1 or 0)
    end
    return n == 2
  end, 'two bridges')
  H.eq({ one }, attached_clients(a), 'a.txt attached to its root')
  H.eq({ one }, attached_clients(b), 'sub/dir/b.txt attached to the same root')
  H.eq({ two }, attached_clients(c), 'the other repository has its own bridge')
  vim.cmd('enew')
  vim.bo.buftype = 'nofile'
  H.eq({}, attached_clients(vim.api.nvim_get_current_buf()), 'a scratch buffer is not attached')

  -- a task from b.txt runs in its root
  vim.cmd('buffer ' .. b)
  vim.cmd('Claude where am I')
  local t = tasks.last()
  H.wait_task(t, 5000)
  H.eq(one, t.folder, 'task folder')

  -- save_before_run writes the modified buffers of the task's root only
  require('claude_bridge').setup({ cmd = H.bridge_cmd(), debounce_text_changes = 0, save_before_run = true })
  vim.api.nvim_buf_set_lines(a, 0, -1, false, { 'alpha changed' })
  vim.api.nvim_buf_set_lines(c, 0, -1, false, { 'other root changed' })
  vim.cmd('buffer ' .. a)
  vim.cmd('Claude save first')
  H.wait_task(tasks.last(), 5000)
  H.eq('alpha changed\n', H.read(one .. '/a.txt'), 'a.txt saved before the run')
  H.eq('alpha\n', H.read(two .. '/a.txt'), 'the other root untouched')
  H.truthy(vim.api.nvim_buf_get_option(c, 'modified'), 'the other root still modified')

  for _, r in ipairs(H.clients()) do
    require('claude_bridge.compat').client_call(r.client, 'stop')
  end
  H.wait(5000, function()
    return #H.clients() == 0
  end, 'bridges to stop')
  H.eq({}, H.notes_matching('exited (code'), 'a clean stop is not reported as a crash')

  -- workspace_folders: one bridge for both; autostart = false: it starts on the first command
  H.setup({ workspace_folders = { one, two }, autostart = false })
  vim.cmd('edit ' .. one .. '/sub/dir/b.txt')
  vim.wait(200)
  H.eq(0, #H.clients(), 'no bridge before a command')
  vim.cmd('buffer ' .. c)
  vim.cmd('Claude in the second folder')
  local mt = tasks.last()
  H.wait_task(mt, 5000)
  H.eq(1, #H.clients(), 'one bridge for both folders')
  H.eq(two, mt.folder, 'the task runs in the folder of the buffer')
  H.eq({ 'folders:' .. one }, attached_clients(c), 'buffer in the second folder attached')
  H.eq({ 'folders:' .. one }, attached_clients(b), 'loaded buffer in the first folder attached')
  local inits = {}
  for _, m in ipairs(mock_log()) do
    if m.method == 'initialize' then
      table.insert(inits, m.params)
    end
  end
  local last = inits[#inits]
  H.eq({ vim.uri_from_fname(one), vim.uri_from_fname(two) }, { last.workspaceFolders[1].uri, last.workspaceFolders[2].uri }, 'workspaceFolders')

  -- a task cancelled while its bridge is still starting is never sent
  for _, r in ipairs(H.clients()) do
    require('claude_bridge.compat').client_call(r.client, 'stop')
  end
  H.wait(5000, function()
    return #H.clients() == 0
  end, 'bridges to stop')
  H.setup({ cmd_env = { MOCK_INIT_DELAY_MS = '400' } })
  vim.cmd('buffer ' .. a)
  vim.cmd('Claude never sent')
  local early = tasks.last()
  vim.cmd('ClaudeCancel')
  H.eq('cancelled', early.status, 'cancelled at once')
  -- (a bound, not a pace: the mock starts node and loads the schema's validator)
  H.wait(10000, function()
    return H.clients()[1] and H.clients()[1].group.ready
  end, 'the slow bridge to start')
  vim.wait(200)
  local runs = 0
  for _, m in ipairs(mock_log()) do
    if m.method == 'workspace/executeCommand' and m.params.arguments[1].prompt == 'never sent' then
      runs = runs + 1
    end
  end
  H.eq(0, runs, 'claude.run not sent for the cancelled task')
end)
