// "Claude Changes": what tasks changed and is kept for review (review
// "afterTurn", and any reviewed task), as a tree in the Explorer: tasks →
// files → hunks. A file opens in VS Code's diff editor against its
// checkpoint (the file as it was before the task, for what is still the
// task's: a read-only document); Revert Hunk / Revert File / Revert Task
// (claude.revert) and Accept File / Accept All (claude.accept) are inline
// actions, title actions of the diff, and commands. What a revert could not
// take back (changed again since, overlapping unsaved edits) is said in a
// warning with the bridge's reasons.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { ChangesStore, checkpointText, countLabel, hunkDiff, hunkLabel, revertSummary } from './changes';
import { isProgrammatic, registerClaudeCommand } from './commandUtil';
import { short } from './format';
import { COMMANDS, ChangeHunk, FileChanges, RevertResult } from './lspExt';
import { ORIGINAL_SCHEME, ReviewDocs, baseName } from './reviewDocs';
import { lf, lineBoundaries, lineCount } from './reviewModel';

export const VIEW_ID = 'claudeBridge.changes';
/** JSON-RPC's invalid params: the bridge's answer for a task it has no checkpoint of. */
const INVALID_PARAMS = -32602;
/** workspaceState key: the tasks whose changes were listed last (their checkpoints outlive the bridge). */
const STATE_KEY = 'claudeBridge.changes.tasks';

type Node =
  | { kind: 'task'; taskId: string }
  | { kind: 'file'; taskId: string; uri: string }
  | { kind: 'hunk'; taskId: string; uri: string; hunkId: string }
  | { kind: 'note'; taskId: string; text: string };

function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && typeof (arg as { kind?: unknown }).kind === 'string' && typeof (arg as { taskId?: unknown }).taskId === 'string';
}

/** A path relative to its workspace folder. */
function rel(uri: string): string {
  try {
    return vscode.workspace.asRelativePath(vscode.Uri.parse(uri), false);
  } catch {
    return uri;
  }
}

const STATUS_WORDS: Record<string, string> = { modified: 'modified', added: 'new', deleted: 'deleted' };

/** The text of a file as VS Code has it: the open document (unsaved changes included), else the disk. */
async function textNow(uri: vscode.Uri): Promise<{ doc?: string; disk?: string }> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  let disk: string | undefined;
  try {
    disk = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    if (disk.charCodeAt(0) === 0xfeff) disk = disk.slice(1);
  } catch {
    disk = undefined;
  }
  return { doc: open?.getText(), disk };
}

export class ChangesView implements vscode.Disposable, vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly tree: vscode.TreeView<Node>;
  private readonly subs: vscode.Disposable[] = [];
  /** Checkpoint documents shown: their URI → the task and file (kept in step with the changes). */
  private readonly checkpoints = new Map<string, { taskId: string; uri: string; right?: vscode.Uri }>();
  private nextCheckpoint = 1;
  private refreshTimers = new Map<string, NodeJS.Timeout>();
  private redraw: NodeJS.Timeout | undefined;

  constructor(
    private readonly bridge: Bridge,
    private readonly store: ChangesStore,
    private readonly docs: ReviewDocs,
    private readonly state: vscode.Memento,
  ) {
    this.tree = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.subs.push(
      this.tree,
      this.changed,
      store.onDidChange(() => this.onStoreChange()),
      // The hunks' lines move as the user edits a changed file: list them again.
      vscode.workspace.onDidChangeTextDocument((e) => this.fileChanged(e.document.uri)),
      vscode.workspace.onDidSaveTextDocument((d) => this.fileChanged(d.uri)),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.updateContext()),
    );
    for (const t of this.state.get<{ taskId: string; prompt: string }[]>(STATE_KEY, [])) this.toRestore.set(t.taskId, t.prompt);
    this.onStoreChange();
  }

  private onStoreChange(): void {
    for (const [k, n] of this.interned) if (!this.store.get(n.taskId)) this.interned.delete(k);
    this.scheduleRedraw();
    const files = this.store.fileCount();
    this.tree.badge = files > 0 ? { value: files, tooltip: `${files} file${files === 1 ? '' : 's'} changed by Claude to review` } : undefined;
    this.tree.message = undefined;
    void vscode.commands.executeCommand('setContext', 'claudeBridge.hasChanges', files > 0);
    this.persist();
    void this.refreshCheckpoints();
  }

  /**
   * Tasks listed in an earlier session of this workspace, not asked about
   * yet (the bridge lists them once it runs): kept in the saved list
   * meanwhile, so a window reloaded before the bridge started loses none.
   */
  private readonly toRestore = new Map<string, string>();

  /** Saves the tasks with changes (and those still to restore) in the workspace's state. */
  private persist(): void {
    const list = this.store.all().map((t) => ({ taskId: t.taskId, prompt: t.prompt }));
    for (const [taskId, prompt] of this.toRestore) if (!this.store.get(taskId)) list.push({ taskId, prompt });
    void this.state.update(STATE_KEY, list);
  }

  /** Lists again the changes of tasks from earlier sessions of this workspace (their checkpoints outlive the bridge). */
  async restore(): Promise<void> {
    for (const [taskId, prompt] of [...this.toRestore]) {
      if (!this.store.get(taskId) && !(await this.refresh(taskId, prompt))) continue; // asked again at the next start
      this.toRestore.delete(taskId);
    }
    this.persist();
  }

  /**
   * claude.changes for a task: its changes as they are now. False when the
   * bridge could not be asked (the task's changes are left as they were);
   * a task the bridge has no checkpoint of (-32602: accepted, reverted or
   * dropped) has nothing left to review.
   */
  async refresh(taskId: string, prompt?: string): Promise<boolean> {
    try {
      const reply = await this.bridge.execute(COMMANDS.changes, { taskId });
      if (reply) this.store.set(reply, prompt);
      else this.store.remove(taskId);
      return true;
    } catch (err) {
      this.bridge.output.info(`claude.changes ${taskId}: ${err instanceof Error ? err.message : String(err)}`);
      if ((err as { code?: unknown }).code !== INVALID_PARAMS) return false;
      this.store.remove(taskId);
      return true;
    }
  }

  /**
   * One redraw for a burst of changes (the end notification, the reply, a
   * listing again, typing), after the hunks' lines in open documents with
   * unsaved changes are found again (the bridge lists them on disk).
   */
  private scheduleRedraw(): void {
    clearTimeout(this.redraw);
    this.redraw = setTimeout(() => {
      void this.mapLines().finally(() => this.changed.fire(undefined));
    }, 50);
  }

  /** Disk lines → lines of the open document, per file with unsaved changes (hunks' labels, selections). */
  private lineMaps = new Map<string, (line: number) => number>();

  private async mapLines(): Promise<void> {
    const maps = new Map<string, (line: number) => number>();
    for (const uri of new Set(this.store.all().flatMap((t) => t.files.map((f) => f.uri)))) {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
      if (!doc?.isDirty) continue;
      const now = await textNow(doc.uri);
      if (now.doc !== undefined && now.disk !== undefined) maps.set(uri, lineBoundaries(now.disk, now.doc));
    }
    this.lineMaps = maps;
  }

  private fileChanged(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    if (this.store.tasksOf(uri.toString()).length > 0) this.scheduleRedraw();
    for (const t of this.store.tasksOf(uri.toString())) {
      clearTimeout(this.refreshTimers.get(t.taskId));
      this.refreshTimers.set(
        t.taskId,
        setTimeout(() => {
          this.refreshTimers.delete(t.taskId);
          void this.refresh(t.taskId);
        }, 400),
      );
    }
  }

  // --- the tree ------------------------------------------------------------------------

  /** The tree's elements, one object per key: VS Code knows an element by its object (reveal, getParent). */
  private readonly interned = new Map<string, Node>();

  private intern(n: Node): Node {
    const key = n.kind === 'task' ? `task:${n.taskId}` : n.kind === 'file' ? `file:${n.taskId}:${n.uri}` : n.kind === 'hunk' ? `hunk:${n.taskId}:${n.hunkId}` : `note:${n.taskId}:${n.text}`;
    const known = this.interned.get(key);
    if (known) return known;
    this.interned.set(key, n);
    return n;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.store.all().map((t) => this.intern({ kind: 'task', taskId: t.taskId }));
    const t = this.store.get(node.taskId);
    if (!t) return [];
    if (node.kind === 'task') {
      const notes = (t.uncovered ?? []).map((text) => this.intern({ kind: 'note', taskId: t.taskId, text }));
      return [...t.files.map((f) => this.intern({ kind: 'file', taskId: t.taskId, uri: f.uri })), ...notes];
    }
    if (node.kind === 'file') {
      const f = this.store.file(node.taskId, node.uri);
      return (f?.hunks ?? []).map((h) => this.intern({ kind: 'hunk', taskId: node.taskId, uri: node.uri, hunkId: h.id }));
    }
    return [];
  }

  getParent(node: Node): Node | undefined {
    if (node.kind === 'task') return undefined;
    if (node.kind === 'hunk') return this.intern({ kind: 'file', taskId: node.taskId, uri: node.uri });
    return this.intern({ kind: 'task', taskId: node.taskId });
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const t = this.store.get(node.taskId);
    if (node.kind === 'task') {
      const hunks = t?.files.flatMap((f) => f.hunks) ?? [];
      const n = t?.files.length ?? 0;
      // The newest task open, earlier ones folded.
      const newest = this.store.all()[0]?.taskId === node.taskId;
      const item = new vscode.TreeItem(short(t?.prompt || node.taskId, 60), newest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `task:${node.taskId}`;
      item.description = [`${n} file${n === 1 ? '' : 's'}`, countLabel(hunks)].filter(Boolean).join(' · ');
      item.iconPath = new vscode.ThemeIcon('sparkle');
      item.contextValue = 'claudeChangesTask';
      item.tooltip = new vscode.MarkdownString(
        `**${(t?.prompt || node.taskId).replace(/[\\`*_[\]]/g, '\\$&')}**\n\nChanged ${n} file${n === 1 ? '' : 's'} (${countLabel(hunks) || 'no text changes'}).` +
          ` Revert Task takes every change back; Accept All keeps them.`,
      );
      return item;
    }
    if (node.kind === 'note') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.id = `note:${node.taskId}:${node.text}`;
      item.iconPath = new vscode.ThemeIcon('warning');
      item.tooltip = node.text;
      return item;
    }
    const f = this.store.file(node.taskId, node.uri);
    if (node.kind === 'file') {
      const uri = vscode.Uri.parse(node.uri);
      // A small task shows its hunks at once; a large one file by file.
      const few = (t?.files.reduce((n, x) => n + x.hunks.length, 0) ?? 0) <= 8;
      const state = !f?.hunks.length ? vscode.TreeItemCollapsibleState.None : few ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
      const item = new vscode.TreeItem(uri, state);
      item.id = `file:${node.taskId}:${node.uri}`;
      const dir = rel(node.uri).split('/').slice(0, -1).join('/');
      const what = f?.binary ? 'binary' : STATUS_WORDS[f?.status ?? 'modified'];
      item.description = [dir, f?.status === 'modified' && !f.binary ? '' : what, countLabel(f?.hunks ?? []), f?.note ?? ''].filter(Boolean).join(' · ');
      item.tooltip = `${rel(node.uri)}: ${what}${f?.hunks.length ? `, ${f.hunks.length} change${f.hunks.length === 1 ? '' : 's'} (${countLabel(f.hunks)})` : ''}${f?.note ? ` (${f.note})` : ''}. Click to see it against the file before the task.`;
      item.contextValue = f?.binary ? 'claudeChangesFileBinary' : 'claudeChangesFile';
      item.command = { command: 'claudeBridge.changes.openDiff', title: 'Open Diff', arguments: [node] };
      return item;
    }
    const h = f?.hunks.find((x) => x.id === node.hunkId);
    const map = this.lineMaps.get(node.uri);
    const item = new vscode.TreeItem(h ? hunkLabel(h, map ? map(h.range.start.line) : undefined) : node.hunkId, vscode.TreeItemCollapsibleState.None);
    item.id = `hunk:${node.taskId}:${node.hunkId}`;
    if (h) {
      const firstNew = lf(h.newText).split('\n').find((l) => l.trim() !== '');
      const firstOld = lf(h.originalText).split('\n').find((l) => l.trim() !== '');
      item.description = `${h.note ? '⚠ ' : ''}${countLabel([h])}  ${firstNew !== undefined ? firstNew.trim() : firstOld !== undefined ? `− ${firstOld.trim()}` : ''}`.slice(0, 80);
      const md = new vscode.MarkdownString();
      // A hunk another task shares: a revert leaves it, and says why.
      if (h.note) md.appendText(`Not this task's alone: ${h.note}.\n`);
      md.appendCodeblock(hunkDiff(h), 'diff');
      item.tooltip = md;
    }
    item.iconPath = new vscode.ThemeIcon('diff');
    item.contextValue = 'claudeChangesHunk';
    item.command = { command: 'claudeBridge.changes.openDiff', title: 'Open Diff', arguments: [node] };
    return item;
  }

  // --- diffs against the checkpoint ------------------------------------------------------

  /** The checkpoint document of a file of a task (one URI per task and file). */
  private checkpointUri(taskId: string, uri: string): vscode.Uri {
    for (const [k, v] of this.checkpoints) if (v.taskId === taskId && v.uri === uri) return vscode.Uri.parse(k);
    const u = this.docs.originalUri('before the task', `checkpoint=${this.nextCheckpoint++}`, uri);
    this.checkpoints.set(u.toString(), { taskId, uri });
    return u;
  }

  /**
   * The file before the task (what is still the task's), rebuilt from the
   * hunks over the text VS Code shows now: the open document (the user's
   * unsaved changes stay in it, so the diff shows only the task's), else the
   * disk the bridge listed the hunks against.
   */
  private async before(f: FileChanges): Promise<string> {
    if (f.status === 'added') return '';
    const now = await textNow(vscode.Uri.parse(f.uri));
    if (now.doc === undefined && now.disk === undefined) return f.hunks.map((h) => h.originalText).join('');
    const r = checkpointText(now.doc ?? now.disk ?? '', f.hunks, now.disk);
    if (r.mismatched.length > 0) this.bridge.output.warn(`checkpoint of ${f.uri}: hunks ${r.mismatched.join(', ')} moved since they were listed`);
    return r.text;
  }

  /** Opens a file's diff: before the task ↔ now (a hunk's lines selected). */
  async openDiff(arg: unknown): Promise<void> {
    const node = this.nodeOf(arg);
    if (!node || node.kind === 'task' || node.kind === 'note') return;
    const f = this.store.file(node.taskId, node.uri);
    if (!f) return;
    const name = baseName(f.uri);
    if (f.binary) {
      if (f.status !== 'deleted') await vscode.commands.executeCommand('vscode.open', vscode.Uri.parse(f.uri));
      return;
    }
    const left = this.checkpointUri(node.taskId, f.uri);
    this.docs.setOriginal(left, await this.before(f));
    let right = vscode.Uri.parse(f.uri);
    if (f.status === 'deleted') {
      right = this.docs.originalUri('deleted', `deleted=${this.nextCheckpoint++}`, f.uri);
      this.docs.setOriginal(right, '');
      this.checkpoints.get(left.toString())!.right = right;
    }
    const h = node.kind === 'hunk' ? f.hunks.find((x) => x.id === node.hunkId) : f.hunks[0];
    const line = h ? (await this.docLines(f))(h.range.start.line) : undefined;
    const selection = line !== undefined ? new vscode.Range(line, 0, line, 0) : undefined;
    const title = f.status === 'added' ? `${name} (new, by Claude)` : f.status === 'deleted' ? `${name} (deleted by Claude)` : `${name} (before Claude ↔ now)`;
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true, selection });
    this.updateContext();
  }

  /** Keeps the checkpoint documents on screen in step with the changes (a hunk reverted, the file edited). */
  private async refreshCheckpoints(): Promise<void> {
    for (const [k, v] of this.checkpoints) {
      const uri = vscode.Uri.parse(k);
      if (!this.docs.hasOriginal(uri)) continue;
      const f = this.store.file(v.taskId, v.uri);
      if (!f) continue; // reverted or accepted: the diff shows what it showed
      this.docs.setOriginal(uri, await this.before(f));
    }
  }

  // --- actions ---------------------------------------------------------------------------

  private nodeOf(arg: unknown): Node | undefined {
    if (isNode(arg)) return arg;
    if (arg instanceof vscode.Uri) return this.nodeOfUri(arg);
    if (typeof arg === 'object' && arg !== null) {
      const a = arg as { taskId?: unknown; uri?: unknown; hunks?: unknown };
      if (typeof a.taskId !== 'string') return undefined;
      if (typeof a.uri === 'string') {
        if (Array.isArray(a.hunks) && a.hunks.length === 1 && typeof a.hunks[0] === 'string') return { kind: 'hunk', taskId: a.taskId, uri: a.uri, hunkId: a.hunks[0] };
        return { kind: 'file', taskId: a.taskId, uri: a.uri };
      }
      return { kind: 'task', taskId: a.taskId };
    }
    if (typeof arg === 'string') return { kind: 'task', taskId: arg };
    return this.nodeOfUri(undefined);
  }

  /** The file of the active changes diff (or of a URI): its newest task with changes to it. */
  private nodeOfUri(uri: vscode.Uri | undefined): Node | undefined {
    const d = this.activeDiff();
    if (d && (!uri || uri.toString() === d.uri || uri.toString() === d.checkpoint)) return { kind: 'file', taskId: d.taskId, uri: d.uri };
    const u = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!u) return undefined;
    const t = this.store.tasksOf(u.toString())[0];
    return t ? { kind: 'file', taskId: t.taskId, uri: u.toString() } : undefined;
  }

  /** The changes diff in the active tab, if one is. */
  private activeDiff(): { taskId: string; uri: string; checkpoint: string } | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (!(input instanceof vscode.TabInputTextDiff) || input.original.scheme !== ORIGINAL_SCHEME) return undefined;
    const v = this.checkpoints.get(input.original.toString());
    return v ? { taskId: v.taskId, uri: v.uri, checkpoint: input.original.toString() } : undefined;
  }

  private updateContext(): void {
    const d = this.activeDiff();
    void vscode.commands.executeCommand('setContext', 'claudeBridge.changesDiff', d !== undefined && this.store.file(d.taskId, d.uri) !== undefined);
  }

  /** A task picked from those with changes (for the palette). */
  private async pickTask(title: string): Promise<Node | undefined> {
    const all = this.store.all();
    if (all.length === 0) {
      vscode.window.setStatusBarMessage('Claude: no task has changes to review', 5000);
      return undefined;
    }
    if (all.length === 1) return { kind: 'task', taskId: all[0].taskId };
    const pick = await vscode.window.showQuickPick(
      all.map((t) => ({
        label: short(t.prompt || t.taskId, 70),
        description: `${t.files.length} file${t.files.length === 1 ? '' : 's'} · ${countLabel(t.files.flatMap((f) => f.hunks))}`,
        t,
      })),
      { title },
    );
    return pick ? { kind: 'task', taskId: pick.t.taskId } : undefined;
  }

  /**
   * Revert (claude.revert) of a hunk, a file or a whole task: the bridge
   * writes the files and carries the change into open editors (unsaved
   * edits kept). A whole task asks first when clicked. Says what was not
   * reverted, and why.
   */
  async revert(arg: unknown, level: 'task' | 'file' | 'hunk'): Promise<RevertResult | undefined> {
    let node = arg === undefined ? (level === 'task' ? await this.pickTask('Claude: Revert the changes of which task?') : this.nodeOf(arg)) : this.nodeOf(arg);
    if (!node) return undefined;
    if (level === 'hunk' && node.kind !== 'hunk') node = (await this.hunkAtCursor(node)) ?? node;
    const t = this.store.get(node.taskId);
    const args: { taskId: string; uri?: string; hunks?: string[] } = { taskId: node.taskId };
    if (level !== 'task' && (node.kind === 'file' || node.kind === 'hunk')) args.uri = node.uri;
    if (level === 'hunk') {
      if (node.kind !== 'hunk') {
        vscode.window.setStatusBarMessage('Claude: put the cursor on one of the task\'s changes (the right side of the diff)', 5000);
        return undefined;
      }
      args.hunks = [node.hunkId];
    }
    if (level === 'task' && (isNode(arg) || arg === undefined)) {
      const n = t?.files.length ?? 0;
      const ok = await vscode.window.showWarningMessage(
        `Revert every change of “${short(t?.prompt || node.taskId, 60)}” (${n} file${n === 1 ? '' : 's'})?`,
        { modal: true, detail: 'Files are put back as they were before the task; your unsaved edits stay. Changes made since the task are left alone.' },
        'Revert',
      );
      if (ok !== 'Revert') return undefined;
    }
    const reply = await this.bridge.execute(COMMANDS.revert, args);
    if (reply) this.tell(reply);
    await this.refresh(node.taskId);
    return reply ?? undefined;
  }

  private tell(r: RevertResult): void {
    const s = revertSummary(r, (u) => rel(u));
    this.bridge.output.info(`revert: ${JSON.stringify(r)}`);
    if (s.complete) vscode.window.setStatusBarMessage(`$(discard) Claude: ${s.message}`, 6000);
    else void vscode.window.showWarningMessage(`Claude: ${s.message}`);
  }

  /** Lines of the disk (where the bridge's ranges are) to lines of the open document, which may have unsaved changes. */
  private async docLines(f: FileChanges): Promise<(line: number) => number> {
    const now = await textNow(vscode.Uri.parse(f.uri));
    return now.doc !== undefined && now.disk !== undefined ? lineBoundaries(now.disk, now.doc) : (line) => line;
  }

  /** The hunk of the active changes diff under the cursor. */
  private async hunkAtCursor(node: Node): Promise<Node | undefined> {
    if (node.kind !== 'file') return undefined;
    const ed = vscode.window.activeTextEditor;
    const f = this.store.file(node.taskId, node.uri);
    if (!ed || !f || ed.document.uri.toString() !== node.uri) return undefined;
    const cursor = ed.selection.active.line;
    const map = await this.docLines(f);
    const h = f.hunks.find((x: ChangeHunk) => {
      const first = map(x.range.start.line);
      const last = first + Math.max(1, lineCount(x.newText)) - 1;
      return cursor >= first && cursor <= last;
    });
    return h ? { kind: 'hunk', taskId: node.taskId, uri: node.uri, hunkId: h.id } : undefined;
  }

  /** Accept (claude.accept): keeps a file's or a task's changes and drops their checkpoint. */
  async accept(arg: unknown, level: 'task' | 'file'): Promise<string[] | undefined> {
    const node = arg === undefined && level === 'task' ? await this.pickTask('Claude: Accept the changes of which task?') : this.nodeOf(arg);
    if (!node) return undefined;
    const args: { taskId: string; uri?: string } = { taskId: node.taskId };
    if (level === 'file' && (node.kind === 'file' || node.kind === 'hunk')) args.uri = node.uri;
    const reply = await this.bridge.execute(COMMANDS.accept, args);
    const accepted = reply?.accepted ?? [];
    if (args.uri) this.store.removeFiles(node.taskId, accepted.length ? accepted : [args.uri]);
    else this.store.remove(node.taskId);
    vscode.window.setStatusBarMessage(`$(check) Claude: kept the changes to ${accepted.length} file${accepted.length === 1 ? '' : 's'}`, 5000);
    await this.refresh(node.taskId);
    return accepted;
  }

  /** Shows the view with a task's changes (the newest by default) and opens its first file's diff. */
  async show(arg?: unknown): Promise<void> {
    const node = arg === undefined ? (this.store.all()[0] ? ({ kind: 'task', taskId: this.store.all()[0].taskId } as Node) : undefined) : this.nodeOf(arg);
    if (!node) {
      vscode.window.setStatusBarMessage('Claude: no task has changes to review', 5000);
      return;
    }
    if (!this.store.get(node.taskId)) await this.refresh(node.taskId);
    const t = this.store.get(node.taskId);
    if (!t) {
      vscode.window.setStatusBarMessage('Claude: that task has no changes left to review', 5000);
      return;
    }
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    await this.tree.reveal(this.intern({ kind: 'task', taskId: t.taskId }), { expand: true, focus: false, select: true });
    const first = t.files.find((f) => !f.binary);
    if (first) await this.openDiff({ kind: 'file', taskId: t.taskId, uri: first.uri });
  }

  register(): vscode.Disposable[] {
    // The tree passes its nodes: those are clicks, not programs.
    const reg = (id: string, fn: (arg: unknown) => Promise<unknown>) => registerClaudeCommand(id, fn, (a) => isProgrammatic(a) && !isNode(a));
    return [
      reg('claudeBridge.showChanges', (a) => this.show(a)),
      reg('claudeBridge.changes.openDiff', (a) => this.openDiff(a)),
      reg('claudeBridge.changes.revertTask', (a) => this.revert(a, 'task')),
      reg('claudeBridge.changes.revertFile', (a) => this.revert(a, 'file')),
      reg('claudeBridge.changes.revertHunk', (a) => this.revert(a, 'hunk')),
      reg('claudeBridge.changes.acceptTask', (a) => this.accept(a, 'task')),
      reg('claudeBridge.changes.acceptFile', (a) => this.accept(a, 'file')),
      reg('claudeBridge.changes.refresh', async () => {
        for (const t of this.store.all()) await this.refresh(t.taskId);
      }),
    ];
  }

  dispose(): void {
    for (const t of this.refreshTimers.values()) clearTimeout(t);
    clearTimeout(this.redraw);
    for (const s of this.subs) s.dispose();
  }
}
