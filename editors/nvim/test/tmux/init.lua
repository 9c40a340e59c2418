-- The Neovim that the tmux specs run in a real terminal (tmux): the plugin with the
-- spec's bridge, permission mode `default` (Bash asks), review as $CB_REVIEW says (else
-- the default), the default statusline (no component: the built-in progress window
-- shows). What happened is written every 100 ms to $CB_STATE as JSON for the driver (a
-- timer, not an autocmd: an autocmd on the plugin's events would count as a progress
-- listener and hide the built-in window).
vim.opt.rtp:prepend(vim.env.CB_PLUGIN)
vim.o.swapfile = false
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.cmd('runtime plugin/claude_bridge.lua')
local cmd = {}
for w in vim.env.CB_BRIDGE:gmatch('%S+') do
  table.insert(cmd, w)
end
require('claude_bridge').setup({
  cmd = cmd,
  permission_mode = 'default',
  debounce_text_changes = 0,
  review = vim.env.CB_REVIEW, -- a spec's choice, else the default
})

local function dump()
  local tasks = {}
  for _, t in ipairs(require('claude_bridge.tasks').list()) do
    table.insert(tasks, { id = t.id, status = t.status, prompt = t.prompt, result = t.result, finished = t.finished == true })
  end
  local ui = require('claude_bridge.progress_ui')
  local state = {
    tasks = tasks,
    pending = #require('claude_bridge.permissions').pending,
    progress_window = ui.win ~= nil and vim.api.nvim_win_is_valid(ui.win),
    mode = vim.api.nvim_get_mode().mode,
    tabs = #vim.api.nvim_list_tabpages(),
    lines = vim.api.nvim_buf_get_lines(vim.fn.bufnr(vim.env.CB_WS .. '/main.go'), 0, -1, false),
    messages = vim.fn.execute('messages'),
    columns = vim.o.columns,
    screen_lines = vim.o.lines,
  }
  local f = io.open(vim.env.CB_STATE .. '.tmp', 'w')
  if f then
    f:write(vim.json.encode(state))
    f:close()
    os.rename(vim.env.CB_STATE .. '.tmp', vim.env.CB_STATE)
  end
end
local timer = vim.loop.new_timer()
timer:start(100, 100, vim.schedule_wrap(function()
  pcall(dump)
end))
