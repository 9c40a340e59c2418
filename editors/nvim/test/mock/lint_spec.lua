-- A static check: no plugin or test file reads or writes a global beyond Lua's and `vim`
-- (a misspelt local shows up here before it fails at run time).
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

local allowed = {}
for _, name in ipairs({
  'vim', 'require', 'ipairs', 'pairs', 'type', 'tostring', 'tonumber', 'error', 'pcall', 'xpcall',
  'select', 'next', 'setmetatable', 'getmetatable', 'rawget', 'math', 'string', 'table', 'os', 'io',
  'coroutine', 'debug', 'unpack', 'print', 'assert', 'dofile', 'loadfile',
}) do
  allowed[name] = true
end

H.run('mock/lint', function()
  local bc = require('jit.bc')
  local root = H.env.plugin
  local files = {}
  for _, pattern in ipairs({ 'lua/claude_bridge/*.lua', 'plugin/*.lua', 'test/*.lua', 'test/*/*.lua' }) do
    vim.list_extend(files, vim.fn.glob(root .. '/' .. pattern, true, true))
  end
  H.truthy(#files >= 20, 'found the files (' .. #files .. ')')
  local bad = {}
  for _, f in ipairs(files) do
    local fn = assert(loadfile(f))
    local out = {}
    bc.dump(fn, {
      write = function(_, s)
        table.insert(out, s)
      end,
      flush = function() end,
    }, true)
    for op, name in table.concat(out):gmatch('(G[GS]ET)%s.-"([%w_]+)"') do
      if not allowed[name] or op == 'GSET' then
        table.insert(bad, string.format('%s: %s %s', f:sub(#root + 2), op, name))
      end
    end
  end
  H.eq({}, bad, 'globals used')
end)
