-- The feature-detected paths for newer Neovims, exercised on this Neovim by emulating what
-- those releases do (this machine has only 0.7.2):
-- - 0.10+ runs server->client request handlers in `vim.schedule(coroutine.wrap(...))`:
--   a window/showMessageRequest handler must yield, not block, and reply with the picker's
--   answer (on 0.7 to 0.9, where it would have to block reading keys, it answers null at
--   once and says why);
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

  -- the main-thread path (0.7 to 0.9): never waits reading keys typed for the buffer: no
  -- answer (null), at once, and a message that says why
  vim.ui.select = function()
    error('the main-thread path opens no picker')
  end
  vim.api.nvim_input('a')
  local t0 = vim.loop.hrtime()
  H.eq(vim.NIL, permissions.show_message_request(nil, params, {}), 'no answer on the main thread')
  H.truthy((vim.loop.hrtime() - t0) / 1e6 < 100, 'at once')
  H.eq(0, #permissions.pending, 'nothing waits')
  H.eq(1, #H.notes_matching('update claude-bridge'), 'the message says to update the bridge')
  H.eq(1, vim.fn.getchar(0) == 97 and 1 or 0, 'the key typed meanwhile is still there, unread')

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
