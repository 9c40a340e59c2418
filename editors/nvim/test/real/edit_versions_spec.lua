-- Edits computed on a stale view of the buffer never land in the wrong place (Neovim
-- 0.7.2 with a long didChange debounce):
--   * the user types in a freshly opened buffer (version 0) just before Claude's first
--     edit arrives, within the debounce: Neovim's own handler would apply the edit
--     unchecked (it skips the version check for version 0) one line off;
--   * two edits in a row to one buffer while its didChange for the first is still
--     debounced: the second would be computed on stale text.
-- The plugin's workspace/applyEdit handler sends the pending didChange, refuses an edit
-- for another version, and sends the applied edit's didChange at once.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/edit_versions', function()
  local f, g = H.env.ws .. '/f.txt', H.env.ws .. '/g.txt'
  H.write(f, 'a\nb\nc\n')
  H.write(g, 'a\nb\nc\nd\ne\n')
  H.setup({ debounce_text_changes = 2500 })
  vim.cmd('edit ' .. g)
  local gbuf = vim.api.nvim_get_current_buf()
  vim.cmd('edit ' .. f)
  local fbuf = vim.api.nvim_get_current_buf()
  local client = H.wait_client(15000)

  -- The user types a line at the top of f.txt right before the first edit arrives.
  local handler = client.handlers['workspace/applyEdit']
  H.truthy(handler, "the plugin's applyEdit handler")
  local typed = false
  client.handlers['workspace/applyEdit'] = function(err, params, ctx, cfg)
    if not typed then
      typed = true
      vim.api.nvim_buf_set_lines(fbuf, 0, 0, false, { 'typed' })
    end
    return handler(err, params, ctx, cfg)
  end

  vim.cmd('Claude edit f.txt and g.txt')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status')

  H.eq('a\nB\nc\n', H.read(f), 'f.txt on disk')
  H.eq({ 'typed', 'a', 'B', 'c' }, vim.api.nvim_buf_get_lines(fbuf, 0, -1, false), 'f.txt buffer')
  H.eq(H.read(g), table.concat(vim.api.nvim_buf_get_lines(gbuf, 0, -1, false), '\n') .. '\n', 'g.txt buffer equals the disk')
  H.eq('a\nb1\nb2\nc\nd\nE\n', H.read(g), 'g.txt on disk')

  local log = table.concat(require('claude_bridge.transcript').lines(task), '\n')
  H.contains(log, '· Applied to the open buffer: Claude: Edit f.txt', 'log')
  H.not_contains(log, 'not applied', 'log')
  H.not_contains(log, 'did not report', 'log')
  H.not_contains(log, 'may not have reached', 'log')
  local n = select(2, log:gsub('Applied to the open buffer: Claude: Edit g.txt', ''))
  H.eq(2, n, 'both edits of g.txt reported applied')
  H.eq({}, H.notes_matching('not applied'), 'no conflict reported')
end)
