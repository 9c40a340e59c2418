-- A task's changes reviewed after its turn (review afterTurn, the default) from the real claude
-- CLI through the real bridge, in Neovim 0.7.2: the task edits main.go (two hunks) and writes
-- notes.md; its end says there are changes to review; :ClaudeChanges lists the three hunks in
-- the quickfix list and shows main.go beside its checkpoint (the file before the task); with
-- an unsaved line of the user's at the end of main.go, :ClaudeRevert file restores main.go on
-- disk and in the buffer and keeps the unsaved line; :ClaudeRevert task then deletes notes.md
-- and leaves nothing to review.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local ORIGINAL = H.read(H.env.ws .. '/main.go')
local CHANGED = 'package main\n\nimport (\n\t"fmt"\n)\n\nfunc main() {\n\tfmt.Println("hello, review")\n}\n'

H.run('real/changes', function()
  local tasks = require('claude_bridge.tasks')
  local changes = require('claude_bridge.changes')
  vim.o.columns = 160 -- room in the end message for what is left to review
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  H.wait_client(15000)
  vim.cmd('Claude change main.go and write notes')
  local t = tasks.last()
  H.wait_task(t, 60000)
  H.eq('completed', t.status, 'the task completed')
  H.eq(CHANGED, H.read(H.env.ws .. '/main.go'), 'main.go changed on disk')
  H.truthy(H.read(H.env.ws .. '/notes.md'), 'notes.md written')
  H.wait(5000, function()
    return H.buf_text(main) .. '\n' == CHANGED
  end, 'the change in the buffer')
  H.contains(H.notes_matching('Claude done')[1].msg, '2 files to review: :ClaudeChanges', 'the end message')

  -- An unsaved line of the user's, away from the task's changes.
  vim.api.nvim_buf_set_lines(main, -1, -1, false, { '// my unsaved note' })

  local shown
  require('claude_bridge').changes(nil, function(c)
    shown = c
  end)
  H.wait(10000, function()
    return shown
  end, ':ClaudeChanges')
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  H.log('quickfix: ' .. vim.inspect(vim.tbl_map(function(i)
    return vim.fn.bufname(i.bufnr) .. ':' .. i.lnum .. ': ' .. i.text
  end, qf.items)))
  H.eq(3, #qf.items, 'three hunks: two in main.go, one in notes.md')
  H.contains(qf.title, 'Claude changes: change main.go and write notes')
  local v = changes.view
  H.eq(main, vim.api.nvim_win_get_buf(v.file_win), 'main.go, the file under the cursor')
  local ckpt = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(v.ckpt_win), 0, -1, false), '\n')
  -- The checkpoint as the buffer would be without the task: the user's unsaved line on both
  -- sides, so the diff holds the task's changes alone.
  H.eq(ORIGINAL .. '// my unsaved note\n', ckpt .. '\n', 'beside its checkpoint')

  -- :ClaudeRevert (the hunk under the cursor) over an unsaved change of the user's to the
  -- same line: nothing of theirs is overwritten, and they are told why it was not reverted.
  local line = 'fmt.Println("hello, review")'
  local row
  for i, l in ipairs(vim.api.nvim_buf_get_lines(main, 0, -1, false)) do
    row = l:find(line, 1, true) and i or row
  end
  H.truthy(row, 'the greeting in the buffer')
  vim.api.nvim_buf_set_lines(main, row - 1, row, false, { '\tfmt.Println("hello, mine")' })
  vim.api.nvim_win_set_cursor(v.file_win, { row, 0 })
  local res
  require('claude_bridge').revert(nil, nil, function(r)
    res = r
  end)
  H.wait(10000, function()
    return res
  end, 'the revert of the hunk')
  H.log('revert: ' .. vim.inspect(res))
  H.eq({ 'f1h2' }, vim.tbl_map(function(n)
    return n.id
  end, res.files[1].notReverted), 'not reverted')
  local told = H.notes[#H.notes]
  H.eq(vim.log.levels.WARN, told.level, 'a warning')
  H.contains(told.msg, 'Not reverted: main.go f1h2: overlaps your unsaved changes')
  H.eq('\tfmt.Println("hello, mine")', vim.api.nvim_buf_get_lines(main, row - 1, row, false)[1], 'their line kept')
  H.eq(CHANGED, H.read(H.env.ws .. '/main.go'), 'nothing reverted on disk')
  vim.api.nvim_buf_set_lines(main, row - 1, row, false, { '\t' .. line })

  -- :ClaudeRevert file: main.go as before the task, the unsaved line kept.
  res = nil
  require('claude_bridge').revert('file', nil, function(r)
    res = r
  end)
  H.wait(10000, function()
    return res
  end, 'the revert of main.go')
  H.log('revert: ' .. vim.inspect(res))
  H.eq(ORIGINAL, H.read(H.env.ws .. '/main.go'), 'main.go restored on disk')
  H.wait(5000, function()
    return H.buf_text(main) .. '\n' == ORIGINAL .. '// my unsaved note\n'
  end, 'the buffer restored with the unsaved line kept:\n' .. H.buf_text(main))
  H.eq(true, vim.bo[main].modified, 'the unsaved line is still unsaved')
  H.contains(H.notes_matching('Reverted')[1].msg, 'main.go')
  H.wait(10000, function()
    return #vim.fn.getqflist() == 1
  end, 'the quickfix list down to notes.md')

  -- :ClaudeRevert task: notes.md, which the task created, is gone; nothing left to review.
  res = nil
  require('claude_bridge').revert('task', t.id, function(r)
    res = r
  end)
  H.wait(10000, function()
    return res
  end, 'the revert of the task')
  H.eq(0, vim.fn.filereadable(H.env.ws .. '/notes.md'), 'notes.md deleted')
  H.wait(10000, function()
    return #vim.fn.getqflist() == 0 and changes.view == nil
  end, 'nothing left to review, the changes tab closed')
  H.eq(nil, changes.pending_text(t), 'no changes to review')
end)
