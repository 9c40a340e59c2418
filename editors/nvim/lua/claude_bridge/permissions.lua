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
--   keys typed meanwhile, so a picker that needs keystrokes cannot get them. The handler
--   reads them itself instead: the question shows in the command line with a key per
--   answer (`[A]llow  Allow [f]or this task  [D]eny`, <Esc> denies). After
--   `permission_timeout` seconds without an answer, the answer is Deny.
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

--- A hotkey for each action: the first letter of one of its words not taken yet (else any
--- free letter). Returns the keys and the titles with the key marked, `[a]llow`.
function M.hotkeys(actions)
  local used, keys, labels = {}, {}, {}
  for i, a in ipairs(actions) do
    local title = tostring(type(a) == 'table' and a.title or a)
    local at
    for pos, ch in title:gmatch('()(%w)') do
      local starts_word = pos == 1 or title:sub(pos - 1, pos - 1):match('%W')
      if starts_word and not used[ch:lower()] then
        at = pos
        break
      end
    end
    if not at then
      for pos, ch in title:gmatch('()(%w)') do
        if not used[ch:lower()] then
          at = pos
          break
        end
      end
    end
    if at then
      local key = title:sub(at, at):lower()
      used[key] = true
      keys[key] = i
      labels[i] = title:sub(1, at - 1) .. '[' .. title:sub(at, at) .. ']' .. title:sub(at + 1)
    else
      labels[i] = title
    end
  end
  return keys, labels
end

-- Reads one pending key without waiting: a one-character string, 'esc', or nil.
local function pending_key()
  local ok, c = pcall(vim.fn.getchar, 0)
  if not ok then
    return 'esc' -- CTRL-C raises an interrupt here
  end
  if c == 0 or c == nil then
    return nil
  end
  if c == 27 or c == 3 then
    return 'esc'
  end
  if type(c) == 'number' then
    return vim.fn.nr2char(c):lower()
  end
  return nil -- a special key
end

-- The waiting path (0.7 to 0.9).
-- Closes the floating windows opened since `before` (the picker that could not be
-- answered) and goes back to window `win`.
local function close_new_floats(before, win)
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if not before[w] and vim.api.nvim_win_is_valid(w) and vim.api.nvim_win_get_config(w).relative ~= '' then
      pcall(vim.api.nvim_win_close, w, true)
    end
  end
  if vim.api.nvim_win_is_valid(win) then
    pcall(vim.api.nvim_set_current_win, win)
  end
end

local function ask_wait(actions, opts)
  local done, result = false, nil
  local win, before = vim.api.nvim_get_current_win(), {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    before[w] = true
  end
  vim.ui.select(actions, opts, function(choice)
    if done then
      return
    end
    done, result = true, choice
  end)
  if done then
    return result
  end
  -- An asynchronous picker cannot get keystrokes while this handler waits, but the
  -- handler can read them itself: ask in the command line as well.
  local keys, labels = M.hotkeys(actions)
  -- Keys typed before the question showed were meant for something else: drop them.
  while true do
    local ok, c = pcall(vim.fn.getchar, 0)
    if not ok or c == 0 then
      break
    end
  end
  vim.api.nvim_echo({
    { opts.prompt .. ': ', 'Question' },
    { table.concat(labels, '  ') .. '  (<Esc>: Deny)', 'MoreMsg' },
  }, false, {})
  pcall(vim.cmd, 'redraw')
  local deny = nil
  for _, a in ipairs(actions) do
    if a.title == 'Deny' then
      deny = a
    end
  end
  local timeout = math.floor((config.options.permission_timeout or 600) * 1000)
  local by_picker = false
  vim.wait(timeout, function()
    if done then
      by_picker = true
      return true
    end
    local k = pending_key()
    if k == 'esc' then
      done, result = true, deny
    elseif k and keys[k] then
      done, result = true, actions[keys[k]]
    end
    return done
  end, 20)
  if not done then
    done = true -- a late answer from the picker is ignored
    vim.notify(
      'claude-bridge: permission question not answered in time, answered Deny (see :help claude-bridge-permissions)',
      vim.log.levels.WARN
    )
  end
  pcall(vim.api.nvim_echo, { { '' } }, false, {})
  if not by_picker then
    close_new_floats(before, win)
  end
  return result
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
