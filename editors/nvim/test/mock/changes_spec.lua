-- A task's changes reviewed after its turn (review afterTurn, the default) against the
-- scripted bridge: the end message and the log say what changed; :ClaudeChanges fills the
-- quickfix list with the hunks and opens the file beside its checkpoint in diff mode (the
-- checkpoint follows the quickfix list to the next file); :ClaudeRevert hunk (the
-- quickfix entry's, or the hunk under the cursor), file and task send claude.revert with
-- what they name, and what could not be reverted is told with its reason; :ClaudeTasks
-- offers the review; :ClaudeAcceptChanges sends claude.accept.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local sent = H.mock_sent

H.run('mock/changes', function()
  local tasks = require('claude_bridge.tasks')
  local changes = require('claude_bridge.changes')
  vim.o.columns = 160 -- room in the end message for what is left to review
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  H.wait_client()
  vim.cmd('Claude change two files')
  local t = tasks.last()
  H.wait_task(t, 5000)
  H.eq('afterTurn', sent('claude.run')[1].review, 'review afterTurn by default, per task')
  H.contains(H.notes[#H.notes].msg, '2 files to review: :ClaudeChanges', 'the end message says so')
  H.contains(table.concat(require('claude_bridge.transcript').lines(t), '\n'),
    '± Changed: README.md (1 hunk), main.go (2 hunks) · :ClaudeChanges to review')
  vim.cmd('checktime')

  -- :ClaudeChanges: the hunks in the quickfix list, main.go (the current file) beside its
  -- checkpoint.
  local shown
  require('claude_bridge').changes(nil, function(c)
    shown = c
  end)
  H.wait(3000, function()
    return shown
  end, 'the changes shown')
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  H.eq('Claude changes: change two files', qf.title, 'the quickfix title')
  H.eq(3, #qf.items, 'one entry a hunk')
  H.eq('f1h1 −1 +1  # busy demo', qf.items[1].text, 'a hunk as an entry')
  H.eq('f2h2 −1 +1  fmt.Println("changed")', qf.items[3].text)
  H.eq(6, qf.items[3].lnum, 'at its line')
  local v = changes.view
  H.eq(2, #vim.api.nvim_list_tabpages(), 'a tab of its own')
  H.eq(main, vim.api.nvim_win_get_buf(v.file_win), 'the file under the cursor')
  H.eq(v.file_win, vim.api.nvim_get_current_win(), 'the cursor in the file')
  local ckpt = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(v.ckpt_win), 0, -1, false)
  H.eq('import "fmt"', ckpt[3], 'the checkpoint before the task')
  H.eq('\tfmt.Println("hello")', ckpt[6])
  H.eq(true, vim.wo[v.ckpt_win].diff and vim.wo[v.file_win].diff, 'in diff mode')
  H.eq(3, vim.api.nvim_win_get_cursor(v.file_win)[1], 'at the first hunk')

  -- :ClaudeRevert (hunk) under the cursor in the file: f2h1.
  local res
  require('claude_bridge').revert(nil, nil, function(r)
    res = r
  end)
  H.wait(3000, function()
    return res
  end, 'the revert')
  H.eq({ taskId = t.id, uri = vim.uri_from_fname(H.env.ws .. '/main.go'), hunks = { 'f2h1' } }, sent('claude.revert')[1])
  H.contains(H.notes[#H.notes].msg, 'Reverted: main.go (1 hunk)')
  H.wait(3000, function()
    return #vim.fn.getqflist() == 2
  end, 'the quickfix list refreshed')

  -- The quickfix list opens README.md: the checkpoint follows it.
  vim.cmd('cfirst')
  H.wait(3000, function()
    return changes.view.path == H.env.ws .. '/README.md'
  end, 'the checkpoint of README.md')
  H.eq('# demo', vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(v.ckpt_win), 0, 1, false)[1])
  H.eq(H.env.ws .. '/README.md', vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(v.file_win)))

  -- :ClaudeRevert file from the quickfix window: README.md's hunk overlaps unsaved
  -- changes, and the user is told why it was not reverted.
  vim.cmd('copen')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  res = nil
  require('claude_bridge').revert('file', nil, function(r)
    res = r
  end)
  H.wait(3000, function()
    return res
  end, 'the file revert')
  H.eq({ taskId = t.id, uri = vim.uri_from_fname(H.env.ws .. '/README.md') }, sent('claude.revert')[2])
  local msg = H.notes[#H.notes]
  H.eq(vim.log.levels.WARN, msg.level, 'a warning')
  H.contains(msg.msg, 'Not reverted: README.md f1h1: overlaps your unsaved changes (line 4 of your buffer)')

  -- :ClaudeTasks marks the task and offers the review.
  local listed, offered
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'claude_bridge_tasks' then
      listed = vim.tbl_map(opts.format_item, items)
      on_choice(nil)
    end
  end
  require('claude_bridge').tasks()
  H.wait(3000, function()
    return listed
  end, 'the task list')
  H.contains(listed[1], '(± 2 files to review)')
  vim.ui.select = function(items, opts)
    offered = vim.tbl_map(opts.format_item, items)
  end
  require('claude_bridge.commands').task_menu(t)
  H.contains(table.concat(offered, '\n'), 'Review its changes (:ClaudeChanges)\nRevert all its changes\nAccept all its changes')

  -- :ClaudeAcceptChanges keeps the rest.
  local acc
  require('claude_bridge').accept_changes(nil, t.id, function(r)
    acc = r
  end)
  H.wait(3000, function()
    return acc
  end, 'the accept')
  H.eq({ taskId = t.id }, sent('claude.accept')[1], 'claude.accept for the whole task')
  H.contains(H.notes[#H.notes].msg, "Kept Claude's changes to README.md, main.go")
  H.wait(3000, function()
    return changes.view == nil and #vim.api.nvim_list_tabpages() == 1
  end, 'the changes tab closed: nothing left')
  H.eq(nil, changes.pending_text(t), 'nothing to review')
end)
