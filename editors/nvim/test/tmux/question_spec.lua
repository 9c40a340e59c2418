-- In a real terminal (Neovim 0.7.2 in tmux): while a task runs, the built-in progress
-- window shows its step (no statusline component); a permission question appears while
-- the user types in Insert mode: the keys typed as it appears and <CR> alone are not
-- answers (the question stays; the keys go into the buffer after the answer); `a` allows
-- it; the end-of-task message hidden by Insert mode shows when the user leaves it, and
-- stays in :messages.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

H.run('tmux/question', function()
  T.start('main.go')
  T.keys(':Claude record the run in a file', true)
  T.keys('Enter')
  -- The progress window, bottom right: the step and the task.
  local screen = T.wait_screen('· record the run in a file', 15000)
  T.capture('progress', screen)
  T.wait(3000, function(st)
    return st.progress_window
  end, 'the state to say the built-in progress window is open')
  -- Insert mode at the end of the file, typing.
  T.keys('G')
  T.keys('o')
  T.keys('// typing', true)
  -- The question appears; a burst of typing and <CR> land at once.
  screen = T.wait_screen('[a]llow', 20000)
  T.keys(' hello world', true)
  T.keys('Enter')
  T.capture('question', T.screen())
  H.contains(screen, 'Claude wants to run Bash: echo ran > bash-ran.txt', 'the question, its code without backticks')
  H.contains(screen, 'Task: record the run in a file', 'the task')
  vim.wait(1500)
  local s = T.state()
  H.eq(1, s.pending, 'typed-ahead keys and <CR> did not answer the question')
  H.eq(nil, H.read(H.env.ws .. '/bash-ran.txt'), 'the command has not run')
  -- <CR> alone, after a pause: a reminder, not a Deny.
  T.keys('Enter')
  screen = T.wait_screen('The question waits for an answer', 5000)
  T.capture('question-enter', screen)
  vim.wait(800)
  H.eq(1, T.state().pending, '<CR> alone did not deny')
  -- The answer.
  T.keys('a')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the task to end')
  s = T.state()
  H.eq('completed', s.tasks[1].status, 'the task completed')
  H.contains(H.read(H.env.ws .. '/bash-ran.txt') or '', 'ran', 'the allowed command ran')
  H.contains(s.lines, '// typing hello world', 'the keys typed as the question appeared went into the buffer')
  H.truthy(s.mode:sub(1, 1) == 'i', 'still in Insert mode: ' .. s.mode)
  -- Insert mode covers the end message ("-- INSERT --"); leaving it shows the message.
  screen = T.screen()
  H.not_contains(screen:match('[^\n]*\n*$'), 'Claude done', 'hidden while in Insert mode')
  T.keys('Escape')
  screen = T.wait_screen('Claude done', 5000)
  T.capture('end', screen)
  H.contains(T.state().messages, 'Claude done', 'kept in :messages')
  H.contains(T.state().messages, 'Recorded the run in bash-ran.txt.', 'with the answer')
  T.stop()
end)
