-- setup() with no options: the bridge is `claude-bridge` from PATH, initializationOptions
-- holds only the plugin's one default bridge setting, review afterTurn (the bridge's own
-- defaults apply to the rest), and a task runs.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/defaults', function()
  local bin = H.env.tmp .. '/bin'
  vim.fn.mkdir(bin, 'p')
  H.write(bin .. '/claude-bridge', '#!/bin/sh\nexec node ' .. H.env.plugin .. '/test/mock/bridge.js "$@"\n')
  vim.fn.setfperm(bin .. '/claude-bridge', 'rwxr-xr-x')
  vim.env.PATH = bin .. ':' .. vim.env.PATH

  require('claude_bridge').setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()
  vim.cmd('Claude hello')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 5000)
  H.eq('completed', task.status, 'task')

  local init
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    if line:find('"method":"initialize"', 1, true) then
      init = line
    end
  end
  H.contains(init, '"initializationOptions":{"review":"afterTurn"}', 'the review setting alone')
end)
