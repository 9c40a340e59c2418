-- An agent edit that overlaps unsaved changes: the bridge leaves the buffer untouched and
-- says so (window/showMessage and claude/editConflict); the plugin notes it in the log.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/conflict', function()
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local buf = vim.api.nvim_get_current_buf()
  H.wait_client(15000)
  -- the user rewrote the very line the agent will edit, and did not save
  vim.api.nvim_buf_set_lines(buf, 5, 6, false, { '\tfmt.Println("mine")' })

  vim.cmd('Claude change the greeting to hello, claude')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status')
  H.contains(H.read(H.env.ws .. '/main.go'), 'fmt.Println("hello, claude")', 'claude edited the file on disk')

  local text = H.buf_text(buf)
  H.contains(text, 'fmt.Println("mine")', 'the unsaved line is kept')
  H.not_contains(text, 'hello, claude', 'the overlapping edit is not applied')
  H.truthy(vim.bo[buf].modified, 'buffer still modified')

  -- the bridge's window/showMessage tells the user; the plugin does not repeat it
  H.eq({}, H.notes_matching('Claude edit not applied'), 'no second warning from the plugin')
  H.contains(table.concat(require('claude_bridge.transcript').lines(task), '\n'), '! Claude edit not applied to main.go: Claude changed main.go', 'log')
end)
