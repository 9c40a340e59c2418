-- (6) :checkhealth claude_bridge: OK with the bridge, the claude CLI and a key present;
-- an actionable error when the bridge is missing.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local function checkhealth()
  vim.cmd('checkhealth claude_bridge')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd('bwipeout!')
  return table.concat(lines, '\n')
end

H.run('real/health', function()
  H.setup({ claude_path = vim.env.CB_CLAUDE })
  local out = checkhealth()
  H.log('checkhealth with everything present:\n' .. out)
  H.not_contains(out, 'ERROR', 'checkhealth')
  H.contains(out, 'claude-bridge 0', 'bridge version')
  H.contains(out, vim.env.CB_CLAUDE, 'claude path')
  H.contains(out, '(Claude Code)', 'claude version')
  H.contains(out, 'claude-bridge doctor: no problems found', 'doctor')

  -- with a bridge running, its claude.authStatus is shown too
  vim.cmd('edit ' .. H.env.ws .. '/main.go')
  H.wait_client(15000)
  out = checkhealth()
  H.log('checkhealth with a bridge running:\n' .. out)
  H.not_contains(out, 'ERROR', 'checkhealth')
  H.contains(out, 'OK: claude.authStatus for ' .. H.env.ws .. ': ok', 'authStatus of the running bridge')

  -- a claude that does not run: what it said and what to do, never "install it"; the
  -- running bridge's status is no OK then
  local failing = H.env.tmp .. '/failing-claude'
  H.write(failing, "#!/bin/sh\necho 'claude: cannot read its settings' >&2\nexit 3\n")
  vim.loop.fs_chmod(failing, 493) -- 0755
  H.setup({ claude_path = failing })
  out = checkhealth()
  H.log('checkhealth with a claude that fails:\n' .. out)
  H.contains(out, 'exited with code 3: claude: cannot read its settings', 'what claude said')
  H.not_contains(out, 'Install Claude Code', 'not the install advice')
  H.not_contains(out, 'OK: claude.authStatus', 'no OK while claude cannot run')
  H.contains(out, 'but its claude CLI cannot be used', 'the running bridge says so')
  -- one that is not executable: chmod +x
  vim.loop.fs_chmod(failing, 420) -- 0644
  H.setup({ claude_path = failing })
  out = checkhealth()
  H.log('checkhealth with a claude that is not executable:\n' .. out)
  H.contains(out, 'is not executable: run `chmod +x ' .. failing .. '`', 'the fix')

  -- auth settings reach doctor: a key file that does not exist is reported
  H.setup({ claude_path = vim.env.CB_CLAUDE, auth = { key_file = H.env.tmp .. '/missing_key' } })
  out = checkhealth()
  H.log('checkhealth with a missing key file:\n' .. out)
  H.contains(out, 'claude-bridge doctor found problems', 'doctor with the setup auth')
  H.contains(out, 'missing_key', 'doctor names the key file')
  H.contains(out, 'ERROR: claude.authStatus for ' .. H.env.ws .. ': error', 'the running bridge got the new auth settings')

  H.setup({ cmd = { H.env.tmp .. '/no-such/claude-bridge' } })
  out = checkhealth()
  H.log('checkhealth with the bridge missing:\n' .. out)
  H.contains(out, 'ERROR', 'checkhealth')
  H.contains(out, 'no-such/claude-bridge', 'names the path')
  H.contains(out, 'go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest', 'how to install')
  H.contains(out, "setup({ cmd = { '/path/to/claude-bridge' } })", 'how to configure')
end)
