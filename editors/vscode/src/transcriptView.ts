// "Claude: Show Transcript": a live, read-only virtual document per task.

import * as vscode from 'vscode';
import { TaskStore } from './tasks';
import { render } from './transcript';

export const TRANSCRIPT_SCHEME = 'claude-transcript';

export function transcriptUri(taskId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: TRANSCRIPT_SCHEME, path: `/${taskId}.md` });
}

export function taskIdOf(uri: vscode.Uri): string {
  return uri.path.replace(/^\//, '').replace(/\.md$/, '');
}

export class TranscriptProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly sub: { dispose(): void };

  constructor(private readonly store: TaskStore) {
    // Coalesce bursts of text deltas into one refresh every 150 ms.
    this.sub = store.onDidChange((taskId) => {
      this.pending.add(taskId);
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
        for (const id of this.pending) {
          const uri = transcriptUri(id);
          if (open.has(uri.toString())) this.changed.fire(uri);
        }
        this.pending.clear();
      }, 150);
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const t = this.store.get(taskIdOf(uri));
    return t ? render(t) : `No task ${taskIdOf(uri)} in this window.\n`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.changed.dispose();
  }
}
