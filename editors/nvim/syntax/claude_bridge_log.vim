" Syntax of the :ClaudeLog transcript buffers (filetype claude_bridge_log).
if exists('b:current_syntax')
  finish
endif

syntax match claudeBridgeLogHeader   /^# .*/
syntax match claudeBridgeLogField    /^\(Workspace\|Prompt\|Context\|Edited\):/
syntax match claudeBridgeLogTaskId   /^Task \S\+.*/
syntax match claudeBridgeLogStarted  /^● .*/
syntax match claudeBridgeLogToolUse  /^▶ .*/
syntax match claudeBridgeLogResultOk /^◀ .* ok\>.*/
syntax match claudeBridgeLogResultErr /^◀ .* error\>.*/
" A tool call's block: its ▶ or ◀ line and the indented lines under it. Only there is an
" indented line tool input or output; claude's own text may be indented too (code).
syntax region claudeBridgeLogTool start=/^\ze\%(▶\|◀\) / end=/\n\%(    \)\@!/ keepend
      \ contains=claudeBridgeLogToolUse,claudeBridgeLogResultOk,claudeBridgeLogResultErr,claudeBridgeLogToolOut,claudeBridgeLogCommand,claudeBridgeLogDel,claudeBridgeLogAdd,claudeBridgeLogInput
" A block's lines are coloured by where the block starts: sync from the start.
syntax sync fromstart
syntax match claudeBridgeLogToolOut  /^    .*/ contained
syntax match claudeBridgeLogCommand  /^    \$ .*/ contained
syntax match claudeBridgeLogDel      /^    - .*/ contained
syntax match claudeBridgeLogAdd      /^    + .*/ contained
syntax match claudeBridgeLogInput    /^    [a-z_]\+: .*/ contained
syntax match claudeBridgeLogAllowed  /^? Permission .*: allowed.*/
syntax match claudeBridgeLogDenied   /^? Permission .*: denied.*/
syntax match claudeBridgeLogRetry    /^↻ .*/
syntax match claudeBridgeLogNote     /^[·…!] .*/
syntax match claudeBridgeLogThinking /^  ┆ .*/
syntax match claudeBridgeLogDone     /^✔ .*/
syntax match claudeBridgeLogFailed   /^✘ .*/
syntax match claudeBridgeLogCancel   /^■ .*/
syntax match claudeBridgeLogCost     /^  \(\d\|session \).*/

highlight default link claudeBridgeLogHeader    Title
highlight default link claudeBridgeLogTaskId    Comment
highlight default link claudeBridgeLogCommand   Special
highlight default link claudeBridgeLogDel       DiffDelete
highlight default link claudeBridgeLogAdd       DiffAdd
highlight default link claudeBridgeLogField     Label
highlight default link claudeBridgeLogStarted   Comment
highlight default link claudeBridgeLogToolUse   Function
highlight default link claudeBridgeLogInput     Comment
highlight default link claudeBridgeLogToolOut   Comment
highlight default link claudeBridgeLogResultOk  Identifier
highlight default link claudeBridgeLogResultErr ErrorMsg
highlight default link claudeBridgeLogAllowed   DiffAdd
highlight default link claudeBridgeLogDenied    DiffDelete
highlight default link claudeBridgeLogRetry     WarningMsg
highlight default link claudeBridgeLogNote      Comment
highlight default link claudeBridgeLogThinking  Comment
highlight default link claudeBridgeLogDone      String
highlight default link claudeBridgeLogFailed    ErrorMsg
highlight default link claudeBridgeLogCancel    WarningMsg
highlight default link claudeBridgeLogCost      Comment

let b:current_syntax = 'claude_bridge_log'
