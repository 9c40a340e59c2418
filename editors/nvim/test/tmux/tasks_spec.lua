-- In a real terminal (Neovim 0.7.2 in tmux, the built-in vim.ui.select): :ClaudeTasks is
-- one picker of the tasks by status, age and prompt; the picked task's actions follow in
-- a second list with a title of its own (not run into the first answer); "Open log"
-- opens the task's log, titled with its prompt.
local T = dofile(vim.env.CB_PLUGIN .. '/test/tmux/tmux.lua')
local H = T.H

H.run('tmux/tasks', function()
  T.start('main.go')
  T.keys(':Claude say something', true)
  T.keys('Enter')
  T.wait(30000, function(s)
    return s.tasks[1] and s.tasks[1].finished
  end, 'the first task')
  T.keys(':ClaudeFollowUp and something else', true)
  T.keys('Enter')
  T.wait(30000, function(s)
    return s.tasks[2] and s.tasks[2].finished
  end, 'the follow-up')
  local ids = vim.tbl_map(function(t)
    return t.id
  end, T.state().tasks)
  H.truthy(ids[2]:match('^nvim%-'), 'the follow-up has the id Neovim gave it: ' .. ids[2])

  T.keys(':ClaudeTasks', true)
  T.keys('Enter')
  local screen = T.wait_screen('Type number and <Enter>', 10000)
  T.capture('tasks', screen)
  H.contains(screen, 'Claude tasks')
  H.truthy(screen:find('1: ✔ completed just now   and something else', 1, true), 'newest first, status, age, prompt')
  H.truthy(screen:find('2: ✔ completed just now   say something', 1, true), 'the first task')
  T.keys('2', true)
  T.keys('Enter')
  screen = T.wait_screen('“say something” (completed, just now):', 10000)
  T.capture('task-actions', screen)
  H.truthy(screen:find('\n“say something” %(completed, just now%):') or screen:find('^“say something”'), 'the title on a line of its own')
  H.contains(screen, '1: Open log')
  H.contains(screen, '2: Follow up…')
  H.not_contains(screen, 'Cancel', 'a finished task cannot be cancelled')
  T.keys('1', true)
  T.keys('Enter')
  screen = T.wait_screen('# say something', 10000)
  T.capture('log', screen)
  H.contains(screen, 'Here is the first answer.')
  T.stop()
end)
