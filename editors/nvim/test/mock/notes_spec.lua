-- What the bridge says beyond the hunks, against the scripted bridge: a task's changes
-- with a hunk another task shares (its note) and a file whose permissions alone changed
-- (the file's note) show both in the quickfix list (issue 13: a chmod is a change, and a
-- revert leaves what may be another task's); a review whose notice says the buffer's
-- unsaved changes overlap Claude's tells the user with a warning as its tab opens.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/notes', function()
  local tasks = require('claude_bridge.tasks')
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()
  vim.cmd('Claude change noted')
  local t = tasks.last()
  H.wait_task(t, 5000)
  local shown
  require('claude_bridge').changes(t.id, function(c)
    shown = c
  end)
  H.wait(3000, function()
    return shown
  end, 'the changes shown')
  local texts = vim.tbl_map(function(i)
    return vim.fn.bufname(i.bufnr):match('[^/]*$') .. ': ' .. i.text
  end, vim.fn.getqflist())
  H.log('quickfix: ' .. vim.inspect(texts))
  H.contains(texts[1], "README.md: f1h1 −1 +1  # busy demo  [not this task’s alone: task t9 changed these lines too")
  H.eq('run.sh: (reverted whole): permissions 0644 → 0755', texts[4], 'the chmod alone')
  vim.cmd('tabonly')

  require('claude_bridge').setup({ cmd = H.bridge_cmd(), debounce_text_changes = 0, review = 'beforeWrite' })
  vim.cmd('Claude review noticed')
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end, 'the review tab')
  local warned = H.notes_matching('overlap the lines Claude changes')[1]
  H.truthy(warned, 'the notice is told')
  H.eq(vim.log.levels.WARN, warned.level, 'as a warning')
end)
