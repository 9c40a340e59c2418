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
syntax match claudeBridgeLogToolOut  /^    .*/
syntax match claudeBridgeLogCommand  /^    \$ .*/
syntax match claudeBridgeLogDel      /^    - .*/
syntax match claudeBridgeLogAdd      /^    + .*/
syntax match claudeBridgeLogInput    /^    [a-z_]\+: .*/
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
