-- A binary file a Bash command of the real claude CLI changed (review afterTurn, the
-- default), through the real bridge: :ClaudeChanges lists it as binary, and :ClaudeRevert
-- file with the cursor in it restores it whole on disk (before issue 13's fix it said
-- "nothing to revert"), leaving nothing to review.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local BIN = '\0\1\2\255\n'

H.run('real/binary_revert', function()
  local tasks = require('claude_bridge.tasks')
  local changes = require('claude_bridge.changes')
  local bin = H.env.ws .. '/x.bin'
  local f = assert(io.open(bin, 'wb'))
  f:write(BIN)
  f:close()
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)
  vim.cmd('Claude append a byte to x.bin')
  local t = tasks.last()
  H.wait_task(t, 60000)
  H.eq('completed', t.status, 'the task completed')
  H.eq(BIN .. '\7', H.read(bin), 'x.bin changed on disk')

  vim.cmd('edit ' .. bin)
  local shown
  require('claude_bridge').changes(t.id, function(c)
    shown = c
  end)
  H.wait(10000, function()
    return shown
  end, ':ClaudeChanges')
  H.eq(1, #shown.files, 'one file changed')
  H.eq(true, shown.files[1].binary, 'listed as binary')
  H.contains(vim.wo[changes.view.ckpt_win].statusline, ':ClaudeRevert file restores it whole', 'the hint')

  local res
  require('claude_bridge').revert('file', t.id, function(r)
    res = r
  end)
  H.wait(10000, function()
    return res
  end, 'the revert of x.bin')
  H.log('revert: ' .. vim.inspect(res))
  H.eq(true, res.files[1].restored, 'x.bin restored')
  H.eq(BIN, H.read(bin), 'x.bin as it was before the task')
  H.contains(H.notes[#H.notes].msg, 'Reverted: x.bin (restored)', 'the user is told')
  H.wait(10000, function()
    return #(changes.by_task[t.id].files or {}) == 0
  end, 'nothing left to review')
end)
