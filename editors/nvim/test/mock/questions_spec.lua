-- claude's questions and plans as the mock bridge puts them (claude/ask, claude/plan, to a
-- plugin that declares experimental.claudeBridge.ask and .plan): the plugin replies
-- {"deferred": true}, asks through vim.ui.select, and answers with claude.answer. The mock
-- validates the replies and the claude.answer arguments against the protocol's schema (a
-- reply the schema refuses fails this spec: issue 12, AskResult required answers while the
-- plugin, as the README documents, replied {"deferred": true}).
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/questions', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  local pickers = {}
  -- A picker plugin: it calls back later, from the event loop; the first item each time
  -- (the first option of a question, "Approve, accept edits" for a plan).
  vim.ui.select = function(items, opts, on_choice)
    table.insert(pickers, { kind = opts.kind, prompt = opts.prompt, items = vim.tbl_map(opts.format_item or tostring, items) })
    vim.defer_fn(function()
      on_choice(items[1], 1)
    end, 30)
  end
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()

  vim.cmd('Claude ask me, then plan')
  local task = tasks.last()
  H.wait_task(task, 10000)
  H.eq('completed', task.status, 'task status')
  local log = table.concat(transcript.lines(task), '\n')
  H.contains(log, '? Claude asked (Color): Which color?')
  H.contains(log, '→ Blue')
  H.contains(log, '? Claude asked (Size): Which size?')
  H.contains(log, '→ Small')
  H.contains(log, '✓ approved, carried out in acceptEdits mode')
  H.eq({ 'claude_bridge_question', 'claude_bridge_question', 'claude_bridge_plan' }, vim.tbl_map(function(p)
    return p.kind
  end, pickers), 'two questions, then the plan')
  H.eq({ 'Blue — calm', 'Red' }, { pickers[1].items[1], pickers[1].items[2] }, 'an option without a description')

  -- What the plugin sent: {"deferred": true} in reply to both requests, then claude.answer.
  local replies, answers = {}, {}
  for line in (H.read(vim.env.CB_MOCK_LOG) or ''):gmatch('[^\n]+') do
    local m = vim.json.decode(line)
    if m.method == nil and m.result ~= nil and type(m.result) == 'table' then
      table.insert(replies, m.result)
    end
    if m.method == 'workspace/executeCommand' and m.params.command == 'claude.answer' then
      table.insert(answers, m.params.arguments[1])
    end
  end
  H.eq({ { deferred = true }, { deferred = true } }, vim.tbl_filter(function(r)
    return r.deferred ~= nil
  end, replies), 'both requests deferred')
  H.eq(2, #answers, 'two claude.answer commands')
  H.eq({ ['Which color?'] = 'Blue', ['Which size?'] = 'Small' }, answers[1].answers, 'the answers')
  H.eq({ decision = 'approve', permissionMode = 'acceptEdits' }, answers[2].plan, 'the plan approved')
end)
