// What tasks changed and is kept for review (review "afterTurn", and any
// reviewed task): claude/changes notifications, the changes of a task's
// reply and claude.changes listings, kept apart from VS Code so it can be
// unit-tested. Also the file as it was before the task (rebuilt from
// today's text and the hunks), counts, labels, and what a revert did, in
// words.

import { ChangeHunk, ChangesParams, FileChanges, RevertResult } from './lspExt';
import { Listeners } from './listeners';
import { lf, lineBoundaries, lineCount } from './reviewModel';

/** A task's changes still kept for review. */
export interface TaskChanges {
  taskId: string;
  /** The task's prompt (for the tree's label). */
  prompt: string;
  files: FileChanges[];
  uncovered?: string[];
  /** When the bridge last listed them. */
  updatedAt: Date;
}

/** The tasks with changes to review, newest first. */
export class ChangesStore {
  private readonly tasks = new Map<string, TaskChanges>();
  private readonly listeners = new Listeners();
  /** The order tasks were first listed in (newest first in all()). */
  private order = 0;
  private readonly seen = new Map<string, number>();

  onDidChange(l: () => void): { dispose(): void } {
    return this.listeners.add(l);
  }

  private fire(): void {
    this.listeners.fire();
  }

  /**
   * Sets a task's changes as the bridge listed them; a listing with no
   * files (all accepted or reverted) removes the task.
   */
  set(p: ChangesParams, prompt?: string, now = new Date()): void {
    if (!p || typeof p.taskId !== 'string') return;
    const files = Array.isArray(p.files) ? p.files : [];
    if (files.length === 0) {
      if (this.tasks.delete(p.taskId)) this.fire();
      return;
    }
    const old = this.tasks.get(p.taskId);
    if (!this.seen.has(p.taskId)) this.seen.set(p.taskId, this.order++);
    const next: TaskChanges = {
      taskId: p.taskId,
      prompt: prompt || old?.prompt || '',
      files: [...files].sort((a, b) => a.uri.localeCompare(b.uri)),
      uncovered: p.uncovered?.length ? p.uncovered : undefined,
      updatedAt: now,
    };
    this.tasks.set(p.taskId, next);
    // Listed again unchanged (claude.changes after an edit elsewhere): nothing to redraw.
    const same = old && old.prompt === next.prompt && JSON.stringify([old.files, old.uncovered]) === JSON.stringify([next.files, next.uncovered]);
    if (!same) this.fire();
  }

  /** Forgets a task (its checkpoint is gone). */
  remove(taskId: string): void {
    if (this.tasks.delete(taskId)) this.fire();
  }

  /** Forgets some files of a task (accepted). */
  removeFiles(taskId: string, uris: string[]): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    const gone = new Set(uris);
    t.files = t.files.filter((f) => !gone.has(f.uri));
    if (t.files.length === 0) this.tasks.delete(taskId);
    this.fire();
  }

  get(taskId: string): TaskChanges | undefined {
    return this.tasks.get(taskId);
  }

  file(taskId: string, uri: string): FileChanges | undefined {
    return this.tasks.get(taskId)?.files.find((f) => f.uri === uri);
  }

  /** The tasks with changes, newest first. */
  all(): TaskChanges[] {
    return [...this.tasks.values()].sort((a, b) => (this.seen.get(b.taskId) ?? 0) - (this.seen.get(a.taskId) ?? 0));
  }

  /** The tasks that changed a file (newest first). */
  tasksOf(uri: string): TaskChanges[] {
    return this.all().filter((t) => t.files.some((f) => f.uri === uri));
  }

  /** How many files wait for review, over all tasks. */
  fileCount(): number {
    let n = 0;
    for (const t of this.tasks.values()) n += t.files.length;
    return n;
  }
}

/** Lines added and removed by some hunks. */
export function counts(hunks: ChangeHunk[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const h of hunks) {
    added += lineCount(h.newText);
    removed += lineCount(h.originalText);
  }
  return { added, removed };
}

/** "+3 −1" of some hunks; "" when none. */
export function countLabel(hunks: ChangeHunk[]): string {
  if (hunks.length === 0) return '';
  const c = counts(hunks);
  return `+${c.added} −${c.removed}`;
}

/** "Line 5", "Lines 5–7" (1-based) of a hunk in today's file (or at `line`, 0-based, in the open document); "Removed at line 5" for lines it only removed. */
export function hunkLabel(h: ChangeHunk, line = h.range.start.line): string {
  const first = line + 1;
  const n = lineCount(h.newText);
  if (n === 0) return `Removed at line ${first}`;
  return n === 1 ? `Line ${first}` : `Lines ${first}–${first + n - 1}`;
}

/** A hunk as a unified diff, for a tooltip. */
export function hunkDiff(h: ChangeHunk, max = 30): string {
  const lines = (text: string, sign: string) =>
    lf(text)
      .replace(/\n$/, '')
      .split('\n')
      .filter((_, i, a) => !(a.length === 1 && a[0] === ''))
      .map((l) => sign + l);
  const all = [...lines(h.originalText, '-'), ...lines(h.newText, '+')];
  return all.length > max ? [...all.slice(0, max), `… ${all.length - max} more lines`].join('\n') : all.join('\n');
}

/** UTF-16 offset of an LSP position in a text (a line past the end: the end). */
export function offsetAt(text: string, pos: { line: number; character: number }): number {
  let at = 0;
  for (let l = 0; l < pos.line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return text.length;
    at = nl + 1;
  }
  const eol = text.indexOf('\n', at);
  const lineEnd = eol < 0 ? text.length : eol;
  return Math.min(at + pos.character, lineEnd + (eol < 0 ? 0 : 1));
}

/**
 * The file as it was before the task, for what is still the task's: a
 * text of the file now with each hunk put back to its originalText. The
 * hunks' ranges are in the file as the bridge listed them (`listedIn`: the
 * disk); when `today` is another version (an open document with unsaved
 * changes), each hunk is found there by a line diff of the two, so the
 * user's unsaved changes stay in the result and a diff against `today`
 * shows only the task's changes. `mismatched` names the hunks whose lines do
 * not read as their newText (the text moved on since they were listed);
 * those are left as they are. Line breaks of the hunks follow today's text.
 */
export function checkpointText(today: string, hunks: ChangeHunk[], listedIn?: string): { text: string; mismatched: string[] } {
  const crlf = today.includes('\r\n');
  const eol = (s: string) => (crlf ? lf(s).replace(/\n/g, '\r\n') : lf(s));
  const map = listedIn !== undefined && lf(listedIn) !== lf(today) ? lineBoundaries(listedIn, today) : undefined;
  const mismatched: string[] = [];
  const sorted = [...hunks].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  let text = today;
  for (const h of sorted) {
    let start: number;
    let end: number;
    if (map) {
      const line = map(h.range.start.line);
      start = offsetAt(text, { line, character: 0 });
      end = offsetAt(text, { line: line + lineCount(h.newText), character: 0 });
    } else {
      start = offsetAt(text, h.range.start);
      end = offsetAt(text, h.range.end);
    }
    if (lf(text.slice(start, end)) !== lf(h.newText)) {
      mismatched.push(h.id);
      continue;
    }
    text = text.slice(0, start) + eol(h.originalText) + text.slice(end);
  }
  return { text, mismatched: mismatched.reverse() };
}

/** What a revert did, for a person: one line, and whether anything was left alone. */
export function revertSummary(r: RevertResult, name: (uri: string) => string): { message: string; complete: boolean; reverted: number } {
  const files = r?.files ?? [];
  let reverted = 0;
  const left: string[] = [];
  for (const f of files) {
    reverted += f.reverted.length;
    if (f.notReverted.length === 0 && (f.restored || f.reverted.length > 0)) continue;
    if (f.notReverted.length === 0) {
      if (f.message) left.push(f.message);
      continue;
    }
    const reasons = [...new Set(f.notReverted.map((n) => n.reason))];
    const n = f.notReverted.length;
    // The reasons, not the bridge's count line: they say what to do.
    left.push(`${name(f.uri)}: ${n} change${n === 1 ? '' : 's'} not reverted: ${reasons.join('; ')}`);
  }
  const fileWord = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
  const touched = files.filter((f) => f.reverted.length > 0 || f.restored).length;
  if (left.length === 0) {
    return { message: `Reverted ${reverted} change${reverted === 1 ? '' : 's'} in ${fileWord(touched)}`, complete: true, reverted };
  }
  const head = reverted > 0 ? `Reverted ${reverted} change${reverted === 1 ? '' : 's'}; not everything: ` : 'Nothing was reverted: ';
  return { message: head + left.join(' · '), complete: false, reverted };
}
