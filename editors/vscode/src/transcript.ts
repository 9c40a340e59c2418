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
  PermissionEvent,
  RunResult,
  TaskStatus,
  ToolResultEvent,
  ToolUseEvent,
} from './lspExt';
import { esc, money, seconds, short } from './format';
import { messageParts } from './questions';

export { esc, money, seconds, short };

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
}

/** An open question as the page shows it. */
export interface QuestionView {
  id: number;
  message: string;
  actions: string[];
  toolUseId?: string;
  /** Epoch milliseconds. */
  askedAt: number;
}

export type ToWebview =
  | { type: 'reset'; header: TaskHeader; events: BridgeEvent[]; questions: QuestionView[] }
  | { type: 'update'; header: TaskHeader; events: BridgeEvent[] }
  | { type: 'questions'; questions: QuestionView[] };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'answer'; question: number; answer: string }
  | { type: 'openFile'; uri: string };

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
}

type Input = Record<string, unknown>;

/** Lines of a diff from old to new text, as HTML rows with +, - and context. */
export function diffHtml(oldText: string, newText: string, maxLines = 200): string {
  const rows: string[] = [];
  let shown = 0;
  let hidden = 0;
  for (const part of diffLines(oldText, newText)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    const cls = part.added ? 'add' : part.removed ? 'del' : 'ctx';
    const sign = part.added ? '+' : part.removed ? '-' : ' ';
    for (const l of lines) {
      if (shown >= maxLines) {
        hidden++;
        continue;
      }
      rows.push(`<div class="${cls}"><span class="sign">${sign}</span>${esc(l)}</div>`);
      shown++;
    }
  }
  if (hidden > 0) rows.push(`<div class="more">… ${hidden} more lines</div>`);
  return `<div class="diff">${rows.join('')}</div>`;
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
  Edit: (i, ctx) => fileLine(i.file_path, ctx) + diffHtml(str(i.old_string), str(i.new_string)) + fieldLines(i, ['file_path', 'old_string', 'new_string']),
  MultiEdit: (i, ctx) => {
    const edits = Array.isArray(i.edits) ? (i.edits as Input[]) : [];
    return fileLine(i.file_path, ctx) + edits.map((e) => diffHtml(str(e.old_string), str(e.new_string))).join('');
  },
  Write: (i, ctx) => fileLine(i.file_path, ctx) + diffHtml('', str(i.content), 40),
  NotebookEdit: (i, ctx) =>
    fileLine(i.notebook_path, ctx) + (i.new_source !== undefined ? diffHtml('', str(i.new_source), 40) : '') + fieldLines(i, ['notebook_path', 'new_source']),
  Read: (i, ctx) => fileLine(i.file_path, ctx) + fieldLines(i, ['file_path']),
  default: (i) => fieldLines(i, []),
};

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
  permission?: PermissionEvent;
  result?: ToolResultEvent;
  question?: QuestionView;
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

type Renderer<K extends EventKind> = (t: Transcript, ev: Extract<BridgeEvent, { kind: K }>) => void;

export class Transcript {
  header: TaskHeader | undefined;
  /** The blocks in order. */
  private readonly order: string[] = [];
  private readonly blocks = new Map<string, Block>();
  private readonly dirty = new Set<string>();
  private readonly texts = new Map<string, { kind: 'text' | 'thinking'; text: string }>();
  readonly tools = new Map<string, ToolState>();
  private questions: QuestionView[] = [];
  private lastSeq = 0;
  private lastText: string | undefined;
  private resultEvent: Extract<BridgeEvent, { kind: 'result' }> | undefined;
  readonly md: MarkdownIt;

  constructor() {
    this.md = new MarkdownIt({ html: false, linkify: true, breaks: false });
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

  /** Sets a block's HTML (adding it at the end when new). */
  put(key: string, html: string): void {
    const b = this.blocks.get(key);
    if (b) {
      if (b.html === html) return;
      b.html = html;
    } else {
      this.blocks.set(key, { key, html });
      this.order.push(key);
    }
    this.dirty.add(key);
  }

  has(key: string): boolean {
    return this.blocks.has(key);
  }

  setHeader(h: TaskHeader): void {
    this.header = h;
    this.put('head', renderHeader(h));
    this.renderEnd();
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
        // Deltas: joined now, rendered once per batch.
        const key = `${ev.kind}:${ev.messageId}`;
        const t = this.texts.get(key) ?? { kind: ev.kind, text: '' };
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
  }

  setQuestions(qs: QuestionView[]): void {
    const before = new Set(this.questions.map((q) => q.toolUseId ?? `q${q.id}`));
    this.questions = qs;
    const now = new Set<string>();
    for (const q of qs) {
      if (q.toolUseId) {
        const st = this.tool(q.toolUseId);
        st.question = q;
        now.add(q.toolUseId);
        this.renderTool(q.toolUseId);
      } else {
        now.add(`q${q.id}`);
        this.put(`question:${q.id}`, `<div class="tool waiting"><div class="tool-head">Question</div>${questionHtml(q)}</div>`);
      }
    }
    for (const k of before) {
      if (now.has(k)) continue;
      if (k.startsWith('q')) this.put(`question:${k.slice(1)}`, '');
      else {
        const st = this.tool(k);
        st.question = undefined;
        this.renderTool(k);
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
    if (t.kind === 'text') {
      this.lastText = t.text;
      this.put(key, `<div class="text markdown">${this.md.render(t.text)}</div>`);
    } else {
      this.put(key, `<details class="thinking" data-k="${esc(key)}"><summary>Thinking</summary><div class="markdown">${this.md.render(t.text)}</div></details>`);
    }
  }

  renderTool(id: string): void {
    this.put(`tool:${id}`, toolHtml(this.tools.get(id) ?? {}, { rel: this.rel }, id, this.resultEvent !== undefined));
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
    if (r.status === 'failed' || r.isError) text = body ? `<div class="error">${esc(body)}</div>` : '';
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
    t.tool(ev.toolUseId).use = ev;
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
  other: (t, ev) =>
    t.put(
      `other:${ev.seq}`,
      `<details class="note" data-k="other:${ev.seq}"><summary>Message from claude: ${esc(str(ev.raw.type) || 'unknown')}</summary><pre>${esc(JSON.stringify(ev.raw, null, 2))}</pre></details>`,
    ),
  result: (t, ev) => t.setResult(ev),
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
};

function renderHeader(h: TaskHeader): string {
  const live = h.status !== 'completed' && h.status !== 'failed' && h.status !== 'cancelled';
  const step = live && h.step && h.status !== 'waiting' && !h.step.startsWith('Waiting for permission') ? ` · ${esc(h.step)}` : '';
  const when = new Date(h.startedAt).toLocaleTimeString();
  const folder = h.folder ? decodeURIComponent(h.folder.replace(/^file:\/\//, '')).split('/').filter(Boolean).pop() : '';
  return (
    `<header><h1>${esc(h.prompt || h.taskId)}</h1>` +
    `<div class="meta"><span class="pill ${esc(h.status)}">${STATUS_WORDS[h.status] ?? esc(h.status)}${step}</span>` +
    `${folder ? ` <span>in ${esc(folder)}</span>` : ''} <span>started ${esc(when)}</span>` +
    `${h.followUpOf ? ` <span>follows up “${esc(short(h.followUpOf, 40))}”</span>` : ''}</div></header>`
  );
}

function questionHtml(q: QuestionView): string {
  const buttons = q.actions
    .map((a) => `<button class="${a === 'Deny' ? 'secondary' : ''}" data-question="${q.id}" data-answer="${esc(a)}">${esc(a)}</button>`)
    .join('');
  return `<div class="question" data-question-id="${q.id}"><div class="ask">${richMessage(q.message)}</div><div class="buttons">${buttons}</div></div>`;
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
    badge = 'waiting for you';
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
  parts.push(`<div class="input">${(toolInputs[name] ?? toolInputs.default)(input, ctx)}</div>`);
  if (st.question) parts.push(questionHtml(st.question));
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
  return (
    `<details class="tool ${state}" data-k="tool:${esc(id)}"${open}>` +
    `<summary><span class="icon">${icon}</span> <span class="summary">${esc(summary)}</span>${badge ? ` <span class="badge">${esc(badge)}</span>` : ''}</summary>` +
    `${parts.join('')}</details>`
  );
}
