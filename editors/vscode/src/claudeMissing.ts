// A claude CLI that cannot be used: the bridge's warning (at start-up, and a
// task's failure) becomes a notification that leads with what to do, with
// buttons for it. Not found: copy the install command, set
// claudeBridge.claudePath, open the README's section. Found but not
// executable, or failing: the bridge's own words (what is wrong, what claude
// said, the fix), with the fix command to copy where there is one. Where the
// bridge looked goes to the output channel.

import * as vscode from 'vscode';
import { CLAUDE_INSTALL_COMMAND, COPY, COPY_FIX, README, README_SECTION, SET_PATH, claudeNotice } from './claudeProblem';

export { isClaudeProblem } from './claudeProblem';

/**
 * The extension's README, by its real name: vsce packs it as readme.md,
 * and a case-sensitive file system has no README.md then.
 */
export async function readmeUri(extensionUri: vscode.Uri): Promise<vscode.Uri> {
  try {
    for (const [name] of await vscode.workspace.fs.readDirectory(extensionUri)) {
      if (name.toLowerCase() === 'readme.md') return vscode.Uri.joinPath(extensionUri, name);
    }
  } catch {
    // unreadable: the usual name
  }
  return vscode.Uri.joinPath(extensionUri, 'README.md');
}

/**
 * Opens the settings where a machine-scoped setting such as
 * claudeBridge.claudePath can be set: the Remote tab in a remote window
 * (SSH, containers, code-server), whose User tab does not show it; else the
 * User settings.
 */
export async function openMachineSetting(id: string): Promise<void> {
  if (vscode.env.remoteName) {
    await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: `@id:${id}` });
  } else {
    await vscode.commands.executeCommand('workbench.action.openSettings', `@id:${id}`);
  }
}

let showing = false;

export async function showClaudeMissing(bridgeMessage: string, extensionUri: vscode.Uri, output: vscode.LogOutputChannel): Promise<void> {
  output.warn(bridgeMessage);
  // One at a time: the start-up warning and a failed task do not stack two.
  if (showing) return;
  showing = true;
  try {
    const notice = claudeNotice(bridgeMessage);
    const pick = await vscode.window.showWarningMessage(notice.text, ...notice.buttons);
    if (pick === COPY) {
      await vscode.env.clipboard.writeText(CLAUDE_INSTALL_COMMAND);
      vscode.window.setStatusBarMessage(`Copied: ${CLAUDE_INSTALL_COMMAND}`, 5000);
    } else if (pick === COPY_FIX && notice.fix) {
      await vscode.env.clipboard.writeText(notice.fix);
      vscode.window.setStatusBarMessage(`Copied: ${notice.fix} (run it in a terminal, then “Claude: Restart Bridge”)`, 8000);
    } else if (pick === SET_PATH) {
      await openMachineSetting('claudeBridge.claudePath');
    } else if (pick === README) {
      const readme = (await readmeUri(extensionUri)).with({ fragment: README_SECTION });
      await vscode.commands.executeCommand('markdown.showPreview', readme);
    }
  } finally {
    showing = false;
  }
}
