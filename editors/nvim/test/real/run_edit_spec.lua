-- (1) :Claude on a workspace with the real bridge and claude CLI: progress begins and
-- ends through Neovim's standard progress machinery, the open buffer shows the agent's
-- edit with no reload (and keeps an unsaved line), :ClaudeLog holds the transcript with
-- the text and the tool uses, the statusline component follows, a notification at the end.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/run_edit', function()
  local progress = H.record_progress()
  H.setup()

  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local buf = vim.api.nvim_get_current_buf()
  H.wait_client(15000)
  -- an unsaved line at the end, away from the line the agent edits
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '// unsaved note' })

  vim.cmd('Claude change the greeting to hello, claude')
  local task = require('claude_bridge.tasks').last()
  local statuses = {}
  H.wait(60000, function()
    local s = require('claude_bridge').status()
    if s ~= '' and statuses[#statuses] ~= s then
      table.insert(statuses, s)
    end
    return task.finished
  end, 'the task to end')
  H.log('statusline values:', statuses)
  H.eq('completed', task.status, 'task status (result: ' .. tostring(task.result) .. ')')
  H.contains(task.result, 'hello, claude', 'result text')
  H.truthy(#statuses > 0, 'status() showed the running task')
  H.eq('', require('claude_bridge').status(), 'status() after the end')

  -- progress through the standard machinery, on the token the plugin gave
  local mine = {}
  for _, p in ipairs(progress) do
    if p.token == task.token then
      table.insert(mine, p)
    end
  end
  H.log('progress:', mine)
  H.truthy(#mine >= 2, 'progress begin and end seen')
  H.eq('begin', mine[1].kind, 'first progress')
  H.eq('Claude', mine[1].title, 'progress title')
  H.eq('end', mine[#mine].kind, 'last progress')
  H.contains(mine[#mine].message, 'Done', 'end message')

  local done = H.notes_matching('Claude done')
  H.eq(1, #done, 'one notification')
  H.contains(done[1].msg, 'The greeting now says hello, claude.', 'the result in the notification')
  H.not_contains(done[1].msg, '\n', 'a one-line notification')

  vim.cmd('ClaudeLog')
  local log = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.log('log:\n' .. table.concat(log, '\n'))
  H.eq('claude-bridge://log/' .. task.id, vim.api.nvim_buf_get_name(0):match('claude%-bridge://.*'), 'log buffer name')
  H.contains(log, 'I will read main.go first.')
  H.contains(log, 'Now I change the greeting.')
  H.contains(log, '▶ Read')
  H.contains(log, '▶ Edit')
  H.contains(log, '◀ Edit ok')
  H.contains(log, 'The greeting now says hello, claude.')
  H.contains(log, '✔ completed')
  H.contains(log, ' turns · $', 'duration, turns, cost')
  H.contains(log, "    - fmt.Println(\"hello\")", "the edit as a diff")
  H.contains(log, "    + fmt.Println(\"hello, claude\")")

  -- the file on disk has the edit (claude wrote it) and not the unsaved line
  H.contains(H.read(H.env.ws .. '/main.go'), 'fmt.Println("hello, claude")', 'file on disk')
  H.not_contains(H.read(H.env.ws .. '/main.go'), 'unsaved note', 'file on disk')
  -- the buffer: the edit, the unsaved line, still modified (never reloaded)
  local text = H.buf_text(buf)
  H.contains(text, 'fmt.Println("hello, claude")', 'buffer shows the edit')
  H.contains(text, '// unsaved note', 'unsaved line kept')
  H.truthy(vim.bo[buf].modified, 'buffer still modified')
end)
