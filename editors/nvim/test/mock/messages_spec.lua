-- The bridge's window/showMessage: a warning that says what stops tasks ends with its fix,
-- and reaches the user whole (Neovim's own handler cut it in the middle to fit the message
-- line: "claude CL...oexec/claude", the fix gone); an informational one is one line that
-- fits.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/messages', function()
  local warning = 'claude-bridge: claude CLI at ~/noexec/claude is not executable: run `chmod +x ~/noexec/claude` '
    .. '(or set claudePath to a claude that is)'
  H.setup({ cmd_env = { MOCK_SHOW_MESSAGE = warning } })
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client()
  H.wait(5000, function()
    return #H.notes_matching('is not executable') > 0
  end, 'the warning to be shown')
  local note = H.notes_matching('is not executable')[1]
  H.eq(warning, note.msg, 'the whole warning, its fix at the end included')
  H.eq(vim.log.levels.WARN, note.level, 'as a warning')

  local progress = require('claude_bridge.progress')
  progress.show_message(1, 'claude-bridge: settings refused: auth.mode must be helper or inherit.')
  H.eq(vim.log.levels.ERROR, H.notes[#H.notes].level, 'an error as an error')
  progress.show_message(3, '')
  H.contains(H.notes[#H.notes].msg, 'settings refused', 'an empty message shows nothing')
end)
