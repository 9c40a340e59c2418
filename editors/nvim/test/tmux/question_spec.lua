-- In a real terminal (Neovim 0.7.2 in tmux, 120x35): while a task runs, the built-in
-- progress window shows its step (no statusline component); a permission question appears
-- while the user types in Insert mode. Nothing typed is an answer: a burst of keys, <CR>,
-- and slow typing with pauses before `a`, `n`, `d` (the keys the old guess from key timing
-- took as Allow or Deny) all land in the buffer; the question waits in a window that did
-- not take the focus, off the line being typed on. :ClaudeAnswer moves into the window, whose `a` allows. The
-- end-of-task message hidden by Insert mode shows when the user leaves it, and stays in
-- :messages.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

H.run('tmux/question', function()
  T.start('main.go')
  T.keys(':Claude record the run in a file', true)
  T.keys('Enter')
  -- The progress window, bottom right: the task and its step.
  local screen = T.wait_screen('record the run in a file ·', 15000)
  T.capture('progress', screen)
  T.wait(3000, function(st)
    return st.progress_window
  end, 'the state to say the built-in progress window is open')
  -- Insert mode at the end of the file, typing.
  T.keys('G')
  T.keys('o')
  T.keys('// typing', true)
  -- The question appears; a burst of typing and <CR> land at once, then slow typing.
  T.wait_screen(':ClaudeAnswer, then [a]llow', 20000)
  T.keys(' hello world', true)
  T.keys('Enter')
  vim.wait(1000) -- a pause, as the old guess wanted before an answer key
  T.type_slowly('and', 300)
  vim.wait(1000)
  T.keys('Enter')
  screen = T.screen()
  T.capture('question', screen)
  H.contains(screen, 'Claude wants to run Bash', 'the question')
  H.contains(screen, '$ echo ran > bash-ran.txt', 'the command')
  H.contains(screen, 'Task: record the run in a file', 'the task')
  local s = T.state()
  H.eq(1, s.pending, 'no typed key answered the question')
  H.eq(nil, H.read(H.env.ws .. '/bash-ran.txt'), 'the command has not run')
  H.contains(s.lines, '// typing hello world', 'the burst went into the buffer')
  H.contains(s.lines, 'and', 'the slow keys went into the buffer')
  H.truthy(s.mode:sub(1, 1) == 'i', 'still typing in Insert mode: ' .. s.mode)
  -- The window keeps off the line being typed on (and the lines next to it).
  local rows = vim.split(screen, '\n', { plain = true })
  for i, l in ipairs(rows) do
    if l:match('^and') then
      for j = math.max(1, i - 1), math.min(#rows, i + 1) do
        H.truthy(not rows[j]:find('[│╭╰]'), 'the question window is off the typed line: row ' .. j .. ': ' .. rows[j])
      end
    end
  end
  -- Leave Insert mode and move into the question: its own keys answer it.
  T.keys('Escape')
  T.keys(':ClaudeAnswer', true)
  T.keys('Enter')
  screen = T.wait_screen('[q] later', 5000)
  T.capture('question-focused', screen)
  T.keys('a')
  T.wait(10000, function(st)
    return st.pending == 0
  end, 'the question to be answered')
  -- Back to typing; the task ends while Insert mode covers the message line.
  T.keys('A')
  T.keys(' more', true)
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the task to end')
  s = T.state()
  H.eq('completed', s.tasks[1].status, 'the task completed')
  H.contains(H.read(H.env.ws .. '/bash-ran.txt') or '', 'ran', 'the allowed command ran')
  H.eq(' more', s.lines[#s.lines], 'typing went on where it was')
  H.truthy(s.mode:sub(1, 1) == 'i', 'in Insert mode: ' .. s.mode)
  screen = T.screen()
  H.not_contains(screen:match('[^\n]*\n*$'), 'Claude done', 'hidden while in Insert mode')
  T.keys('Escape')
  screen = T.wait_screen('Claude done', 5000)
  T.capture('end', screen)
  T.wait(3000, function(st)
    return st.messages:find('Claude done', 1, true) ~= nil
  end, 'the message in :messages')
  H.contains(T.state().messages, 'Recorded the run in bash-ran.txt.', 'with the answer')
  T.stop()
end)
