-- In a real terminal of 80x24 (Neovim 0.7.2 in tmux), review beforeWrite: claude's two-hunk
-- Edit waits for review while the user types in Insert mode. Nothing opens and no key is
-- taken while they type (the window and the progress line say an edit waits); back in
-- Normal mode after a pause, the review tab opens: the file as it is beside claude's
-- proposal in diff mode, the tab labelled, each statusline saying what it is and what to
-- type. :ClaudeAcceptHunk marks the first hunk, ]c and :ClaudeRejectHunk decide the second;
-- the tab closes and the buffer has the first hunk and what the user typed.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

H.run('tmux/review', function()
  T.start('main.go', { width = 80, height = 24, env = { CB_REVIEW = 'beforeWrite' } })
  T.keys(':Claude change main.go in two hunks', true)
  T.keys('Enter')
  T.keys('G')
  T.keys('o')
  T.keys('// typing', true)
  T.wait_screen('Claude wants to edit main.go: +4 −2 in 2 hunks', 30000)
  T.keys(' on and on', true)
  T.keys('Enter')
  T.keys('y', true)
  vim.wait(1500)
  local screen = T.screen()
  T.capture('review-waiting', screen)
  H.contains(screen, 'Waiting for your review: :ClaudeAnswer', 'the edit waits in its window')
  H.contains(screen, '? an edit waits for review', 'the progress window says so')
  local s = T.state()
  H.eq(1, s.tabs, 'no tab opened while typing')
  H.truthy(s.mode:sub(1, 1) == 'i', 'still in Insert mode: ' .. s.mode)

  -- Back in Normal mode, a pause: the review tab opens.
  T.keys('Escape')
  screen = T.wait_screen('Per hunk: :ClaudeAcceptHunk / :ClaudeRejectHunk', 10000)
  T.capture('review-tab', screen)
  H.contains(screen, 'c//main.go (proposal)', 'the tab is labelled')
  H.contains(screen, 'main.go (now)', 'the left side is the file as it is')
  H.contains(screen, 'import (', 'the proposal')
  H.contains(screen, ':ClaudeAccept :ClaudeReject', 'what to type, in the statusline')
  T.wait(5000, function(st)
    return st.tabs == 2
  end, 'the review tab')

  T.keys(':ClaudeAcceptHunk', true)
  T.keys('Enter')
  screen = T.wait_screen('✓ h1 accepted', 5000)
  H.contains(screen, '2 hunks, 1 decided', 'the statusline counts')
  T.capture('review-hunk', screen)
  T.keys(']c')
  T.keys(':ClaudeRejectHunk keep the plain hello', true)
  T.keys('Enter')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the task to end')
  s = T.state()
  T.capture('review-done')
  H.eq('completed', s.tasks[1].status, 'the task completed')
  H.eq(1, s.tabs, 'the review tab closed')
  local text = table.concat(s.lines, '\n')
  H.contains(text, 'import (\n\t"fmt"\n)', 'the first hunk in the buffer')
  H.contains(text, 'fmt.Println("hello")', 'not the second')
  H.contains(text, '// typing on and on\ny', 'what was typed is in the buffer')
  T.stop()
end)
