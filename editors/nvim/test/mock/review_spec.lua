-- Edits held for review (review beforeWrite) against the scripted bridge: the capability and
-- the setting are sent; claude/reviewEdit is answered {"deferred": true} at once and opens a
-- tab (current | proposal in diff mode) once nothing is typed; hunk decisions answer with
-- acceptedHunks; an edited proposal answers with its text; :ClaudeReject sends feedback;
-- two reviews queue up (one tab at a time); a review the bridge gives up closes its tab.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local sent = H.mock_sent

-- The plugin's deferred replies to the bridge's requests.
local function deferred_replies()
  local out = {}
  for _, m in ipairs(H.mock_messages()) do
    if m.id and m.method == nil and type(m.result) == 'table' and m.result.deferred ~= nil then
      table.insert(out, m.result)
    end
  end
  return out
end

local ORIGINAL = H.read(H.env.ws .. '/main.go')

--- main.go as run.sh made it, on disk and in its buffer.
local function restore()
  H.write(H.env.ws .. '/main.go', ORIGINAL)
  vim.cmd('checktime')
  vim.cmd('edit! ' .. H.env.ws .. '/main.go')
end

H.run('mock/review', function()
  local tasks = require('claude_bridge.tasks')
  local review = require('claude_bridge.review')
  H.setup({ review = 'beforeWrite' })
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  local home_win = vim.api.nvim_get_current_win()
  H.wait_client()

  local init = sent('initialize')[1]
  H.eq(true, init.capabilities.experimental.claudeBridge.reviewEdit, 'the capability is declared')
  H.eq('beforeWrite', init.initializationOptions.review, 'the setting is sent')

  -- 1. Hunk by hunk: h1 accepted, h2 rejected with feedback.
  vim.cmd('Claude review the greeting')
  local t1 = tasks.last()
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end, 'the review tab')
  -- (The mock logs the reply when it reads it, which may be after the tab opened: the mock
  -- can be busy compiling a schema definition for another message.)
  H.wait(3000, function()
    return deferred_replies()[1] ~= nil
  end, 'the reply')
  H.eq({ deferred = true }, deferred_replies()[1], 'answered deferred at once')
  H.eq(0, #sent('claude.answer'), 'before any answer')
  local r = review.reviews[1]
  H.eq(r.prop_win, vim.api.nvim_get_current_win(), 'the cursor is in the proposal')
  H.eq(true, vim.wo[r.orig_win].diff and vim.wo[r.prop_win].diff, 'both windows in diff mode')
  H.eq(false, vim.bo[r.orig_buf].modifiable, 'the current text is read-only')
  H.eq(true, vim.bo[r.prop_buf].modifiable, 'the proposal is editable')
  H.eq('import (', vim.api.nvim_get_current_line(), 'the cursor on the first hunk')
  H.contains(vim.wo[r.orig_win].statusline, 'main.go (now)%=2 hunks')
  H.contains(vim.wo[r.prop_win].statusline, ':ClaudeAccept :ClaudeReject')
  vim.cmd('ClaudeAcceptHunk')
  H.contains(vim.wo[r.orig_win].statusline, '2 hunks, 1 decided')
  vim.api.nvim_win_set_cursor(0, { 8, 0 }) -- fmt.Println("hello, review")
  vim.cmd('ClaudeRejectHunk keep the plain hello')
  H.wait_task(t1, 5000)
  local a = sent('claude.answer')[1]
  H.eq({ decision = 'accept', acceptedHunks = { 'h1' }, feedback = 'h2: keep the plain hello' }, a.review, 'the answer')
  H.eq(1, #vim.api.nvim_list_tabpages(), 'the tab closed')
  H.eq(home_win, vim.api.nvim_get_current_win(), 'back where the user was')
  local want = 'package main\n\nimport (\n\t"fmt"\n)\n\nfunc main() {\n\tfmt.Println("hello")\n}'
  H.eq(want, H.buf_text(main), 'the buffer has h1 only')
  H.contains(table.concat(require('claude_bridge.transcript').lines(t1), '\n'), '? Review of main.go (Edit): written h1, rejected h2')

  -- 2. The user edits the proposal and accepts it with :w.
  restore()
  vim.cmd('Claude review again')
  local t2 = tasks.last()
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end, 'the second review tab')
  r = review.reviews[1]
  vim.api.nvim_buf_set_lines(r.prop_buf, 0, 1, false, { 'package main // mine' })
  vim.cmd('write')
  H.wait_task(t2, 5000)
  a = sent('claude.answer')[2]
  H.eq('accept', a.review.decision, 'accepted')
  H.contains(a.review.text, 'package main // mine\n', 'the text as edited')
  H.eq(nil, a.review.acceptedHunks, 'no hunks with a text')

  -- 3. Two at once queue up; :ClaudeReject with feedback, then do on a hunk + :ClaudeAccept.
  vim.cmd('Claude two reviews please')
  local t3 = tasks.last()
  H.wait(5000, function()
    return #review.reviews == 2 and #vim.api.nvim_list_tabpages() == 2
  end, 'two reviews, one tab')
  H.contains(require('claude_bridge').status(), 'Claude: 2 edits wait for review')
  local select, offered = vim.ui.select, nil
  vim.ui.select = function(items, opts)
    offered = vim.tbl_map(opts.format_item, items)
  end
  require('claude_bridge.commands').task_menu(t3)
  vim.ui.select = select
  H.contains(table.concat(offered, '\n'), 'Review the edit it waits on', ':ClaudeTasks offers the review')
  H.not_contains(table.concat(offered, '\n'), 'Answer its question')
  local first = review.reviews[1]
  H.contains(vim.api.nvim_buf_get_name(first.prop_buf), 'main.go')
  vim.cmd('ClaudeReject not now')
  H.wait(5000, function()
    return #review.reviews == 1 and review.reviews[1].prop_buf ~= nil and #vim.api.nvim_list_tabpages() == 2
  end, 'the next review in its tab')
  H.contains(vim.api.nvim_buf_get_name(review.reviews[1].prop_buf), 'README.md')
  vim.cmd('ClaudeAccept')
  H.wait_task(t3, 5000)
  local answers = sent('claude.answer')
  H.eq({ decision = 'reject', feedback = 'not now' }, answers[3].review, 'the first rejected with feedback')
  H.eq({ decision = 'accept' }, answers[4].review, 'the second accepted whole')

  -- 4. do on one hunk, then :ClaudeAccept: only the other hunk is accepted.
  restore()
  vim.cmd('Claude review once more')
  local t4 = tasks.last()
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end, 'the fourth review tab')
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.cmd('normal! do')
  vim.cmd('ClaudeAccept')
  H.wait_task(t4, 5000)
  H.eq({ decision = 'accept', acceptedHunks = { 'h2' } }, sent('claude.answer')[5].review, 'do took h1 out')

  -- 5. A review the bridge gives up (the task cancelled) closes its tab.
  vim.cmd('Claude review but cancel')
  local t5 = tasks.last()
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end, 'the fifth review tab')
  vim.cmd('ClaudeCancel ' .. t5.id)
  H.wait_task(t5, 5000)
  H.wait(2000, function()
    return #vim.api.nvim_list_tabpages() == 1
  end, 'the tab closed')
  H.eq(0, #review.reviews, 'no review waits')
  H.eq(0, #require('claude_bridge.permissions').pending, 'nothing pending')
  H.eq(5, #sent('claude.answer'), 'no answer sent for it')
end)
