// "claude CLI not found": the bridge's warning (at start-up, and a task's
// failure) becomes a notification that leads with what to do, with buttons
// for it: copy the install command, set claudeBridge.claudePath, open the
// README's section. Where the bridge looked goes to the output channel.

import * as vscode from 'vscode';

export const CLAUDE_INSTALL_COMMAND = 'npm install -g @anthropic-ai/claude-code';

/** The README section the notification opens (editors/vscode/README.md). */
export const README_SECTION = 'if-claude-is-not-found';

/** The text the bridge starts its warning with (runner.ClaudeNotFoundError). */
export function isClaudeMissing(message: string): boolean {
  return /claude CLI not found/.test(message);
}

export const COPY = 'Copy Install Command';
export const SET_PATH = 'Set claudePath…';
export const README = 'Open README';

/** The notification's text: what to do first. */
export const MISSING_TEXT =
  `Claude Bridge cannot find the claude CLI. Install it with “${CLAUDE_INSTALL_COMMAND}” and run “Claude: Restart Bridge”, ` +
  'or set claudeBridge.claudePath to the claude executable.';

let showing = false;

export async function showClaudeMissing(bridgeMessage: string, extensionUri: vscode.Uri, output: vscode.LogOutputChannel): Promise<void> {
  output.warn(bridgeMessage);
  // One at a time: the start-up warning and a failed task do not stack two.
  if (showing) return;
  showing = true;
  try {
    const pick = await vscode.window.showWarningMessage(MISSING_TEXT, COPY, SET_PATH, README);
    if (pick === COPY) {
      await vscode.env.clipboard.writeText(CLAUDE_INSTALL_COMMAND);
      vscode.window.setStatusBarMessage(`Copied: ${CLAUDE_INSTALL_COMMAND}`, 5000);
    } else if (pick === SET_PATH) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'claudeBridge.claudePath');
    } else if (pick === README) {
      const readme = vscode.Uri.joinPath(extensionUri, 'README.md').with({ fragment: README_SECTION });
      await vscode.commands.executeCommand('markdown.showPreview', readme);
    }
  } finally {
    showing = false;
  }
}
