// Reviewing an edit before it is written (review "beforeWrite",
// claude/reviewEdit), kept apart from VS Code so it can be unit-tested:
// where each of the bridge's hunks is in the proposal as the user has it
// now (they may edit it, revert hunks with the diff editor's own gutter
// arrows, undo), what state each hunk is in, the answer the bridge gets,
// and the queue of reviews waiting (one shows at a time).
//
// Hunks are found by content, not by following each edit: the proposal
// document is diffed against claude's proposal (`proposed`), whose hunk
// positions are known exactly; a hunk whose lines read as `originalText`
// again was rejected, one that reads as `proposedText` stands, anything
// else is the user's own version. So every way of changing the document
// (typing, VS Code's revert arrows, undo) gives the same answer.

import { diffLines } from 'diff';
import { ReviewEditParams, ReviewEditResult, ReviewHunk } from './lspExt';
import { Waiting } from './listeners';

/** The number of lines of a text ("" has none; a last line without a line break counts). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n : n + 1;
}

/** Text with every line break as \n (VS Code keeps one kind of line break per document). */
export function lf(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** "+3 −1": the lines a hunk adds and removes. */
export function hunkStats(oldText: string, newText: string): string {
  return `+${lineCount(newText)} −${lineCount(oldText)}`;
}

/** Where a hunk is in claude's proposal: its first line and how many lines it has there (0: lines deleted before `line`). */
export interface ProposedSpan {
  id: string;
  line: number;
  count: number;
}

/** The hunks' places in `proposed`: each range of `original` shifted by what the hunks before it added or removed. */
export function proposedSpans(hunks: ReviewHunk[]): ProposedSpan[] {
  let delta = 0;
  return hunks.map((h) => {
    const line = h.range.start.line + delta;
    const count = lineCount(h.proposedText);
    delta += count - lineCount(h.originalText);
    return { id: h.id, line, count };
  });
}

/** What a hunk reads as in the user's proposal now. */
export type HunkContent = 'proposed' | 'rejected' | 'edited';

/** A hunk as the proposal document shows it now. */
export interface HunkView {
  id: string;
  /** Its place in the document: the first line (0-based) and how many lines (0: a deletion, shown before `line`). */
  line: number;
  count: number;
  content: HunkContent;
  /** The document's text of those lines. */
  text: string;
}

/** The proposal document seen against claude's proposal: each hunk's place and content, and whether the user changed lines outside the hunks. */
export interface ProposalView {
  hunks: HunkView[];
  /** The user changed lines that belong to no hunk. */
  otherEdits: boolean;
}

/** A run of lines of `proposed` and the lines of the document in its place (equal when common). */
interface Segment {
  p0: number;
  p1: number;
  d0: number;
  d1: number;
  common: boolean;
}

function segments(proposed: string, doc: string): Segment[] {
  const out: Segment[] = [];
  let p = 0;
  let d = 0;
  let pending: Segment | undefined;
  for (const part of diffLines(proposed, doc)) {
    const n = lineCount(part.value);
    if (!part.added && !part.removed) {
      if (pending) out.push(pending);
      pending = undefined;
      out.push({ p0: p, p1: p + n, d0: d, d1: d + n, common: true });
      p += n;
      d += n;
      continue;
    }
    pending ??= { p0: p, p1: p, d0: d, d1: d, common: false };
    if (part.removed) {
      p += n;
      pending.p1 = p;
    } else {
      d += n;
      pending.d1 = d;
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** The document's boundary for a boundary between lines of `proposed` (inside a change: the change's start). */
function docBoundary(segs: Segment[], b: number): number {
  for (const s of segs) {
    if (b < s.p0 || b > s.p1) continue;
    if (s.common) return s.d0 + (b - s.p0);
    return b === s.p1 && b > s.p0 ? s.d1 : s.d0;
  }
  const last = segs[segs.length - 1];
  return last ? last.d1 + (b - last.p1) : b;
}

/**
 * Maps line boundaries of one text to another (after a line diff): a line
 * of `from` that is unchanged in `to`, or the start of a change, to its
 * line in `to`. Line breaks are compared as \n.
 */
export function lineBoundaries(from: string, to: string): (line: number) => number {
  const segs = segments(lf(from), lf(to));
  return (line) => docBoundary(segs, line);
}

/**
 * Sees the proposal document (`doc`) against claude's proposal: where each
 * hunk is now, and what it reads as. Line breaks are compared as \n.
 */
export function viewProposal(params: Pick<ReviewEditParams, 'proposed' | 'hunks'>, doc: string): ProposalView {
  const proposed = lf(params.proposed);
  const text = lf(doc);
  const segs = segments(proposed, text);
  const docLines = text.split('\n');
  const claimed = new Set<Segment>();
  const spans = proposedSpans(params.hunks);
  const hunks = params.hunks.map((h, i): HunkView => {
    const { line: p0, count } = spans[i];
    const p1 = p0 + count;
    let d0 = docBoundary(segs, p0);
    let d1 = Math.max(d0, docBoundary(segs, p1));
    for (const s of segs) {
      if (s.common) continue;
      // A change inside the hunk's lines, or (for a deletion) at its place.
      const inside = count > 0 ? s.p0 < p1 && p0 < s.p1 : (s.p0 === p0 && s.p1 === p0) || (s.p0 < p0 && p0 < s.p1);
      if (!inside) continue;
      claimed.add(s);
      d0 = Math.min(d0, s.d0);
      d1 = Math.max(d1, s.d1);
    }
    const shown = d1 > d0 ? docLines.slice(d0, d1).join('\n') + (d1 < docLines.length ? '\n' : '') : '';
    const content: HunkContent = shown === lf(h.proposedText) ? 'proposed' : shown === lf(h.originalText) ? 'rejected' : 'edited';
    return { id: h.id, line: d0, count: d1 - d0, content, text: shown };
  });
  const otherEdits = segs.some((s) => !s.common && !claimed.has(s));
  return { hunks, otherEdits };
}

/**
 * The answer to claude/reviewEdit for the proposal as the user leaves it
 * (Accept): every hunk as proposed is a plain accept; some hunks taken back
 * (and nothing else changed) names the hunks kept; anything the user wrote
 * sends their whole text; nothing left of the proposal is a reject.
 * `feedback` goes along when given.
 */
export function acceptAnswer(params: ReviewEditParams, doc: string, feedback?: string): ReviewEditResult {
  const view = viewProposal(params, doc);
  const fb = feedback?.trim() ? { feedback: feedback.trim() } : {};
  const edited = view.otherEdits || view.hunks.some((h) => h.content === 'edited');
  if (edited) {
    if (lf(doc) === lf(params.original)) return { decision: 'reject', ...fb };
    return { decision: 'accept', text: doc, ...fb };
  }
  const kept = view.hunks.filter((h) => h.content === 'proposed').map((h) => h.id);
  if (kept.length === 0) return { decision: 'reject', ...fb };
  if (kept.length === view.hunks.length) return { decision: 'accept', ...fb };
  return { decision: 'accept', acceptedHunks: kept, ...fb };
}

/** What Accept would do, in words, for the title of the feedback box and the status bar ("2 of 3 hunks", "your version"). */
export function acceptSummary(params: ReviewEditParams, doc: string): { rejected: string[]; edited: boolean; none: boolean } {
  const view = viewProposal(params, doc);
  const edited = view.otherEdits || view.hunks.some((h) => h.content === 'edited');
  const rejected = view.hunks.filter((h) => h.content === 'rejected').map((h) => h.id);
  return { rejected, edited, none: !edited && rejected.length === view.hunks.length };
}

/** The hunk at a line of the proposal document (a deletion counts at its line), if any. */
export function hunkAt(view: ProposalView, line: number): HunkView | undefined {
  return view.hunks.find((h) => (h.count > 0 ? line >= h.line && line < h.line + h.count : line === h.line));
}

// --- the queue of reviews ------------------------------------------------------------

/** An edit claude waits on the user's review for. */
export interface Review {
  /** This window's number for it (1, 2, …). */
  id: number;
  params: ReviewEditParams;
  askedAt: Date;
  /** Hunks the user accepted one by one (Accept Hunk): decided, as proposed or in their version. */
  accepted: Set<string>;
}

/** How a review ended: the answer, or withdrawn by the bridge (timed out, task ended). */
export type ReviewEnd = { answer: ReviewEditResult } | { withdrawn: true };

/**
 * The reviews the bridge waits on, oldest first: the first is the one on
 * screen, the others queue behind it. A review stays until it is answered
 * or withdrawn (closing its editor leaves it waiting).
 */
export class ReviewQueue extends Waiting<Review, ReviewEnd> {
  /** Queues a review; `done` is called once, with the answer or the withdrawal. */
  add(params: ReviewEditParams, done: (end: ReviewEnd) => void, now = new Date()): Review {
    return this.put({ id: this.newId(), params, askedAt: now, accepted: new Set() }, done);
  }

  /** Answers a review; false when it is no longer open. */
  answer(id: number, answer: ReviewEditResult): boolean {
    return this.end(id, { answer });
  }

  protected readonly withdrawn: ReviewEnd = { withdrawn: true };

  protected callOf(r: Review): { taskId?: string; toolUseId?: string } {
    return r.params;
  }

  /** Marks (or unmarks) a hunk accepted; false when the review or the hunk is not there. */
  mark(id: number, hunk: string, accepted: boolean): boolean {
    const r = this.get(id);
    if (!r || !r.params.hunks.some((h) => h.id === hunk)) return false;
    if (accepted) r.accepted.add(hunk);
    else r.accepted.delete(hunk);
    this.fire();
    return true;
  }

  /** The review on screen: the oldest. */
  current(): Review | undefined {
    return this.pending()[0];
  }
}

/**
 * Whether every hunk is decided: accepted one by one, or taken back (its
 * lines read as before). Then the review can be answered without asking.
 */
export function allDecided(r: Review, view: ProposalView): boolean {
  return view.hunks.every((h) => h.content === 'rejected' || r.accepted.has(h.id));
}
