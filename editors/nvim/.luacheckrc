-- luacheck (Debian: lua-check) for the Neovim plugin and its tests; run by
-- `make lint-editors`, part of `make test`.

-- Neovim runs LuaJIT: Lua 5.1 and its extensions (unpack, bit, jit).
std = 'luajit'
-- Neovim's API; the plugin and the specs define no globals of their own. The option and
-- variable tables are written to (vim.bo[buf].modifiable = false), as in Neovim's own
-- .luacheckrc.
read_globals = { 'vim' }
globals = { 'vim.g', 'vim.b', 'vim.w', 'vim.o', 'vim.bo', 'vim.wo', 'vim.go', 'vim.env' }

max_line_length = 120

files['lua/claude_bridge/types.lua'] = {
  -- Generated: a field's description stays on its ---@field line, as LuaCATS requires.
  max_comment_line_length = false,
}

files['test'] = {
  -- Specs compare long literal values and messages; wrapping them reads worse.
  max_line_length = 180,
  -- Specs stand in for the user and for other Neovim versions by replacing these.
  globals = { 'vim.notify', 'vim.ui', 'vim.fn', 'vim.lsp', 'vim.api' },
}
