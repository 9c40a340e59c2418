// Claude Bridge for VS Code: one claude-bridge language server per window
// (all workspace folders), commands to run and follow Claude Code tasks,
// progress notifications with Cancel, permission questions, transcripts.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { ChangesStore } from './changes';
import { ChangesView } from './changesView';
import { Commands } from './commands';
import { ConversationCommands } from './conversation';
import { QuestionStore } from './questions';
import { ReviewUi } from './review';
import { ReviewDocs } from './reviewDocs';
import { ReviewQueue } from './reviewModel';
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
  /** The edits waiting for review (beforeWrite), the one on screen first. */
  reviews: ReviewQueue;
  /** The tasks' changes kept for review (afterTurn). */
  changes: ChangesStore;
}

export function activate(context: vscode.ExtensionContext): ClaudeBridgeApi {
  const output = vscode.window.createOutputChannel('Claude Bridge', { log: true });
  const store = new TaskStore();
  const questions = new QuestionStore();
  bridge = new Bridge(store, questions, output, context.extensionUri);
  const transcripts = new TranscriptPanels(context.extensionUri, store, questions);
  bridge.transcriptVisible = (id) => transcripts.visible(id);
  const conversation = new ConversationCommands(bridge, transcripts);
  transcripts.actions = conversation.transcriptActions();
  const b = bridge;
  const docs = new ReviewDocs();
  const reviewUi = new ReviewUi(new ReviewQueue(), docs, {
    taskLabel: (id) => b.store.get(id)?.prompt || undefined,
    log: (l) => output.info(l),
    memento: context.globalState,
  });
  bridge.reviewHandler = (p, token) => reviewUi.handle(p, token);
  bridge.reviews = reviewUi.queue;
  const changesView = new ChangesView(bridge, bridge.changes, docs, context.workspaceState);
  bridge.onStarted = () => void changesView.restore().catch((err) => output.warn(`changes: ${String(err)}`));
  transcripts.review = { reviews: reviewUi, changes: bridge.changes, changesView };
  context.subscriptions.push(
    docs,
    reviewUi,
    changesView,
    ...reviewUi.register(),
    ...changesView.register(),
    output,
    bridge,
    transcripts,
    new StatusBar(bridge),
    ...new Commands(bridge, transcripts).register(),
    ...conversation.register(),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('claudeBridge') || !bridge) return;
      if (e.affectsConfiguration('claudeBridge.includeOpenFiles')) return; // read when a task starts
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
  return { store, questions, bridge, transcripts, reviews: reviewUi.queue, changes: bridge.changes };
}

export async function deactivate(): Promise<void> {
  await bridge?.stop();
  bridge = undefined;
}
