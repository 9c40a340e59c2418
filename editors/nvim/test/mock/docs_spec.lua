-- The help file builds its tags with no duplicates, every command and option group has a
-- tag, and :help finds them.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/docs', function()
  local dir = H.env.tmp .. '/rtp'
  vim.fn.mkdir(dir .. '/doc', 'p')
  vim.fn.writefile(vim.fn.readfile(H.env.plugin .. '/doc/claude_bridge.txt'), dir .. '/doc/claude_bridge.txt')
  vim.opt.rtp:prepend(dir)
  vim.cmd('helptags ' .. dir .. '/doc') -- raises E154 on a duplicate tag
  local tags = H.read(dir .. '/doc/tags')
  for _, tag in ipairs({
    'claude-bridge', 'claude_bridge', ':Claude', ':ClaudeFollowUp', ':ClaudeCancel', ':ClaudeTasks',
    ':ClaudeLog', ':ClaudeAuth', 'claude-bridge-config', 'claude-bridge-permissions',
    'claude-bridge-health', 'claude-bridge-roots', 'claude_bridge.setup()', 'claude_bridge.status()',
    'claude-bridge-review', 'claude-bridge-after-turn', 'claude-bridge-before-write', ':ClaudeAccept',
    ':ClaudeRejectHunk', ':ClaudeChanges', ':ClaudeRevert', ':ClaudeAcceptChanges',
  }) do
    H.truthy(tags:find('^' .. vim.pesc(tag) .. '\t') or tags:find('\n' .. vim.pesc(tag) .. '\t'), 'help tag ' .. tag)
  end
  vim.cmd('help claude-bridge')
  H.eq('help', vim.bo.buftype, 'help buffer')
  H.contains(vim.api.nvim_buf_get_name(0), 'claude_bridge.txt')
  vim.cmd('help :ClaudeFollowUp')
  H.contains(vim.api.nvim_get_current_line(), '*:ClaudeFollowUp*')

  -- every user command the plugin defines is documented
  for name in pairs(vim.api.nvim_get_commands({})) do
    if name:match('^Claude') then
      H.truthy(tags:find('\n:' .. name .. '\t', 1, true) or tags:find('^:' .. name .. '\t'), 'doc for :' .. name)
    end
  end
end)
