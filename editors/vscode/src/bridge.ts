// The one language client of this window: starting claude-bridge, running
// tasks with a progress notification, cancelling them, and routing the
// bridge's notifications into the TaskStore.

import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { firstLine } from './format';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  ShowMessageNotification,
  ShowMessageParams,
  ShowMessageRequest,
  State,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { INSTALL_COMMAND, LocateResult, locateBridge, notFoundMessage } from './locate';
import { isClaudeProblem, showClaudeMissing } from './claudeMissing';
import { handlePermission, handleShowMessageRequest, notifierFor } from './permissions';
import { handleAsk, handlePlan } from './ask';
import { ChangesStore } from './changes';
import { QuestionStore } from './questions';
import { CommandLists } from './commandLists';
import type { Waiting } from './listeners';
import {
  AskParams,
  AuthChangedParams,
  AuthStatus,
  BridgeEvent,
  COMMANDS,
  ChangesParams,
  ClientCapabilities,
  Command,
  CommandTypes,
  CommandsResult,
  EditConflictParams,
  FollowUpArgs,
  NOTIFICATIONS,
  PermissionParams,
  PlanParams,
  RequestTypes,
  ReviewEditParams,
  ReviewEditResult,
  RunArgs,
  RunResult,
  TaskInfo,
} from './lspExt';
import { bridgeOptions } from './settings';
import { TaskStore, isTerminal } from './tasks';

export class BridgeMissingError extends Error {}

/** A task this window started and whose request has not replied yet. */
interface LiveTask {
  /** The id the task is stored under (the one we asked for, or the bridge's once it replied). */
  id: string;
  token: string;
  prompt: string;
  isFollowUp: boolean;
}

/** A prompt (or any text) as a label: its first line, cut. */
function short(text: string, max = 60): string {
  return firstLine(text, max);
}

/** Markdown as one line of plain text, for a notification: no markers, no code fences. */
export function plainText(md: string): string {
  return md
    .replace(/```[^\n]*\n[\s\S]*?```/g, ' ')
    .replace(/^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)/gm, '')
    .replace(/(\*\*|__|\*|_|`)(.+?)\1/g, '$2')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function newTaskId(): string {
  return `vscode-${randomUUID()}`;
}

export class Bridge implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly live = new Map<string, LiveTask>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeState = this.stateChanged.event;
  /** Set when the last start attempt found no bridge. */
  missing: LocateResult | undefined;
  bridgePath: string | undefined;
  lastAuth: AuthChangedParams | undefined;
  /** Whether a task's transcript is on screen (set by the extension). */
  transcriptVisible: ((taskId: string) => boolean) | undefined;
  /** What tasks changed and is kept for review (claude/changes, the replies' changes). */
  readonly changes = new ChangesStore();
  /** Answers claude/reviewEdit (set by the extension: the review diff); without it a review is rejected. */
  reviewHandler: ((params: ReviewEditParams, token: vscode.CancellationToken) => Promise<ReviewEditResult | null>) | undefined;
  /** The reviews waiting (set by the extension with reviewHandler): they go with their call and task, as questions do. */
  reviews: Pick<Waiting<{ id: number }, unknown>, 'withdrawTask' | 'withdrawCall' | 'withdrawAll'> | undefined;
  /** Called each time the bridge has started (the extension lists kept changes again). */
  onStarted: (() => void) | undefined;

  constructor(
    readonly store: TaskStore,
    readonly questions: QuestionStore,
    readonly output: vscode.LogOutputChannel,
    private readonly extensionUri: vscode.Uri,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  private settings(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('claudeBridge');
  }

  locate(): LocateResult {
    return locateBridge({
      setting: this.settings().get<string>('path') ?? '',
      pathVar: process.env.PATH,
      home: os.homedir(),
      gobin: process.env.GOBIN,
      gopath: process.env.GOPATH,
      platform: process.platform,
      isExecutable,
    });
  }

  /** Shows the "bridge not found" notification with the install command. */
  async notifyMissing(r: LocateResult & { found: false }): Promise<void> {
    // One notification at a time: commands retried while it shows do not stack more.
    if (this.missingShown) return;
    this.missingShown = true;
    try {
      await this.showMissing(r);
    } finally {
      this.missingShown = false;
    }
  }

  private missingShown = false;

  private async showMissing(r: LocateResult & { found: false }): Promise<void> {
    const copy = 'Copy Install Command';
    const settings = 'Open Settings';
    const retry = 'Retry';
    const pick = await vscode.window.showErrorMessage(notFoundMessage(r), copy, settings, retry);
    if (pick === copy) {
      await vscode.env.clipboard.writeText(INSTALL_COMMAND);
      void vscode.window.showInformationMessage(`Copied: ${INSTALL_COMMAND}`);
    } else if (pick === settings) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'claudeBridge.path');
    } else if (pick === retry) {
      await this.restart().catch(() => undefined);
    }
  }

  /** Starts the client if it is not running. Throws BridgeMissingError (after notifying) when there is no bridge. */
  async ensureStarted(): Promise<LanguageClient> {
    if (this.client && this.running) return this.client;
    if (this.starting) return this.starting;
    this.starting = this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<LanguageClient> {
    if (this.client) {
      const old = this.client;
      this.client = undefined;
      await old.dispose().catch(() => undefined);
    }
    const found = this.locate();
    if (!found.found) {
      this.missing = found;
      this.bridgePath = undefined;
      this.stateChanged.fire();
      this.output.error(notFoundMessage(found));
      void this.notifyMissing(found);
      throw new BridgeMissingError(notFoundMessage(found));
    }
    this.missing = undefined;
    this.bridgePath = found.path;
    this.output.info(`starting ${found.path} (from ${found.source})`);

    const folders = vscode.workspace.workspaceFolders ?? [];
    const serverOptions: ServerOptions = {
      command: found.path,
      // No `transport: TransportKind.stdio`: languageclient would append
      // `--stdio`, a flag the bridge does not take. Without a transport the
      // client still talks over the process's stdin/stdout.
      args: ['serve'],
      options: { cwd: folders[0]?.uri.scheme === 'file' ? folders[0].uri.fsPath : os.homedir(), env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      // Every file on disk: the bridge needs the open buffers to carry the
      // agent's edits into them without losing unsaved changes.
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => bridgeOptions((k) => this.settings().get(k)),
      initializationFailedHandler: (err) => {
        this.output.error(`initialize failed: ${String(err)}`);
        void vscode.window.showErrorMessage(`Claude Bridge could not start: ${String(err)}`);
        return false;
      },
    };
    const client = new LanguageClient('claudeBridge', 'Claude Bridge', serverOptions, clientOptions);
    // What this extension answers beyond LSP (capabilities.experimental.claudeBridge).
    const bridgeCaps: ClientCapabilities = { permission: true, ask: true, plan: true, reviewEdit: true };
    client.registerFeature({
      fillClientCapabilities: (caps) => {
        caps.experimental = { ...((caps.experimental as object | undefined) ?? {}), claudeBridge: bridgeCaps };
      },
      initialize: () => undefined,
      getState: () => ({ kind: 'static' }),
      clear: () => undefined,
    });
    // Registered before start: languageclient installs them after its own
    // defaults, so the permission questions get our UI.
    const ui = {
      questions: this.questions,
      taskLabel: (id: string) => short(this.store.get(id)?.prompt ?? '', 40) || undefined,
      inSight: (id: string) => this.transcriptVisible?.(id) ?? false,
      log: (l: string) => this.output.info(l),
    };
    client.onRequest(ShowMessageRequest.type, (params, token) => handleShowMessageRequest(params, token, ui));
    const permission: keyof RequestTypes = 'claude/permission';
    client.onRequest(permission, (params: PermissionParams, token: vscode.CancellationToken) => handlePermission(params, token, ui));
    const ask: keyof RequestTypes = 'claude/ask';
    const plan: keyof RequestTypes = 'claude/plan';
    const reviewEdit: keyof RequestTypes = 'claude/reviewEdit';
    client.onRequest(ask, (params: AskParams, token: vscode.CancellationToken) => handleAsk(params, token, ui));
    client.onRequest(plan, (params: PlanParams, token: vscode.CancellationToken) => handlePlan(params, token, ui));
    client.onRequest(reviewEdit, (params: ReviewEditParams, token: vscode.CancellationToken) =>
      this.reviewHandler ? this.reviewHandler(params, token) : Promise.resolve(null),
    );
    // Replaces languageclient's own handler: a missing claude gets a
    // notification that leads with the fix.
    client.onNotification(ShowMessageNotification.type, (p: ShowMessageParams) => this.onShowMessage(p));
    client.onNotification(NOTIFICATIONS.event, (ev: BridgeEvent) => this.onEvent(ev));
    client.onNotification(NOTIFICATIONS.editConflict, (c: EditConflictParams) => {
      this.output.warn(`edit conflict (${c.taskId}) ${c.uri}: ${c.message}`);
      this.store.addConflict(c);
    });
    client.onNotification(NOTIFICATIONS.changes, (c: ChangesParams) => {
      this.output.info(`changes of ${c.taskId}: ${c.files?.length ?? 0} files`);
      this.changes.set(c, this.store.get(c.taskId)?.prompt);
    });
    client.onNotification(NOTIFICATIONS.authChanged, (a: AuthChangedParams) => {
      this.lastAuth = a;
      this.output.info(`auth changed: ${JSON.stringify(a)}`);
      this.stateChanged.fire();
    });
    client.onDidChangeState((e) => {
      // A bridge that stopped (crashed, restarted) asks nothing any more.
      if (e.newState === State.Stopped) this.withdrawAll();
      this.stateChanged.fire();
    });
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      this.stateChanged.fire();
      throw err;
    }
    this.stateChanged.fire();
    this.onStarted?.();
    return client;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ensureStarted();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.stop(12000).catch(() => undefined);
    for (const t of this.live.values()) this.store.fail(t.id, 'The bridge stopped before the task ended');
    this.live.clear();
    this.withdrawAll();
    this.stateChanged.fire();
  }

  /** Sends the settings again (workspace/didChangeConfiguration). */
  async sendConfiguration(): Promise<void> {
    this.forgetCommands();
    if (!this.client || !this.running) return;
    await this.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { claudeBridge: bridgeOptions((k) => this.settings().get(k)) },
    });
  }

  private onShowMessage(p: ShowMessageParams): void {
    if (isClaudeProblem(p.message)) {
      void showClaudeMissing(p.message, this.extensionUri, this.output);
      return;
    }
    this.output.info(`bridge: ${p.message}`);
    void notifierFor(p.type)(p.message);
  }

  private onEvent(ev: BridgeEvent): void {
    if (!ev || typeof ev.taskId !== 'string') return;
    this.store.addEvent(ev);
    // A question or a review lives no longer than its call and its task, whatever the bridge sends.
    if (ev.kind === 'result') this.withdrawTask(ev.taskId);
    else if (ev.kind === 'permission' || ev.kind === 'question' || ev.kind === 'plan') this.questions.withdrawCall(ev.taskId, ev.toolUseId);
    else if (ev.kind === 'review') this.reviews?.withdrawCall(ev.taskId, ev.toolUseId);
  }

  /** The task ended: nothing of it waits on the user any more. */
  private withdrawTask(taskId: string): void {
    this.questions.withdrawTask(taskId);
    this.reviews?.withdrawTask(taskId);
  }

  /** The bridge stopped: nothing waits on the user any more. */
  private withdrawAll(): void {
    this.questions.withdrawAll();
    this.reviews?.withdrawAll();
  }

  /** Sends one of the bridge's commands; the reply is typed after the protocol (lspExt.ts). */
  async execute<C extends Command>(command: C, args: CommandTypes[C]['args']): Promise<CommandTypes[C]['result'] | null> {
    const client = await this.ensureStarted();
    const reply: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: args === undefined ? [] : [args],
    });
    return reply as CommandTypes[C]['result'] | null;
  }

  /** claude.run: resolves to the task's result when it ends. */
  run(args: RunArgs): Promise<RunResult> {
    const taskId = args.taskId ?? newTaskId();
    return this.track(COMMANDS.run, { ...args, taskId }, taskId, args.prompt, false, undefined);
  }

  /**
   * claude.followUp: continues a conversation as a new task. The new task's
   * id is ours too (`newTaskId`, which the bridge accepts beside the README's
   * fields); a bridge that ignores it names the task in its reply.
   */
  followUp(args: FollowUpArgs): Promise<RunResult> {
    const taskId = args.newTaskId ?? newTaskId();
    return this.track(COMMANDS.followUp, { ...args, newTaskId: taskId }, taskId, args.prompt, true, args.taskId);
  }

  private async track(
    command: typeof COMMANDS.run | typeof COMMANDS.followUp,
    args: RunArgs | FollowUpArgs,
    localId: string,
    prompt: string,
    isFollowUp: boolean,
    followUpOf: string | undefined,
  ): Promise<RunResult> {
    const client = await this.ensureStarted();
    const token = `claude-bridge-vscode/${randomUUID()}`;
    const live: LiveTask = { id: localId, token, prompt, isFollowUp };
    this.live.set(token, live);
    this.store.begin(localId, prompt, 'workspaceFolder' in args ? args.workspaceFolder : undefined, followUpOf);

    let report: ((message: string) => void) | undefined;
    let lastMessage = 'Starting…';
    let endProgress!: () => void;
    const progressEnded = new Promise<void>((r) => (endProgress = r));
    const sub = client.onProgress(
      WorkDoneProgress.type,
      token,
      (v: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
        if (v.kind === 'report' && v.message) {
          lastMessage = v.message;
          this.store.setStep(live.id, v.message);
          report?.(v.message);
        } else if (v.kind === 'end') {
          if (v.message) this.store.setStep(live.id, v.message);
          endProgress();
        }
      },
    );

    const request = client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: [args],
      workDoneToken: token,
    }) as Promise<RunResult | null>;

    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Claude: ${short(prompt)}`, cancellable: true },
      (progress, cancel) => {
        report = (message) => progress.report({ message });
        report(lastMessage);
        cancel.onCancellationRequested(() => {
          this.output.info(`cancel requested from the progress notification (${live.id})`);
          void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        });
        return Promise.race([progressEnded, request.then(
          () => undefined,
          () => undefined,
        )]);
      },
    );

    try {
      const result = await request;
      if (!result || typeof result !== 'object' || typeof result.taskId !== 'string') {
        throw new Error(`unexpected reply to ${command}: ${JSON.stringify(result)}`);
      }
      if (result.taskId !== live.id) {
        this.store.rename(live.id, result.taskId);
        live.id = result.taskId;
      }
      this.store.finish(result);
      if (result.changes) this.changes.set(result.changes, prompt);
      this.announce(result, prompt);
      return result;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.store.fail(live.id, reason);
      throw err;
    } finally {
      sub.dispose();
      endProgress();
      this.live.delete(token);
      this.withdrawTask(live.id);
    }
  }

  private announce(r: RunResult, prompt: string): void {
    const transcript = 'Show Transcript';
    const follow = 'Follow Up';
    const review = 'Review Changes';
    const body = short(plainText(r.result), 200);
    // A task whose changes are kept (review afterTurn or beforeWrite) offers them for review first.
    const n = this.changes.get(r.taskId)?.files.length ?? 0;
    const first = n > 0 ? [review] : [];
    let shown: Thenable<string | undefined>;
    if (r.status === 'completed') {
      shown = vscode.window.showInformationMessage(`Claude finished “${short(prompt, 40)}”: ${body}`, ...first, transcript, follow);
    } else if (r.status === 'cancelled' || r.status === 'interrupted') {
      if (n === 0) {
        vscode.window.setStatusBarMessage(`Claude: ${r.status} “${short(prompt, 40)}”`, 5000);
        return;
      }
      shown = vscode.window.showInformationMessage(`Claude: ${r.status} “${short(prompt, 40)}” after changing ${n} file${n === 1 ? '' : 's'}`, review, transcript);
    } else if (isClaudeProblem(r.result)) {
      void showClaudeMissing(r.result, this.extensionUri, this.output);
      return;
    } else {
      shown = vscode.window.showErrorMessage(`Claude failed “${short(prompt, 40)}”: ${body}`, ...first, transcript, follow);
    }
    void shown.then((pick) => {
      if (pick === review) void vscode.commands.executeCommand('claudeBridge.showChanges', r.taskId);
      if (pick === transcript) void vscode.commands.executeCommand('claudeBridge.showTranscript', r.taskId);
      if (pick === follow) void vscode.commands.executeCommand('claudeBridge.followUp', { taskId: r.taskId });
    });
  }

  /**
   * Cancels a task with claude.cancel. A task of this window that the bridge
   * does not know by that id (a bridge that ignored our id) is cancelled
   * through its progress token instead.
   */
  async cancel(taskId: string): Promise<boolean> {
    try {
      const reply = await this.execute(COMMANDS.cancel, { taskId });
      return reply?.cancelled === true;
    } catch (err) {
      const live = [...this.live.values()].find((t) => t.id === taskId);
      if (!live || !this.client) throw err;
      await this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: live.token });
      return true;
    }
  }

  async tasks(): Promise<TaskInfo[]> {
    // Without arguments the reply is the array (a TasksResult only when asked).
    const reply = await this.execute(COMMANDS.tasks, undefined);
    const list = Array.isArray(reply) ? reply : [];
    this.store.merge(list);
    return list;
  }

  async authStatus(): Promise<AuthStatus | null> {
    return this.execute(COMMANDS.authStatus, undefined);
  }

  /** claude's slash commands and models per folder: the last list at once, a fresh one at every look. */
  readonly commandLists = new CommandLists((folder) => this.execute(COMMANDS.commands, folder ? { workspaceFolder: folder } : {}));

  /** claude's slash commands and models in a folder, asked for now. */
  async commands(workspaceFolder: string | undefined): Promise<CommandsResult> {
    return this.commandLists.fresh(workspaceFolder);
  }

  forgetCommands(): void {
    this.commandLists.forget();
  }

  runningCount(): number {
    return this.store.running().length + [...this.live.values()].filter((t) => !this.store.get(t.id)).length;
  }

  hasUnfinished(taskId: string): boolean {
    return !isTerminal(this.store.get(taskId)?.status);
  }

  dispose(): void {
    void this.stop();
    this.stateChanged.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
