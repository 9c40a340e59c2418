-- claude_bridge: run Claude Code tasks from Neovim through the claude-bridge language
-- server. See :help claude-bridge.
local M = {}

local config = require('claude_bridge.config')

local did_setup = false
local augroup

local function attach_autocmds()
  local lsp = require('claude_bridge.lsp')
  augroup = vim.api.nvim_create_augroup('claude_bridge', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'BufReadPost', 'BufNewFile', 'BufFilePost' }, {
    group = augroup,
    desc = 'Attach the buffer to its workspace bridge',
    callback = function(args)
      lsp.attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd('CmdlineEnter', {
    group = augroup,
    pattern = ':',
    desc = "Refresh claude's slash commands when their files changed",
    callback = function()
      require('claude_bridge.conversation').refresh_commands()
    end,
  })
end

--- Configures the plugin. With no options it runs `claude-bridge` from PATH with the
--- bridge's defaults. Calling it again sends the new settings to running bridges
--- (`workspace/didChangeConfiguration`).
function M.setup(opts)
  local old_cmd = did_setup and vim.deepcopy(config.options.cmd) or nil
  config.set(opts or {})
  local first = not did_setup
  did_setup = true
  if first then
    attach_autocmds()
    require('claude_bridge.conversation').register_task_actions()
    require('claude_bridge.changes').register_task_actions()
    -- Buffers already open (setup() called late, or a lazy-loaded plugin).
    if config.options.autostart then
      local lsp = require('claude_bridge.lsp')
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(b) then
          lsp.attach(b)
        end
      end
    end
  else
    local lsp = require('claude_bridge.lsp')
    lsp.push_settings()
    if not vim.deep_equal(old_cmd, config.options.cmd) and #lsp.running() > 0 then
      vim.notify(
        'claude-bridge: the new cmd applies to bridges started from now on (running ones keep theirs)',
        vim.log.levels.INFO
      )
    end
  end
  return M
end

--- Runs setup() with defaults if the user never called it (the commands do this).
function M.ensure_setup()
  if not did_setup then
    M.setup({})
  end
end

--- The statusline component: '' when idle, else e.g. `Claude: Edit main.go`.
function M.status()
  return require('claude_bridge.progress').status()
end

--- Starts a task. opts = { prompt, line1?, line2? } (a line range goes as context).
function M.run(opts)
  M.ensure_setup()
  if type(opts) == 'string' then
    opts = { prompt = opts }
  end
  return require('claude_bridge.commands').run(opts)
end

--- Follows up the last task. opts = { prompt, line1?, line2? } or a prompt string.
function M.follow_up(opts)
  M.ensure_setup()
  if type(opts) == 'string' then
    opts = { prompt = opts }
  end
  return require('claude_bridge.commands').follow_up(opts)
end

function M.cancel(task_id)
  M.ensure_setup()
  return require('claude_bridge.commands').cancel(task_id)
end

function M.tasks(done)
  M.ensure_setup()
  return require('claude_bridge.commands').tasks(done)
end

--- Opens the oldest question that waits for an answer (:ClaudeAnswer).
function M.answer()
  M.ensure_setup()
  return require('claude_bridge.permissions').answer_pending()
end

function M.log(task_id)
  M.ensure_setup()
  return require('claude_bridge.commands').log(task_id)
end

function M.auth(done)
  M.ensure_setup()
  return require('claude_bridge.commands').auth(done)
end

--- Sends a message into the running task. opts = { prompt, line1?, line2?, task? } or a
--- prompt string.
function M.send(opts)
  M.ensure_setup()
  if type(opts) == 'string' then
    opts = { prompt = opts }
  end
  return require('claude_bridge.conversation').send(opts)
end

--- Stops a task's turn (default: the last running one) and keeps its conversation.
function M.interrupt(task_id)
  M.ensure_setup()
  return require('claude_bridge.conversation').interrupt(task_id)
end

--- The permission mode of the running task (default: the last running one).
function M.set_mode(mode, task_id)
  M.ensure_setup()
  return require('claude_bridge.conversation').set_mode(mode, task_id)
end

--- The model of the running task (default: the last running one), from its next request to the model.
function M.set_model(model, task_id)
  M.ensure_setup()
  return require('claude_bridge.conversation').set_model(model, task_id)
end

--- :ClaudeSessions. done(list) gets the sessions listed.
function M.sessions(done)
  M.ensure_setup()
  return require('claude_bridge.conversation').sessions(done)
end

--- :ClaudeAccept: accepts the edit under review as its proposal stands.
function M.review_accept()
  M.ensure_setup()
  return require('claude_bridge.review').accept()
end

--- :ClaudeReject [feedback]
function M.review_reject(feedback)
  M.ensure_setup()
  return require('claude_bridge.review').reject(feedback)
end

--- :ClaudeAcceptHunk / :ClaudeRejectHunk [feedback]: the hunk under the cursor.
function M.review_accept_hunk()
  M.ensure_setup()
  return require('claude_bridge.review').accept_hunk()
end

function M.review_reject_hunk(feedback)
  M.ensure_setup()
  return require('claude_bridge.review').reject_hunk(feedback)
end

--- :ClaudeChanges [taskId]. done(changes) once shown.
function M.changes(task_id, done)
  M.ensure_setup()
  return require('claude_bridge.changes').show(task_id, done)
end

--- :ClaudeRevert [hunk|file|task] [taskId]. done(result) with claude.revert's reply.
function M.revert(scope, task_id, done)
  M.ensure_setup()
  return require('claude_bridge.changes').revert(scope, task_id, done)
end

--- :ClaudeAcceptChanges [task|file] [taskId]. done(result) with claude.accept's reply.
function M.accept_changes(scope, task_id, done)
  M.ensure_setup()
  return require('claude_bridge.changes').accept(scope, task_id, done)
end

--- The task records this Neovim knows (see :help claude-bridge-api).
function M.get_tasks()
  return require('claude_bridge.tasks').list()
end

function M.get_task(id)
  return require('claude_bridge.tasks').get(id)
end

return M
