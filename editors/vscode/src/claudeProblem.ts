// What is wrong with the claude CLI, from the bridge's message, and the
// notification that says so (pure: no vscode, for the unit tests).

export const CLAUDE_INSTALL_COMMAND = 'npm install -g @anthropic-ai/claude-code';

/** The README section the notification opens (editors/vscode/README.md). */
export const README_SECTION = 'if-claude-is-not-found';

/** What is wrong with claude, from the bridge's message (runner.ClaudeNotFoundError, ClaudeUnusableError, ClaudeFailsError). */
export type ClaudeProblem = 'missing' | 'unusable' | 'fails';

export function claudeProblem(message: string): ClaudeProblem | undefined {
  if (/claude CLI not found/.test(message)) return 'missing';
  if (/claude CLI at .* (is not executable|is a directory|is a symbolic link to )/.test(message)) return 'unusable';
  if (/claude CLI at .* does not run \(/.test(message)) return 'fails';
  return undefined;
}

/** Whether a message of the bridge says that claude cannot be used (missing, not executable, failing). */
export function isClaudeProblem(message: string): boolean {
  return claudeProblem(message) !== undefined;
}

export const COPY = 'Copy Install Command';
export const COPY_FIX = 'Copy Fix Command';
export const SET_PATH = 'Set claudePath…';
export const README = 'Open README';

/** The notification's text when claude is missing: what to do first. */
export const MISSING_TEXT =
  `Claude Bridge cannot find the claude CLI. Install it with “${CLAUDE_INSTALL_COMMAND}” and run “Claude: Restart Bridge”, ` +
  'or set claudeBridge.claudePath to the claude executable.';

/** The notification's text and buttons for a bridge message about claude. */
export function claudeNotice(bridgeMessage: string): { text: string; buttons: string[]; fix?: string } {
  const kind = claudeProblem(bridgeMessage);
  if (kind === 'missing' || kind === undefined) return { text: MISSING_TEXT, buttons: [COPY, SET_PATH, README] };
  // The bridge's words lead with what is wrong and the fix; backticks are for a terminal.
  const text = 'Claude Bridge: ' + bridgeMessage.replace(/^claude-bridge:\s*/, '').replace(/`([^`]*)`/g, '“$1”');
  const fix = /`(chmod \+x [^`]+)`/.exec(bridgeMessage)?.[1];
  if (fix) return { text, buttons: [COPY_FIX, SET_PATH, README], fix };
  return { text, buttons: [SET_PATH, COPY, README] };
}

