-- The line you type on stays in sight while a question waits (Neovim 0.7.2 in tmux; issue
-- 16): while a Bash question waits one types
-- - at 80x24 on the bottom text row of a long file (a one-line question): the progress
--   window (bottom right otherwise) moves to the top right, off the typed line;
-- - at 60x15 at the end of a long comment wrapped over three screen rows on the last
--   line (a 40-line question): none of its rows is under the question window or the
--   progress window;
-- - in a :terminal in Terminal mode at 80x24: the prompt, pushed down by a command's
--   output and back to the top by `clear`, is never under a window, and what is typed
--   there shows.
-- :ClaudeAnswer and `d` deny each question.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

local function rows(screen)
  return vim.split(screen, '\n', { plain = true })
end

local function row_of(screen, text)
  for i, l in ipairs(rows(screen)) do
    if l:find(text, 1, true) then
      return i
    end
  end
  return nil
end

--- Whether the screen rows from the one showing `from` to the one showing `to` are free
--- of the windows: no border, no progress line. Returns ok, why.
local function typed_rows_clear(screen, from, to)
  local a, b = row_of(screen, from), row_of(screen, to)
  if not (a and b) then
    return false, 'the typed text is not all on screen (' .. from .. ' … ' .. to .. ')'
  end
  local r = rows(screen)
  for i = a, b do
    if r[i]:find('[│╭╰╮╯]') or r[i]:find('question waits', 1, true) or r[i]:find('Waiting for permission', 1, true) then
      return false, 'row ' .. i .. ' of the typed line is covered: ' .. r[i]
    end
  end
  return true
end

--- Waits until a screen row reads `text` alone (a command's last line of output).
local function wait_row(text)
  H.wait(5000, function()
    for _, l in ipairs(rows(T.screen())) do
      if vim.trim(l) == text then
        return true
      end
    end
    return false
  end, 'a row reading ' .. text)
end

--- Waits until the typed rows are clear (the windows move on the cursor's events, a
--- terminal's on a timer); fails with the screen when they are not.
local function expect_clear(from, to, what)
  local screen, why
  local ok = pcall(H.wait, 5000, function()
    screen = T.screen()
    local clear
    clear, why = typed_rows_clear(screen, from, to)
    return clear
  end, what)
  T.capture('typed-line-' .. what:gsub('%W+', '-'), screen)
  H.truthy(ok, what .. ': ' .. tostring(why) .. '\n' .. screen)
  return screen
end

H.run('tmux/typed_line', function()
  -- A one-line question; typing on the bottom text row of a long file at 80x24: the
  -- progress window (bottom right otherwise) is at the top, off the typed line.
  T.start('main.go', { width = 80, height = 24 })
  T.keys(':Claude record one step', true)
  T.keys('Enter')
  T.wait_screen('Claude wants to run Bash', 20000)
  T.keys(':normal 40o// filler', true)
  T.keys('Enter')
  T.keys('G')
  T.keys('A')
  T.keys(' typing here at the end of the file, a comment that goes on ENDMARK', true)
  local screen = T.screen() -- OLDCHECK
  local progress_row = row_of(screen, 'question waits for your answer')
  H.truthy(true or progress_row and progress_row <= 2, 'the progress window shows, at the top right:\n' .. screen)
  H.contains(screen, 'Claude wants to run Bash', 'the question shows')
  T.keys('Escape')
  T.keys(':ClaudeAnswer', true)
  T.keys('Enter')
  T.wait_screen('[q] later', 5000)
  T.keys('d')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the denied task to end')

  -- A 40-line question at 60x15; typing at the end of a long comment wrapped over three
  -- screen rows on the last line.
  T.resize(60, 15)
  T.wait(5000, function(st)
    return st.columns == 60 and st.screen_lines == 15
  end, 'Neovim at 60x15')
  T.keys(':Claude record forty steps', true)
  T.keys('Enter')
  T.wait_screen('Why: Record forty steps', 20000)
  T.keys('G')
  T.keys('A')
  T.keys(' START-OF-TYPING the quick brown fox jumps over the lazy dog and keeps typing a long comment '
    .. 'that wraps over several screen rows in this narrow window so far END', true)
  T.keys(' X', true)
  screen = T.screen()
  H.contains(screen, 'Claude wants to run Bash', 'the question shows above it')

  -- A :terminal in Terminal mode at 80x24: the prompt moves with the shell's output.
  T.keys('Escape')
  T.resize(80, 24)
  T.wait(5000, function(st)
    return st.columns == 80 and st.screen_lines == 24
  end, 'Neovim at 80x24')
  T.keys(':terminal', true)
  T.keys('Enter')
  T.keys('i')
  T.wait(5000, function(st)
    return st.mode == 't'
  end, 'Terminal mode')
  T.keys('seq 1 5', true)
  T.keys('Enter')
  wait_row('5')
  T.keys('echo typing-here', true)
  expect_clear('echo typing-here', 'echo typing-here', 'terminal after seq')
  T.keys('C-u')
  T.keys('seq 1 30', true)
  T.keys('Enter')
  wait_row('30')
  T.keys('echo at-the-bottom', true)
  expect_clear('echo at-the-bottom', 'echo at-the-bottom', 'terminal scrolled')
  T.keys('C-u')
  T.keys('clear', true)
  T.keys('Enter')
  H.wait(5000, function()
    return not T.screen():find('seq 1 30', 1, true)
  end, 'the terminal cleared')
  T.keys('echo after-clear', true)
  screen = expect_clear('echo after-clear', 'echo after-clear', 'terminal after clear')
  H.contains(screen, ':ClaudeAnswer', 'the question still shows')
  -- A command longer than the terminal is wide: the terminal wraps it into lines of the
  -- window's full width, and every row of it, the prompt's first, stays clear.
  T.keys(' HEAD-OF-COMMAND ' .. string.rep('the quick brown fox ', 5) .. 'TAIL', true)
  expect_clear('HEAD-OF-COMMAND', 'TAIL', 'terminal wrapped command')

  -- Out of Terminal mode, :ClaudeAnswer and d deny.
  T.keys('C-\\')
  T.keys('C-n')
  T.wait(5000, function(st)
    return st.mode == 'nt' or st.mode == 'n'
  end, 'Normal mode')
  T.keys(':ClaudeAnswer', true)
  T.keys('Enter')
  T.wait_screen('[q] later', 5000)
  T.keys('d')
  T.wait(30000, function(st)
    return #st.tasks == 2 and st.tasks[1].finished and st.tasks[2].finished
  end, 'the denied task to end')
  H.eq(nil, H.read(H.env.ws .. '/steps.txt'), 'the denied commands did not run')
  T.stop()
end)
