-- A file a task deleted, reviewed after its turn in Neovim 0.7.2 (real claude CLI, real
-- bridge): :ClaudeChanges shows it beside its checkpoint, which holds the file's lines and
-- nothing more (not the empty line of the empty buffer Neovim keeps for a file that is gone),
-- and :ClaudeRevert task brings it back.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.write(H.env.ws .. '/gone.txt', 'bye\n')

H.run('real/deleted', function()
  local tasks = require('claude_bridge.tasks')
  local changes = require('claude_bridge.changes')
  H.setup({ review = 'afterTurn' })
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)
  vim.cmd('Claude delete gone.txt')
  local t = tasks.last()
  H.answer_questions(function()
    return 'a'
  end, 100)
  H.wait_task(t, 60000)
  H.eq('completed', t.status, 'the task completed')
  H.eq(0, vim.fn.filereadable(H.env.ws .. '/gone.txt'), 'gone.txt deleted')
  local shown
  require('claude_bridge').changes(nil, function(c)
    shown = c
  end)
  H.wait(10000, function()
    return shown
  end, ':ClaudeChanges')
  H.eq(1, #vim.fn.getqflist(), 'one hunk: the deleted file')
  local v = changes.view
  local file_buf, ckpt_buf = vim.api.nvim_win_get_buf(v.file_win), vim.api.nvim_win_get_buf(v.ckpt_win)
  H.eq(H.env.ws .. '/gone.txt', vim.api.nvim_buf_get_name(file_buf), 'gone.txt in the file window')
  H.eq({ 'bye' }, vim.api.nvim_buf_get_lines(ckpt_buf, 0, -1, false), 'its checkpoint, its one line')
  local res
  require('claude_bridge').revert('task', t.id, function(r)
    res = r
  end)
  H.wait(10000, function()
    return res
  end, 'the revert of the task')
  H.eq('bye\n', H.read(H.env.ws .. '/gone.txt'), 'gone.txt back')
end)
