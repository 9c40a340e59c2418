-- The conversation beyond a prompt, the plugin's side against the mock bridge: the
-- diagnostics of the selection and the open files (:Claude!) go with a run, an @path image
-- goes as an image, claude's slash commands complete in :Claude, a running task takes a
-- message (:ClaudeSend), a mode (:ClaudeMode), a model (:ClaudeModel) and an interrupt
-- (:ClaudeInterrupt), and :ClaudeSessions follows up or opens a past conversation.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local sent = H.mock_sent

H.run('mock/conversation', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  vim.cmd('edit ' .. H.env.ws .. '/README.md')
  vim.cmd('buffer ' .. main)
  H.wait_client()

  -- Diagnostics of the selected lines, open files, an image.
  local ns = vim.api.nvim_create_namespace('spec')
  vim.diagnostic.set(ns, main, {
    { lnum = 5, col = 1, end_lnum = 5, end_col = 4, severity = vim.diagnostic.severity.ERROR, message = 'undefined: fmt', source = 'compiler', code = 'E1' },
    { lnum = 0, col = 0, severity = vim.diagnostic.severity.WARN, message = 'outside the selection' },
  })
  local png = H.env.tmp .. '/shot.png'
  H.write(png, '\137PNG\r\n\26\n')
  vim.cmd('5,6Claude! why does @' .. png .. ' fail here')
  local t = tasks.last()
  H.wait_task(t, 5000)
  local run = sent('claude.run')[1]
  H.eq('why does ' .. png .. ' fail here', run.prompt, 'the prompt without the @ of the image')
  H.eq({ { uri = vim.uri_from_fname(png) } }, run.images, 'the image')
  H.eq(1, #run.context[1].diagnostics, 'only the diagnostics of the selection')
  local d = run.context[1].diagnostics[1]
  H.eq({ 'undefined: fmt', 1, 'compiler', 'E1', 5, 1 }, { d.message, d.severity, d.source, d.code, d.range.start.line, d.range.start.character }, 'the diagnostic')
  table.sort(run.openFiles)
  H.eq({ vim.uri_from_fname(H.env.ws .. '/README.md'), vim.uri_from_fname(H.env.ws .. '/main.go') }, run.openFiles, ':Claude! sends the open files')
  vim.cmd('Claude no bang')
  H.wait_task(tasks.last(), 5000)
  H.eq(nil, sent('claude.run')[2].openFiles, 'no open files without the bang')

  -- Slash commands complete at the start of the prompt (fetched in the background first).
  H.wait(3000, function()
    return #vim.fn.getcompletion('Claude /c', 'cmdline') > 0
  end, 'slash commands to complete')
  H.eq({ '/compact', '/context' }, vim.fn.getcompletion('Claude /c', 'cmdline'), 'completion')
  H.eq({}, vim.fn.getcompletion('Claude explain /c', 'cmdline'), 'only the first word')
  H.eq({ 'sonnet' }, vim.fn.getcompletion('ClaudeModel s', 'cmdline'), 'models complete')

  -- The list follows the command files: a command added in a subfolder is never missing
  -- from an old list, and neither is the change of one edited in place (it is asked for
  -- again), without waiting for anything else to happen.
  local function asked()
    return #sent('claude.commands')
  end
  local before = asked()
  vim.fn.mkdir(H.env.ws .. '/.claude/commands/sub', 'p')
  H.write(H.env.ws .. '/.claude/commands/sub/gamma.md', 'Gamma\n')
  H.eq({}, vim.fn.getcompletion('Claude /s', 'cmdline'), 'no old list once the files changed')
  H.wait(3000, function()
    return #vim.fn.getcompletion('Claude /s', 'cmdline') > 0
  end, 'the new command to complete')
  H.eq({ '/sub:gamma' }, vim.fn.getcompletion('Claude /s', 'cmdline'), 'a nested command')
  H.eq(before + 1, asked(), 'asked again once')
  H.eq({ '/compact', '/context' }, vim.fn.getcompletion('Claude /c', 'cmdline'), 'no new request while the files stay')
  H.eq(before + 1, asked(), 'the fresh list served from the cache')
  vim.loop.sleep(10) -- a modification time of its own
  H.write(H.env.ws .. '/.claude/commands/sub/gamma.md', 'Gamma, edited\n')
  H.eq({}, vim.fn.getcompletion('Claude /s', 'cmdline'), 'an edit in place: asked again')
  H.wait(3000, function()
    return asked() == before + 2 and #vim.fn.getcompletion('Claude /s', 'cmdline') > 0
  end, 'the list after the edit')
  H.eq('Gamma, edited', require('claude_bridge.conversation').fresh_commands(H.env.ws).commands[4].description, 'the new description')

  -- Steering a running task.
  vim.cmd('Claude slow job')
  local slow = tasks.last()
  H.wait(3000, function()
    return slow.status == 'running'
  end, 'the slow task to run')
  vim.cmd('ClaudeSend also mention the year')
  vim.cmd('ClaudeMode default')
  vim.cmd('ClaudeModel sonnet')
  H.wait(3000, function()
    return #sent('claude.setModel') == 1 and slow.model == 'claude-sonnet-5-5'
  end, 'the model to change')
  H.eq({ taskId = slow.id, prompt = 'also mention the year' }, sent('claude.send')[1], 'claude.send')
  H.eq({ taskId = slow.id, mode = 'default' }, sent('claude.setPermissionMode')[1], 'claude.setPermissionMode')
  H.eq('default', slow.permission_mode, 'the mode the task runs in')
  vim.cmd('ClaudeInterrupt')
  H.wait_task(slow, 5000)
  H.eq('interrupted', slow.status, 'interrupted')
  local log = table.concat(transcript.lines(slow), '\n')
  H.contains(log, '» also mention the year')
  H.contains(log, '· Mode: default')
  H.contains(log, '⏸ interrupted')
  H.contains(H.notes_matching('Claude interrupted')[1].msg, 'slow job', 'the end message')

  -- :ClaudeSessions: follow up a past conversation, then open its transcript.
  local picks = { 'Greeting investigation · 3 turns · 2 h ago', 'Follow up…', 'Greeting investigation · 3 turns · 2 h ago', 'Open transcript' }
  vim.ui.select = function(items, opts, on_choice)
    local want = table.remove(picks, 1)
    for i, it in ipairs(items) do
      if (opts.format_item and opts.format_item(it) or it) == want then
        return on_choice(it, i)
      end
    end
    error('no item ' .. tostring(want))
  end
  vim.ui.input = function(_, on_confirm)
    on_confirm('go on please')
  end
  vim.cmd('ClaudeSessions')
  H.wait(3000, function()
    return #sent('claude.followUp') == 1
  end, 'the follow-up of the session')
  local fu = sent('claude.followUp')[1]
  H.eq({ 'term-1', vim.uri_from_fname(H.env.ws), 'go on please' }, { fu.sessionId, fu.workspaceFolder, fu.prompt }, 'claude.followUp')
  H.wait_task(tasks.last(), 5000)
  vim.cmd('ClaudeSessions')
  H.wait(3000, function()
    return vim.api.nvim_buf_get_name(0):find('claude%-bridge://log/session%-term%-1') ~= nil
  end, 'the transcript to open')
  local text = H.buf_text(0)
  H.contains(text, '» Explain the greeting')
  H.contains(text, 'It prints hello.')
end)
