-- Files as Windows tools write them, edited by the real claude CLI while open in Neovim:
-- a CRLF file ('fileformat' dos, with an unsaved line) and a UTF-8 file with a byte-order
-- mark ('bomb'). Both get the agent's edit cleanly (no conflict), keep their format, and
-- writing them puts CRLF and the BOM back with nothing lost.
--
-- Measured on Neovim 0.7.2: a dos buffer sends its didOpen and didChange text with
-- "\r\n"; a BOM sets 'bomb' and is not in the text.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local BOM = '\239\187\191'

H.run('real/line_endings', function()
  local win_path, bom_path = H.env.ws .. '/win.txt', H.env.ws .. '/bom.txt'
  H.write(win_path, 'first\r\nsecond\r\nthird\r\nfourth\r\n')
  H.write(bom_path, BOM .. 'x = 1\ny = 2\n')
  H.setup()

  vim.cmd('edit ' .. win_path)
  local win = vim.api.nvim_get_current_buf()
  H.eq('dos', vim.bo[win].fileformat, 'win.txt fileformat')
  H.wait_client(15000)
  -- an unsaved line at the end, away from the agent's edit
  vim.api.nvim_buf_set_lines(win, -1, -1, false, { 'unsaved' })
  vim.cmd('edit ' .. bom_path)
  local bom = vim.api.nvim_get_current_buf()
  H.truthy(vim.bo[bom].bomb, "bom.txt has 'bomb'")

  vim.cmd('Claude edit win.txt and bom.txt')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status (result: ' .. tostring(task.result) .. ')')

  -- claude kept CRLF and the BOM on disk
  H.eq('first\r\nSECOND\r\nadded\r\nthird\r\nfourth\r\n', H.read(win_path), 'win.txt on disk')
  H.eq(BOM .. 'x = 2\ny = 2\n', H.read(bom_path), 'bom.txt on disk')

  -- the buffers have the edits (and the unsaved line), in their own format
  H.eq({ 'first', 'SECOND', 'added', 'third', 'fourth', 'unsaved' }, vim.api.nvim_buf_get_lines(win, 0, -1, false), 'win.txt buffer')
  H.eq({ 'x = 2', 'y = 2' }, vim.api.nvim_buf_get_lines(bom, 0, -1, false), 'bom.txt buffer')
  H.eq('dos', vim.bo[win].fileformat, 'win.txt still dos')
  H.truthy(vim.bo[bom].bomb, "bom.txt still has 'bomb'")

  local log = table.concat(require('claude_bridge.transcript').lines(task), '\n')
  -- Applied by the tool's result ("Edit win.txt") or, when the bridge's watcher saw the
  -- write first, as a change on disk: the same edit either way (the order is a race, seen
  -- on a busy machine with the bridge of before issue 13 as well).
  for _, name in ipairs({ 'win.txt', 'bom.txt' }) do
    local by_tool = log:find('· Applied to the open buffer: Claude: Edit ' .. name, 1, true)
    local by_watcher = log:find('· Applied to the open buffer: Claude: ' .. name .. ' changed on disk', 1, true)
    H.truthy(by_tool or by_watcher, 'the edit of ' .. name .. ' applied to its buffer, in the log:\n' .. log)
  end
  H.not_contains(log, 'not applied', 'log')
  H.eq({}, H.notes_matching('not applied'), 'no conflict reported')

  -- writing them puts back CRLF and the BOM, with the agent's edits and the unsaved
  -- line. (Written to other files: over their own, Neovim asks whether to overwrite a
  -- file changed since it read it, which a headless Neovim cannot answer.)
  vim.api.nvim_buf_call(win, function()
    vim.cmd('silent write ' .. H.env.tmp .. '/win.out')
  end)
  vim.api.nvim_buf_call(bom, function()
    vim.cmd('silent write ' .. H.env.tmp .. '/bom.out')
  end)
  H.eq('first\r\nSECOND\r\nadded\r\nthird\r\nfourth\r\nunsaved\r\n', H.read(H.env.tmp .. '/win.out'), 'win.txt written')
  H.eq(BOM .. 'x = 2\ny = 2\n', H.read(H.env.tmp .. '/bom.out'), 'bom.txt written')
end)
