-- claude's plan (plan mode, ExitPlanMode) from the real claude CLI through claude/plan:
-- the plan shows as a Markdown buffer in a split (the focus stays where it was), the
-- picker offers approve in acceptEdits or default, or keep planning; approved in
-- acceptEdits, claude's edit lands in the buffer without a permission question, the log
-- shows the plan and the new mode, and the plan's window closes.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/plan', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  vim.fn.inputlist = function()
    error('inputlist must never be used')
  end
  local picked, plan_win
  vim.ui.select = function(items, opts, on_choice)
    local titles = vim.tbl_map(function(it)
      return opts.format_item(it)
    end, items)
    -- The plan is on screen while the picker asks.
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      local b = vim.api.nvim_win_get_buf(w)
      if vim.bo[b].filetype == 'markdown' then
        plan_win = { text = H.buf_text(b), focused = w == vim.api.nvim_get_current_win(), win = w }
      end
    end
    picked = { prompt = opts.prompt, kind = opts.kind, titles = titles }
    vim.defer_fn(function()
      on_choice(items[1], 1)
    end, 50)
  end

  H.setup({ permission_mode = 'plan' })
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  H.wait_client(15000)
  vim.cmd('Claude plan a new greeting')
  local task = tasks.last()
  H.wait_task(task, 60000)
  local log = table.concat(transcript.lines(task), '\n')
  H.log('log:\n' .. log)
  H.eq('completed', task.status, 'task status')
  H.eq('claude_bridge_plan', picked.kind, 'the picker kind')
  H.eq({ 'Approve, accept edits', 'Approve, ask before edits', 'Keep planning…' }, picked.titles, 'the choices')
  H.truthy(plan_win, 'a Markdown window showed the plan')
  H.eq('# Plan\n\n1. Change the greeting\n2. Run the tests', plan_win.text, 'the plan')
  H.eq(false, plan_win.focused, 'the plan window did not take the focus')
  H.eq(false, vim.api.nvim_win_is_valid(plan_win.win), 'the plan window closed once answered')
  H.contains(log, '☰ Plan')
  H.contains(log, '✓ approved, carried out in acceptEdits mode')
  H.contains(log, '· Mode: acceptEdits')
  H.not_contains(log, '? Permission for Edit', 'no permission question for the edit')
  H.contains(H.buf_text(main), 'fmt.Println("hello, plan")', 'the edit reached the buffer')
  H.eq(main, vim.api.nvim_get_current_buf(), 'the focus stayed in main.go')
end)
