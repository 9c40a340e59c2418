-- claude-bridge for Neovim: the Ex commands. They load the plugin on first use and run
-- require('claude_bridge').setup() with defaults if it was not called. See :help claude-bridge.
if vim.g.loaded_claude_bridge then
  return
end
vim.g.loaded_claude_bridge = 1

local function cb()
  return require('claude_bridge')
end

local function complete(running_only)
  return function(arglead)
    return require('claude_bridge.commands').complete_task_ids(arglead or '', running_only)
  end
end

local function prompt_opts(args)
  local opts = { prompt = args.args }
  if args.range and args.range > 0 then
    opts.line1, opts.line2 = args.line1, args.line2
  end
  return opts
end

vim.api.nvim_create_user_command('Claude', function(args)
  cb().run(prompt_opts(args))
end, {
  nargs = '+',
  range = true,
  desc = 'Run a Claude task in this workspace (with a range: the lines go as context)',
})

vim.api.nvim_create_user_command('ClaudeFollowUp', function(args)
  cb().follow_up(prompt_opts(args))
end, {
  nargs = '+',
  range = true,
  desc = 'Continue the last Claude task with a new prompt',
})

vim.api.nvim_create_user_command('ClaudeCancel', function(args)
  cb().cancel(args.args ~= '' and args.args or nil)
end, {
  nargs = '?',
  complete = complete(true),
  desc = 'Cancel a Claude task (default: the last running one)',
})

vim.api.nvim_create_user_command('ClaudeTasks', function()
  cb().tasks()
end, { nargs = 0, desc = 'Pick a Claude task, then what to do with it (log, follow up, cancel)' })

vim.api.nvim_create_user_command('ClaudeLog', function(args)
  cb().log(args.args ~= '' and args.args or nil)
end, {
  nargs = '?',
  complete = complete(false),
  desc = "Show a Claude task's live transcript (default: the last task)",
})

vim.api.nvim_create_user_command('ClaudeAnswer', function()
  cb().answer()
end, { nargs = 0, desc = 'Answer the question a Claude task waits on' })

vim.api.nvim_create_user_command('ClaudeAuth', function()
  cb().auth()
end, { nargs = 0, desc = "Show the bridge's authentication status" })
