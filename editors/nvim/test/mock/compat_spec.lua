-- The feature-detected paths for newer Neovims, exercised on this Neovim by emulating what
-- those releases do (this machine has only 0.7.2):
-- - 0.10+ runs server->client request handlers in `vim.schedule(coroutine.wrap(...))`:
--   the permission handler must yield, not block, and reply with the picker's answer
--   (and on 0.7 to 0.9, where it must block, the timeout and the answer by key);
-- - 0.11 clients are objects whose methods want `client:method()`;
-- - 0.11 has `vim.lsp.config` and `vim.lsp.start(cfg, { attach = false })`.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/compat', function()
  local compat = require('claude_bridge.compat')
  local permissions = require('claude_bridge.permissions')
  H.setup()

  H.eq(false, compat.in_yieldable_coroutine(), 'main thread is not a yieldable coroutine')
  local inside
  coroutine.wrap(function()
    inside = compat.in_yieldable_coroutine()
  end)()
  H.eq(true, inside, 'inside coroutine.wrap')

  local params = {
    type = 3,
    message = 'Claude wants to run Bash: ls',
    actions = { { title = 'Allow' }, { title = 'Allow for this task' }, { title = 'Deny' } },
  }

  -- as rpc.lua of 0.10+ calls a request handler, with a picker that answers 300 ms later
  local answer, ticks = nil, 0
  local timer = vim.loop.new_timer()
  timer:start(0, 20, vim.schedule_wrap(function()
    ticks = ticks + 1
  end))
  vim.ui.select = function(items, _, on_choice)
    vim.defer_fn(function()
      on_choice(items[3])
    end, 300)
  end
  vim.schedule(coroutine.wrap(function()
    answer = permissions.show_message_request(nil, params, { method = 'window/showMessageRequest', client_id = 1 })
  end))
  H.wait(3000, function()
    return answer ~= nil
  end, 'the yielding handler to answer')
  timer:stop()
  timer:close()
  H.eq({ title = 'Deny' }, answer, 'answer from the async picker')
  H.truthy(ticks >= 5, 'the event loop kept running while the question was open (' .. ticks .. ' ticks)')

  -- a picker that is dismissed: the question waits (no answer, never Deny), the statusline
  -- says so, and :ClaudeAnswer opens it again
  answer = nil
  local asked = 0
  vim.ui.select = function(items, _, on_choice)
    asked = asked + 1
    if asked == 1 then
      on_choice(nil) -- closed without an answer
    else
      on_choice(items[1])
    end
  end
  vim.schedule(coroutine.wrap(function()
    answer = permissions.show_message_request(nil, params, {})
  end))
  H.wait(2000, function()
    return asked == 1
  end, 'the picker to open')
  vim.wait(300)
  H.eq(nil, answer, 'a dismissed picker is no answer')
  H.eq(1, #permissions.pending, 'the question waits')
  H.eq('Claude: a question waits (:ClaudeAnswer)', require('claude_bridge').status(), 'the statusline says so')
  vim.cmd('ClaudeAnswer')
  H.wait(2000, function()
    return answer ~= nil
  end, 'the answer after :ClaudeAnswer')
  H.eq({ title = 'Allow' }, answer, 'answered from the re-opened picker')
  H.eq(0, #permissions.pending, 'no question waits')
  H.eq('', require('claude_bridge').status(), 'statusline empty again')

  -- the main-thread path (0.7 to 0.9): no answer in time is Deny, and says so
  require('claude_bridge.config').options.permission_timeout = 0.2
  vim.ui.select = function()
    error('the main-thread path reads keys itself')
  end
  H.eq({ title = 'Deny' }, permissions.show_message_request(nil, params, {}), 'no answer in time: Deny')
  H.eq(1, #H.notes_matching('answered Deny'), 'the timeout is explained')

  local keys, labels = permissions.hotkeys(params.actions)
  H.eq({ a = 1, f = 2, d = 3 }, keys, 'hotkeys')
  H.eq({ '[a]llow', 'Allow [f]or this task', '[d]eny' }, labels, 'labels')
  require('claude_bridge.config').options.permission_timeout = 10
  -- keys at times (ms after the question showed): typed-ahead keys and bursts are no answer
  -- and are replayed after it; <Esc> and <CR> only remind; a key alone after a pause answers
  local replayed
  local feedkeys = vim.api.nvim_feedkeys
  vim.api.nvim_feedkeys = function(k)
    replayed = (replayed or '') .. k
  end
  local function at(ms, k)
    vim.defer_fn(function()
      vim.api.nvim_input(k)
    end, ms)
  end
  local cases = {
    { name = 'a deliberate key', keys = { { 900, 'f' } }, want = 'Allow for this task', replay = nil },
    { name = '<Esc> then a', keys = { { 900, '<Esc>' }, { 1600, 'a' } }, want = 'Allow', replay = nil },
    { name = '<CR> alone then d', keys = { { 900, '<CR>' }, { 1600, 'd' } }, want = 'Deny', replay = nil },
    {
      name = 'typing as it appears, then d',
      keys = { { 0, 'h' }, { 60, 'e' }, { 120, 'l' }, { 180, 'l' }, { 240, 'o' }, { 300, '<CR>' }, { 1300, 'd' } },
      want = 'Deny',
      replay = 'hello\r',
    },
    {
      name = 'a word starting with an answer key',
      keys = { { 900, 'a' }, { 980, 'd' }, { 1060, 'd' }, { 1900, 'a' } },
      want = 'Allow',
      replay = 'add',
    },
  }
  for _, case in ipairs(cases) do
    replayed = nil
    for _, k in ipairs(case.keys) do
      at(k[1], k[2])
    end
    vim.api.nvim_input('x') -- typed before the question: replayed too, never an answer
    local t0 = vim.loop.hrtime()
    local got = permissions.show_message_request(nil, params, {})
    local took = (vim.loop.hrtime() - t0) / 1e6
    H.eq({ title = case.want }, got, case.name)
    H.truthy(took >= case.keys[#case.keys][1], case.name .. ': answered by the last key, not before (' .. took .. ' ms)')
    H.eq('x' .. (case.replay or ''), replayed, case.name .. ': keys replayed')
    H.eq(0, #permissions.pending, case.name .. ': nothing waits')
  end
  vim.api.nvim_feedkeys = feedkeys

  -- 0.11-style client object: methods are called with `:`; the dot form would warn
  local Client = {}
  Client.__index = Client
  local calls = {}
  function Client:request(method, p, _handler, bufnr)
    table.insert(calls, { self = self, method = method, p = p, bufnr = bufnr })
    return true, 7
  end
  local obj = setmetatable({}, Client)
  obj.request = function(...)
    local first = select(1, ...)
    if getmetatable(first) ~= Client then
      error('dot-call used on a 0.11 client')
    end
    return Client.request(...)
  end
  local ok, id = compat.client_call(obj, 'request', 'workspace/executeCommand', { x = 1 }, nil, nil)
  H.eq({ true, 7 }, { ok, id }, 'method call result')
  H.truthy(calls[1].self == obj, 'called with self')
  H.eq('workspace/executeCommand', calls[1].method, 'method')

  -- 0.7-style client: closures bound to the client, called with `.`
  local got
  local plain = {
    request = function(method)
      got = method
      return true, 1
    end,
  }
  compat.client_call(plain, 'request', 'm')
  H.eq('m', got, 'dot call on a plain client')

  -- vim.lsp.config present (0.11): start through vim.lsp.start with attach = false
  local saved_config, saved_start = vim.lsp.config, vim.lsp.start
  local seen
  vim.lsp.config = setmetatable({}, {})
  vim.lsp.start = function(cfg, opts)
    seen = { cfg = cfg, opts = opts }
    return 42
  end
  local cid = compat.start_client({ name = 'x', cmd = { 'true' } })
  vim.lsp.config, vim.lsp.start = saved_config, saved_start
  H.eq(42, cid, 'client id from vim.lsp.start')
  H.eq(false, seen.opts.attach, 'attach = false')
  H.eq(false, seen.opts.reuse_client({}, {}), 'never reuses another client')
end)
