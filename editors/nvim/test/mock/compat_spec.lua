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

  -- same path with a picker that calls back at once, and one that is dismissed
  for _, case in ipairs({ { pick = 1, want = { title = 'Allow' } }, { pick = nil, want = vim.NIL } }) do
    answer = nil
    vim.ui.select = function(items, _, on_choice)
      on_choice(case.pick and items[case.pick] or nil)
    end
    vim.schedule(coroutine.wrap(function()
      answer = permissions.show_message_request(nil, params, {})
    end))
    H.wait(2000, function()
      return answer ~= nil
    end, 'the handler to answer')
    H.eq(case.want, answer, 'answer')
  end

  -- the main-thread path (0.7 to 0.9) with a picker that never answers: Deny after the timeout
  require('claude_bridge.config').options.permission_timeout = 0.2
  vim.ui.select = function() end
  H.eq(vim.NIL, permissions.show_message_request(nil, params, {}), 'timeout answers null (Deny)')
  H.eq(1, #H.notes_matching('answered Deny'), 'the timeout is explained')

  -- ... and keys typed while it waits answer it (the picker cannot get them then)
  local keys, labels = permissions.hotkeys(params.actions)
  H.eq({ a = 1, f = 2, d = 3 }, keys, 'hotkeys')
  H.eq({ '[A]llow', 'Allow [f]or this task', '[D]eny' }, labels, 'labels')
  require('claude_bridge.config').options.permission_timeout = 10
  for _, case in ipairs({ { key = 'f', want = { title = 'Allow for this task' } }, { key = '<Esc>', want = { title = 'Deny' } }, { key = 'A', want = { title = 'Allow' } } }) do
    local win = vim.api.nvim_get_current_win()
    local picker
    vim.ui.select = function()
      -- a picker in a float, waiting for keys it will not get
      picker = vim.api.nvim_open_win(vim.api.nvim_create_buf(false, true), true, { relative = 'editor', row = 1, col = 1, width = 20, height = 3 })
      vim.defer_fn(function()
        vim.api.nvim_input('x' .. case.key) -- x: not an answer, ignored
      end, 100)
    end
    local t0 = vim.loop.hrtime()
    H.eq(case.want, permissions.show_message_request(nil, params, {}), 'answer by key ' .. case.key)
    H.truthy((vim.loop.hrtime() - t0) / 1e9 < 3, 'the key ended the wait at once')
    H.eq(false, vim.api.nvim_win_is_valid(picker), 'the stale picker was closed')
    H.eq(win, vim.api.nvim_get_current_win(), 'back in the window')
  end
  -- keys typed before the question showed do not answer it
  vim.ui.select = function()
    vim.defer_fn(function()
      vim.api.nvim_input('d')
    end, 100)
  end
  vim.api.nvim_input('a')
  H.eq({ title = 'Deny' }, permissions.show_message_request(nil, params, {}), 'typeahead dropped')

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
