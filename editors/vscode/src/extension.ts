// Claude Bridge for VS Code: one claude-bridge language server per window
// (all workspace folders), commands to run and follow Claude Code tasks,
// progress notifications with Cancel, permission questions, transcripts.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { Commands } from './commands';
import { StatusBar } from './statusBar';
import { TaskStore } from './tasks';
import { TRANSCRIPT_SCHEME, TranscriptProvider } from './transcriptView';

let bridge: Bridge | undefined;

export interface ClaudeBridgeApi {
  /** The task registry (for tests and other extensions). */
  store: TaskStore;
  bridge: Bridge;
}

export function activate(context: vscode.ExtensionContext): ClaudeBridgeApi {
  const output = vscode.window.createOutputChannel('Claude Bridge', { log: true });
  const store = new TaskStore();
  bridge = new Bridge(store, output);
  const transcripts = new TranscriptProvider(store);
  context.subscriptions.push(
    output,
    bridge,
    transcripts,
    vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, transcripts),
    new StatusBar(bridge),
    ...new Commands(bridge).register(),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('claudeBridge') || !bridge) return;
      if (e.affectsConfiguration('claudeBridge.path')) {
        // Another executable: start it instead.
        void bridge.restart().catch((err) => output.error(`restart failed: ${String(err)}`));
      } else {
        void bridge.sendConfiguration();
      }
    }),
  );
  // Start at once: a missing bridge is reported now, not at the first command.
  void bridge.ensureStarted().catch((err) => output.error(`start failed: ${String(err)}`));
  return { store, bridge };
}

export async function deactivate(): Promise<void> {
  await bridge?.stop();
  bridge = undefined;
}
