// "Claude: Show Transcript": one webview panel per task, titled with the
// task's short prompt, that a person reads: the agent's text as Markdown,
// each tool call a collapsible block with its input (the command, the file
// and the change as a diff), its permission question with buttons, its
// output; retries, notes, and the result with its duration and cost.
// The page renders (webview/main.ts with transcript.ts); this side posts
// the task's events in batches (one message per FLUSH_MS however many
// deltas came) and answers the questions clicked there.

import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { QuestionStore, showsAll } from './questions';
import { TaskRecord, TaskStore } from './tasks';
import type { ChangesStore } from './changes';
import type { ChangesView } from './changesView';
import type { ReviewUi } from './review';
import { firstLine } from './format';
import type { FromWebview, PastedImage, QuestionView, TaskHeader, ToWebview } from './transcript';

/** What the page's controls do beyond answering permissions (conversation.ts provides them). */
export interface TranscriptActions {
  /** The composer: a message into the running task, else a follow-up of it (whose transcript then opens). */
  send(taskId: string, text: string, images: PastedImage[]): Promise<void>;
  interrupt(taskId: string): Promise<void>;
  /** Opens the plan of an open plan question as a Markdown preview. */
  showPlan(question: number): Promise<void>;
}

/** How often a panel gets the events that came meanwhile, in milliseconds. */
export const FLUSH_MS = 50;

interface Panel {
  panel: vscode.WebviewPanel;
  /** The page asked for its content and has it. */
  ready: boolean;
  /** How many of the task's events the page has. */
  sent: number;
}

export function header(t: TaskRecord, store: TaskStore, changes?: ChangesStore): TaskHeader {
  const c = changes?.get(t.taskId);
  return {
    taskId: t.taskId,
    prompt: t.prompt,
    status: t.status,
    step: t.step,
    folder: t.workspaceFolder,
    startedAt: t.startedAt.getTime(),
    endedAt: t.endedAt?.getTime(),
    followUpOf: t.followUpOf ? store.get(t.followUpOf)?.prompt || t.followUpOf : undefined,
    failure: t.failure,
    result: t.result,
    conflicts: t.conflicts,
    permissionMode: t.permissionMode,
    model: t.model,
    pastSession: t.pastSession,
    changes: c ? { files: c.files, uncovered: c.uncovered } : undefined,
  };
}

/** The review side of a transcript: edits held for review and the changes kept (set once they exist). */
export interface TranscriptReview {
  reviews: ReviewUi;
  changes: ChangesStore;
  changesView: ChangesView;
}

export class TranscriptPanels implements vscode.Disposable {
  private readonly panels = new Map<string, Panel>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly subs: { dispose(): void }[] = [];
  /** Messages posted to pages (for the figures in the README). */
  posted = 0;
  /** The composer's and plan's actions; set once the commands exist. */
  actions: TranscriptActions | undefined;
  private reviewSide: TranscriptReview | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: TaskStore,
    private readonly questions: QuestionStore,
  ) {
    this.subs.push(
      store.onDidChange((taskId) => {
        if (this.panels.has(taskId)) this.markDirty(taskId);
      }),
      questions.onDidChange(() => {
        for (const id of this.panels.keys()) this.post(id, { type: 'questions', questions: this.questionsOf(id) });
      }),
    );
  }

  /** Edits held for review show in their tool's block; the changes kept, at the end. */
  set review(r: TranscriptReview) {
    this.reviewSide = r;
    this.subs.push(
      r.reviews.queue.onDidChange(() => {
        for (const id of this.panels.keys()) this.post(id, { type: 'questions', questions: this.questionsOf(id) });
      }),
      r.changes.onDidChange(() => {
        for (const id of this.panels.keys()) this.markDirty(id);
      }),
    );
  }

  private markDirty(taskId: string): void {
    this.dirty.add(taskId);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Whether the task's transcript is open and visible. */
  visible(taskId: string): boolean {
    return this.panels.get(taskId)?.panel.visible === true;
  }

  /** Shows the task's transcript (opening its panel, or bringing it forward). */
  show(taskId: string, preserveFocus = false): vscode.WebviewPanel {
    const open = this.panels.get(taskId);
    if (open) {
      open.panel.reveal(undefined, preserveFocus);
      return open.panel;
    }
    const t = this.store.get(taskId);
    const panel = vscode.window.createWebviewPanel(
      'claudeBridge.transcript',
      `Claude: ${firstLine(t?.prompt || taskId, 30)}`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] },
    );
    const p: Panel = { panel, ready: false, sent: 0 };
    this.panels.set(taskId, p);
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((m: FromWebview) => this.receive(taskId, m));
    panel.onDidDispose(() => this.panels.delete(taskId));
    return panel;
  }

  private receive(taskId: string, m: FromWebview): void {
    const p = this.panels.get(taskId);
    if (!p) return;
    if (m.type === 'ready') {
      // (Again after the panel was hidden and its page reloaded.)
      const t = this.store.get(taskId);
      if (!t) return;
      p.ready = true;
      p.sent = t.events.length;
      this.post(taskId, { type: 'reset', header: header(t, this.store, this.reviewSide?.changes), events: t.events, questions: this.questionsOf(taskId) });
    } else if (m.type === 'answer') {
      if (!this.questions.answer(m.question, m.answer)) {
        // Answered elsewhere meanwhile: redraw the page's question.
        this.post(taskId, { type: 'questions', questions: this.questionsOf(taskId) });
      }
    } else if (m.type === 'answerAsk' || m.type === 'answerPlan') {
      const ok = m.type === 'answerAsk' ? this.questions.answerAsk(m.question, m.answers) : this.questions.answerPlan(m.question, m.result);
      if (!ok) this.post(taskId, { type: 'questions', questions: this.questionsOf(taskId) });
    } else if (m.type === 'showPlan') {
      void this.actions?.showPlan(m.question);
    } else if (m.type === 'send' || m.type === 'interrupt') {
      const done = m.type === 'send' ? this.actions?.send(taskId, m.text, m.images) : this.actions?.interrupt(taskId);
      void done?.catch((err: unknown) => {
        if (m.type === 'send') this.post(taskId, { type: 'sendFailed', text: m.text });
        void vscode.window.showErrorMessage(`Claude: ${err instanceof Error ? err.message : String(err)}`);
      });
    } else if (m.type === 'openFile') {
      void vscode.window.showTextDocument(vscode.Uri.parse(m.uri), { preview: true });
    } else if (m.type === 'review' || m.type === 'changes') {
      void this.reviewAction(taskId, m).catch((err: unknown) => void vscode.window.showErrorMessage(`Claude: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /** The transcript's review buttons: an edit held for review, and the task's changes. */
  private async reviewAction(taskId: string, m: Extract<FromWebview, { type: 'review' | 'changes' }>): Promise<void> {
    const r = this.reviewSide;
    if (!r) return;
    if (m.type === 'review') {
      if (m.action === 'open') await r.reviews.show(m.review);
      else if (m.action === 'accept') await r.reviews.accept(m.review);
      else await r.reviews.reject(m.review);
      return;
    }
    const file = m.uri ? { kind: 'file' as const, taskId, uri: m.uri } : undefined;
    const task = { kind: 'task' as const, taskId };
    if (m.action === 'open' && file) await r.changesView.openDiff(file);
    else if (m.action === 'revert' && file) await r.changesView.revert(file, 'file');
    else if (m.action === 'accept' && file) await r.changesView.accept(file, 'file');
    else if (m.action === 'revertTask') await r.changesView.revert(task, 'task');
    else if (m.action === 'acceptTask') await r.changesView.accept(task, 'task');
  }

  private questionsOf(taskId: string): QuestionView[] {
    const reviews = (this.reviewSide?.reviews.forTask(taskId) ?? []).map(
      (r): QuestionView => ({
        id: r.id,
        message: this.reviewSide!.reviews.describe(r),
        actions: [],
        toolUseId: r.params.toolUseId,
        askedAt: r.askedAt.getTime(),
        kind: 'review',
      }),
    );
    const questions = this.questions.forTask(taskId).map(
      (q): QuestionView => ({
        id: q.id,
        message: q.message,
        whole: showsAll(q) ? undefined : q.whole,
        actions: q.actions,
        toolUseId: q.toolUseId,
        askedAt: q.askedAt.getTime(),
        kind: q.kind,
        questions: q.ask?.questions,
      }),
    );
    return [...reviews, ...questions];
  }

  private flush(): void {
    this.timer = undefined;
    for (const id of this.dirty) {
      const p = this.panels.get(id);
      const t = this.store.get(id);
      if (!p || !t || !p.ready) continue;
      const events = t.events.slice(p.sent);
      p.sent = t.events.length;
      p.panel.title = `Claude: ${firstLine(t.prompt || id, 30)}`;
      this.post(id, { type: 'update', header: header(t, this.store, this.reviewSide?.changes), events });
    }
    this.dirty.clear();
  }

  private post(taskId: string, m: ToWebview): void {
    const p = this.panels.get(taskId);
    if (!p?.ready) return;
    this.posted++;
    void p.panel.webview.postMessage(m);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'transcript.css'));
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}">
</head><body><main id="transcript"></main>
<footer id="composer" hidden><div id="pending"></div><div id="images"></div><textarea id="message" rows="2"></textarea>
<div class="buttons"><button id="send">Send</button><button id="interrupt" class="secondary" hidden>Interrupt</button></div></footer>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body></html>`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    for (const p of [...this.panels.values()]) p.panel.dispose();
  }
}
