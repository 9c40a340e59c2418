-- :Claude against the scripted bridge: what the plugin sends (initializationOptions in
-- camelCase, its own taskId and workDoneToken, the open buffer), progress through Neovim's
-- standard machinery, the edit in the open buffer next to unsaved text, the live log,
-- the statusline component, the notification, and didChangeConfiguration on a second setup().
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local function mock_log()
  local out = {}
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    table.insert(out, vim.json.decode(line))
  end
  return out
end

local function sent(method)
  local out = {}
  for _, m in ipairs(mock_log()) do
    if m.method == method then
      table.insert(out, m)
    end
  end
  return out
end

H.run('mock/run', function()
  local progress = H.record_progress()
  H.setup({ model = 'sonnet', allowed_tools = { 'Read', 'Edit' }, auth = { mode = 'helper', key_file = '~/.claude/api_key' } })

  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local buf = vim.api.nvim_get_current_buf()
  local client = H.wait_client()
  H.wait(3000, function()
    return #sent('textDocument/didOpen') > 0
  end, 'didOpen of main.go')

  local init = sent('initialize')[1].params
  H.eq({
    model = 'sonnet',
    allowedTools = { 'Read', 'Edit' },
    auth = { mode = 'helper', keyFile = '~/.claude/api_key' },
    review = 'afterTurn',
  }, init.initializationOptions, 'initializationOptions')
  H.eq(true, init.capabilities.experimental.claudeBridge.reviewEdit, 'the capability to review edits')
  H.eq(vim.uri_from_fname(H.env.ws), init.workspaceFolders[1].uri, 'workspace folder (git root)')
  H.truthy(init.capabilities.window.workDoneProgress, 'workDoneProgress capability')
  H.truthy(init.capabilities.workspace.applyEdit, 'applyEdit capability')
  H.truthy(init.capabilities.workspace.workspaceEdit.documentChanges, 'documentChanges capability (versioned edits)')

  -- an unsaved change the agent's edit must not lose
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '// unsaved note' })
  H.eq('', require('claude_bridge').status(), 'status while idle')

  vim.cmd('Claude please edit main.go')
  local task = require('claude_bridge.tasks').last()
  H.truthy(task and task.id:match('^nvim%-'), 'task with a plugin-chosen id')
  local saw_status = ''
  H.wait(5000, function()
    local s = require('claude_bridge').status()
    if s ~= '' then
      saw_status = s
    end
    return task.status == 'completed' and task.finished
  end, 'the task to complete')
  H.contains(saw_status, 'Claude', 'status() during the run')
  H.eq('', require('claude_bridge').status(), 'status after the run')

  local run = nil
  for _, m in ipairs(sent('workspace/executeCommand')) do
    if m.params.command == 'claude.run' then
      run = m.params
    end
  end
  H.eq(task.id, run.arguments[1].taskId, 'taskId sent in claude.run')
  H.eq('please edit main.go', run.arguments[1].prompt, 'prompt')
  H.eq(vim.uri_from_fname(H.env.ws), run.arguments[1].workspaceFolder, 'workspaceFolder')
  H.eq('claude-bridge/' .. task.id, run.workDoneToken, 'workDoneToken')
  -- the unsaved line reached the bridge before the run
  local changes = sent('textDocument/didChange')
  H.truthy(#changes > 0, 'didChange for the unsaved line')

  -- progress: begin and end on our token through the standard machinery
  local kinds = {}
  for _, p in ipairs(progress) do
    if p.token == run.workDoneToken then
      table.insert(kinds, p.kind)
    end
  end
  H.eq('begin', kinds[1], 'first progress kind')
  H.eq('end', kinds[#kinds], 'last progress kind')

  -- the edit is in the buffer, the unsaved note too, and the buffer is still modified
  local text = H.buf_text(buf)
  H.contains(text, '// edited by claude', 'buffer after the edit')
  H.contains(text, '// unsaved note', 'unsaved text kept')
  H.truthy(vim.api.nvim_buf_get_option(buf, 'modified'), 'buffer still modified (not reloaded)')

  -- notification
  H.eq(1, #H.notes_matching('Claude done'), 'one "Claude done" notification')

  -- the log
  vim.cmd('ClaudeLog')
  local log = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.contains(log, '# please edit main.go')
  H.contains(log, 'Working on it.\nSecond line.')
  H.contains(log, '▶ Edit main.go')
  H.contains(log, '◀ Edit ok')
  H.contains(log, '↻ Retry 1 of 10')
  H.contains(log, '✔ completed')
  H.contains(log, '1.5 s · 2 turns · $0.0123')
  H.contains(log, 'Edited: main.go')
  vim.cmd('close')

  -- setup() again: didChangeConfiguration with the new settings
  require('claude_bridge').setup({ cmd = H.bridge_cmd(), model = 'opus', permission_mode = 'default' })
  H.wait(3000, function()
    return #sent('workspace/didChangeConfiguration') > 0
  end, 'didChangeConfiguration')
  local want = { settings = { claudeBridge = { model = 'opus', permissionMode = 'default', review = 'afterTurn' } } }
  H.eq(want, sent('workspace/didChangeConfiguration')[1].params, 'didChangeConfiguration params')
  H.eq(1, #H.clients(), 'still one bridge client')
  H.truthy(client.id == H.clients()[1].client.id, 'same client after setup()')
end)
