-- Edits held for review (review beforeWrite) from the real claude CLI through the real bridge,
-- in Neovim 0.7.2: a two-hunk Edit opens a tab (main.go as it is | claude's proposal, diff
-- mode); :ClaudeAcceptHunk on the first hunk and :ClaudeRejectHunk (with feedback) on the
-- second write exactly the first, to disk and into the open buffer, and claude's next request
-- says which hunk was rejected and why; then a proposal the user edits and accepts with
-- :ClaudeAccept is what lands; a review whose task is cancelled closes its tab.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local ORIGINAL = H.read(H.env.ws .. '/main.go')

--- The review tab's proposal window, once open.
local function wait_review(what)
  local review = require('claude_bridge.review')
  H.wait(60000, function()
    local r = review.reviews[1]
    return r and r.prop_win and vim.api.nvim_win_is_valid(r.prop_win) and r
  end, what)
  return review.reviews[1]
end

--- Puts the cursor on the proposal's line that holds `text`.
local function cursor_to(r, text)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(r.prop_buf, 0, -1, false)) do
    if l:find(text, 1, true) then
      vim.api.nvim_set_current_win(r.prop_win)
      vim.api.nvim_win_set_cursor(r.prop_win, { i, 0 })
      return
    end
  end
  error('no line with ' .. text .. ' in the proposal')
end

H.run('real/review', function()
  local tasks = require('claude_bridge.tasks')
  local transcript = require('claude_bridge.transcript')
  H.setup({ review = 'beforeWrite' })
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local main = vim.api.nvim_get_current_buf()
  local home = vim.api.nvim_get_current_win()
  H.wait_client(15000)

  -- 1. Two hunks: the first accepted, the second rejected with feedback.
  vim.cmd('Claude change main.go in two hunks')
  local t1 = tasks.last()
  local r = wait_review('the review tab of the two-hunk Edit')
  H.eq(2, #vim.api.nvim_list_tabpages(), 'a tab of its own')
  H.eq(2, #r.hunks, 'two hunks')
  H.eq(ORIGINAL, table.concat(vim.api.nvim_buf_get_lines(r.orig_buf, 0, -1, false), '\n') .. '\n', 'the file as it is, left')
  H.eq(true, vim.wo[r.orig_win].diff and vim.wo[r.prop_win].diff, 'diff mode')
  H.eq(r.prop_win, vim.api.nvim_get_current_win(), 'the cursor in the proposal')
  H.eq('import (', vim.api.nvim_get_current_line(), 'on the first hunk')
  H.eq(ORIGINAL, H.read(H.env.ws .. '/main.go'), 'nothing written while the review waits')
  vim.cmd('ClaudeAcceptHunk')
  cursor_to(r, 'fmt.Println("hello, review")')
  vim.cmd('ClaudeRejectHunk keep the plain hello')
  H.wait_task(t1, 60000)
  H.eq('completed', t1.status, 'the task completed')
  H.eq(1, #vim.api.nvim_list_tabpages(), 'the tab closed')
  H.eq(home, vim.api.nvim_get_current_win(), 'back where the user was')
  local want = 'package main\n\nimport (\n\t"fmt"\n)\n\nfunc main() {\n\tfmt.Println("hello")\n}\n'
  H.eq(want, H.read(H.env.ws .. '/main.go'), 'the disk has the first hunk only')
  H.wait(5000, function()
    return H.buf_text(main) .. '\n' == want
  end, 'the buffer to have the first hunk only:\n' .. H.buf_text(main))
  local log = table.concat(transcript.lines(t1), '\n')
  H.log('log:\n' .. log)
  H.contains(log, 'rejected h2')
  H.wait(5000, function()
    local api = H.api_requests()
    local named = api:find('left out h2', 1, true) or api:find('rejected h2', 1, true)
    return named and api:find('h2: keep the plain hello', 1, true)
  end, "claude's next request names the rejected hunk and the feedback")

  -- 2. The user edits the proposal and accepts it: their version lands.
  vim.cmd('Claude write your own version of the greeting')
  local t2 = tasks.last()
  r = wait_review('the review tab of the greeting')
  cursor_to(r, 'fmt.Println("hello, claude")')
  vim.api.nvim_set_current_line('\tfmt.Println("hello, me")')
  vim.api.nvim_buf_set_lines(r.prop_buf, 0, 0, false, { '// reviewed by me' })
  vim.cmd('ClaudeAccept')
  H.wait_task(t2, 60000)
  H.eq('completed', t2.status, 'the second task completed')
  want = '// reviewed by me\npackage main\n\nimport (\n\t"fmt"\n)\n\nfunc main() {\n\tfmt.Println("hello, me")\n}\n'
  H.eq(want, H.read(H.env.ws .. '/main.go'), 'the disk has the version the user edited')
  H.wait(5000, function()
    return H.buf_text(main) .. '\n' == want
  end, 'the buffer to have it:\n' .. H.buf_text(main))
  H.contains(table.concat(transcript.lines(t2), '\n'), 'written as you edited it')
  H.eq(0, #require('claude_bridge.permissions').pending, 'nothing waits')

  -- 3. A review the bridge gives up (its task cancelled) closes its tab; nothing is written.
  vim.cmd('Claude change the greeting, then cancel')
  local t3 = tasks.last()
  r = wait_review('the review tab of the greeting to cancel')
  local proposal = r.prop_buf
  vim.cmd('ClaudeCancel ' .. t3.id)
  H.wait_task(t3, 30000)
  H.eq('cancelled', t3.status, 'the task cancelled')
  H.wait(5000, function()
    return #vim.api.nvim_list_tabpages() == 1
  end, 'the review tab to close')
  H.eq(0, #require('claude_bridge.review').reviews, 'no review waits')
  H.eq(0, #require('claude_bridge.permissions').pending, 'nothing waits')
  H.eq(want, H.read(H.env.ws .. '/main.go'), 'nothing written')
  H.eq(false, vim.api.nvim_buf_is_valid(proposal), 'the proposal buffer is gone')
  H.eq(0, #H.notes_matching('the review of main.go is over'), 'no second message: the user cancelled')
end)
