-- @path images in a prompt (:Claude, :ClaudeSend): a path followed by punctuation, one with
-- backslash-escaped spaces and a quoted one each send their image, the text keeps the name
-- as typed without the @; an e-mail address and a path that is no image file stay as they
-- are.
local H = dofile(vim.env.CB_PLUGIN .. '/test/helpers.lua')

H.run('mock/images', function()
  local conversation = require('claude_bridge.conversation')
  local dir = H.env.tmp .. '/img dir'
  vim.fn.mkdir(dir, 'p')
  local png = '\137PNG\r\n\26\n'
  H.write(H.env.tmp .. '/ok.png', png)
  H.write(dir .. '/a b.png', png)
  local ok = vim.uri_from_fname(H.env.tmp .. '/ok.png')
  local spaced = vim.uri_from_fname(dir .. '/a b.png')
  local function check(prompt, want_text, want_uris, what)
    local text, images = conversation.prompt_images(prompt)
    local uris = {}
    for _, img in ipairs(images or {}) do
      table.insert(uris, img.uri)
    end
    H.eq(want_text, text, what .. ': the text')
    H.eq(want_uris, uris, what .. ': the images')
  end
  local t = H.env.tmp
  check('look at @' .. t .. '/ok.png', 'look at ' .. t .. '/ok.png', { ok }, 'a plain path')
  check('look at @' .. t .. '/ok.png, please', 'look at ' .. t .. '/ok.png, please', { ok }, 'a comma after it')
  check('is it @' .. t .. '/ok.png?', 'is it ' .. t .. '/ok.png?', { ok }, 'a question mark after it')
  check('see (@' .. t .. '/ok.png).', 'see (' .. t .. '/ok.png).', { ok }, 'in brackets, then a full stop')
  check('look at @' .. t .. '/img\\ dir/a\\ b.png now', 'look at ' .. t .. '/img\\ dir/a\\ b.png now', { spaced }, 'escaped spaces')
  check('look at @"' .. t .. '/img dir/a b.png" now', 'look at "' .. t .. '/img dir/a b.png" now', { spaced }, 'a quoted path')
  check("and @'" .. t .. "/img dir/a b.png'", "and '" .. t .. "/img dir/a b.png'", { spaced }, 'single quotes')
  check('both @' .. t .. '/ok.png and @"' .. t .. '/img dir/a b.png"', 'both ' .. t .. '/ok.png and "' .. t .. '/img dir/a b.png"', { ok, spaced }, 'two images')
  check('mail me@example.com', 'mail me@example.com', {}, 'an e-mail address')
  check('@' .. t .. '/missing.png here', '@' .. t .. '/missing.png here', {}, 'a file that is not there')
  check('@"unclosed ' .. t .. '/ok.png', '@"unclosed ' .. t .. '/ok.png', {}, 'an unclosed quote')
end)
