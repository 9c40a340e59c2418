-- In a real terminal (Neovim 0.7.2 in tmux), with Neovim's own vim.ui.select (inputlist):
-- claude asks a question (claude/ask) while the user types in Insert mode. Nothing opens
-- while they type (the question waits in its window, the statusline says so) and no key
-- they type answers it; once they are back in Normal mode and pause, the picker opens with
-- the options, "Other…" and "Don't answer"; `2` picks Red, which reaches the API.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

H.run('tmux/ask', function()
  T.start('main.go')
  T.keys(':Claude style the button', true)
  T.keys('Enter')
  T.keys('G')
  T.keys('o')
  T.keys('// typing', true)
  T.wait_screen('Claude asks (Color): Which color should the button be?', 20000)
  T.keys(' on and on', true)
  T.keys('Enter')
  T.keys('2', true)
  vim.wait(1500)
  local screen = T.screen()
  T.capture('ask-waiting', screen)
  H.contains(screen, ':ClaudeAnswer to answer', 'the question waits in its window')
  H.not_contains(screen, 'Type number and <Enter>', 'no picker while typing')
  local s = T.state()
  H.eq(1, s.pending, 'the question waits')
  H.truthy(s.mode:sub(1, 1) == 'i', 'still in Insert mode: ' .. s.mode)
  -- Back in Normal mode, a pause: the picker opens.
  T.keys('Escape')
  screen = T.wait_screen('Type number and <Enter>', 10000)
  T.capture('ask-picker', screen)
  H.contains(screen, 'Color: Which color should the button be?', 'the question')
  H.contains(screen, '1: Blue — calm', 'its options')
  H.contains(screen, "4: Don't answer", 'and a way out')
  T.keys('2', true)
  T.keys('Enter')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the task to end')
  s = T.state()
  H.eq('completed', s.tasks[1].status, 'the task completed')
  H.contains(s.lines, '// typing on and on', 'what was typed went into the buffer')
  H.eq(0, s.pending, 'nothing waits')
  H.wait(5000, function()
    return H.api_requests():find('\\"Which color should the button be?\\"=\\"Red\\"', 1, true)
  end, 'the answer in the API request log')
  T.stop()
end)
