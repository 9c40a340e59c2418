-- After Claude's edits, Neovim 0.7.2 buffers are in step with their files, as Neovim
-- itself sees it:
--   * a file without a final newline, written with 'fixeol' before the task, gets no
--     blank line from the bridge (its buffer "a\nb" holds the file "a\nb\n");
--   * an empty file (sent as "\n": one empty line, 'eol' set) and a file not created yet
--     take Claude's Write cleanly, without a false conflict;
--   * a buffer that equals its file after a carry is not 'modified', and neither :w nor
--     :checktime complains that the file changed since it was read (W12, "changed
--     since reading it"); one with unsaved changes merged in is written without a
--     question too.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/disk_sync', function()
  local ws = H.env.ws
  H.write(ws .. '/noeol.txt', 'a\nb')
  H.write(ws .. '/empty.txt', '')
  H.write(ws .. '/edit.txt', 'one\ntwo\nthree\nfour\n')
  H.setup()
  local bufs = {}
  for _, n in ipairs({ 'noeol.txt', 'empty.txt', 'new.txt', 'edit.txt' }) do
    vim.cmd('edit ' .. ws .. '/' .. n)
    bufs[n] = vim.api.nvim_get_current_buf()
  end
  H.wait_client(15000)
  vim.api.nvim_buf_call(bufs['noeol.txt'], function()
    vim.cmd('silent write')
  end)
  H.eq('a\nb\n', H.read(ws .. '/noeol.txt'), "noeol.txt as 'fixeol' wrote it")
  -- an unsaved line in edit.txt, away from Claude's edit
  vim.api.nvim_buf_set_lines(bufs['edit.txt'], -1, -1, false, { 'unsaved' })

  vim.cmd('Claude write the files')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status')
  local log = table.concat(require('claude_bridge.transcript').lines(task), '\n')
  H.not_contains(log, 'not applied', 'log')
  H.not_contains(log, 'unsaved changes', 'log')
  H.not_contains(log, 'noeol.txt changed on disk', 'log')
  H.contains(log, '· Applied to the open buffer: Claude: Write empty.txt', 'log')
  H.contains(log, '· Applied to the open buffer: Claude: Write new.txt', 'log')
  H.contains(log, '· Applied to the open buffer: Claude: Edit edit.txt', 'log')

  local function lines(n)
    return vim.api.nvim_buf_get_lines(bufs[n], 0, -1, false)
  end
  H.eq({ 'a', 'b' }, lines('noeol.txt'), 'noeol.txt buffer (no blank line)')
  H.eq({ 'x', 'y' }, lines('empty.txt'), 'empty.txt buffer')
  H.eq({ 'package main' }, lines('new.txt'), 'new.txt buffer')
  H.eq({ 'one', 'TWO', 'three', 'four', 'unsaved' }, lines('edit.txt'), 'edit.txt buffer')

  -- The buffers equal to their files are not modified, and Neovim took the files' new
  -- timestamps (the plugin does it after each carried edit, off the UI: wait for it).
  H.wait(5000, function()
    return not vim.bo[bufs['empty.txt']].modified and not vim.bo[bufs['new.txt']].modified
  end, 'carried buffers equal to their files to be unmodified')
  H.truthy(not vim.bo[bufs['noeol.txt']].modified, 'noeol.txt unmodified')
  H.truthy(vim.bo[bufs['edit.txt']].modified, 'edit.txt keeps its unsaved line')
  H.eq('', vim.fn.execute('checktime'), ':checktime says nothing')
  -- :w over their own files asks nothing (a question would fail in a headless Neovim).
  -- (edit.txt, with unsaved changes merged in, cannot be: Neovim 0.7.2 asks once, even
  -- for :w!, see lsp.lua sync_with_disk; it is written to another file.)
  for _, n in ipairs({ 'noeol.txt', 'empty.txt', 'new.txt' }) do
    vim.api.nvim_buf_call(bufs[n], function()
      H.log('writing', n, vim.inspect(vim.loop.fs_stat(ws .. '/' .. n).mtime):gsub('%s+', ' '))
      H.log('name', vim.api.nvim_buf_get_name(0), vim.fn.bufnr('%'), vim.inspect(vim.fn.getbufinfo(vim.fn.bufnr('%'))[1].changed))
      local ok, err = pcall(vim.cmd, 'silent write')
      H.truthy(ok, ':w of ' .. n .. ': ' .. tostring(err))
    end)
  end
  vim.api.nvim_buf_call(bufs['edit.txt'], function()
    vim.cmd('silent write ' .. H.env.tmp .. '/edit.out')
  end)
  H.eq('a\nb\n', H.read(ws .. '/noeol.txt'), 'noeol.txt written')
  H.eq('x\ny\n', H.read(ws .. '/empty.txt'), 'empty.txt written')
  H.eq('package main\n', H.read(ws .. '/new.txt'), 'new.txt written')
  H.eq('one\nTWO\nthree\nfour\nunsaved\n', H.read(H.env.tmp .. '/edit.out'), 'edit.txt written')
  -- undo history kept: Claude's edit is one undo step (the user's line stays), and a
  -- buffer read in again still undoes back to before the edit
  vim.api.nvim_buf_call(bufs['edit.txt'], function()
    vim.cmd('silent undo')
  end)
  H.eq({ 'one', 'two', 'three', 'four', 'unsaved' }, lines('edit.txt'), 'edit.txt after undo')
  vim.api.nvim_buf_call(bufs['empty.txt'], function()
    for _ = 1, 3 do
      if vim.deep_equal(vim.api.nvim_buf_get_lines(0, 0, -1, false), { '' }) then
        break
      end
      vim.cmd('silent undo')
    end
  end)
  H.eq({ '' }, lines('empty.txt'), 'empty.txt after undo')
end)
