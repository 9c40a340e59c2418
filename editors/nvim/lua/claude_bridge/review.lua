-- claude_bridge.review: the agent's edits held for review before they are written (the
-- `review` setting `beforeWrite`; the bridge's `claude/reviewEdit` request).
--
-- Each review opens in a tab of its own: the file as it is now (left, read-only) and
-- claude's proposal (right, a scratch buffer the user may edit), in diff mode. The user
-- accepts the proposal as it stands (:ClaudeAccept, or :w in the proposal), rejects it
-- (:ClaudeReject [feedback]), or decides hunk by hunk (:ClaudeAcceptHunk,
-- :ClaudeRejectHunk [feedback], at the cursor; `do` and `dp` work as in any diff). Once
-- every hunk is decided the answer goes at once. The answer names hunks (acceptedHunks)
-- when the proposal is the original with some of claude's hunks applied, else it carries
-- the user's text.
--
-- The handler answers `{ deferred = true }` at once and the answer goes later with
-- claude.answer (a handler that waited would never read the keys typed in the tab on
-- Neovim before 0.10). Reviews wait like claude's questions (claude_bridge.permissions):
-- a small window and the statusline say one waits, and its tab opens once the user is in
-- Normal mode and stopped typing, so it never takes keys typed for something else.
-- Several reviews queue up: the next one is offered when the one before is answered.
-- One the bridge gives up (its review event, the task's end) closes its tab.
local M = {}

local api = vim.api
local permissions = require('claude_bridge.permissions')
local protocol = require('claude_bridge.types')

-- The reviews waiting, oldest first (each also in permissions.pending). A review is
-- { kind = 'review', params, client_id, file (path), name (for people), orig (lines),
--   prop (lines: claude's proposal), eol, nl, hunks = { {id, s, e, lines} },
--   applied = { [id] = true } (what the proposal buffer holds, as far as the commands
--   know), decided = { [id] = 'accept'|'reject' }, feedback = { ... },
--   orig_buf, prop_buf, tab, orig_win, prop_win, prev_win } plus the fields of a question.
M.reviews = {}

local ns = api.nvim_create_namespace('claude_bridge_review')
local counter = 0

local function lsp()
  return require('claude_bridge.lsp')
end

local function notify(msg, level)
  vim.notify('claude-bridge: ' .. msg, level or vim.log.levels.INFO)
end

-- Text ------------------------------------------------------------------------------

--- Splits a file's text into lines (without line breaks) and says how they end:
--- eol (a final line break), nl ("\n" or "\r\n": the bridge keeps a CRLF file CRLF).
function M.split(text)
  text = tostring(text or '')
  local nl = text:find('\r\n', 1, true) and '\r\n' or '\n'
  local s = text:gsub('\r\n', '\n')
  if s == '' then
    return {}, false, nl
  end
  local eol = s:sub(-1) == '\n'
  if eol then
    s = s:sub(1, -2)
  end
  return vim.split(s, '\n', { plain = true }), eol, nl
end

--- The text of lines, ended and broken as the review's file is.
local function join(r, lines)
  if #lines == 0 or (#lines == 1 and lines[1] == '' and not r.eol) then
    return ''
  end
  return table.concat(lines, r.nl) .. (r.eol and r.nl or '')
end

--- The lines of a buffer, as the review compares them (an empty buffer has none).
local function buf_lines(buf)
  local lines = api.nvim_buf_get_lines(buf, 0, -1, false)
  if #lines == 1 and lines[1] == '' then
    return {}
  end
  return lines
end

local function same(a, b)
  if #a ~= #b then
    return false
  end
  for i = 1, #a do
    if a[i] ~= b[i] then
      return false
    end
  end
  return true
end

local function slice(lines, from, to) -- 0-based, half-open
  local out = {}
  for i = from + 1, to do
    table.insert(out, lines[i])
  end
  return out
end

--- The original with the hunks in `set` applied: what the proposal holds when the user
--- took exactly those hunks.
local function expected(r, set)
  local out, at = {}, 0
  for _, h in ipairs(r.hunks) do
    vim.list_extend(out, slice(r.orig, at, h.s))
    vim.list_extend(out, set[h.id] and h.lines or slice(r.orig, h.s, h.e))
    at = h.e
  end
  vim.list_extend(out, slice(r.orig, at, #r.orig))
  return out
end

--- The differences between the original and the proposal as it is now: line-based hunks
--- { a0, a1, b0, b1 } (0-based, half-open), from vim.diff.
local function diff(r, lines)
  local function str(l)
    return #l == 0 and '' or (table.concat(l, '\n') .. '\n')
  end
  local out = {}
  for _, d in ipairs(vim.diff(str(r.orig), str(lines), { result_type = 'indices' })) do
    local sa, ca, sb, cb = d[1], d[2], d[3], d[4]
    local a0 = ca == 0 and sa or sa - 1
    local b0 = cb == 0 and sb or sb - 1
    table.insert(out, { a0 = a0, a1 = a0 + ca, b0 = b0, b1 = b0 + cb })
  end
  return out
end

local function overlaps(s, e, a0, a1)
  if s == e or a0 == a1 then
    return math.max(s, a0) <= math.min(e, a1)
  end
  return math.max(s, a0) < math.min(e, a1)
end

-- Where each of claude's hunks is in the proposal buffer now: { [id] = {b0, b1} }. While
-- the proposal holds exactly the hunks the commands applied this is exact; once the user
-- edited it by hand (or with do/dp), it follows the differences vim.diff finds.
local function regions(r, lines)
  local out = {}
  if same(lines, expected(r, r.applied)) then
    local shift = 0
    for _, h in ipairs(r.hunks) do
      local len = r.applied[h.id] and #h.lines or (h.e - h.s)
      out[h.id] = { h.s + shift, h.s + shift + len }
      shift = shift + len - (h.e - h.s)
    end
    return out, true
  end
  local ds = diff(r, lines)
  local function map(x, is_end)
    local b = x
    for _, d in ipairs(ds) do
      local before = d.a1 <= x and (is_end or not (d.a0 == d.a1 and d.a0 == x))
      if before then
        b = b + (d.b1 - d.b0) - (d.a1 - d.a0)
      end
    end
    return b
  end
  for _, h in ipairs(r.hunks) do
    local a0, a1 = h.s, h.e
    local matched = {}
    for _, d in ipairs(ds) do
      if overlaps(h.s, h.e, d.a0, d.a1) then
        table.insert(matched, d)
        a0, a1 = math.min(a0, d.a0), math.max(a1, d.a1)
      end
    end
    out[h.id] = { map(a0, false), map(a1, true), a0 = a0, a1 = a1, matched = matched }
  end
  return out, false
end

--- What the proposal buffer holds of each hunk: 'applied' (claude's lines), 'reverted'
--- (the original's) or 'edited'.
local function states(r, lines)
  local out = {}
  local ds = diff(r, lines)
  for _, h in ipairs(r.hunks) do
    local matched = {}
    for _, d in ipairs(ds) do
      if overlaps(h.s, h.e, d.a0, d.a1) then
        table.insert(matched, d)
      end
    end
    if #matched == 0 then
      out[h.id] = 'reverted'
    elseif #matched == 1 and matched[1].a0 == h.s and matched[1].a1 == h.e
      and same(slice(lines, matched[1].b0, matched[1].b1), h.lines) then
      out[h.id] = 'applied'
    else
      out[h.id] = 'edited'
    end
  end
  return out
end

--- The answer for the proposal as it stands: claude's proposal whole (accept), the
--- original with some of claude's hunks (acceptedHunks; none is a reject), else the
--- user's own text.
---@return claude_bridge.ReviewEditResult
function M.result(r)
  local lines = buf_lines(r.prop_buf)
  local res
  if same(lines, r.prop) then
    res = { decision = 'accept' }
  else
    local set
    if same(lines, expected(r, r.applied)) then
      set = r.applied
    else
      local st, ok = states(r, lines), true
      set = {}
      for _, h in ipairs(r.hunks) do
        ok = ok and st[h.id] ~= 'edited'
        set[h.id] = st[h.id] == 'applied' or nil
      end
      if not (ok and same(lines, expected(r, set))) then
        set = nil
      end
    end
    if set then
      local ids = {}
      for _, h in ipairs(r.hunks) do
        if set[h.id] then
          table.insert(ids, h.id)
        end
      end
      if #ids == #r.hunks then
        res = { decision = 'accept' }
      elseif #ids == 0 then
        res = { decision = 'reject' }
      else
        res = { decision = 'accept', acceptedHunks = ids }
      end
    else
      res = { decision = 'accept', text = join(r, lines) }
    end
  end
  if #r.feedback > 0 then
    res.feedback = table.concat(r.feedback, '\n')
  end
  return res
end

-- The tab ---------------------------------------------------------------------------

--- Echoes the first of the messages (lists of chunks) that fits one line of the message
--- area, else the last cut to fit (a longer message would stop Neovim at a hit-enter
--- prompt). Not kept in :messages.
function M.echo(...)
  local room = math.max(10, (vim.v.echospace or vim.o.columns - 12) - 1)
  local chunks
  for _, c in ipairs({ ... }) do
    chunks = c
    local w = 0
    for _, part in ipairs(c) do
      w = w + vim.fn.strdisplaywidth(part[1])
    end
    if w <= room then
      break
    end
  end
  local out, used = {}, 0
  for _, c in ipairs(chunks) do
    local text = c[1]
    local w = vim.fn.strdisplaywidth(text)
    if used + w > room then
      text = vim.fn.strcharpart(text, 0, math.max(0, room - used - 1)) .. '…'
      table.insert(out, { text, c[2] })
      break
    end
    used = used + w
    table.insert(out, { text, c[2] })
  end
  api.nvim_echo(out, false, {})
end

local function valid_win(w)
  return w and api.nvim_win_is_valid(w)
end

local function valid_buf(b)
  return b and api.nvim_buf_is_valid(b)
end

--- "+3 −1 in 2 hunks" / "+12 lines" for a review.
function M.summary(r)
  local plus, minus = 0, 0
  for _, h in ipairs(r.hunks) do
    plus = plus + #h.lines
    minus = minus + (h.e - h.s)
  end
  if #r.orig == 0 and #r.hunks <= 1 then
    return string.format('+%d line%s', plus, plus == 1 and '' or 's')
  end
  return string.format('+%d −%d in %d hunk%s', plus, minus, #r.hunks, #r.hunks == 1 and '' or 's')
end

local function decided_count(r)
  local n = 0
  for _, h in ipairs(r.hunks) do
    if r.decided[h.id] then
      n = n + 1
    end
  end
  return n
end

local function esc(s)
  return (tostring(s):gsub('%%', '%%%%'))
end

--- The statuslines of the review's two windows, and the marks of decided hunks.
local function redraw(r)
  -- Left: the file and how far the decisions are; right: what to type (80 columns leave
  -- each about 40).
  if valid_win(r.orig_win) then
    local decided = decided_count(r)
    local state = string.format('%d hunk%s', #r.hunks, #r.hunks == 1 and '' or 's')
    if decided > 0 then
      state = state .. string.format(', %d decided', decided)
    end
    vim.wo[r.orig_win].statusline = esc(' ' .. r.name .. ' (now)') .. '%=' .. esc(state .. ' ')
  end
  if valid_win(r.prop_win) then
    vim.wo[r.prop_win].statusline = esc(' proposal') .. '%=' .. esc(':ClaudeAccept :ClaudeReject ')
  end
  if not valid_buf(r.prop_buf) then
    return
  end
  api.nvim_buf_clear_namespace(r.prop_buf, ns, 0, -1)
  local lines = buf_lines(r.prop_buf)
  local where = regions(r, lines)
  local count = api.nvim_buf_line_count(r.prop_buf)
  for _, h in ipairs(r.hunks) do
    local d = r.decided[h.id]
    local reg = where[h.id]
    if d and reg then
      local row = math.min(math.max(reg[1], 0), count - 1)
      local text = d == 'accept' and ('  ✓ ' .. h.id .. ' accepted') or ('  ✗ ' .. h.id .. ' rejected')
      pcall(api.nvim_buf_set_extmark, r.prop_buf, ns, row, 0, {
        virt_text = { { text, d == 'accept' and 'DiffAdd' or 'DiffDelete' } },
        virt_text_pos = 'eol',
      })
    end
  end
end

--- Sets the buffer's filetype as its file would get it (syntax in the diff).
local function set_filetype(buf, path)
  local open = vim.fn.bufnr(path)
  if open > 0 and vim.bo[open].filetype ~= '' then
    vim.bo[buf].filetype = vim.bo[open].filetype
    return
  end
  pcall(api.nvim_buf_call, buf, function()
    vim.cmd('silent! doautocmd filetypedetect BufRead ' .. vim.fn.fnameescape(path))
  end)
end

local function scratch(r, role, lines, modifiable)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].bufhidden = 'hide' -- the user's edits of the proposal outlive a closed tab
  vim.bo[buf].swapfile = false
  -- A URI-like name (no language server takes it for a file) that a tab label shortens to
  -- `c//main.go (proposal)`.
  local name = string.format('claude-bridge://%s (%s)', r.name, role)
  if not pcall(api.nvim_buf_set_name, buf, name) then
    pcall(api.nvim_buf_set_name, buf, string.format('claude-bridge://%s (%s %d)', r.name, role, r.n))
  end
  set_filetype(buf, r.file)
  if modifiable then
    vim.bo[buf].buftype = 'acwrite' -- :w accepts (BufWriteCmd)
    vim.bo[buf].modified = false
  else
    vim.bo[buf].modifiable = false
  end
  vim.b[buf].claude_bridge_review = r.n
  return buf
end

local function wipe(r)
  for _, b in ipairs({ r.orig_buf, r.prop_buf }) do
    if valid_buf(b) then
      pcall(api.nvim_buf_delete, b, { force = true })
    end
  end
  r.orig_buf, r.prop_buf = nil, nil
end

--- Closes the review's tab (its windows) and goes back where the user was when it opened,
--- if they are still in it.
local function close_tab(r)
  local here = api.nvim_get_current_win()
  local inside = here == r.orig_win or here == r.prop_win
  if r.augroup then
    pcall(api.nvim_del_augroup_by_id, r.augroup)
    r.augroup = nil
  end
  if inside then
    vim.cmd('stopinsert')
  end
  for _, w in ipairs({ r.orig_win, r.prop_win }) do
    if valid_win(w) and not pcall(api.nvim_win_close, w, true) then
      -- The last window of Neovim: leave an empty one rather than quit.
      pcall(api.nvim_win_call, w, function()
        vim.cmd('diffoff | enew')
      end)
    end
  end
  r.orig_win, r.prop_win = nil, nil
  if inside and valid_win(r.prev_win) then
    pcall(api.nvim_set_current_win, r.prev_win)
  end
end

--- The first line of the first hunk in the proposal (1-based), where the cursor goes.
local function first_hunk_line(r)
  local where = regions(r, buf_lines(r.prop_buf))
  local h = r.hunks[1]
  if not h then
    return 1
  end
  return math.max(1, math.min(where[h.id][1] + 1, api.nvim_buf_line_count(r.prop_buf)))
end

--- Opens the review's tab (`done(nil)` later if the user closes it undecided).
local function open_tab(r, done)
  if not valid_buf(r.orig_buf) then
    r.orig_buf = scratch(r, 'now', r.orig, false)
  end
  if not valid_buf(r.prop_buf) then
    r.prop_buf = scratch(r, 'proposal', r.prop, true)
    api.nvim_create_autocmd('BufWriteCmd', {
      buffer = r.prop_buf,
      desc = 'Accept the proposal as it stands',
      callback = function()
        M.accept(r)
      end,
    })
  end
  r.prev_win = api.nvim_get_current_win()
  vim.cmd('tabnew')
  local empty = api.nvim_get_current_buf()
  r.orig_win = api.nvim_get_current_win()
  api.nvim_win_set_buf(r.orig_win, r.orig_buf)
  if empty ~= r.orig_buf and valid_buf(empty) then
    pcall(api.nvim_buf_delete, empty, { force = true })
  end
  vim.cmd('rightbelow vsplit')
  r.prop_win = api.nvim_get_current_win()
  api.nvim_win_set_buf(r.prop_win, r.prop_buf)
  r.tab = api.nvim_get_current_tabpage()
  for _, w in ipairs({ r.orig_win, r.prop_win }) do
    api.nvim_win_call(w, function()
      vim.cmd('diffthis')
    end)
  end
  redraw(r)
  pcall(api.nvim_win_set_cursor, r.prop_win, { first_hunk_line(r), 0 })
  -- Closing either window without a decision: the review waits (:ClaudeAnswer).
  r.augroup = api.nvim_create_augroup('claude_bridge_review_' .. r.n, { clear = true })
  api.nvim_create_autocmd('WinClosed', {
    group = r.augroup,
    callback = function(args)
      local closed = tonumber(args.match)
      if closed ~= r.orig_win and closed ~= r.prop_win then
        return
      end
      vim.schedule(function()
        if r.done or not r.presenting then
          return
        end
        close_tab(r)
        done(nil)
      end)
    end,
  })
  vim.cmd('redraw')
  local head = { string.format("Claude's edit of %s (%s). ", r.name, M.summary(r)), 'Title' }
  local hunks = { 'Per hunk: :ClaudeAcceptHunk / :ClaudeRejectHunk (at the cursor)', 'Comment' }
  M.echo({ head, hunks }, { hunks })
  -- What the review cannot do as expected (the buffer's unsaved changes
  -- overlap Claude's): said as it opens, and kept in :messages.
  if r.params.notice and r.params.notice ~= '' and not r.noticed then
    r.noticed = true
    notify(r.params.notice, vim.log.levels.WARN)
  end
end

--- The review whose tab or buffer holds the cursor, else the oldest waiting.
function M.current()
  local buf = api.nvim_get_current_buf()
  local win = api.nvim_get_current_win()
  for _, r in ipairs(M.reviews) do
    if buf == r.prop_buf or buf == r.orig_buf or win == r.orig_win or win == r.prop_win then
      return r, true
    end
  end
  return M.reviews[1], false
end

-- Answering -------------------------------------------------------------------------

local function remove_review(r)
  for i, x in ipairs(M.reviews) do
    if x == r then
      table.remove(M.reviews, i)
      break
    end
  end
end

--- Offers the oldest review not offered yet (one at a time: they queue up).
local function advance()
  local head = M.reviews[1]
  if head and not head.offered and not head.presenting and not head.done then
    permissions.offer(head)
  end
end

local function finish(r, res)
  if r.done then
    return
  end
  permissions.resolve(r, res)
end

--- :ClaudeAccept: the proposal as it stands.
function M.accept(r)
  r = r or M.current()
  if not r then
    notify('no edit waits for your review', vim.log.levels.WARN)
    return false
  end
  if not valid_buf(r.prop_buf) then
    finish(r, { decision = 'accept' }) -- accepted unseen (from another tab)
    return true
  end
  finish(r, M.result(r))
  return true
end

--- :ClaudeReject [feedback]
function M.reject(feedback, r)
  r = r or M.current()
  if not r then
    notify('no edit waits for your review', vim.log.levels.WARN)
    return false
  end
  local res = { decision = 'reject' }
  local all = vim.deepcopy(r.feedback)
  if feedback and feedback:match('%S') then
    table.insert(all, vim.trim(feedback))
  end
  if #all > 0 then
    res.feedback = table.concat(all, '\n')
  end
  finish(r, res)
  return true
end

--- The hunk at the cursor of the review's windows (or nil and why not).
local function hunk_at_cursor(r)
  local win = api.nvim_get_current_win()
  local line = api.nvim_win_get_cursor(win)[1] - 1
  local spans = {}
  if win == r.orig_win or api.nvim_get_current_buf() == r.orig_buf then
    for _, h in ipairs(r.hunks) do
      spans[h.id] = { h.s, h.e }
    end
  elseif win == r.prop_win or api.nvim_get_current_buf() == r.prop_buf then
    spans = regions(r, buf_lines(r.prop_buf))
  else
    return nil, "put the cursor on a hunk in the review's tab"
  end
  for _, h in ipairs(r.hunks) do
    local sp = spans[h.id]
    if line >= sp[1] and line < sp[2] then
      return h
    end
  end
  -- An empty span (lines deleted, or not inserted): the lines around it.
  for _, h in ipairs(r.hunks) do
    local sp = spans[h.id]
    if sp[1] == sp[2] and (line == sp[1] or line == sp[1] - 1) then
      return h
    end
  end
  return nil, 'no hunk under the cursor (]c and [c move between hunks)'
end

--- Puts `lines` in place of the proposal's lines [b0, b1): one undo step.
local function set_region(r, b0, b1, lines)
  api.nvim_buf_set_lines(r.prop_buf, b0, b1, false, lines)
end

local function maybe_done(r)
  if decided_count(r) == #r.hunks then
    finish(r, M.result(r))
  else
    redraw(r)
  end
end

--- The review, hunk and its region in the proposal for a hunk command at the cursor; nil
--- after saying why there is none.
local function hunk_target()
  local r, here = M.current()
  if not (r and here) then
    notify(r and "put the cursor on a hunk in the review's tab" or 'no edit waits for your review', vim.log.levels.WARN)
    return nil
  end
  local h, why = hunk_at_cursor(r)
  if not h then
    notify(why, vim.log.levels.WARN)
    return nil
  end
  local where, exact = regions(r, buf_lines(r.prop_buf))
  return r, h, where[h.id], exact
end

--- :ClaudeAcceptHunk: keeps claude's lines of the hunk at the cursor (puts them back if
--- they were taken out with `do`).
function M.accept_hunk()
  local r, h, reg, exact = hunk_target()
  if not r then
    return false
  end
  if (exact and not r.applied[h.id]) or (not exact and #reg.matched == 0) then
    set_region(r, reg[1], reg[2], h.lines) -- the original's lines there: claude's instead
  end
  r.applied[h.id] = true
  r.decided[h.id] = 'accept'
  maybe_done(r)
  return true
end

--- :ClaudeRejectHunk [feedback]: puts the original's lines back in place of the hunk at
--- the cursor.
function M.reject_hunk(feedback)
  local r, h, reg, exact = hunk_target()
  if not r then
    return false
  end
  if exact and r.applied[h.id] then
    set_region(r, reg[1], reg[2], slice(r.orig, h.s, h.e))
  elseif not exact then
    set_region(r, reg[1], reg[2], slice(r.orig, reg.a0, reg.a1))
  end
  r.applied[h.id] = nil
  r.decided[h.id] = 'reject'
  if feedback and feedback:match('%S') then
    table.insert(r.feedback, h.id .. ': ' .. vim.trim(feedback))
  end
  maybe_done(r)
  return true
end

-- The request ------------------------------------------------------------------------

--- Sends claude.answer for the review to the bridge that asked.
local function send_answer(r, res)
  local client = lsp().client_by_id(r.client_id)
  if not client then
    notify('the bridge that asked for the review is gone; the answer is lost', vim.log.levels.WARN)
    return
  end
  local arg = { taskId = r.params.taskId, toolUseId = r.params.toolUseId, review = res }
  lsp().execute(client, protocol.commands.answer, arg, function(e, reply)
    ---@cast reply claude_bridge.AnswerResult|nil
    if e then
      notify('claude.answer failed: ' .. tostring(e.message or e), vim.log.levels.ERROR)
    elseif type(reply) == 'table' and reply.accepted == false then
      notify('claude no longer waits for the review of ' .. r.name, vim.log.levels.WARN)
    end
  end)
end

local function describe(res)
  if res.decision == 'reject' then
    return 'rejected'
  elseif res.text then
    return 'accepted as you edited it'
  elseif res.acceptedHunks then
    return string.format('accepted %s', table.concat(res.acceptedHunks, ', '))
  end
  return 'accepted'
end

local function relative(path, folder)
  if folder and path:sub(1, #folder + 1) == folder .. '/' then
    return path:sub(#folder + 2)
  end
  return vim.fn.fnamemodify(path, ':~:.')
end

--- The `claude/reviewEdit` handler: queues the review and answers `{ deferred = true }`.
---@param params claude_bridge.ReviewEditParams
function M.handle(_, params, ctx)
  params = params or {}
  counter = counter + 1
  local file = params.uri and vim.uri_to_fname(params.uri) or ('file-' .. counter)
  local task = params.taskId and require('claude_bridge.tasks').get(params.taskId)
  local orig, oeol, onl = M.split(params.original)
  local prop, peol, pnl = M.split(params.proposed)
  local nl = (params.original or '') ~= '' and onl or pnl -- a new file: as claude writes it
  local r = {
    kind = 'review',
    n = counter,
    params = params,
    client_id = ctx and ctx.client_id,
    file = file,
    name = relative(file, task and task.folder),
    tool = params.tool or 'Edit',
    orig = orig,
    prop = prop,
    eol = (params.proposed or '') ~= '' and peol or oeol,
    nl = nl,
    hunks = {},
    applied = {},
    decided = {},
    feedback = {},
    task_id = params.taskId,
    tool_use_id = params.toolUseId,
  }
  for _, h in ipairs(params.hunks or {}) do
    local s = h.range and h.range.start and h.range.start.line or 0
    local olines = M.split(h.originalText)
    table.insert(r.hunks, { id = h.id, s = s, e = s + #olines, lines = (M.split(h.proposedText)) })
    r.applied[h.id] = true
  end
  local verb = #orig == 0 and 'create' or 'edit'
  r.message = string.format('Claude wants to %s %s: %s', verb, r.name, M.summary(r))
  r.present = function(_, done)
    local ok, e = pcall(open_tab, r, done)
    if not ok then
      close_tab(r)
      done(nil)
      notify('could not open the review of ' .. r.name .. ': ' .. tostring(e), vim.log.levels.ERROR)
    end
  end
  r.can_present = function()
    for _, q in ipairs(permissions.pending) do
      if q ~= r and q.presenting then
        return false
      end
    end
    return true
  end
  r.focus = function()
    if valid_win(r.prop_win) then
      api.nvim_set_current_win(r.prop_win)
    end
  end
  r.here = function()
    local current, inside = M.current()
    return inside and current == r
  end
  r.answered = function(res)
    r.done = true
    close_tab(r)
    wipe(r)
    remove_review(r)
    send_answer(r, res)
    M.echo({ { string.format("Claude's edit of %s: %s", r.name, describe(res)) } })
    advance()
  end
  r.on_withdraw = function(reason)
    -- Told unless the user ended the task themselves (its end message says so).
    local t = require('claude_bridge.tasks').get(r.task_id)
    local ended = t and (t.cancel_requested or require('claude_bridge.tasks').is_terminal(t.status))
    local seen = (r.presenting or r.offered) and not ended
    r.done = true
    close_tab(r)
    wipe(r)
    remove_review(r)
    if seen then
      notify(
        string.format('the review of %s is over: %s', r.name, reason or 'the bridge no longer waits for it'),
        vim.log.levels.WARN
      )
    end
    advance()
  end
  table.insert(M.reviews, r)
  permissions.enqueue(r)
  advance()
  return { deferred = true }
end

return M
