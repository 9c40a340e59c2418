-- Permission questions (claude/permission, declared by the plugin): the handler answers
-- { deferred = true } at once; the question waits in a window that does not take the
-- focus, showing the command whole; keys typed in the buffer, <CR> and <Esc> are never an
-- answer; :ClaudeAnswer moves into the window, whose own keys answer (a, f, d; q leaves
-- it waiting), and the answer goes back with claude.answer. A 40-line command in a 40x15
-- screen: the window fits, the keys stay on screen, every line is in it; a line wrapped over
-- three rows under the cursor is clear of it and of the progress window at every size, and
-- the progress window never lies over it (place() of both, over ranges of rows). A question whose
-- task ends (a result with no permission event) or whose bridge exits goes away. Then a
-- follow-up named by this side (newTaskId) and cancelled by that id; :ClaudeTasks and
-- :ClaudeAuth.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local api = vim.api

--- The question window and its keys line, as floats: { win, lines, keys, cfg, keys_cfg }.
local function question_window()
  local out = {}
  for _, w in ipairs(api.nvim_list_wins()) do
    local name = api.nvim_buf_get_name(api.nvim_win_get_buf(w))
    if name:match('/Claude question$') then
      out.win, out.cfg = w, api.nvim_win_get_config(w)
      out.lines = api.nvim_buf_get_lines(api.nvim_win_get_buf(w), 0, -1, false)
    elseif name:match('/Claude question keys$') then
      out.keys_cfg = api.nvim_win_get_config(w)
      out.keys = api.nvim_buf_get_lines(api.nvim_win_get_buf(w), 0, -1, false)[1]
    end
  end
  return out
end

local sent = H.mock_sent

--- Waits until `n` questions wait.
local function wait_pending(n, what)
  H.wait(5000, function()
    return #require('claude_bridge.permissions').pending == n
  end, what)
end

local function row_of(cfg)
  local r = cfg.row
  return type(r) == 'table' and r[false] or r
end

H.run('mock/permissions', function()
  local tasks = require('claude_bridge.tasks')
  local permissions = require('claude_bridge.permissions')
  local transcript = require('claude_bridge.transcript')
  H.setup()
  vim.fn.inputlist = function()
    error('inputlist must not be used')
  end
  vim.ui.select = function()
    error('a permission question opens no picker')
  end

  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()

  -- The question while typing in Insert mode: a burst, a pause and a lone answer key,
  -- <CR> and <Esc> all go into the buffer or the mode, never into the answer.
  vim.cmd('Claude run bash please')
  local t1 = tasks.last()
  wait_pending(1, 'the question')
  local q = question_window()
  H.truthy(q.win, 'the question window')
  H.eq(false, api.nvim_get_current_win() == q.win, 'it did not take the focus')
  H.contains(q.lines, 'Claude wants to run Bash', 'the question')
  H.contains(q.lines, '$ touch x.txt', 'the command')
  H.contains(q.lines, 'Task: run bash please', 'the task')
  H.contains(q.keys, ':ClaudeAnswer, then [a]llow', 'how to answer, on its border')
  -- (Typed with feedkeys 'x', executed at once as typed keys are: headless Neovim reads
  -- no terminal. The tmux spec types into a real terminal.)
  local function typed(keys)
    api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'xt', false)
    vim.wait(500) -- a person's pause
  end
  typed('Go// typing a<Esc>')
  typed('Ad<Esc>')
  typed('Af<CR><Esc>')
  typed('<Esc>')
  typed('a<Esc>')
  H.eq(1, #permissions.pending, 'no typed key answered the question')
  H.eq(0, #sent('claude.answer'), 'no answer was sent')
  local text = H.buf_text()
  H.contains(text, '// typing adf\n', 'the keys went into the buffer')
  H.eq('Claude: a question waits (:ClaudeAnswer)', require('claude_bridge').status(), 'the statusline says so')

  -- :ClaudeAnswer moves into the window; q leaves it, still waiting; then a allows.
  vim.cmd('ClaudeAnswer')
  H.eq(question_window().win, api.nvim_get_current_win(), 'in the question window')
  H.contains(question_window().keys, '[a]llow', 'its own keys')
  typed('q')
  H.eq(false, api.nvim_get_current_win() == question_window().win, 'q left the window')
  H.eq(1, #permissions.pending, 'still waiting')

  -- The window is out of window cycling: with two splits, CTRL-W w goes between them and
  -- a `dd` meant for the other split deletes there, never answering.
  H.eq(false, question_window().cfg.focusable, 'not focusable')
  vim.cmd('vsplit')
  local splits = { [api.nvim_get_current_win()] = true }
  typed('<C-w>w')
  splits[api.nvim_get_current_win()] = true
  typed('<C-w>w')
  splits[api.nvim_get_current_win()] = true
  H.eq(nil, splits[question_window().win], 'CTRL-W w never lands in the question window')
  typed('dd')
  H.eq(1, #permissions.pending, 'dd in a split did not answer')
  vim.cmd('only')
  -- Landing in it some other way (CTRL-W p after :ClaudeAnswer and q, win_gotoid()): its
  -- keys do not answer; only :ClaudeAnswer arms them.
  vim.cmd('ClaudeAnswer')
  typed('q')
  api.nvim_set_current_win(question_window().win)
  H.wait(2000, function()
    return (question_window().keys or ''):find(':ClaudeAnswer to answer', 1, true) ~= nil
  end, 'the keys to say how to answer')
  typed('d')
  typed('a')
  H.eq(1, #permissions.pending, 'keys after landing in the window by hand did not answer')
  H.eq(0, #sent('claude.answer'), 'no answer was sent')
  typed('q')

  -- The window follows the user to another tab page; :ClaudeAnswer opens it there.
  vim.cmd('tabnew')
  local tab2 = api.nvim_get_current_tabpage()
  H.wait(2000, function()
    local w = question_window().win
    return w and api.nvim_win_get_tabpage(w) == tab2
  end, 'the question window in the new tab page')
  vim.cmd('ClaudeAnswer')
  H.eq(tab2, api.nvim_get_current_tabpage(), ':ClaudeAnswer stayed in this tab page')
  H.eq(question_window().win, api.nvim_get_current_win(), 'in the question window')
  typed('q')
  vim.cmd('tabclose')
  H.wait(2000, function()
    local w = question_window().win
    return w and api.nvim_win_get_tabpage(w) == api.nvim_get_current_tabpage()
  end, 'the question window back in the first tab page')

  vim.cmd('ClaudeAnswer')
  typed('a')
  H.wait_task(t1, 8000)
  H.eq({ { taskId = t1.id, toolUseId = 'tu2', decision = 'allow' } }, sent('claude.answer'), 'claude.answer')
  local log = table.concat(transcript.lines(t1), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: allowed (by you)')
  H.eq(nil, question_window().win, 'the window closed')
  H.truthy(api.nvim_buf_get_name(0):match('main%.go$'), 'back in the buffer')

  -- d denies (through the test helper: :ClaudeAnswer, then the key).
  local asked = H.answer_questions(function()
    return 'd'
  end)
  vim.cmd('Claude bash again')
  local t2 = tasks.last()
  H.wait_task(t2, 8000)
  log = table.concat(transcript.lines(t2), '\n')
  H.contains(log, '? Permission for Bash: touch x.txt: denied (by you): The user denied Bash in the editor.')
  H.contains(log, '◀ Bash error')
  H.eq('deny', sent('claude.answer')[2].decision, 'denied')
  H.eq('permission', asked[1].kind)
  H.eq('Claude wants to run Bash: `touch x.txt`', asked[1].message, 'question text')
  H.eq(t2.id, asked[1].task_id, 'the question names its task')
  H.eq('Bash', asked[1].tool, 'and its tool')
  H.eq({ 'Allow', 'Allow for this task', 'Deny' }, vim.tbl_map(function(a)
    return a.title
  end, asked[1].actions), 'actions')
  asked.stop()

  -- A 40-line command on a 40x15 screen: the window fits above the progress window, the
  -- keys are on screen on its border, and every line of the command is in it.
  vim.o.columns, vim.o.lines = 40, 15
  vim.cmd('Claude bash long')
  local t3 = tasks.last()
  wait_pending(1, 'the long question')
  q = question_window()
  H.eq(4 + 40, #q.lines, 'head, task, why, blank line and 40 lines of command: ' .. vim.inspect(q.lines))
  H.eq(' Why: Run it', q.lines[3], "claude's own words for the call")
  H.contains(q.lines[5], '$ echo step 1 of a long script')
  H.contains(q.lines[44], '   echo step 40 of a long script')
  local bottom = row_of(q.cfg) + q.cfg.height + 1 -- the bottom border's row
  H.eq(bottom, row_of(q.keys_cfg), 'the keys on the bottom border')
  local progress_rows = require('claude_bridge.progress_ui').height()
  H.truthy(bottom <= 15 - 1 - 1 - 1 - progress_rows, 'above the statusline, command line and progress: ' .. bottom)
  H.truthy(q.cfg.width + 2 <= 40, 'as wide as the screen at most')
  H.contains(q.keys, ':ClaudeAnswer', 'how to answer, at 40 columns: ' .. q.keys)
  H.truthy(q.keys:find('%d+ more lines') or q.keys:find('+%d+:'), 'the border says how much more there is: ' .. q.keys)
  local cursor = api.nvim_win_get_position(0)[1] + vim.fn.winline() - 1
  H.truthy(cursor < row_of(q.cfg) or cursor > bottom, 'the cursor line is clear of the window: ' .. cursor)

  -- A long line wrapped over three screen rows, the cursor at its end (issue 16): every
  -- row of it stays clear of the question window, and of the progress window, which
  -- never lies over the question window either.
  local config = require('claude_bridge.config')
  local progress_ui = require('claude_bridge.progress_ui')
  local saved_progress = config.options.progress_window
  config.options.progress_window = true
  local long = '// ' .. string.rep('typed words ', 9) .. 'END'
  api.nvim_buf_set_lines(0, -1, -1, false, { long })
  vim.cmd('normal! G$')
  require('claude_bridge.progress').changed()
  vim.cmd('doautocmd CursorMoved')
  local lnum = api.nvim_win_get_cursor(0)[1]
  local first_row = vim.fn.screenpos(0, lnum, 1).row - 1
  local last_row = vim.fn.screenpos(0, lnum, #long).row - 1
  H.eq(2, last_row - first_row, 'the line takes three screen rows at 40 columns')
  H.eq({ first_row, last_row }, { permissions.cursor_rows()[1], permissions.cursor_rows()[2] }, 'cursor_rows(): the whole line')
  local function rect_of(win)
    local c = api.nvim_win_get_config(win)
    local b = (c.border and c.border ~= 'none' and #c.border > 0) and 2 or 0
    return { row = row_of(c), col = type(c.col) == 'table' and c.col[false] or c.col, height = c.height + b, width = c.width + b }
  end
  local function apart(a, b)
    return a.row + a.height <= b.row or b.row + b.height <= a.row or a.col + a.width <= b.col or b.col + b.width <= a.col
  end
  local function clear_of_line(r, what)
    H.truthy(r.row + r.height - 1 < first_row or r.row > last_row,
      string.format('%s (rows %d-%d) clear of the typed line (rows %d-%d)', what, r.row, r.row + r.height - 1, first_row, last_row))
  end
  for _, size in ipairs({ { 40, 15 }, { 60, 15 }, { 40, 8 }, { 40, 5 }, { 20, 5 }, { 20, 4 } }) do
    vim.o.columns, vim.o.lines = size[1], size[2]
    vim.cmd('normal! G$')
    permissions.refresh()
    progress_ui.update()
    lnum = api.nvim_win_get_cursor(0)[1]
    local a, b = vim.fn.screenpos(0, lnum, 1).row, vim.fn.screenpos(0, lnum, #long).row
    first_row = a > 0 and a - 1 or api.nvim_win_get_position(0)[1]
    last_row = b > 0 and b - 1 or api.nvim_win_get_position(0)[1] + api.nvim_win_get_height(0) - 1
    local at = size[1] .. 'x' .. size[2] .. ': '
    q = question_window()
    if q.win then
      clear_of_line(rect_of(q.win), at .. 'the question window')
    end
    if q.keys_cfg then
      clear_of_line({ row = row_of(q.keys_cfg), height = 1 }, at .. 'the keys line')
    end
    if size[2] >= 15 then
      H.truthy(q.win, at .. 'the question shows')
    end
    local pw = progress_ui.win
    if size[2] >= 15 then
      H.truthy(pw and api.nvim_win_is_valid(pw), at .. 'the progress window shows when there is room')
    end
    if pw and api.nvim_win_is_valid(pw) then
      local pr = rect_of(pw)
      clear_of_line(pr, at .. 'the progress window')
      local qr = permissions.question_rect()
      H.truthy(not qr or apart(pr, qr), at .. 'the progress window apart from the question: ' .. vim.inspect({ pr, qr }))
      H.truthy(pr.row >= 0 and pr.row + pr.height <= size[2] - 2, at .. 'on screen: ' .. vim.inspect(pr))
    end
  end
  vim.o.columns, vim.o.lines = 40, 15
  config.options.progress_window = saved_progress
  api.nvim_buf_set_lines(0, -2, -1, false, {})
  progress_ui.update()
  vim.cmd('ClaudeAnswer')
  H.contains(question_window().keys, 'a/f/d', 'inside, the keys at 40 columns')
  vim.cmd('normal! G')
  H.eq(44, api.nvim_win_get_cursor(0)[1], 'the whole command can be read in the window')
  typed('d')
  H.wait_task(t3, 8000)
  vim.o.columns, vim.o.lines = 120, 35

  -- Where the window goes (M.place): off the cursor's line always, whole where it fits,
  -- else shrunk to the larger side, one row when fewer than three are free.
  H.eq({ row = 4, height = 3, border = true }, permissions.place(3, 0, 20, 10, nil), 'a third down, a row clear of the cursor')
  H.eq({ row = 1, height = 3, border = true }, permissions.place(3, 0, 20, 10, 1), 'where it is, while it stays clear')
  H.eq({ row = 0, height = 3, border = true }, permissions.place(5, 0, 13, 6, nil), '80x15: shrunk above the cursor')
  H.eq({ row = 3, height = 1, border = false }, permissions.place(5, 0, 4, 1, nil), '30x6: one row below')
  H.eq(nil, permissions.place(1, 0, 1, 0, nil), 'no row free')
  H.eq({ row = 0, height = 18, border = true }, permissions.place(50, 0, 20, nil, nil), 'moved in: all the room')
  -- The rows of a wrapped line (issue 16): the window keeps off all of them.
  H.eq({ row = 0, height = 7, border = true }, permissions.place(40, 0, 13, { 10, 12 }, nil), '60x15: above all three rows')
  H.eq({ row = 5, height = 3, border = true }, permissions.place(3, 0, 20, { 1, 2 }, nil), 'a third down, below a two-row line')
  H.eq({ row = 0, height = 1, border = false }, permissions.place(3, 0, 5, { 2, 4 }, nil), 'one row above a line down to the bottom')
  for need = 1, 20, 4 do
    for limit = 1, 20, 3 do
      for a = 0, limit - 1 do
        for b = a, limit - 1 do
          local p = permissions.place(need, 0, limit, { a, b }, nil)
          if p then
            local last = p.row + p.height + (p.border and 2 or 0) - 1
            H.truthy(b < p.row or a > last, string.format('need %d, %d rows, line %d-%d: %s', need, limit, a, b, vim.inspect(p)))
            H.truthy(p.row >= 0 and last < limit, 'on screen: ' .. vim.inspect(p))
          else
            H.truthy(a == 0 and b == limit - 1, 'a place whenever a row is free')
          end
        end
      end
    end
  end
  -- The progress window's place (progress_ui.place): bottom right, top right when the
  -- typed line is at the bottom, never over the question window; shrunk, then hidden.
  local place = require('claude_bridge.progress_ui').place
  H.eq({ row = 20, col = 40, height = 2 }, place(2, 40, 0, 22, 80, { 5, 5 }, nil), 'bottom right')
  H.eq({ row = 0, col = 40, height = 2 }, place(2, 40, 0, 22, 80, { 20, 21 }, nil), 'top right: the cursor at the bottom')
  H.eq({ row = 0, col = 40, height = 2 }, place(2, 40, 0, 22, 80, { 5, 5 }, { row = 15, col = 10, height = 7, width = 60 }), 'top right: the question at the bottom')
  H.eq({ row = 2, col = 0, height = 1 }, place(2, 20, 0, 3, 20, { 0, 0 }, { row = 1, col = 3, height = 1, width = 14 }), '20x5: one line beside the question')
  H.eq(nil, place(2, 20, 0, 3, 20, { 0, 0 }, { row = 2, col = 3, height = 1, width = 14 }), '20x5: no room for both: hidden')
  H.eq(nil, place(2, 20, 0, 2, 20, { 0, 1 }, nil), 'no row off the typed line')
  for need = 1, 30, 3 do
    for limit = 1, 30, 2 do
      for cur = 0, limit - 1 do
        local p = permissions.place(need, 0, limit, cur, nil)
        if p then
          local last = p.row + p.height + (p.border and 2 or 0) - 1
          H.truthy(cur < p.row or cur > last, string.format('need %d, %d rows, cursor %d: %s', need, limit, cur, vim.inspect(p)))
          H.truthy(p.row >= 0 and last < limit, 'on screen: ' .. vim.inspect(p))
        else
          H.eq(1, limit, 'a place whenever a row is free')
        end
      end
    end
  end

  -- The task ends while its question waits (no permission event): the question goes.
  vim.cmd('Claude bash vanish')
  local t4 = tasks.last()
  wait_pending(1, 'the question of the task that ends')
  H.wait_task(t4, 8000)
  H.eq(0, #permissions.pending, 'the ended task asks nothing')
  H.eq(nil, question_window().win, 'its window closed')

  -- a follow-up is named here (newTaskId), so its cancel goes by that id at once
  vim.cmd('ClaudeFollowUp slow follow-up')
  local fu = tasks.last()
  vim.cmd('ClaudeCancel')
  H.wait_task(fu, 5000)
  H.eq('cancelled', fu.status, 'follow-up cancelled')
  H.eq(fu.id, sent('claude.followUp')[1].newTaskId, 'the follow-up carries its id')
  H.eq(fu.id, sent('claude.cancel')[1].taskId, 'cancelled by its id')
  H.eq(fu, tasks.get(fu.id), 'one id everywhere')

  -- :ClaudeTasks: one picker of tasks (status, age, prompt), then the actions of the task
  local listed, offered
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'claude_bridge_tasks' then
      listed = vim.tbl_map(opts.format_item, items)
      on_choice(items[#items]) -- the oldest: "run bash please"
    else
      offered = vim.tbl_map(opts.format_item, items)
      on_choice(items[1])
    end
  end
  vim.cmd('ClaudeTasks')
  H.wait(3000, function()
    return offered ~= nil
  end, 'the task actions')
  H.eq(5, #listed, 'five tasks listed: ' .. vim.inspect(listed))
  H.contains(listed[1], 'cancelled', 'newest first')
  H.contains(listed[1], 'slow follow-up')
  H.truthy(listed[5]:match('^✔ completed +just now +run bash please$'), 'status, age, prompt: ' .. listed[5])
  H.eq({ 'Open log', 'Follow up…' }, offered, 'actions of a finished task')
  H.wait(2000, function()
    return api.nvim_buf_get_name(0):match('claude%-bridge://log/')
  end, 'a log window')
  vim.cmd('close')

  -- :ClaudeAuth shows claude.authStatus in a float
  vim.cmd('ClaudeAuth')
  H.wait(3000, function()
    return api.nvim_win_get_config(0).relative ~= ''
  end, 'the auth float')
  local lines = api.nvim_buf_get_lines(0, 0, -1, false)
  H.contains(lines, 'status: ok')
  H.contains(lines, 'source: keyFile')
  H.contains(lines, '  path: ' .. vim.env.HOME .. '/.claude/api_key')
  H.contains(lines, '  foundIn: PATH')
  vim.cmd('close')

  -- The bridge exits while a question waits: the question goes with it.
  vim.ui.select = function()
    error('a permission question opens no picker')
  end
  vim.cmd('Claude bash die')
  wait_pending(1, 'the question of the bridge that dies')
  wait_pending(0, 'the question to go with its bridge')
  H.eq(nil, question_window().win, 'its window closed')
end)
