-- claude's questions (its AskUserQuestion tool) from the real claude CLI, through the
-- bridge's claude/ask, answered in Neovim 0.7.2 through vim.ui.select as a picker plugin
-- does it (asynchronously: a handler that waited would never see its keys), with "Other"
-- through vim.ui.input, and a multiple choice toggled until Done. The answers reach the
-- Messages API (the stand-in's request log) and the log shows them.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/ask', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  vim.fn.inputlist = function()
    error('inputlist must never be used for questions')
  end
  local pickers = {}
  -- A picker plugin: it shows the items and calls back later, from the event loop.
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, it in ipairs(items) do
      table.insert(shown, opts.format_item and opts.format_item(it) or tostring(it))
    end
    table.insert(pickers, { prompt = opts.prompt, kind = opts.kind, items = shown })
    local want
    if opts.prompt:find('Which color', 1, true) then
      want = 'Other… (type your own answer)'
    elseif opts.prompt:find('Which features', 1, true) then
      local n = 0
      for _, s in ipairs(shown) do
        if s:find('^%[x%]') then
          n = n + 1
        end
      end
      want = ({ [0] = '[ ] Dark mode — a dark theme', [1] = '[ ] Export — save as CSV' })[n] or 'Done (2 chosen)'
    end
    vim.defer_fn(function()
      for i, s in ipairs(shown) do
        if s == want then
          return on_choice(items[i], i)
        end
      end
      on_choice(nil)
    end, 50)
  end
  local inputs = {}
  vim.ui.input = function(opts, on_confirm)
    table.insert(inputs, opts.prompt)
    vim.defer_fn(function()
      on_confirm('A pale green, please')
    end, 50)
  end

  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)
  vim.cmd('Claude make a button')
  local task = tasks.last()
  H.wait_task(task, 60000)
  local log = table.concat(transcript.lines(task), '\n')
  H.log('log:\n' .. log)
  H.eq('completed', task.status, 'task status')
  H.eq('claude_bridge_question', pickers[1].kind, 'the picker kind')
  H.contains(pickers[1].prompt, 'Color (1/2): Which color should the button be?', 'the first question')
  H.eq({ 'Blue — calm', 'Red — loud', 'Other… (type your own answer)', "Don't answer" }, pickers[1].items, 'its options')
  H.contains(pickers[2].prompt, 'Features (2/2): Which features do you want? (pick several, then Done)', 'the second')
  H.eq(1, #inputs, 'one text answer typed')
  H.contains(log, '? Claude asked (Color): Which color should the button be?')
  H.contains(log, '→ A pale green, please')
  H.contains(log, '→ Dark mode, Export')
  -- The stand-in logs a request once it has answered it: maybe just after the task ended.
  local answered = '\\"Which color should the button be?\\"=\\"A pale green, please\\", '
    .. '\\"Which features do you want?\\"=\\"Dark mode, Export\\"'
  H.wait(5000, function()
    return H.api_requests():find(answered, 1, true)
  end, 'the answers in the API request log')
  H.eq(0, #require('claude_bridge.permissions').pending, 'no question left waiting')
end)
