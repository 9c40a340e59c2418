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
  local opts = { prompt = args.args, bang = args.bang }
  if args.range and args.range > 0 then
    opts.line1, opts.line2 = args.line1, args.line2
  end
  return opts
end

local function complete_prompt(arglead, cmdline)
  return require('claude_bridge.conversation').complete_prompt(arglead or '', cmdline or '')
end

vim.api.nvim_create_user_command('Claude', function(args)
  cb().run(prompt_opts(args))
end, {
  nargs = '+',
  range = true,
  bang = true,
  complete = complete_prompt,
  desc = 'Run a Claude task in this workspace (with a range: the lines go as context; !: the open files too)',
})

vim.api.nvim_create_user_command('ClaudeFollowUp', function(args)
  cb().follow_up(prompt_opts(args))
end, {
  nargs = '+',
  range = true,
  bang = true,
  complete = complete_prompt,
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

vim.api.nvim_create_user_command('ClaudeSend', function(args)
  cb().send(prompt_opts(args))
end, {
  nargs = '+',
  range = true,
  desc = 'Send a message into the running Claude task (claude reads it at its next step)',
})

vim.api.nvim_create_user_command('ClaudeInterrupt', function(args)
  cb().interrupt(args.args ~= '' and args.args or nil)
end, {
  nargs = '?',
  complete = complete(true),
  desc = "Stop a Claude task's turn and keep its conversation (default: the last running task)",
})

vim.api.nvim_create_user_command('ClaudeMode', function(args)
  cb().set_mode(args.args)
end, {
  nargs = 1,
  complete = function(arglead)
    return vim.tbl_filter(function(m)
      return m:sub(1, #arglead) == arglead
    end, require('claude_bridge.types').permission_modes)
  end,
  desc = "Change the running Claude task's permission mode",
})

vim.api.nvim_create_user_command('ClaudeModel', function(args)
  cb().set_model(args.args)
end, {
  nargs = 1,
  complete = function(arglead)
    return require('claude_bridge.conversation').complete_model(arglead or '')
  end,
  desc = "Change the running Claude task's model (from its next request)",
})

vim.api.nvim_create_user_command('ClaudeSessions', function()
  cb().sessions()
end, { nargs = 0, desc = 'Pick a past Claude conversation of this workspace, then follow it up or read it' })

-- Reviewing the agent's edits (:help claude-bridge-review)

vim.api.nvim_create_user_command('ClaudeAccept', function()
  cb().review_accept()
end, { nargs = 0, desc = "Accept Claude's edit under review as its proposal stands (:w in the proposal too)" })

vim.api.nvim_create_user_command('ClaudeReject', function(args)
  cb().review_reject(args.args)
end, { nargs = '?', desc = "Reject Claude's edit under review, with feedback for claude" })

vim.api.nvim_create_user_command('ClaudeAcceptHunk', function()
  cb().review_accept_hunk()
end, { nargs = 0, desc = 'Accept the hunk under the cursor of the edit under review' })

vim.api.nvim_create_user_command('ClaudeRejectHunk', function(args)
  cb().review_reject_hunk(args.args)
end, { nargs = '?', desc = 'Reject the hunk under the cursor of the edit under review, with feedback' })

-- Completes a scope word, then a task id.
local function complete_scope(scopes)
  return function(arglead, cmdline)
    arglead = arglead or ''
    if cmdline:match('^%S+%s+%S+%s') then
      return require('claude_bridge.commands').complete_task_ids(arglead, false)
    end
    return vim.tbl_filter(function(w)
      return w:sub(1, #arglead) == arglead
    end, scopes)
  end
end

local function split_args(s)
  local words = vim.split(vim.trim(s or ''), '%s+')
  return words[1] ~= '' and words[1] or nil, words[2]
end

vim.api.nvim_create_user_command('ClaudeChanges', function(args)
  cb().changes(args.args ~= '' and args.args or nil)
end, {
  nargs = '?',
  complete = complete(false),
  desc = "A task's changes in the quickfix list and a diff against its checkpoint",
})

vim.api.nvim_create_user_command('ClaudeRevert', function(args)
  local scope, id = split_args(args.args)
  cb().revert(scope, id)
end, {
  nargs = '*',
  complete = complete_scope({ 'hunk', 'file', 'task' }),
  desc = "Take back a task's change: the hunk under the cursor (default), the file, or the whole task",
})

vim.api.nvim_create_user_command('ClaudeAcceptChanges', function(args)
  local scope, id = split_args(args.args)
  cb().accept_changes(scope, id)
end, {
  nargs = '*',
  complete = complete_scope({ 'task', 'file' }),
  desc = "Keep a task's changes (all, or the file's) and drop their checkpoint",
})
