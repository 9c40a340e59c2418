-- Small terminals (Neovim 0.7.2 in tmux): a permission question whose command has four
-- lines, one of them longer than the screen is wide, asked at 80x24 and then at 40x15.
-- The window is as tall as the wrapped lines (up to the room there is), every line of the
-- command can be read before answering (the dangerous third line included), and the keys
-- stay on screen on the window's border at both sizes. Then seven tasks at once at 40x15:
-- the progress window takes a third of the screen at most, names each task, counts the
-- queued ones, and leaves the statusline alone.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

local function row(screen, n)
  local i = 0
  for line in (screen .. '\n'):gmatch('(.-)\n') do
    i = i + 1
    if i == n then
      return line
    end
  end
  return ''
end

H.run('tmux/small', function()
  H.write(H.env.ws .. '/important.txt', 'keep me\n')
  T.start('main.go', { width = 80, height = 24 })
  T.keys(':Claude tidy up', true)
  T.keys('Enter')
  local screen = T.wait_screen(':ClaudeAnswer, then', 20000)
  T.capture('small-80x24', screen)
  H.contains(screen, '$ echo tidying up', 'the first line')
  H.contains(screen, 'rm -f important.txt', 'the line the first hides')
  H.contains(screen, 'echo all tidy', 'the last line')
  H.contains(screen, "grep -v '^ok' > results.txt", 'the long line, wrapped, whole')
  H.contains(row(screen, 23), 'main.go', 'the statusline is where it was')

  T.resize(40, 15)
  H.wait(5000, function()
    screen = T.screen()
    return row(screen, 14):find('main.go', 1, true) ~= nil and screen:find('%d+ more lines?: :ClaudeAnswer') ~= nil
  end, 'the question redrawn at 40x15')
  T.capture('small-40x15', screen)
  H.truthy(screen:find('%d+ more lines?: :ClaudeAnswer'), 'the keys on screen at 40x15, saying how much more there is:\n' .. screen)
  H.contains(row(screen, 14), 'main.go', 'the statusline is where it was')
  T.keys(':ClaudeAnswer', true)
  T.keys('Enter')
  screen = T.wait_screen('a/f/d', 5000)
  T.keys('G')
  screen = T.wait_screen('echo all tidy', 5000)
  T.capture('small-40x15-focused', screen)
  H.contains(screen, 'a/f/d', 'the keys while reading the end')
  T.keys('d')
  T.wait(30000, function(st)
    return st.tasks[1] and st.tasks[1].finished
  end, 'the denied task to end')
  H.eq('keep me\n', H.read(H.env.ws .. '/important.txt'), 'the denied command did not run')

  for i = 1, 7 do
    T.keys(':Claude busy task ' .. i, true)
    T.keys('Enter')
  end
  screen = T.wait_screen('queued', 20000)
  local function running_rows(sc)
    local n = 0
    for i = 1, 13 do
      if row(sc, i):find('busy task %d · ') then
        n = n + 1
      end
    end
    return n
  end
  H.wait(20000, function()
    screen = T.screen()
    return running_rows(screen) >= 2
  end, 'the running tasks in the progress window')
  T.capture('small-40x15-tasks', screen)
  H.contains(row(screen, 14), 'main.go', 'the statusline is where it was')
  local progress_rows = 0
  for n = 1, 13 do
    local l = row(screen, n)
    if l:find('busy task', 1, true) or l:find('queued', 1, true) or l:find('more running', 1, true) then
      progress_rows = progress_rows + 1
    end
  end
  H.truthy(progress_rows <= 4, 'a third of the screen at most: ' .. progress_rows .. ' rows')
  T.stop()
end)
