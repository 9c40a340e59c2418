// Claude Bridge for VS Code: one claude-bridge language server per window
// (all workspace folders), commands to run and follow Claude Code tasks,
// progress notifications with Cancel, permission questions, transcripts.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { Commands } from './commands';
import { QuestionStore } from './questions';
import { StatusBar } from './statusBar';
import { TaskStore } from './tasks';
import { TranscriptPanels } from './transcriptView';

let bridge: Bridge | undefined;

export interface ClaudeBridgeApi {
  /** The task registry (for tests and other extensions). */
  store: TaskStore;
  /** The questions the agent waits on. */
  questions: QuestionStore;
  bridge: Bridge;
  transcripts: TranscriptPanels;
}

export function activate(context: vscode.ExtensionContext): ClaudeBridgeApi {
  const output = vscode.window.createOutputChannel('Claude Bridge', { log: true });
  const store = new TaskStore();
  const questions = new QuestionStore();
  bridge = new Bridge(store, questions, output, context.extensionUri);
  const transcripts = new TranscriptPanels(context.extensionUri, store, questions);
  bridge.transcriptVisible = (id) => transcripts.visible(id);
  context.subscriptions.push(
    output,
    bridge,
    transcripts,
    new StatusBar(bridge),
    ...new Commands(bridge, transcripts).register(),
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
  return { store, questions, bridge, transcripts };
}

export async function deactivate(): Promise<void> {
  await bridge?.stop();
  bridge = undefined;
}
