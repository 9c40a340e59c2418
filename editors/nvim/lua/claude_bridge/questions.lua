-- claude_bridge.questions: claude's own questions (`claude/ask`, its AskUserQuestion tool)
-- and plans (`claude/plan`, ExitPlanMode in plan mode). The handlers answer the request
-- `{ deferred = true }` at once and put the question to the user without blocking
-- (claude_bridge.permissions.offer): its picker opens once it cannot take keys typed for
-- something else, and the answer goes back with `claude.answer`. So it works the same on
-- every Neovim, with any vim.ui.select (telescope, dressing, fzf-lua, snacks): before
-- 0.10 a handler that waited would never see the keys of an asynchronous picker.
local M = {}

local api = vim.api
local permissions = require('claude_bridge.permissions')
local protocol = require('claude_bridge.types')

local function lsp()
  return require('claude_bridge.lsp')
end

--- Sends claude.answer for a deferred request (a permission, claude's questions, a plan)
--- to the client that asked.
function M.send_answer(client_id, arg)
  local client = lsp().client_by_id(client_id)
  if not client then
    vim.notify('claude-bridge: the bridge that asked is gone; the answer is lost', vim.log.levels.WARN)
    return
  end
  lsp().execute(client, protocol.commands.answer, arg, function(e, res)
    ---@cast res claude_bridge.AnswerResult|nil
    if e then
      vim.notify('claude-bridge: claude.answer failed: ' .. tostring(e.message or e), vim.log.levels.ERROR)
    elseif type(res) == 'table' and res.accepted == false then
      vim.notify('claude-bridge: claude no longer waits for that answer', vim.log.levels.WARN)
    end
  end)
end

local OTHER = { other = true }
local DONE = { done = true }
local SKIP = { skip = true }

--- Asks one question: vim.ui.select of its options, "Other…" (vim.ui.input for a text of
--- the user's own) and "Don't answer"; a multiple choice toggles options until "Done".
--- done(answer): a label, labels joined by ", ", a text, false (don't answer) or nil (the
--- picker was closed: the question waits).
---@param q claude_bridge.Question
function M.ask_one(q, n, of, done)
  local chosen = {}
  local head = (q.header ~= '' and q.header or 'Question') .. (of > 1 and string.format(' (%d/%d)', n, of) or '')
  local function pick()
    local items = {}
    for _, o in ipairs(q.options or {}) do
      table.insert(items, o)
    end
    if q.multiSelect then
      table.insert(items, DONE)
    end
    table.insert(items, OTHER)
    table.insert(items, SKIP)
    vim.ui.select(items, {
      prompt = head .. ': ' .. (q.question or '') .. (q.multiSelect and ' (pick several, then Done)' or ''),
      kind = 'claude_bridge_question',
      format_item = function(item)
        if item == OTHER then
          return 'Other… (type your own answer)'
        elseif item == SKIP then
          return "Don't answer"
        elseif item == DONE then
          local n_chosen = vim.tbl_count(chosen)
          return n_chosen > 0 and string.format('Done (%d chosen)', n_chosen) or 'Done'
        end
        local box = q.multiSelect and (chosen[item.label] and '[x] ' or '[ ] ') or ''
        local desc = (item.description or '') ~= '' and (' — ' .. item.description) or ''
        return box .. item.label .. desc
      end,
    }, function(item)
      if item == nil then
        done(nil)
      elseif item == SKIP then
        done(false)
      elseif item == OTHER then
        vim.ui.input({ prompt = head .. ' — your answer: ' }, function(text)
          if text and text:match('%S') then
            done(vim.trim(text))
          else
            pick() -- nothing typed: back to the options
          end
        end)
      elseif item == DONE then
        local labels = {}
        for _, o in ipairs(q.options or {}) do
          if chosen[o.label] then
            table.insert(labels, o.label)
          end
        end
        if #labels == 0 then
          pick()
        else
          done(table.concat(labels, ', ')) -- claude's own dialog's form
        end
      elseif q.multiSelect then
        chosen[item.label] = not chosen[item.label] or nil
        vim.schedule(pick)
      else
        done(item.label)
      end
    end)
  end
  pick()
end

--- The picker of claude's questions: each in turn; done(answers) (empty: none answered) or
--- done(nil) when a picker was closed (they wait; :ClaudeAnswer starts again).
local function present_questions(q, done)
  local answers = {}
  local list = q.questions
  local function step(i)
    if i > #list then
      done(answers)
      return
    end
    M.ask_one(list[i], i, #list, function(a)
      if a == nil then
        done(nil)
        return
      end
      if a then
        answers[list[i].question] = a
      end
      vim.schedule(function()
        step(i + 1)
      end)
    end)
  end
  step(1)
end

--- The `claude/ask` handler.
---@param params claude_bridge.AskParams
function M.handle_ask(_, params, ctx)
  params = params or {}
  local questions = params.questions or {}
  if #questions == 0 then
    return { answers = vim.empty_dict() }
  end
  local first = questions[1]
  local header = (first.header or '') ~= '' and (' (' .. first.header .. ')') or ''
  local message = 'Claude asks' .. header .. ': ' .. (first.question or '')
  if #questions > 1 then
    message = message .. string.format(' (and %d more)', #questions - 1)
  end
  local q = {
    kind = 'ask',
    message = message,
    task_id = params.taskId,
    client_id = ctx and ctx.client_id,
    tool = 'AskUserQuestion',
    tool_use_id = params.toolUseId,
    questions = questions,
    present = present_questions,
  }
  local client_id = ctx and ctx.client_id
  q.answered = function(answers)
    local arg = { taskId = params.taskId, toolUseId = params.toolUseId }
    if next(answers) == nil then
      arg.dismissed = true
    else
      arg.answers = answers
    end
    M.send_answer(client_id, arg)
  end
  permissions.offer(q)
  return { deferred = true }
end

-- Plans -------------------------------------------------------------------------------

local PLAN_ACTIONS = {
  { title = 'Approve, accept edits', decision = 'approve', mode = 'acceptEdits' },
  { title = 'Approve, ask before edits', decision = 'approve', mode = 'default' },
  { title = 'Keep planning…', decision = 'keepPlanning' },
}

--- Shows the plan as a Markdown buffer in a split and gives the focus back. Returns the
--- window. The buffer is a scratch one named `claude-bridge://plan/<task>`: the bridge's
--- copy of the plan (params.uri) lives outside the workspace, and opening it as a file
--- would start a bridge for its folder.
local function show_plan(params)
  local prev = api.nvim_get_current_win()
  local buf = api.nvim_create_buf(false, true)
  local text = (params.plan or '') ~= '' and params.plan or '_Claude wrote no plan._'
  api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text:gsub('\n$', ''), '\n', { plain = true }))
  vim.bo[buf].bufhidden = 'wipe'
  local name = 'claude-bridge://plan/' .. tostring(params.taskId) .. '/' .. tostring(params.toolUseId)
  pcall(api.nvim_buf_set_name, buf, name)
  vim.b[buf].claude_bridge_plan_uri = params.uri
  vim.bo[buf].filetype = 'markdown'
  vim.bo[buf].modifiable = false
  vim.cmd('noautocmd botright split')
  local win = api.nvim_get_current_win()
  api.nvim_win_set_buf(win, buf)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  pcall(api.nvim_win_set_height, win, math.max(8, math.floor(vim.o.lines / 3)))
  if api.nvim_win_is_valid(prev) then
    api.nvim_set_current_win(prev)
  end
  return win
end

local function present_plan(_, done)
  vim.ui.select(PLAN_ACTIONS, {
    prompt = "Claude's plan is ready: approve it?",
    kind = 'claude_bridge_plan',
    format_item = function(a)
      return a.title
    end,
  }, function(a)
    if a == nil then
      done(nil)
    elseif a.decision == 'approve' then
      done({ decision = 'approve', permissionMode = a.mode })
    else
      vim.ui.input({ prompt = 'What should Claude change in the plan? ' }, function(text)
        local r = { decision = 'keepPlanning' }
        if text and text:match('%S') then
          r.feedback = vim.trim(text)
        end
        done(r)
      end)
    end
  end)
end

--- The `claude/plan` handler.
---@param params claude_bridge.PlanParams
function M.handle_plan(_, params, ctx)
  params = params or {}
  local ok, win = pcall(show_plan, params)
  local q = {
    kind = 'plan',
    message = "Claude's plan is ready (shown below): approve it?",
    task_id = params.taskId,
    client_id = ctx and ctx.client_id,
    tool = 'ExitPlanMode',
    tool_use_id = params.toolUseId,
    present = present_plan,
  }
  local client_id = ctx and ctx.client_id
  local function close_plan()
    if ok and win and api.nvim_win_is_valid(win) then
      pcall(api.nvim_win_close, win, true)
    end
  end
  q.answered = function(plan)
    close_plan()
    M.send_answer(client_id, { taskId = params.taskId, toolUseId = params.toolUseId, plan = plan })
  end
  q.on_withdraw = close_plan
  permissions.offer(q)
  return { deferred = true }
end

return M
