-- Positions are UTF-16 code units (Neovim 0.7 uses nothing else): an edit after an emoji
-- and accented letters, carried into a buffer with unsaved changes on other lines, lands
-- exactly, with no character split.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('real/utf16', function()
  H.write(H.env.ws .. '/main.go', table.concat({
    'package main',
    '',
    'import "fmt"',
    '',
    '// naïve café 日本',
    'func main() {',
    '\tfmt.Println("🌍 hello")',
    '}',
    '',
  }, '\n'))
  H.setup()
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  local buf = vim.api.nvim_get_current_buf()
  H.wait_client(15000)
  -- unsaved changes above and below the edited line, with more multi-byte text
  vim.api.nvim_buf_set_lines(buf, 4, 5, false, { '// naïve café 日本 — 𝄞 edited by me' })
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '// fin ✓' })

  vim.cmd('Claude say wörld')
  local task = require('claude_bridge.tasks').last()
  H.wait_task(task, 60000)
  H.eq('completed', task.status, 'task status')
  local want = table.concat({
    'package main',
    '',
    'import "fmt"',
    '',
    '// naïve café 日本 — 𝄞 edited by me',
    'func main() {',
    '\tfmt.Println("🌍 wörld 🎉")',
    '}',
    '// fin ✓',
  }, '\n')
  H.eq(want, H.buf_text(buf), 'buffer after the edit')
  H.truthy(vim.bo[buf].modified, 'still modified')
end)
