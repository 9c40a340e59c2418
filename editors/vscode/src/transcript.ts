// A task's transcript as a person reads it: the model behind the
// transcript webview (webview/main.ts runs it in the page; the unit tests
// run it in Node). Pure: no vscode, no DOM.
//
// Messages: the extension posts the task's header, its claude/event
// notifications (in batches) and its open questions (ToWebview); the page
// answers with FromWebview. Rendering: each event kind has one renderer
// (`renderers`), which updates the blocks it owns; a block is a piece of
// HTML under a key ("text:<messageId>", "tool:<toolUseId>", …), and the page
// replaces only the blocks a batch changed. Tool inputs are shown by one
// function per tool (`toolInputs`). New kinds of blocks (agent questions,
// plans, to-dos, per-hunk review) add a renderer and a block key.

import { diffLines } from 'diff';
import MarkdownIt from 'markdown-it';
import {
  BridgeEvent,
  Decision,
  EditConflictParams,
  EventKind,
  FileChanges,
  PermissionEvent,
  PlanEvent,
  PlanResult,
  Question as AskedQuestion,
  QuestionEvent,
  ReviewEvent,
  RunResult,
  TaskStatus,
  Todo,
  ToolResultEvent,
  ToolUseEvent,
} from './lspExt';
import { esc, firstLine, money, seconds, short } from './format';
import { countLabel } from './changes';
import { messageParts } from './questions';
import { isTerminal } from './tasks';

export { esc, firstLine, money, seconds, short };

// --- messages between the extension and the page --------------------------

/** What the page shows above the events. */
export interface TaskHeader {
  taskId: string;
  prompt: string;
  status: TaskStatus;
  /** The current progress step ("Edit main.go"). */
  step?: string;
  /** The workspace folder's URI. */
  folder?: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt?: number;
  /** The short prompt of the task this one follows up. */
  followUpOf?: string;
  /** Why the task failed without a reply (the bridge stopped). */
  failure?: string;
  result?: RunResult;
  conflicts: EditConflictParams[];
  /** What claude runs with now (started and mode events). */
  permissionMode?: string;
  model?: string;
  /** A past conversation read from claude's store: the composer follows it up. */
  pastSession?: boolean;
  /** The task's changes still kept for review (review afterTurn or beforeWrite). */
  changes?: { files: FileChanges[]; uncovered?: string[] };
}

/** An open question as the page shows it. */
export interface QuestionView {
  id: number;
  message: string;
  /** What a permission question asks to allow, whole, when its message is cut (every line of a command). */
  whole?: string;
  actions: string[];
  toolUseId?: string;
  /** Epoch milliseconds. */
  askedAt: number;
  /** A permission (answered by an action), claude's questions (a form), its plan, or an edit held for review (its id is the review's). */
  kind: 'permission' | 'ask' | 'plan' | 'review';
  /** claude's questions (kind ask). */
  questions?: AskedQuestion[];
}

/** An image pasted into the composer, as claude.send and claude.followUp take it. */
export interface PastedImage {
  /** Base64, no data: prefix. */
  data: string;
  mediaType: string;
  name?: string;
}

export type ToWebview =
  | { type: 'reset'; header: TaskHeader; events: BridgeEvent[]; questions: QuestionView[] }
  | { type: 'update'; header: TaskHeader; events: BridgeEvent[] }
  | { type: 'questions'; questions: QuestionView[] }
  /** A message sent from the composer that the bridge refused (the error is shown as a notification). */
  | { type: 'sendFailed'; text: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'answer'; question: number; answer: string }
  | { type: 'answerAsk'; question: number; answers: Record<string, string> }
  | { type: 'answerPlan'; question: number; result: PlanResult }
  | { type: 'showPlan'; question: number }
  | { type: 'send'; text: string; images: PastedImage[] }
  | { type: 'interrupt' }
  | { type: 'openFile'; uri: string }
  | { type: 'review'; review: number; action: 'open' | 'accept' | 'reject' }
  | { type: 'changes'; action: 'open' | 'revert' | 'accept' | 'revertTask' | 'acceptTask'; uri?: string };

/** What the composer under the transcript does now: send into the running task, follow it up, or nothing. */
export interface ComposerState {
  mode: 'send' | 'followUp' | 'none';
  placeholder: string;
  /** Interrupt is offered (a turn runs). */
  interrupt: boolean;
}

export function composerState(h: TaskHeader | undefined): ComposerState {
  if (!h) return { mode: 'none', placeholder: '', interrupt: false };
  if (h.pastSession || isTerminal(h.status)) {
    return { mode: 'followUp', placeholder: 'Follow up: what next? (Ctrl+Enter sends; paste images here)', interrupt: false };
  }
  return {
    mode: 'send',
    placeholder: 'Send to Claude: it reads this at its next step (Ctrl+Enter sends; paste images here)',
    interrupt: h.status === 'running' || h.status === 'waiting',
  };
}

// --- small formatting helpers ----------------------------------------------

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/** A message with its backtick spans as <code>. */
export function richMessage(message: string): string {
  return messageParts(message)
    .map((p) => (p.code ? `<code>${esc(p.text)}</code>` : esc(p.text)))
    .join('');
}

const DECISIONS: Record<Decision, string> = { allow: 'allowed', allowTask: 'allowed for this task', deny: 'denied' };

// --- tool inputs, one function per tool ---------------------------------------

/** What a tool input renderer needs besides the input. */
export interface ToolContext {
  /** A path relative to the task's folder when inside it. */
  rel: (p: string) => string;
  /** Markdown as HTML (no raw HTML passes). */
  markdown: (text: string) => string;
}

type Input = Record<string, unknown>;

/** Lines of one side of a diff at most (more are cut, saying how many). */
export const DIFF_MAX_SIDE_LINES = 5000;
/** Lines changed on both sides together up to which the diff is computed line by line (above: one side replaces the other). */
export const DIFF_MAX_COMPARED = 2000;
/** Lines of context kept around a change. */
const DIFF_CONTEXT = 3;

type DiffRow = { cls: 'add' | 'del' | 'ctx'; text: string };

function lines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}

/**
 * The rows of a diff from old to new text, computed within bounds: each side
 * is cut to DIFF_MAX_SIDE_LINES, the lines both start and end with are
 * taken out first (linear; a few kept as context), and the middle is
 * diffed line by line only while it is small (DIFF_MAX_COMPARED), else
 * shown as the old lines removed and the new ones added. A 3,000-line
 * rewrite takes milliseconds, not seconds.
 */
export function diffRows(oldText: string, newText: string): { rows: DiffRow[]; cut: number } {
  let a = lines(oldText);
  let b = lines(newText);
  const cut = Math.max(0, a.length - DIFF_MAX_SIDE_LINES) + Math.max(0, b.length - DIFF_MAX_SIDE_LINES);
  a = a.slice(0, DIFF_MAX_SIDE_LINES);
  b = b.slice(0, DIFF_MAX_SIDE_LINES);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let post = 0;
  while (post < a.length - pre && post < b.length - pre && a[a.length - 1 - post] === b[b.length - 1 - post]) post++;
  const rows: DiffRow[] = [];
  for (const l of a.slice(Math.max(0, pre - DIFF_CONTEXT), pre)) rows.push({ cls: 'ctx', text: l });
  const midA = a.slice(pre, a.length - post);
  const midB = b.slice(pre, b.length - post);
  if (midA.length + midB.length <= DIFF_MAX_COMPARED && midA.length > 0 && midB.length > 0) {
    for (const part of diffLines(midA.join('\n') + '\n', midB.join('\n') + '\n')) {
      const cls = part.added ? 'add' : part.removed ? 'del' : 'ctx';
      for (const l of lines(part.value)) rows.push({ cls, text: l });
    }
  } else {
    for (const l of midA) rows.push({ cls: 'del', text: l });
    for (const l of midB) rows.push({ cls: 'add', text: l });
  }
  for (const l of a.slice(a.length - post, a.length - post + DIFF_CONTEXT)) rows.push({ cls: 'ctx', text: l });
  return { rows, cut };
}

const SIGNS = { add: '+', del: '-', ctx: ' ' } as const;

function rowHtml(r: DiffRow): string {
  return `<div class="${r.cls}"><span class="sign">${SIGNS[r.cls]}</span>${esc(r.text)}</div>`;
}

/**
 * A diff from old to new text as HTML rows with +, - and context. At most
 * maxLines rows show at first, shared among the runs of removed, added and
 * kept lines (so both sides of a rewrite show); the rest of each run is
 * behind an expand ("… 2,950 more removed lines").
 */
export function diffHtml(oldText: string, newText: string, maxLines = 200): string {
  const { rows, cut } = diffRows(oldText, newText);
  const runs: DiffRow[][] = [];
  for (const r of rows) {
    const last = runs.at(-1);
    if (last && last[0].cls === r.cls) last.push(r);
    else runs.push([r]);
  }
  const perRun = rows.length <= maxLines ? Infinity : Math.max(8, Math.floor(maxLines / Math.max(1, runs.length)));
  const words = { add: 'added', del: 'removed', ctx: 'unchanged' };
  const out = runs.map((run) => {
    if (run.length <= perRun) return run.map(rowHtml).join('');
    const rest = run.slice(perRun);
    return (
      run.slice(0, perRun).map(rowHtml).join('') +
      `<details class="more"><summary>… ${rest.length.toLocaleString('en-US')} more ${words[run[0].cls]} lines</summary>${rest.map(rowHtml).join('')}</details>`
    );
  });
  if (cut > 0) out.push(`<div class="more">… ${cut.toLocaleString('en-US')} more lines not shown (the file has them)</div>`);
  return `<div class="diff">${out.join('')}</div>`;
}

function fileLine(path: unknown, ctx: ToolContext): string {
  return typeof path === 'string' && path ? `<div class="file">${esc(ctx.rel(path))}</div>` : '';
}

/** The other fields of an input, as short `key: value` lines. */
function fieldLines(input: Input, skip: string[]): string {
  const rows = Object.entries(input)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<div class="field"><span class="key">${esc(k)}:</span> ${esc(short(str(v), 200))}</div>`);
  return rows.join('');
}

/** Tool input renderers by tool name; `default` for the others. */
export const toolInputs: Record<string, (input: Input, ctx: ToolContext) => string> = {
  Bash: (i) =>
    `<pre class="command"><span class="prompt">$</span> ${esc(str(i.command))}</pre>` +
    fieldLines(i, ['command']),
  Edit: (i, ctx) =>
    fileLine(i.file_path, ctx) +
    diffHtml(str(i.old_string), str(i.new_string)) +
    fieldLines(i, ['file_path', 'old_string', 'new_string', ...(i.replace_all === true ? [] : ['replace_all'])]),
  MultiEdit: (i, ctx) => {
    const edits = Array.isArray(i.edits) ? (i.edits as Input[]) : [];
    return fileLine(i.file_path, ctx) + edits.map((e) => diffHtml(str(e.old_string), str(e.new_string))).join('');
  },
  Write: (i, ctx) => fileLine(i.file_path, ctx) + diffHtml('', str(i.content), 40),
  NotebookEdit: (i, ctx) =>
    fileLine(i.notebook_path, ctx) + (i.new_source !== undefined ? diffHtml('', str(i.new_source), 40) : '') + fieldLines(i, ['notebook_path', 'new_source']),
  Read: (i, ctx) => fileLine(i.file_path, ctx) + fieldLines(i, ['file_path']),
  AskUserQuestion: (i) => askedHtml(Array.isArray(i.questions) ? (i.questions as AskedQuestion[]) : []),
  ExitPlanMode: (i, ctx) => `<div class="plan markdown">${ctx.markdown(str(i.plan))}</div>`,
  TodoWrite: (i) => todoListHtml(Array.isArray(i.todos) ? (i.todos as Todo[]) : []),
  TaskCreate: (i) => `<div class="todo-change">＋ ${esc(str(i.subject))}</div>` + fieldLines(i, ['subject', 'activeForm']),
  TaskUpdate: (i) => fieldLines(i, []),
  default: (i) => fieldLines(i, []),
};

/** claude's questions with their options (an AskUserQuestion call's input). */
function askedHtml(qs: AskedQuestion[]): string {
  return qs
    .map(
      (q) =>
        `<div class="asked"><div class="asked-q">${q.header ? `<span class="badge">${esc(q.header)}</span> ` : ''}${esc(q.question)}${q.multiSelect ? ' <span class="facts">(one or more)</span>' : ''}</div>` +
        `<ul class="options">${(q.options ?? []).map((o) => `<li><b>${esc(o.label)}</b>${o.description ? ` — ${esc(o.description)}` : ''}</li>`).join('')}</ul></div>`,
    )
    .join('');
}

const TODO_MARKS: Record<string, string> = { completed: '☑', in_progress: '▶', pending: '☐' };

/** A to-do list as a checklist; the item in progress reads as what is being done. */
export function todoListHtml(todos: Todo[]): string {
  return `<ul class="todos">${todos
    .map(
      (t) =>
        `<li class="todo ${esc(t.status)}"><span class="mark">${TODO_MARKS[t.status] ?? '☐'}</span> ${esc(t.status === 'in_progress' && t.activeForm ? t.activeForm : t.content)}</li>`,
    )
    .join('')}</ul>`;
}

/** The key input of a call, for its one-line summary when the bridge gave none. */
function keyInput(name: string, input: Input, ctx: ToolContext): string {
  for (const k of ['command', 'file_path', 'notebook_path', 'url', 'pattern', 'path', 'query']) {
    const v = input[k];
    if (typeof v === 'string' && v) return k.endsWith('path') ? ctx.rel(v) : short(v, 80);
  }
  return '';
}

// --- the model -------------------------------------------------------------------

interface ToolState {
  use?: ToolUseEvent;
  /** The input's HTML, made once per call (a diff of a large edit is not cheap). */
  inputHtml?: string;
  permission?: PermissionEvent;
  result?: ToolResultEvent;
  question?: QuestionView;
  /** claude's questions answered (or not): the question event. */
  asked?: QuestionEvent;
  /** claude's plan decided: the plan event. */
  planned?: PlanEvent;
  /** The edit's review (beforeWrite): the review event. */
  reviewed?: ReviewEvent;
}

interface Block {
  key: string;
  html: string;
}

/** A block the page must (re)draw: its key, its HTML, and the key of the block it follows (undefined: first). */
export interface BlockChange {
  key: string;
  html: string;
  after: string | undefined;
}

/** The blocks that close a transcript, in their order: every other block comes before them. */
const CLOSING = ['end', 'changes'];

type Renderer<K extends EventKind> = (t: Transcript, ev: Extract<BridgeEvent, { kind: K }>) => void;

export class Transcript {
  header: TaskHeader | undefined;
  /** The blocks in order. */
  private readonly order: string[] = [];
  private readonly blocks = new Map<string, Block>();
  private readonly dirty = new Set<string>();
  /** Streamed texts by block key; parent: the Agent call of a subagent's text (not the task's answer). */
  private readonly texts = new Map<string, { kind: 'text' | 'thinking'; text: string; parent?: string }>();
  readonly tools = new Map<string, ToolState>();
  private questions: QuestionView[] = [];
  private lastSeq = 0;
  private lastText: string | undefined;
  private resultEvent: Extract<BridgeEvent, { kind: 'result' }> | undefined;
  /** Messages sent from the composer that claude has not taken yet, oldest first. */
  private pending: { text: string; imageCount: number }[] = [];
  /** claude's to-do list as last changed (todos events); shown under the header. */
  todos: Todo[] = [];
  /** How many messages of each kind (type/subtype) the bridge passed through as other events. */
  readonly others = new Map<string, number>();
  readonly md: MarkdownIt;

  constructor() {
    this.md = new MarkdownIt({ html: false, linkify: true, breaks: false });
    // An image in the agent's Markdown is a link, never loaded: a remote image would tell
    // its server that, and when, the transcript was read (and whatever its URL carries).
    this.md.renderer.rules.image = (tokens, idx) => {
      const tok = tokens[idx];
      const src = tok.attrGet('src') ?? '';
      const alt = tok.content || src;
      return `<a class="image-link" href="${esc(src)}" title="${esc(src)}"><span class="badge">image</span> ${esc(alt)}</a>`;
    };
  }

  /** A path relative to the task's folder when it is inside it. */
  rel = (p: string): string => {
    const folder = this.header?.folder;
    if (!folder) return p;
    let dir: string;
    try {
      dir = decodeURIComponent(new URL(folder).pathname).replace(/\/$/, '');
    } catch {
      return p;
    }
    return p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p;
  };

  /**
   * Sets a block's HTML. The header stays first, whenever it comes (a reset
   * sends the events first); a new block goes at the end, before the closing
   * blocks (the end, then the changes to review): the header that says the
   * task ended can come in the same batch as the task's last events, before
   * them, and a transcript opened after its task ended gets its result
   * after its events.
   */
  put(key: string, html: string): void {
    const b = this.blocks.get(key);
    if (b) {
      if (b.html === html) return;
      b.html = html;
    } else {
      this.blocks.set(key, { key, html });
      if (key === 'head') {
        // The header is first, whenever it comes (a reset sends the events first).
        this.order.unshift(key);
        for (const k of this.order) this.dirty.add(k);
      } else {
        const rank = CLOSING.indexOf(key);
        const at = this.order.findIndex((k) => CLOSING.indexOf(k) > rank);
        if (at < 0) this.order.push(key);
        else {
          this.order.splice(at, 0, key);
          // the page places blocks after the one before them
          for (const k of this.order.slice(at + 1)) this.dirty.add(k);
        }
      }
    }
    this.dirty.add(key);
  }

  has(key: string): boolean {
    return this.blocks.has(key);
  }

  setHeader(h: TaskHeader): void {
    this.header = h;
    // The task ended: claude took every message sent into it (or said it would not).
    if (isTerminal(h.status)) this.pending = [];
    this.renderHead();
    this.renderEnd();
    this.renderChanges();
  }

  /** The changes still to review, after the end: files with their counts and the actions (once there were some). */
  renderChanges(): void {
    const c = this.header?.changes;
    if (!c || c.files.length === 0) {
      if (this.has('changes')) this.put('changes', '');
      return;
    }
    this.put('changes', changesHtml(c, this.rel));
  }

  /** A message sent from the composer into the running task, shown as sent until claude takes it. */
  addSent(text: string, imageCount: number): void {
    this.pending.push({ text, imageCount });
  }

  /** A sent message claude took (its userMessage event), or that the bridge refused: no longer pending. */
  dropSent(text: string): void {
    const i = this.pending.findIndex((p) => text === p.text || text.startsWith(p.text));
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** The messages sent and not yet taken, for the composer. */
  pendingHtml(): string {
    return this.pending
      .map(
        (p) =>
          `<div class="pending-message"><span class="who">Sent</span> ${esc(short(p.text, 200))}${
            p.imageCount ? ` <span class="facts">with ${p.imageCount} image${p.imageCount === 1 ? '' : 's'}</span>` : ''
          } <span class="facts">· Claude reads it at its next step</span></div>`,
      )
      .join('');
  }

  /** The header with the to-do list under it. */
  renderHead(): void {
    if (this.header) this.put('head', renderHeader(this.header, this.todos));
  }

  addEvents(evs: BridgeEvent[]): void {
    const touched = new Set<string>();
    for (const ev of evs) {
      if (typeof ev.seq === 'number') {
        if (ev.seq <= this.lastSeq) continue;
        if (this.lastSeq > 0 && ev.seq > this.lastSeq + 1) {
          this.put(`gap:${ev.seq}`, `<div class="note">(events ${this.lastSeq + 1} to ${ev.seq - 1} were not received)</div>`);
        }
        this.lastSeq = ev.seq;
      }
      if (ev.kind === 'text' || ev.kind === 'thinking') {
        // Deltas: joined now, rendered once per batch. A subagent's text is a block of its own.
        const parent = ev.parentToolUseId;
        const key = parent ? `sub:${parent}:${ev.kind}:${ev.messageId}` : `${ev.kind}:${ev.messageId}`;
        const t = this.texts.get(key) ?? { kind: ev.kind, text: '', parent };
        t.text += ev.text;
        this.texts.set(key, t);
        if (!this.blocks.has(key)) this.put(key, '');
        touched.add(key);
        continue;
      }
      const r = renderers[ev.kind] as Renderer<typeof ev.kind> | undefined;
      if (r) r(this, ev);
      else this.put(`other:${ev.seq}`, `<div class="note">${esc((ev as { kind: string }).kind)}</div>`);
    }
    for (const key of touched) this.renderText(key);
    // The end leaves out a result that repeats the last text: text that came after it was drawn
    // counts, and so does text that came in one batch with the result.
    if (this.blocks.has('end') || (touched.size > 0 && (this.resultEvent || this.header?.result))) this.renderEnd();
  }

  setQuestions(qs: QuestionView[]): void {
    // A question of a tool call is drawn in its block; one without, in a block of its own.
    const keyOf = (q: QuestionView) => (q.toolUseId ? `tool:${q.toolUseId}` : `question:${q.id}`);
    const before = new Map(this.questions.map((q) => [keyOf(q), q]));
    this.questions = qs;
    const now = new Set<string>();
    for (const q of qs) {
      now.add(keyOf(q));
      if (q.toolUseId) {
        this.tool(q.toolUseId).question = q;
        this.renderTool(q.toolUseId);
      } else {
        this.put(`question:${q.id}`, `<div class="tool waiting"><div class="tool-head">Question</div>${openQuestionHtml(q)}</div>`);
      }
    }
    for (const [k, q] of before) {
      if (now.has(k)) continue;
      if (!q.toolUseId) this.put(k, '');
      else {
        this.tool(q.toolUseId).question = undefined;
        this.renderTool(q.toolUseId);
      }
    }
  }

  tool(id: string): ToolState {
    let st = this.tools.get(id);
    if (!st) {
      st = {};
      this.tools.set(id, st);
    }
    return st;
  }

  renderText(key: string): void {
    const t = this.texts.get(key)!;
    if (t.parent) {
      // A subagent's: marked, and never taken for the task's last text (the end compares with it).
      const body = `<div class="markdown">${this.md.render(t.text)}</div>`;
      this.put(
        key,
        t.kind === 'text'
          ? `<div class="subagent text"><div class="who">Subagent</div>${body}</div>`
          : `<details class="subagent thinking" data-k="${esc(key)}"><summary>Subagent thinking</summary>${body}</details>`,
      );
      return;
    }
    if (t.kind === 'text') {
      this.lastText = t.text;
      this.put(key, `<div class="text markdown">${this.md.render(t.text)}</div>`);
    } else {
      this.put(key, `<details class="thinking" data-k="${esc(key)}"><summary>Thinking</summary><div class="markdown">${this.md.render(t.text)}</div></details>`);
    }
  }

  /** What tool input renderers get. */
  readonly ctx: ToolContext = { rel: (p) => this.rel(p), markdown: (text) => this.md.render(text) };

  renderTool(id: string): void {
    this.put(`tool:${id}`, toolHtml(this.tools.get(id) ?? {}, this.ctx, id, this.resultEvent !== undefined));
  }

  setResult(ev: Extract<BridgeEvent, { kind: 'result' }>): void {
    this.resultEvent = ev;
    // Calls that never got a result stopped with the task.
    for (const [id, st] of this.tools) if (!st.result) this.renderTool(id);
    this.renderEnd();
  }

  /** The end: the result, its duration, turns and cost; or the failure the extension saw. */
  renderEnd(): void {
    const h = this.header;
    const r = this.resultEvent ?? h?.result;
    const conflicts = (h?.conflicts ?? []).map((c) => `<div class="note warn">⚠ ${esc(c.message)}</div>`).join('');
    if (!r) {
      if (h?.failure) this.put('end', `${conflicts}<div class="end failed"><div class="end-head">✗ Failed</div><div class="error">${esc(h.failure)}</div></div>`);
      else if (conflicts) this.put('end', conflicts);
      return;
    }
    const icon = r.status === 'completed' ? '✓' : r.status === 'cancelled' ? '■' : '✗';
    const word = r.status === 'completed' ? 'Completed' : r.status === 'cancelled' ? 'Cancelled' : 'Failed';
    const facts = [
      r.durationMs > 0 ? `in ${seconds(r.durationMs)}` : '',
      typeof r.numTurns === 'number' && r.numTurns > 0 ? `${r.numTurns} turn${r.numTurns === 1 ? '' : 's'}` : '',
      money(r.costUsd),
    ].filter(Boolean);
    const body = str(r.result).trim();
    let text = '';
    // A cancel or interrupt says so in its head: its result ("Cancelled") is not repeated.
    const stopped = (r.status === 'cancelled' || r.status === 'interrupted') && (body === '' || body.toLowerCase() === r.status);
    if (stopped) text = '';
    else if (r.status === 'failed' || r.isError) text = body ? `<div class="error">${esc(body)}</div>` : '';
    else if (r.status === 'completed' && body && body !== (this.lastText ?? '').trim()) text = `<div class="markdown">${this.md.render(body)}</div>`;
    this.put(
      'end',
      `${conflicts}<div class="end ${esc(r.status)}"><div class="end-head">${icon} ${word}${facts.length ? ` <span class="facts">${esc(facts.join(' · '))}</span>` : ''}</div>${text}</div>`,
    );
  }

  /** The blocks changed since the last call, in order, and forgets them. */
  takeChanges(): BlockChange[] {
    const out: BlockChange[] = [];
    let prev: string | undefined;
    for (const key of this.order) {
      if (this.dirty.has(key)) out.push({ key, html: this.blocks.get(key)!.html, after: prev });
      prev = key;
    }
    this.dirty.clear();
    return out;
  }

  /** The whole transcript's HTML (for tests and the first draw). */
  html(): string {
    return this.order.map((k) => this.blocks.get(k)!.html).join('\n');
  }
}

// --- one renderer per event kind ---------------------------------------------------

export const renderers: { [K in EventKind]?: Renderer<K> } = {
  queued: (t, ev) => {
    if (ev.position > 0) t.put(`queued:${ev.seq}`, `<div class="note">Queued: ${ev.position} task${ev.position === 1 ? '' : 's'} ahead</div>`);
  },
  started: (t, ev) => {
    const parts = [ev.model, ev.permissionMode ? `permission mode ${ev.permissionMode}` : '', ev.claudeVersion ? `claude ${ev.claudeVersion}` : ''].filter(Boolean);
    t.put(`started:${ev.seq}`, `<div class="note started">Started · ${esc(parts.join(' · '))}</div>`);
  },
  toolUse: (t, ev) => {
    const st = t.tool(ev.toolUseId);
    st.use = ev;
    st.inputHtml = undefined;
    t.renderTool(ev.toolUseId);
  },
  toolResult: (t, ev) => {
    t.tool(ev.toolUseId).result = ev;
    t.renderTool(ev.toolUseId);
  },
  permission: (t, ev) => {
    const st = t.tool(ev.toolUseId);
    st.permission = ev;
    if (!st.use) {
      // A call the bridge decided on before its toolUse event came.
      st.use = { taskId: ev.taskId, seq: ev.seq, kind: 'toolUse', toolUseId: ev.toolUseId, name: ev.name, input: ev.input, summary: ev.summary };
    }
    t.renderTool(ev.toolUseId);
  },
  retry: (t, ev) => {
    const what = [ev.errorStatus ? `HTTP ${ev.errorStatus}` : '', ev.error].filter(Boolean).join(' ');
    t.put(
      `retry:${ev.seq}`,
      `<div class="note retry">↻ Retrying${what ? `: ${esc(what)}` : ''} <span class="facts">attempt ${ev.attempt} of ${ev.maxRetries}, in ${esc(seconds(ev.delayMs))}</span></div>`,
    );
  },
  status: (t, ev) => t.put(`status:${ev.seq}`, `<div class="note">${esc(ev.message)}</div>`),
  // One block per kind of message (type/subtype), however many come: claude sends some in
  // runs, one per delta. The block counts them and shows the last.
  other: (t, ev) => {
    const kind = [str(ev.raw.type) || 'unknown', str(ev.raw.subtype)].filter(Boolean).join('/');
    const n = (t.others.get(kind) ?? 0) + 1;
    t.others.set(kind, n);
    t.put(
      `other:${kind}`,
      `<details class="note" data-k="other:${esc(kind)}"><summary>Message from claude: ${esc(kind)}${n > 1 ? ` <span class="facts">×${n}</span>` : ''}</summary><pre>${esc(JSON.stringify(ev.raw, null, 2))}</pre></details>`,
    );
  },
  result: (t, ev) => t.setResult(ev),
  question: (t, ev) => {
    t.tool(ev.toolUseId).asked = ev;
    t.renderTool(ev.toolUseId);
  },
  plan: (t, ev) => {
    t.tool(ev.toolUseId).planned = ev;
    t.renderTool(ev.toolUseId);
  },
  review: (t, ev) => {
    t.tool(ev.toolUseId).reviewed = ev;
    t.renderTool(ev.toolUseId);
  },
  todos: (t, ev) => {
    t.todos = ev.todos;
    t.renderHead();
    // The call that changed the list shows it as it was then.
    const st = t.tool(ev.toolUseId);
    if (st.use && st.use.name !== 'TodoWrite') t.put(`todos:${ev.seq}`, `<div class="note">To-dos now:</div>${todoListHtml(ev.todos)}`);
  },
  mode: (t, ev) =>
    t.put(
      `mode:${ev.seq}`,
      `<div class="note mode">⇄ Now in ${esc(ev.permissionMode || 'default')} mode${ev.model ? ` · ${esc(ev.model)}` : ''}</div>`,
    ),
  userMessage: (t, ev) => {
    t.dropSent(ev.text);
    t.put(
      `user:${ev.seq}`,
      `<div class="user-message"><div class="who">You</div><div class="markdown">${t.md.render(ev.text)}</div>${
        ev.imageCount ? `<div class="facts">with ${ev.imageCount} image${ev.imageCount === 1 ? '' : 's'}</div>` : ''
      }</div>`,
    );
  },
};

// --- HTML of the blocks -----------------------------------------------------------

const STATUS_WORDS: Record<TaskStatus, string> = {
  queued: 'Queued',
  starting: 'Starting',
  running: 'Running',
  waiting: 'Waiting for your answer',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

function renderHeader(h: TaskHeader, todos: Todo[]): string {
  const live = !isTerminal(h.status);
  const step = live && h.step && h.status !== 'waiting' && !h.step.startsWith('Waiting for permission') ? ` · ${esc(h.step)}` : '';
  const when = new Date(h.startedAt).toLocaleTimeString();
  const folder = h.folder ? decodeURIComponent(h.folder.replace(/^file:\/\//, '')).split('/').filter(Boolean).pop() : '';
  const title = firstLine(h.prompt || h.taskId, 100);
  const whole = (h.prompt ?? '').trim();
  const more = whole !== '' && whole !== title ? `<details class="prompt" data-k="prompt"><summary>The whole prompt</summary><pre>${esc(whole)}</pre></details>` : '';
  return (
    `<header><h1 title="${esc(title)}">${esc(title)}</h1>${more}` +
    `<div class="meta"><span class="pill ${esc(h.status)}">${STATUS_WORDS[h.status] ?? esc(h.status)}${step}</span>` +
    `${folder ? ` <span>in ${esc(folder)}</span>` : ''} <span>started ${esc(when)}</span>` +
    `${h.followUpOf ? ` <span>follows up “${esc(short(h.followUpOf, 40))}”</span>` : ''}` +
    `${h.permissionMode && h.permissionMode !== 'acceptEdits' ? ` <span class="pill mode">${esc(h.permissionMode)}</span>` : ''}` +
    `${h.model ? ` <span>${esc(h.model)}</span>` : ''}</div>${todosHead(todos)}</header>`
  );
}

/** The to-do list under the header: done/all, open while work remains. */
function todosHead(todos: Todo[]): string {
  if (todos.length === 0) return '';
  const done = todos.filter((t) => t.status === 'completed').length;
  const open = done < todos.length ? ' open' : '';
  return `<details class="todos-head" data-k="todos"${open}><summary>To-dos ${done}/${todos.length}</summary>${todoListHtml(todos)}</details>`;
}

/** An open question's controls: a permission's buttons, claude's questions as a form, a plan's choices. */
function openQuestionHtml(q: QuestionView): string {
  if (q.kind === 'ask') return askFormHtml(q);
  if (q.kind === 'plan') return planFormHtml(q);
  if (q.kind === 'review') return reviewOpenHtml(q);
  return questionHtml(q);
}

/** An edit held for review: open its diff, or accept or reject it from here. */
export function reviewOpenHtml(q: QuestionView): string {
  return (
    `<div class="question review-form" data-review-id="${q.id}"><div class="ask">${richMessage(q.message)}</div>` +
    `<div class="buttons"><button data-review="${q.id}" data-action="open">Open Review</button>` +
    `<button data-review="${q.id}" data-action="accept">Accept</button>` +
    `<button class="secondary" data-review="${q.id}" data-action="reject">Reject…</button></div></div>`
  );
}

/** How an edit held for review was decided (its review event). */
export function reviewDecisionHtml(ev: ReviewEvent): string {
  const fb = ev.feedback ? ` <span class="feedback">“${esc(ev.feedback)}”</span>` : '';
  if (ev.decision === 'reject') {
    return `<div class="permission deny">✗ Rejected${ev.reason ? ` (${esc(ev.reason)})` : ' by you'}${fb}</div>`;
  }
  const some = ev.rejectedHunks.length > 0;
  const what = ev.edited ? 'your version written' : some ? `accepted ${esc(ev.acceptedHunks.join(', '))}, rejected ${esc(ev.rejectedHunks.join(', '))}` : 'accepted';
  return `<div class="permission allow">✓ Reviewed: ${what}${fb}</div>`;
}

/** The task's changes kept for review, with their actions (the transcript's end). */
export function changesHtml(c: { files: FileChanges[]; uncovered?: string[] }, rel: (p: string) => string): string {
  const path = (uri: string) => {
    try {
      return rel(decodeURIComponent(new URL(uri).pathname));
    } catch {
      return uri;
    }
  };
  const status: Record<string, string> = { modified: '', added: 'new', deleted: 'deleted' };
  const rows = c.files
    .map((f) => {
      const facts = [f.binary ? 'binary' : status[f.status], countLabel(f.hunks)].filter(Boolean).join(' · ');
      return (
        `<li><a href="#" data-changes="open" data-uri="${esc(f.uri)}">${esc(path(f.uri))}</a>${facts ? ` <span class="facts">${esc(facts)}</span>` : ''}` +
        ` <span class="row-buttons"><button class="secondary small" data-changes="revert" data-uri="${esc(f.uri)}">Revert</button>` +
        `<button class="secondary small" data-changes="accept" data-uri="${esc(f.uri)}">Accept</button></span></li>`
      );
    })
    .join('');
  const all = c.files.flatMap((f) => f.hunks);
  const n = c.files.length;
  const notes = (c.uncovered ?? []).map((u) => `<div class="note warn">⚠ ${esc(u)}</div>`).join('');
  return (
    `<div class="changes"><div class="changes-head">Changes to review: ${n} file${n === 1 ? '' : 's'}${all.length ? ` <span class="facts">${esc(countLabel(all))}</span>` : ''}</div>` +
    `<ul class="changed-files">${rows}</ul>${notes}` +
    `<div class="buttons"><button data-changes="revertTask">Revert Task</button><button class="secondary" data-changes="acceptTask">Accept All</button></div></div>`
  );
}

/**
 * claude's questions as a form: a radio button (a check box where several
 * may be chosen) per option and a text field of your own ("Other"); the
 * page collects it (webview/main.ts collectAnswers).
 */
export function askFormHtml(q: QuestionView): string {
  const qs = q.questions ?? [];
  const fields = qs
    .map((aq, i) => {
      const name = `ask-${q.id}-${i}`;
      const type = aq.multiSelect ? 'checkbox' : 'radio';
      const options = aq.options
        .map(
          (o) =>
            `<label class="option"><input type="${type}" name="${name}" value="${esc(o.label)}"> <b>${esc(o.label)}</b>${o.description ? ` <span class="facts">${esc(o.description)}</span>` : ''}</label>`,
        )
        .join('');
      return (
        `<fieldset class="ask-field" data-q="${esc(aq.question)}" data-multi="${aq.multiSelect ? '1' : ''}">` +
        `<legend>${aq.header ? `<span class="badge">${esc(aq.header)}</span> ` : ''}${esc(aq.question)}${aq.multiSelect ? ' <span class="facts">(one or more)</span>' : ''}</legend>` +
        `${options}<label class="option other"><input type="${type}" name="${name}" value="" data-other="1"> Other: <input type="text" class="other-text" placeholder="your own answer"></label></fieldset>`
      );
    })
    .join('');
  return `<div class="question ask-form" data-question-id="${q.id}">${fields}<div class="buttons"><button data-ask-submit="${q.id}">Answer</button></div></div>`;
}

/** A plan's choices: approve (accepting edits, or asking before each), or keep planning with what to change. */
export function planFormHtml(q: QuestionView): string {
  return (
    `<div class="question plan-form" data-question-id="${q.id}"><div class="ask">Approve this plan?</div>` +
    `<textarea class="feedback" rows="2" placeholder="To keep planning: what should Claude change? (optional)"></textarea>` +
    `<div class="buttons"><button data-plan="${q.id}" data-decision="approve" data-mode="acceptEdits">Approve</button>` +
    `<button class="secondary" data-plan="${q.id}" data-decision="approve" data-mode="default">Approve, ask before edits</button>` +
    `<button class="secondary" data-plan="${q.id}" data-decision="keepPlanning">Keep planning</button>` +
    `<button class="secondary" data-show-plan="${q.id}">Open as Markdown</button></div></div>`
  );
}

/** How claude's questions were answered (its question event). */
function askedAnswersHtml(ev: QuestionEvent): string {
  const answered = Object.entries(ev.answers ?? {});
  if (answered.length === 0) return `<div class="permission deny">✗ not answered${ev.reason ? `: ${esc(ev.reason)}` : ''}</div>`;
  return `<div class="answers">${answered.map(([q, a]) => `<div class="answer"><span class="key">${esc(short(q, 80))}</span> → <b>${esc(a)}</b></div>`).join('')}</div>`;
}

/** How a plan was decided (its plan event). */
function planDecisionHtml(ev: PlanEvent): string {
  if (ev.decision === 'approve') return `<div class="permission allow">✓ Approved${ev.permissionMode ? `, in ${esc(ev.permissionMode)} mode` : ''}</div>`;
  return `<div class="permission deny">↺ Kept planning${ev.feedback ? `: ${esc(ev.feedback)}` : ''}${ev.reason ? ` (${esc(ev.reason)})` : ''}</div>`;
}

function questionHtml(q: QuestionView): string {
  const buttons = q.actions
    .map((a) => `<button class="${a === 'Deny' ? 'secondary' : ''}" data-question="${q.id}" data-answer="${esc(a)}">${esc(a)}</button>`)
    .join('');
  const whole = q.whole !== undefined ? `<pre class="command whole">${esc(q.whole)}</pre>` : '';
  return `<div class="question" data-question-id="${q.id}"><div class="ask">${richMessage(q.message)}</div>${whole}<div class="buttons">${buttons}</div></div>`;
}

function toolHtml(st: ToolState, ctx: ToolContext, id: string, taskEnded: boolean): string {
  const use = st.use;
  const name = use?.name ?? st.result?.name ?? st.permission?.name ?? 'Tool';
  const input = (use?.input ?? {}) as Input;
  const summary = use?.summary || [name, keyInput(name, input, ctx)].filter(Boolean).join(' ');
  let state = 'running';
  let badge = '';
  if (st.question) {
    state = 'waiting';
    badge =
      st.question.kind === 'plan'
        ? 'waiting for your approval'
        : st.question.kind === 'ask'
          ? 'waiting for your answer'
          : st.question.kind === 'review'
            ? 'waiting for your review'
            : 'waiting for you';
  } else if (st.reviewed?.decision === 'reject') {
    state = 'error';
    badge = 'rejected';
  } else if (st.planned?.decision === 'keepPlanning') {
    state = 'ok'; // claude's answer is an error result, but nothing went wrong
    badge = 'kept planning';
  } else if (st.result) {
    state = st.result.isError ? 'error' : 'ok';
    badge = st.result.isError ? 'error' : '';
  } else if (st.permission?.decision === 'deny') {
    state = 'error';
    badge = 'denied';
  } else if (taskEnded) {
    state = 'stopped';
    badge = 'did not finish';
  }
  const icon = { running: '…', waiting: '?', ok: '✓', error: '✗', stopped: '■' }[state];
  const parts: string[] = [];
  st.inputHtml ??= `<div class="input">${(toolInputs[name] ?? toolInputs.default)(input, ctx)}</div>`;
  parts.push(st.inputHtml);
  if (st.question) parts.push(openQuestionHtml(st.question));
  if (st.asked) parts.push(askedAnswersHtml(st.asked));
  if (st.planned) parts.push(planDecisionHtml(st.planned));
  if (st.reviewed) parts.push(reviewDecisionHtml(st.reviewed));
  if (st.permission) {
    const p = st.permission;
    parts.push(
      `<div class="permission ${p.decision}">${p.decision === 'deny' ? '✗' : '✓'} ${DECISIONS[p.decision] ?? esc(p.decision)} ${p.automatic ? 'automatically' : 'by you'}${p.reason && p.automatic ? `: ${esc(p.reason)}` : ''}</div>`,
    );
  }
  if (st.result) {
    const content = str(st.result.content).replace(/\s+$/, '');
    if (content) {
      const lines = content.split('\n');
      const long = lines.length > 12;
      const pre = `<pre class="output${st.result.isError ? ' error' : ''}">${esc(content)}</pre>`;
      parts.push(long ? `<details class="output" data-k="out:${esc(id)}"><summary>${lines.length} lines of output</summary>${pre}</details>` : pre);
    }
  }
  // Open while it waits for an answer or failed; a call that went well folds away.
  const open = state === 'waiting' || state === 'error' || state === 'running' ? ' open' : '';
  // A subagent's call is marked as the subagent's.
  const sub = use?.parentToolUseId || st.result?.parentToolUseId;
  return (
    `<details class="tool ${state}${sub ? ' subagent' : ''}" data-k="tool:${esc(id)}"${open}>` +
    `<summary><span class="icon">${icon}</span> ${sub ? '<span class="who">Subagent</span> ' : ''}<span class="summary">${esc(summary)}</span>${badge ? ` <span class="badge">${esc(badge)}</span>` : ''}</summary>` +
    `${parts.join('')}</details>`
  );
}
