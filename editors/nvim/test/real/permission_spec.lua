-- (3) A Bash permission question from the real claude CLI, through the bridge, answered
-- with a key as on Neovim 0.7 to 0.9 (a: Allow, d: Deny): Allow in one run, Deny in another; the outcome is in the log and on
-- disk. The permission mode is switched to `default` by calling setup() again after the
-- bridge started (workspace/didChangeConfiguration), and the task reports that mode.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/permission', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  vim.fn.inputlist = function()
    error('inputlist must never be used for permission questions')
  end
  local key
  local asked = H.answer_questions(function()
    return key
  end)

  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)
  H.setup({ permission_mode = 'default' })

  local marker = H.env.ws .. '/bash-ran.txt'

  key = 'a'
  vim.cmd('Claude record the run in a file')
  local allowed = tasks.last()
  H.wait_task(allowed, 60000)
  local log = table.concat(transcript.lines(allowed), '\n')
  H.log('allowed run:\n' .. log)
  H.eq('completed', allowed.status, 'allowed run status')
  H.eq(1, #asked, 'one question in the allowed run')
  H.eq('Claude wants to run Bash: `echo ran > bash-ran.txt`', asked[1].message, 'question names the tool and command')
  H.eq(allowed.id, asked[1].task_id, 'the question names its task')
  H.eq('Bash', asked[1].tool, 'and its tool')
  H.contains(log, 'permission mode default', 'the new permission mode reached the bridge')
  H.contains(log, '? Permission for Bash', 'permission line')
  H.contains(log, 'allowed (by you)', 'permission answer')
  H.contains(log, '◀ Bash ok', 'tool result')
  H.truthy(vim.loop.fs_stat(marker), 'the command ran')
  os.remove(marker)

  key = 'd'
  vim.cmd('Claude record the run in a file')
  local denied = tasks.last()
  H.wait_task(denied, 60000)
  log = table.concat(transcript.lines(denied), '\n')
  H.log('denied run:\n' .. log)
  H.eq(2, #asked, 'one question in the denied run')
  H.contains(log, 'denied (by you)', 'permission answer')
  H.contains(log, '◀ Bash error', 'tool result is an error')
  H.eq(nil, vim.loop.fs_stat(marker), 'the command did not run')
end)
