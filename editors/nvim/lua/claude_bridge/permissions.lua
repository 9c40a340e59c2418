-- claude_bridge.permissions: the bridge's permission questions (`window/showMessageRequest`
-- with the actions Allow / Allow for this task / Deny) asked through `vim.ui.select`,
-- never through the default handler's blocking `inputlist`.
--
-- An LSP request handler must hand its answer back as its return value. How it can wait
-- for an asynchronous picker depends on Neovim, detected here at run time:
-- - Neovim 0.10+ calls request handlers inside a coroutine: the handler yields, the
--   picker's callback resumes it, and Neovim sends the reply then. Nothing blocks.
-- - Neovim 0.7 to 0.9 call them on the main thread and send whatever they return. The
--   handler calls vim.ui.select; a picker that answers at once (the built-in one, or a
--   synchronous override) is answered at once. Otherwise the handler waits with vim.wait,
--   which keeps LSP messages (events, progress, edits) flowing but does not run the
--   keys typed meanwhile, so a picker that needs keystrokes cannot be answered: the wait
--   ends with Deny after `permission_timeout` seconds or at once on <C-c>.
local M = {}

local compat = require('claude_bridge.compat')
local config = require('claude_bridge.config')

local function select_opts(params)
  return {
    prompt = params.message or 'Claude asks for permission',
    kind = 'claude_bridge_permission',
    format_item = function(action)
      return type(action) == 'table' and (action.title or '?') or tostring(action)
    end,
  }
end

local function answer(choice)
  if type(choice) == 'table' and choice.title then
    return { title = choice.title }
  end
  return vim.NIL -- dismissed: the bridge treats it as Deny
end

-- The yielding path (0.10+).
local function ask_async(actions, opts)
  local co = coroutine.running()
  local done = false
  vim.ui.select(actions, opts, function(choice)
    if done then
      return
    end
    done = true
    -- Resume from the event loop, so a picker that calls back synchronously does not
    -- resume the coroutine before it has yielded.
    vim.schedule(function()
      local ok, err = coroutine.resume(co, choice)
      if not ok then
        vim.notify('claude-bridge: answering a permission question failed: ' .. tostring(err), vim.log.levels.ERROR)
      end
    end)
  end)
  return coroutine.yield()
end

-- The waiting path (0.7 to 0.9).
local function ask_wait(actions, opts)
  local done, result = false, nil
  vim.ui.select(actions, opts, function(choice)
    if done then
      return
    end
    done, result = true, choice
  end)
  if done then
    return result
  end
  local timeout = math.floor((config.options.permission_timeout or 600) * 1000)
  local _, status = vim.wait(timeout, function()
    return done
  end, 20)
  if done then
    return result
  end
  done = true -- a late answer from the picker is ignored
  local why = status == -2 and 'interrupted' or 'not answered in time'
  vim.notify(
    string.format(
      'claude-bridge: permission question %s, answered Deny. On Neovim < 0.10 the answer must come while '
        .. 'the LSP request waits; a vim.ui.select that needs keystrokes cannot receive them then '
        .. '(see :help claude-bridge-permissions).',
      why
    ),
    vim.log.levels.WARN
  )
  return nil
end

--- The `window/showMessageRequest` handler of bridge clients.
function M.show_message_request(_, params, _ctx)
  params = params or {}
  local actions = params.actions
  if type(actions) ~= 'table' or #actions == 0 then
    -- Nothing to choose: show the message, answer null.
    vim.notify(params.message or '', vim.log.levels.INFO)
    return vim.NIL
  end
  local opts = select_opts(params)
  local choice
  if compat.in_yieldable_coroutine() then
    choice = ask_async(actions, opts)
  else
    choice = ask_wait(actions, opts)
  end
  return answer(choice)
end

return M
