-- A file with a carriage return inside a line ("x\ry\nzed\n"). Measured on Neovim 0.7.2:
-- it opens with 'fileformat' unix as two lines, the first "x\ry" (LSP would count three),
-- and didChange positions count Neovim's lines. Claude's edit of "zed" lands on "zed",
-- and the user's own typing on the line after the "\r" is where the bridge thinks it is.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/lone_cr', function()
  local path = H.env.ws .. '/cr.txt'
  H.write(path, 'x\ry\nzed\nmid\nend\n')
  H.setup()
  vim.cmd('edit ' .. path)
  local buf = vim.api.nvim_get_current_buf()
  H.eq('unix', vim.bo[buf].fileformat, 'fileformat')
  H.eq({ 'x\ry', 'zed', 'mid', 'end' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'lines')
  H.wait_client(15000)
  -- typing at the end of the first line, after its "\r"
  vim.api.nvim_buf_set_text(buf, 0, 3, 0, 3, { '!' })

  vim.cmd('Claude edit cr.txt')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status')
  H.eq('x\ry\nzed\nmid\nEND\n', H.read(path), 'on disk')
  H.eq({ 'x\ry!', 'zed', 'mid', 'END' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'buffer')
  local log = table.concat(require('claude_bridge.transcript').lines(task), '\n')
  H.contains(log, '· Applied to the open buffer: Claude: Edit cr.txt', 'log')
  H.not_contains(log, 'not applied', 'log')
end)
