// Reviewing an edit before it is written (review "beforeWrite"): the
// bridge's claude/reviewEdit request opens VS Code's diff editor with the
// file as the user has it on the left and claude's proposal on the right.
// The proposal is editable (the user's own version is what gets written);
// Accept and Reject sit in the editor's title; above each hunk a CodeLens
// offers Accept / Reject (VS Code shows CodeLens in diff editors with
// diffEditor.codeLens on), and the diff editor's own revert arrows take a
// hunk back too. A status bar item shows while a review waits and opens it
// again. Reviews that arrive while one is open queue up behind it; one the
// bridge withdraws (the task ended, claude gave up) closes.

import * as vscode from 'vscode';
import { ReviewEditParams, ReviewEditResult } from './lspExt';
import { Review, ReviewQueue, acceptAnswer, acceptSummary, allDecided, hunkAt, hunkStats, viewProposal } from './reviewModel';
import { ORIGINAL_SCHEME, PROPOSAL_SCHEME, ReviewDocs, baseName, closeQuietly, tabsOf } from './reviewDocs';
import { registerClaudeCommand } from './commandUtil';
import { short } from './format';

export const SHOW_REVIEW = 'claudeBridge.showReview';

/** What the review UI needs from the rest of the extension. */
export interface ReviewEnv {
  /** The short prompt of a task. */
  taskLabel(taskId: string): string | undefined;
  log(line: string): void;
  /** Where the extension remembers that it offered the hunks' buttons (diffEditor.codeLens). */
  memento?: vscode.Memento;
}

/** globalState key: the offer to turn on diffEditor.codeLens was made. */
const OFFERED_KEY = 'claudeBridge.review.codeLensOffered';

/** The review a URI of ours belongs to: its query says review=<id>. */
function reviewIdOf(uri: vscode.Uri): number | undefined {
  if (uri.scheme !== PROPOSAL_SCHEME && uri.scheme !== ORIGINAL_SCHEME) return undefined;
  const m = /^review=(\d+)$/.exec(uri.query);
  return m ? Number(m[1]) : undefined;
}

/** The file a review concerns, relative to its workspace folder when inside one. */
function fileLabel(uri: string): string {
  try {
    const u = vscode.Uri.parse(uri);
    return vscode.workspace.asRelativePath(u, false);
  } catch {
    return uri;
  }
}

export class ReviewUi implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('claudeBridge.review', vscode.StatusBarAlignment.Left, 8);
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[] = [];
  /** Reviews whose diff editor has been opened once (the next in the queue opens by itself once). */
  private readonly opened = new Set<number>();
  /** The review whose feedback box is open (its box closes when the review ends). */
  private readonly asking = new Map<number, vscode.InputBox>();

  constructor(
    readonly queue: ReviewQueue,
    private readonly docs: ReviewDocs,
    private readonly env: ReviewEnv,
  ) {
    this.item.name = 'Claude Bridge: review';
    this.item.command = SHOW_REVIEW;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.subs.push(
      queue.onDidChange(() => this.update()),
      vscode.languages.registerCodeLensProvider({ scheme: PROPOSAL_SCHEME }, { provideCodeLenses: (d) => this.lenses(d), onDidChangeCodeLenses: this.lensesChanged.event }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === PROPOSAL_SCHEME) this.lensesChanged.fire();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.updateContext()),
      this.item,
      this.lensesChanged,
    );
    this.update();
  }

  /** The claude/reviewEdit handler: resolves to the user's answer, or null when the bridge withdrew the review. */
  handle(params: ReviewEditParams, token: vscode.CancellationToken): Promise<ReviewEditResult | null> {
    return new Promise((resolve) => {
      const r = this.queue.add(params, (end) => {
        sub.dispose();
        this.env.log(`review ${params.tool} ${params.uri} (${params.toolUseId}) → ${JSON.stringify('answer' in end ? end.answer : 'withdrawn by the bridge')}`);
        this.asking.get(r.id)?.hide();
        void this.close(r);
        resolve('answer' in end ? end.answer : null);
      });
      const sub = token.onCancellationRequested(() => this.queue.withdraw(r.id));
      this.docs.setOriginal(this.originalUri(r), params.original);
      this.docs.setProposal(this.proposalUri(r), params.proposed);
      if (token.isCancellationRequested) this.queue.withdraw(r.id);
      else this.openNext();
    });
  }

  proposalUri(r: Review): vscode.Uri {
    return this.docs.proposalUri(r.id, r.params.uri);
  }

  originalUri(r: Review): vscode.Uri {
    return this.docs.originalUri(r.params.original === '' ? 'new file' : 'current', `review=${r.id}`, r.params.uri);
  }

  /** The diff editor's title: "main.go: Current ↔ Claude's Proposal". */
  title(r: Review): string {
    const name = baseName(r.params.uri);
    return r.params.original === '' ? `${name} (new file): Claude's Proposal` : `${name}: Current ↔ Claude's Proposal`;
  }

  /** Opens the first review in the queue once, without taking the keyboard from what the user is typing. */
  private openNext(): void {
    const r = this.queue.current();
    if (!r || this.opened.has(r.id)) return;
    this.opened.add(r.id);
    void this.show(r.id, true).catch((err) => this.env.log(`review: could not open the diff: ${String(err)}`));
    // What the review cannot do as the user would expect (their unsaved
    // changes overlap Claude's): said with the review, not after.
    if (r.params.notice) void vscode.window.showWarningMessage(`Claude: ${r.params.notice}`);
  }

  /** Opens a review's diff editor (the current one by default), at its first hunk. */
  async show(id?: number, preserveFocus = false): Promise<Review | undefined> {
    const r = id !== undefined ? this.queue.get(id) : this.queue.current();
    if (!r) return undefined;
    this.opened.add(r.id);
    const view = viewProposal(r.params, this.docs.proposalText(this.proposalUri(r)) ?? r.params.proposed);
    const first = view.hunks[0];
    const selection = first ? new vscode.Range(first.line, 0, first.line, 0) : undefined;
    await vscode.commands.executeCommand('vscode.diff', this.originalUri(r), this.proposalUri(r), this.title(r), {
      preview: false,
      preserveFocus,
      selection,
    });
    void this.offerCodeLens();
    return r;
  }

  /**
   * VS Code shows no CodeLens in diff editors unless diffEditor.codeLens is
   * on: the hunks' Accept / Reject need it. Offered once (a setting of the
   * user's, changed only when they say so); the diff's own revert arrows and
   * the editor's context menu work without it.
   */
  private async offerCodeLens(): Promise<void> {
    const m = this.env.memento;
    if (!m || m.get<boolean>(OFFERED_KEY)) return;
    if (vscode.workspace.getConfiguration('diffEditor').get<boolean>('codeLens')) return;
    await m.update(OFFERED_KEY, true);
    const on = 'Show Them';
    const pick = await vscode.window.showInformationMessage(
      'Claude: show Accept / Reject above each change of a review? This turns on CodeLens in diff editors (the setting diffEditor.codeLens).',
      on,
      'Not Now',
    );
    if (pick === on) await vscode.workspace.getConfiguration('diffEditor').update('codeLens', true, vscode.ConfigurationTarget.Global);
  }

  /** The review shown in the active editor, else the current one. */
  private target(arg: unknown): Review | undefined {
    if (typeof arg === 'number') return this.queue.get(arg);
    if (arg instanceof vscode.Uri) {
      const id = reviewIdOf(arg);
      if (id !== undefined) return this.queue.get(id);
    }
    if (typeof arg === 'object' && arg !== null && typeof (arg as { review?: unknown }).review === 'number') {
      return this.queue.get((arg as { review: number }).review);
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    const id = active ? reviewIdOf(active) : undefined;
    return (id !== undefined ? this.queue.get(id) : undefined) ?? this.activeTabReview() ?? this.queue.current();
  }

  private activeTabReview(): Review | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputTextDiff ? input.modified : input instanceof vscode.TabInputText ? input.uri : undefined;
    const id = uri ? reviewIdOf(uri) : undefined;
    return id !== undefined ? this.queue.get(id) : undefined;
  }

  private text(r: Review): string {
    return this.docs.proposalText(this.proposalUri(r)) ?? r.params.proposed;
  }

  /**
   * Accept: writes the proposal as the user has it (every hunk, the hunks
   * left in, or their own version). With hunks taken back it asks what to
   * tell claude (optional); nothing left of the proposal is a Reject.
   */
  async accept(arg?: unknown): Promise<ReviewEditResult | undefined> {
    const r = this.target(arg);
    if (!r) return undefined;
    const feedback = typeof arg === 'object' && arg !== null ? (arg as { feedback?: unknown }).feedback : undefined;
    const sum = acceptSummary(r.params, this.text(r));
    if (sum.none) return this.reject(arg);
    let fb = typeof feedback === 'string' ? feedback : undefined;
    if (fb === undefined && sum.rejected.length > 0) {
      const n = r.params.hunks.length;
      fb = await this.askFeedback(
        r,
        `Claude: accept ${n - sum.rejected.length} of ${n} changes to ${baseName(r.params.uri)}`,
        'Tell Claude why you left the others out (optional)',
      );
      if (fb === undefined) return undefined;
    }
    const answer = acceptAnswer(r.params, this.text(r), fb);
    return this.queue.answer(r.id, answer) ? answer : undefined;
  }

  /** Reject: nothing is written; asks what to tell claude (optional). */
  async reject(arg?: unknown): Promise<ReviewEditResult | undefined> {
    const r = this.target(arg);
    if (!r) return undefined;
    const given = typeof arg === 'object' && arg !== null ? (arg as { feedback?: unknown }).feedback : undefined;
    const fb =
      typeof given === 'string'
        ? given
        : await this.askFeedback(r, `Claude: reject the edit of ${baseName(r.params.uri)}`, 'What should Claude do instead? (optional)');
    if (fb === undefined) return undefined;
    const answer: ReviewEditResult = { decision: 'reject', ...(fb.trim() ? { feedback: fb.trim() } : {}) };
    return this.queue.answer(r.id, answer) ? answer : undefined;
  }

  /** An input box for feedback; undefined on Escape, or when the review ended meanwhile. */
  private askFeedback(r: Review, title: string, prompt: string): Promise<string | undefined> {
    const box = vscode.window.createInputBox();
    box.title = title;
    box.prompt = prompt;
    box.placeholder = 'e.g. keep the old name; use a map instead';
    box.ignoreFocusOut = true;
    this.asking.set(r.id, box);
    return new Promise((resolve) => {
      let value: string | undefined;
      box.onDidAccept(() => {
        value = box.value;
        box.hide();
      });
      box.onDidHide(() => {
        this.asking.delete(r.id);
        box.dispose();
        resolve(this.queue.get(r.id) ? value : undefined);
      });
      box.show();
    });
  }

  /** Accept Hunk: the hunk stays as it reads now; when every hunk is decided the review is answered. */
  async acceptHunk(arg?: unknown): Promise<void> {
    const at = this.hunkTarget(arg);
    if (!at) return;
    this.queue.mark(at.r.id, at.hunk, true);
    this.lensesChanged.fire();
    await this.finishIfDecided(at.r);
  }

  /** Reject Hunk: the hunk's lines go back to what they were; when every hunk is decided the review is answered. */
  async rejectHunk(arg?: unknown): Promise<void> {
    const r = await this.putHunk(arg, 'originalText');
    if (r) await this.finishIfDecided(r);
  }

  /** Undo a hunk's decision: Claude's text back in its place, not accepted yet. */
  async restoreHunk(arg?: unknown): Promise<void> {
    await this.putHunk(arg, 'proposedText');
  }

  /** Puts a hunk's original or proposed lines in its place, undecided; resolves to its review. */
  private async putHunk(arg: unknown, which: 'originalText' | 'proposedText'): Promise<Review | undefined> {
    const at = this.hunkTarget(arg);
    const h = at?.r.params.hunks.find((x) => x.id === at.hunk);
    if (!at || !h) return undefined;
    this.queue.mark(at.r.id, at.hunk, false);
    await this.replaceHunk(at.r, at.hunk, h[which]);
    return at.r;
  }

  /** The review and hunk of a CodeLens's argument, else the hunk at the cursor in the proposal. */
  private hunkTarget(arg: unknown): { r: Review; hunk: string } | undefined {
    if (typeof arg === 'object' && arg !== null && 'hunk' in arg) {
      const a = arg as { review?: number; hunk: string };
      const r = a.review !== undefined ? this.queue.get(a.review) : this.queue.current();
      return r ? { r, hunk: a.hunk } : undefined;
    }
    const ed = vscode.window.activeTextEditor;
    const id = ed ? reviewIdOf(ed.document.uri) : undefined;
    const r = id !== undefined ? this.queue.get(id) : undefined;
    if (!ed || !r || ed.document.uri.scheme !== PROPOSAL_SCHEME) {
      vscode.window.setStatusBarMessage('Claude: put the cursor on a change in the proposal (the right side of the review)', 5000);
      return undefined;
    }
    const h = hunkAt(viewProposal(r.params, ed.document.getText()), ed.selection.active.line);
    if (!h) {
      vscode.window.setStatusBarMessage('Claude: the cursor is not on one of the changes', 5000);
      return undefined;
    }
    return { r, hunk: h.id };
  }

  /** Puts a text in a hunk's place in the proposal document. */
  private async replaceHunk(r: Review, hunk: string, text: string): Promise<void> {
    const uri = this.proposalUri(r);
    const doc = await vscode.workspace.openTextDocument(uri);
    const h = viewProposal(r.params, doc.getText()).hunks.find((x) => x.id === hunk);
    if (!h) return;
    const start = new vscode.Position(h.line, 0);
    const end = h.line + h.count < doc.lineCount ? new vscode.Position(h.line + h.count, 0) : doc.lineAt(doc.lineCount - 1).range.end;
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(start, h.count === 0 ? start : end), text.replace(/\r?\n/g, eol));
    await vscode.workspace.applyEdit(edit);
    this.lensesChanged.fire();
  }

  private async finishIfDecided(r: Review): Promise<void> {
    if (!this.queue.get(r.id)) return;
    const view = viewProposal(r.params, this.text(r));
    if (allDecided(r, view)) await this.accept(r.id);
  }

  /** CodeLens above each hunk of a proposal: its place in the list, and what can be done with it. */
  private lenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const id = reviewIdOf(doc.uri);
    const r = id !== undefined ? this.queue.get(id) : undefined;
    if (!r) return [];
    const view = viewProposal(r.params, doc.getText());
    const out: vscode.CodeLens[] = [];
    const n = view.hunks.length;
    view.hunks.forEach((h, i) => {
      const line = Math.min(h.line, doc.lineCount - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const arg = { review: r.id, hunk: h.id };
      const lens = (title: string, command?: string, tooltip?: string) =>
        out.push(new vscode.CodeLens(range, { title, command: command ?? '', arguments: command ? [arg] : undefined, tooltip }));
      const hunk = r.params.hunks.find((x) => x.id === h.id)!;
      const where = n > 1 ? `Change ${i + 1} of ${n}` : 'The one change';
      if (h.content === 'rejected') {
        lens(`$(circle-slash) ${where}: rejected`);
        lens('Restore Claude\'s version', 'claudeBridge.review.restoreHunk', 'Put Claude\'s change back');
      } else if (r.accepted.has(h.id)) {
        lens(`$(pass-filled) ${where}: accepted${h.content === 'edited' ? ' (your version)' : ''}`);
        lens('Undo', 'claudeBridge.review.restoreHunk', 'Undecided again, with Claude\'s version');
      } else {
        lens(`$(check) Accept`, 'claudeBridge.review.acceptHunk', 'Keep this change (as it reads now)');
        lens(`$(close) Reject`, 'claudeBridge.review.rejectHunk', 'Take this change back: the lines stay as they are');
        lens(`${where} · ${hunkStats(hunk.originalText, hunk.proposedText)}${h.content === 'edited' ? ' · edited by you' : ''}`);
      }
    });
    return out;
  }

  private update(): void {
    const open = this.queue.pending();
    void vscode.commands.executeCommand('setContext', 'claudeBridge.reviewWaits', open.length > 0);
    this.updateContext();
    this.lensesChanged.fire();
    const r = open[0];
    if (!r) {
      this.item.hide();
      return;
    }
    const file = baseName(r.params.uri);
    const more = open.length > 1 ? ` (+${open.length - 1})` : '';
    this.item.text = `$(git-compare) Review ${file}${more}`;
    const task = this.env.taskLabel(r.params.taskId);
    const queued = open.slice(1).map((q) => `- ${fileLabel(q.params.uri)} (${q.params.tool})`);
    this.item.tooltip = new vscode.MarkdownString(
      `Claude waits for your review of its ${r.params.tool} of **${fileLabel(r.params.uri)}**` +
        `${task ? ` (task “${task}”)` : ''}: ${r.params.hunks.length} change${r.params.hunks.length === 1 ? '' : 's'}. Click to open it.` +
        (queued.length ? `\n\nThen:\n${queued.join('\n')}` : ''),
    );
    this.item.show();
    this.openNext();
  }

  /** claudeBridge.reviewEditor: the active editor is a side of a review's diff (for the title's Accept and Reject). */
  private updateContext(): void {
    const active = vscode.window.activeTextEditor?.document.uri;
    const id = (active && reviewIdOf(active)) ?? this.activeTabReview()?.id;
    void vscode.commands.executeCommand('setContext', 'claudeBridge.reviewEditor', id !== undefined && this.queue.get(id) !== undefined);
  }

  /** Closes a review's diff editor and forgets its documents. */
  private async close(r: Review): Promise<void> {
    const proposal = this.proposalUri(r);
    const original = this.originalUri(r);
    this.opened.delete(r.id);
    try {
      this.env.log(`review ${r.id} closed: ${await closeQuietly(proposal, original)}`);
    } finally {
      this.docs.forget(proposal, original);
    }
  }

  /** The open reviews of a task, for the transcript. */
  forTask(taskId: string): Review[] {
    return this.queue.forTask(taskId);
  }

  /** Whether a review's diff is on screen. */
  visible(r: Review): boolean {
    return tabsOf(this.proposalUri(r)).length > 0;
  }

  describe(r: Review): string {
    return `Claude wants to ${r.params.original === '' ? 'create' : 'edit'} ${short(fileLabel(r.params.uri), 60)}: ${r.params.hunks.length} change${r.params.hunks.length === 1 ? '' : 's'}`;
  }

  register(): vscode.Disposable[] {
    // CodeLens and menus pass arguments: a failure is shown, never thrown back at them.
    const reg = (id: string, fn: (arg: unknown) => Promise<unknown>) => registerClaudeCommand(id, fn, () => false);
    return [
      reg(SHOW_REVIEW, (a) => this.showCommand(a)),
      reg('claudeBridge.review.accept', (a) => this.accept(a)),
      reg('claudeBridge.review.reject', (a) => this.reject(a)),
      reg('claudeBridge.review.acceptHunk', (a) => this.acceptHunk(a)),
      reg('claudeBridge.review.rejectHunk', (a) => this.rejectHunk(a)),
      reg('claudeBridge.review.restoreHunk', (a) => this.restoreHunk(a)),
    ];
  }

  /** The status bar item's click: the review on screen, or (several) pick one. */
  private async showCommand(arg: unknown): Promise<number | undefined> {
    const open = this.queue.pending();
    if (open.length === 0) {
      vscode.window.setStatusBarMessage('Claude: no edit waits for your review', 5000);
      return undefined;
    }
    let r = this.target(arg);
    if (typeof arg !== 'number' && open.length > 1 && !(arg instanceof vscode.Uri)) {
      const pick = await vscode.window.showQuickPick(
        open.map((q, i) => ({
          label: `$(git-compare) ${fileLabel(q.params.uri)}`,
          description: `${q.params.tool} · ${q.params.hunks.length} change${q.params.hunks.length === 1 ? '' : 's'}${i === 0 ? ' · first in line' : ''}`,
          detail: this.env.taskLabel(q.params.taskId),
          q,
        })),
        { title: 'Claude: Which edit to review?' },
      );
      if (!pick) return undefined;
      r = pick.q;
    }
    if (!r) return undefined;
    await this.show(r.id);
    return r.id;
  }

  dispose(): void {
    for (const r of this.queue.pending()) this.queue.withdraw(r.id);
    for (const s of this.subs) s.dispose();
  }
}
