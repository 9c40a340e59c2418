-- The question window in a real terminal (Neovim 0.7.2 in tmux) as a person moves about:
-- with two splits, CTRL-W w goes between the splits, never into the question window, so
-- a `dd` and an `a` (append) typed after it edit the split and answer nothing; as the
-- terminal shrinks (36x10, 60x8, 30x6, 80x12) the window never covers the line being
-- typed on, shrinking to the room there is and saying how many lines more :ClaudeAnswer
-- shows; in a new tab page the question is on screen, and :ClaudeAnswer opens it there
-- (the whole five-line command readable), where `d` denies.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

local function rows(screen)
  return vim.split(screen, '\n', { plain = true })
end

--- The screen row showing `text`, and the rows next to it, free of the window's border.
local function line_clear(screen, text, what)
  local found = false
  for _, l in ipairs(rows(screen)) do
    if l:find(text, 1, true) then
      found = true
      H.truthy(not l:find('[│╭╰╮╯]'), what .. ': the typed line is not covered: ' .. l .. '\n' .. screen)
    end
  end
  H.truthy(found, what .. ': the typed line is on screen:\n' .. screen)
end

H.run('tmux/window', function()
  T.start('main.go', { width = 100, height = 30 })
  T.keys(':vsplit', true)
  T.keys('Enter')
  T.keys('C-w')
  T.keys('l') -- in the right split, the last window: CTRL-W w wraps from here
  T.keys(':Claude record the steps', true)
  T.keys('Enter')
  T.wait_screen(':ClaudeAnswer, then [a]llow', 20000)
  -- CTRL-W w to the other split, then `dd` and `a` (append) there.
  T.keys('C-w')
  T.keys('w')
  T.keys('d')
  T.keys('d')
  T.keys('a')
  T.keys('// appended', true)
  T.keys('Escape')
  T.wait(5000, function(st)
    return st.lines[1] == '// appendedimport "fmt"' or st.lines[1] == '// appended'
      or (st.lines[1] or ''):find('appended', 1, true) ~= nil
  end, 'dd and a to act in the split')
  local s = T.state()
  H.eq(1, s.pending, 'CTRL-W w, dd and a did not answer')
  H.eq(nil, H.read(H.env.ws .. '/steps.txt'), 'the command has not run')
  T.keys(':only', true)
  T.keys('Enter')

  -- Typing on line 4 while the terminal shrinks.
  T.keys('4G')
  T.keys('A')
  T.keys(' TYPED', true)
  for _, size in ipairs({ { 36, 10 }, { 60, 8 }, { 30, 6 }, { 80, 12 } }) do
    T.resize(size[1], size[2])
    T.wait(5000, function(st)
      return st.columns == size[1] and st.screen_lines == size[2]
    end, 'Neovim at ' .. size[1] .. 'x' .. size[2])
    -- The window is redrawn on VimResized: wait for a screen that says how to answer with
    -- the typed line in sight, then check it is not covered.
    local screen
    pcall(H.wait, 5000, function()
      screen = T.screen()
      return screen:find(':ClaudeAnswer', 1, true) ~= nil and screen:find('TYPED', 1, true) ~= nil
    end, 'the question redrawn')
    T.capture(string.format('window-%dx%d', size[1], size[2]), screen)
    line_clear(screen, 'TYPED', size[1] .. 'x' .. size[2])
    if size[2] <= 10 then
      H.truthy(screen:find('%d+ more lines') or screen:find('+%d+: :ClaudeAnswer') or screen:find('Claude wants to run Bash: :ClaudeAnswer'),
        size[1] .. 'x' .. size[2] .. ': says there is more:\n' .. screen)
    end
  end
  T.keys('Escape')
  T.resize(100, 30)
  T.wait(5000, function(st)
    return st.columns == 100 and st.screen_lines == 30
  end, 'Neovim at 100x30')

  -- In a new tab page: the question is on screen there.
  T.keys(':tabnew', true)
  T.keys('Enter')
  T.keys('i')
  T.keys('notes', true)
  T.keys('Escape')
  local screen = T.wait_screen('Claude wants to run Bash', 5000)
  T.capture('window-tab2', screen)
  T.keys(':ClaudeAnswer', true)
  T.keys('Enter')
  screen = T.wait_screen('[q] later', 5000)
  H.contains(screen, 'notes', 'still in the second tab page')
  H.contains(screen, 'echo step 5 >> steps.txt', 'the whole command')
  T.keys('d')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the denied task to end')
  H.eq(nil, H.read(H.env.ws .. '/steps.txt'), 'the denied command did not run')
  T.stop()
end)
