// The claudeBridge.* commands. Each takes its input as an argument instead of
// asking (runTask / askAboutSelection / followUp: a prompt string; cancelTask,
// showTranscript: a task id), so other extensions and tests can drive them.

import * as path from 'path';
import * as vscode from 'vscode';
import { firstLine } from './format';
import { Bridge, BridgeMissingError, newTaskId } from './bridge';
import { registerClaudeCommand } from './commandUtil';
import { money, seconds } from './format';
import { AuthStatus, ContextRef, FollowUpArgs, RunArgs, RunResult } from './lspExt';
import { pickAsk, pickPlan } from './ask';
import { diagnosticsIn, openFiles, promptPick } from './conversation';
import { pickAnswer } from './permissions';
import { plainMessage } from './questions';
import { ANSWER_COMMAND } from './statusBar';
import { TaskRecord, isTerminal } from './tasks';
import { TranscriptPanels } from './transcriptView';

/** A prompt (or any text) as a label: its first line, cut. */
function short(text: string, max = 70): string {
  return firstLine(text, max);
}

function statusIcon(t: TaskRecord): string {
  switch (t.status) {
    case 'completed':
      return '$(check)';
    case 'failed':
      return '$(error)';
    case 'cancelled':
      return '$(circle-slash)';
    case 'interrupted':
      return '$(debug-pause)';
    case 'waiting':
      return '$(question)';
    case 'queued':
      return '$(clock)';
    default:
      return '$(loading~spin)';
  }
}

function folderLabel(uri: string | undefined): string {
  if (!uri) return '';
  try {
    const u = vscode.Uri.parse(uri);
    return vscode.workspace.getWorkspaceFolder(u)?.name ?? path.basename(u.fsPath);
  } catch {
    return uri;
  }
}

/** The folder a task without context runs in: the active editor's, else the first. */
function defaultFolder(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  const f = (doc && vscode.workspace.getWorkspaceFolder(doc.uri)) ?? vscode.workspace.workspaceFolders?.[0];
  return f?.uri.toString();
}

const RUN_KEYS: readonly (keyof RunArgs)[] = ['prompt', 'workspaceFolder', 'context', 'images', 'openFiles', 'model', 'permissionMode', 'review', 'sessionId', 'taskId'];
const FOLLOW_UP_KEYS: readonly (keyof FollowUpArgs)[] = [
  'taskId',
  'sessionId',
  'prompt',
  'model',
  'permissionMode',
  'review',
  'context',
  'images',
  'openFiles',
  'newTaskId',
  'workspaceFolder',
];
const TASK_KEYS: readonly 'taskId'[] = ['taskId'];

/**
 * The known fields of an object argument, as the protocol types them (a
 * program that passes other types gets the bridge's -32602). Menus pass
 * other things (the editor context menu passes the file's Uri): those are
 * not options.
 */
function pick<T extends object>(arg: unknown, keys: readonly (keyof T & string)[]): Partial<T> {
  if (typeof arg !== 'object' || arg === null || arg instanceof vscode.Uri || Array.isArray(arg)) return {};
  const out: Partial<T> = {};
  for (const k of keys) {
    const v: unknown = (arg as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v as T[typeof k];
  }
  return out;
}

/** A prompt passed as the argument itself (a string) or as its `prompt` field. */
function promptOf(arg: unknown, opts: { prompt?: string }): string | undefined {
  return typeof arg === 'string' ? arg : opts.prompt;
}

/** "3 min ago", "just now". */
function age(d: Date): string {
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export class Commands {
  constructor(
    private readonly bridge: Bridge,
    private readonly transcripts: TranscriptPanels,
  ) {}

  register(): vscode.Disposable[] {
    const reg = registerClaudeCommand;
    return [
      reg('claudeBridge.runTask', (a) => this.runTask(a)),
      reg('claudeBridge.askAboutSelection', (a) => this.askAboutSelection(a)),
      reg('claudeBridge.followUp', (a) => this.followUp(a)),
      reg('claudeBridge.cancelTask', (a) => this.cancelTask(a)),
      reg('claudeBridge.showTasks', () => this.showTasks()),
      reg('claudeBridge.showTranscript', (a) => this.showTranscript(a)),
      reg(ANSWER_COMMAND, (a) => this.answerQuestion(a)),
      reg('claudeBridge.authStatus', () => this.authStatus()),
      reg('claudeBridge.restart', () => this.bridge.restart()),
    ];
  }

  async runTask(arg: unknown): Promise<RunResult | undefined> {
    const opts = pick<RunArgs>(arg, RUN_KEYS);
    let prompt = promptOf(arg, opts);
    const workspaceFolder = opts.workspaceFolder ?? defaultFolder();
    if (!workspaceFolder) throw new Error('open a folder first: Claude runs tasks in a workspace folder');
    if (prompt === undefined) {
      prompt = await promptPick(
        this.bridge,
        workspaceFolder,
        `Claude: Run Task in ${folderLabel(workspaceFolder)}`,
        'What should Claude do? e.g. add a --verbose flag',
      );
      if (!prompt?.trim()) return undefined;
    }
    return this.bridge.run({ openFiles: openFiles(workspaceFolder), ...opts, prompt, workspaceFolder, taskId: opts.taskId ?? newTaskId() });
  }

  async askAboutSelection(arg: unknown): Promise<RunResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new Error('no active editor: select some code first');
    const doc = editor.document;
    const context: ContextRef[] = editor.selections.map((sel) => {
      // An empty selection means the cursor's line.
      const range = sel.isEmpty
        ? new vscode.Range(sel.active.line, 0, sel.active.line + 1, 0)
        : new vscode.Range(sel.start, sel.end);
      const diagnostics = diagnosticsIn(doc.uri, range);
      return {
        uri: doc.uri.toString(),
        range: {
          start: { line: range.start.line, character: range.start.character },
          end: { line: range.end.line, character: range.end.character },
        },
        ...(diagnostics ? { diagnostics } : {}),
      };
    });
    const opts = pick<RunArgs>(arg, RUN_KEYS);
    let prompt = promptOf(arg, opts);
    if (prompt === undefined) {
      const first = editor.selection;
      const lastLine = first.end.character === 0 && first.end.line > first.start.line ? first.end.line : first.end.line + 1;
      prompt = await vscode.window.showInputBox({
        title: `Claude: Ask About ${path.basename(doc.uri.fsPath)}:${first.start.line + 1}-${lastLine}`,
        placeHolder: 'What do you want to know or change here?',
        ignoreFocusOut: true,
      });
      if (!prompt?.trim()) return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.toString() ?? opts.workspaceFolder;
    return this.bridge.run({
      openFiles: openFiles(folder),
      ...opts,
      prompt,
      context: [...(opts.context ?? []), ...context],
      workspaceFolder: folder,
      taskId: opts.taskId ?? newTaskId(),
    });
  }

  async followUp(arg: unknown): Promise<RunResult | undefined> {
    const opts = pick<FollowUpArgs>(arg, FOLLOW_UP_KEYS);
    let prompt = promptOf(arg, opts);
    let taskId = opts.taskId;
    const sessionId = opts.sessionId;
    if (!taskId && !sessionId) {
      const ended = this.bridge.store.ended();
      if (ended.length === 0) throw new Error('no finished task to follow up');
      if (ended.length === 1 || prompt !== undefined) {
        taskId = ended[0].taskId;
      } else {
        const pick = await vscode.window.showQuickPick(
          ended.map((t) => ({ label: `${statusIcon(t)} ${short(t.prompt)}`, description: folderLabel(t.workspaceFolder), t })),
          { title: 'Claude: Follow Up on which task?' },
        );
        if (!pick) return undefined;
        taskId = pick.t.taskId;
      }
    }
    if (prompt === undefined) {
      const t = taskId ? this.bridge.store.get(taskId) : undefined;
      prompt = await vscode.window.showInputBox({
        title: 'Claude: Follow Up',
        prompt: t ? `Continues “${short(t.prompt, 50)}”` : undefined,
        placeHolder: 'What next?',
        ignoreFocusOut: true,
      });
      if (!prompt?.trim()) return undefined;
    }
    const args: FollowUpArgs = { ...opts, prompt };
    if (taskId) args.taskId = taskId;
    else if (sessionId) args.sessionId = sessionId;
    return this.bridge.followUp(args);
  }

  async cancelTask(arg: unknown): Promise<boolean> {
    let taskId = typeof arg === 'string' ? arg : pick<{ taskId: string }>(arg, TASK_KEYS).taskId;
    if (!taskId) {
      const running = this.bridge.store.running();
      if (running.length === 0) {
        void vscode.window.showInformationMessage('Claude: no task is running');
        return false;
      }
      if (running.length === 1) taskId = running[0].taskId;
      else {
        const pick = await vscode.window.showQuickPick(
          running.map((t) => ({ label: `${statusIcon(t)} ${short(t.prompt)}`, description: t.step ?? t.status, t })),
          { title: 'Claude: Cancel which task?' },
        );
        if (!pick) return false;
        taskId = pick.t.taskId;
      }
    }
    const cancelled = await this.bridge.cancel(taskId);
    if (!cancelled) vscode.window.setStatusBarMessage(`Claude: task ${taskId} was not running`, 5000);
    return cancelled;
  }

  async showTasks(): Promise<void> {
    try {
      await this.bridge.tasks();
    } catch (err) {
      if (err instanceof BridgeMissingError) throw err;
      // The local list is still worth showing.
    }
    const all = this.bridge.store.all();
    if (all.length === 0) {
      const run = 'Run Task…';
      const pick = await vscode.window.showInformationMessage('Claude: no tasks yet in this window.', run);
      if (pick === run) await vscode.commands.executeCommand('claudeBridge.runTask');
      return;
    }
    const waiting = new Set(this.bridge.questions.pending().map((q) => q.taskId));
    const pick = await vscode.window.showQuickPick(
      all.map((t) => ({
        label: `${waiting.has(t.taskId) ? '$(bell-dot)' : statusIcon(t)} ${short(t.prompt || t.taskId)}`,
        description: waiting.has(t.taskId) ? 'waiting for your answer' : isTerminal(t.status) ? t.status : (t.step ?? t.status),
        detail: [
          folderLabel(t.workspaceFolder),
          `started ${age(t.startedAt)}`,
          t.result?.durationMs !== undefined ? seconds(t.result.durationMs) : '',
          money(t.result?.costUsd),
        ]
          .filter(Boolean)
          .join(' · '),
        t,
      })),
      { title: 'Claude Tasks', matchOnDetail: true, placeHolder: 'Pick a task to open its transcript, answer it, cancel it or follow up' },
    );
    if (!pick) return;
    const t = pick.t;
    const actions = [{ label: '$(output) Open Transcript', id: 'transcript' }];
    if (waiting.has(t.taskId)) actions.unshift({ label: '$(bell-dot) Answer Its Question…', id: 'answer' });
    if (!isTerminal(t.status)) {
      actions.push(
        { label: '$(send) Send to Task…', id: 'send' },
        { label: '$(debug-pause) Interrupt (keep the conversation)', id: 'interrupt' },
        { label: '$(shield) Change Permission Mode…', id: 'mode' },
        { label: '$(stop-circle) Cancel Task', id: 'cancel' },
      );
    } else actions.push({ label: '$(comment-discussion) Follow Up…', id: 'followUp' });
    const action = await vscode.window.showQuickPick(actions, { title: short(t.prompt || t.taskId) });
    if (action?.id === 'transcript') await this.showTranscript(t.taskId);
    if (action?.id === 'answer') await this.answerQuestion({ taskId: t.taskId });
    if (action?.id === 'send') await vscode.commands.executeCommand('claudeBridge.sendToTask', { taskId: t.taskId });
    if (action?.id === 'interrupt') await vscode.commands.executeCommand('claudeBridge.interruptTask', { taskId: t.taskId });
    if (action?.id === 'mode') await vscode.commands.executeCommand('claudeBridge.setPermissionMode', { taskId: t.taskId });
    if (action?.id === 'cancel') await this.cancelTask(t.taskId);
    if (action?.id === 'followUp') await this.followUp({ taskId: t.taskId });
  }

  /**
   * Re-opens a waiting question (the question status bar item): the oldest,
   * that of a task (`{taskId}`), or one by number; with several, pick first.
   * Resolves to the answer given, or undefined.
   */
  async answerQuestion(arg: unknown): Promise<unknown> {
    let open = this.bridge.questions.pending();
    const taskId = pick<{ taskId: string }>(arg, TASK_KEYS).taskId;
    if (taskId) open = open.filter((q) => q.taskId === taskId);
    if (typeof arg === 'number') open = open.filter((q) => q.id === arg);
    if (open.length === 0) {
      vscode.window.setStatusBarMessage('Claude: no question waits for an answer', 5000);
      return undefined;
    }
    let q = open[0];
    if (open.length > 1) {
      const chosen = await vscode.window.showQuickPick(
        open.map((x) => ({ label: plainMessage(x.message), description: short(this.bridge.store.get(x.taskId ?? '')?.prompt ?? '', 40), x })),
        { title: 'Claude: Which question?' },
      );
      if (!chosen) return undefined;
      q = chosen.x;
    }
    const ui = {
      questions: this.bridge.questions,
      taskLabel: (id: string) => short(this.bridge.store.get(id)?.prompt ?? '', 40) || undefined,
      showTranscript: (id: string) => this.showTranscript(id),
    };
    if (q.kind === 'ask') return pickAsk(q, ui);
    if (q.kind === 'plan') return pickPlan(q, ui);
    return pickAnswer(q, ui);
  }

  async showTranscript(arg: unknown): Promise<string | undefined> {
    let taskId = typeof arg === 'string' ? arg : pick<{ taskId: string }>(arg, TASK_KEYS).taskId;
    if (!taskId) {
      const all = this.bridge.store.all();
      if (all.length === 0) {
        void vscode.window.showInformationMessage('Claude: no task to show yet');
        return undefined;
      }
      const running = this.bridge.store.running();
      if (all.length === 1) taskId = all[0].taskId;
      else if (running.length === 1) taskId = running[0].taskId;
      else {
        const pick = await vscode.window.showQuickPick(
          all.map((t) => ({ label: `${statusIcon(t)} ${short(t.prompt || t.taskId)}`, description: t.status, t })),
          { title: 'Claude: Transcript of which task?' },
        );
        if (!pick) return undefined;
        taskId = pick.t.taskId;
      }
    }
    this.transcripts.show(taskId);
    return taskId;
  }

  async authStatus(): Promise<AuthStatus | null> {
    const status = await this.bridge.authStatus();
    this.bridge.output.info(`auth status: ${JSON.stringify(status)}`);
    const details = 'Show Log';
    const head = status
      ? `Claude auth: ${status.status}${status.source ? `, key from ${status.source}` : ''}${status.claude?.problem ? ' · the claude CLI cannot be used' : ''}`
      : 'Claude auth: no status (the bridge replied null)';
    // The facts as lines a person reads, in the dialog's detail (a notification shows one paragraph).
    const p = await vscode.window.showInformationMessage(head, { modal: true, detail: status ? factLines(status).join('\n') : '' }, details);
    if (p === details) this.bridge.output.show(true);
    return status;
  }
}

/** An object as `key: value` lines, nested objects indented under their key. */
export function factLines(v: object, indent = ''): string[] {
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || x === null || x === '') continue;
    if (Array.isArray(x)) {
      out.push(`${indent}${k}:`);
      for (const item of x) out.push(`${indent}  • ${typeof item === 'object' ? JSON.stringify(item) : String(item)}`);
    } else if (typeof x === 'object') {
      out.push(`${indent}${k}:`, ...factLines(x as object, indent + '  '));
    } else out.push(`${indent}${k}: ${String(x)}`);
  }
  return out;
}
