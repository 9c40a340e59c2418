-- (2) A visual-range :Claude with the real bridge and claude CLI: the selection goes as
-- context and the prompt claude received carries the @path#Lx-y mention.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/context', function()
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)

  -- select lines 5 and 6 (the `func main() {` line and the Println) linewise
  vim.cmd('normal! 5GVj\27')
  vim.cmd("'<,'>Claude what do these lines do?")
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status (result: ' .. tostring(task.result) .. ')')
  H.contains(task.result, 'Lines 5 and 6', 'the answer')
  H.contains(table.concat(require('claude_bridge.transcript').lines(task), '\n'), 'Context: main.go#L5-6', 'log header')

  -- What claude received: the stand-in's request bodies when it can log them
  -- (--requests-log), else the CLI's own session transcript, which records the prompt it
  -- was given. Either must carry the mention the bridge made of the selection.
  local received = H.api_requests()
  local source = 'the stand-in request log'
  if not received:find('@main.go#L', 1, true) and not H.env.requests then
    received = H.claude_sessions()
    source = "claude's session transcript"
  end
  H.contains(received, 'what do these lines do?', source)
  H.contains(received, '@main.go#L5-6', source)
  H.log('the prompt with the mention was found in ' .. source)
end)
