// The conversation beyond running a task: the prompt box with claude's slash
// commands, images (the active image editor, files), the diagnostics of the
// selection and the open files as context, steering a running task (Send to
// Task, Interrupt, mode and model), and past conversations (a QuickPick of
// claude.sessions: follow one up, or read its transcript).

import * as path from 'path';
import * as vscode from 'vscode';
import { Bridge, newTaskId } from './bridge';
import { short } from './format';
import {
  COMMANDS,
  ContextRef,
  Diagnostic,
  IMAGE_MEDIA_TYPE_VALUES,
  ImageMediaType,
  ImageRef,
  PERMISSION_MODE_VALUES,
  PermissionMode,
  RunResult,
  SessionInfo,
  SlashCommand,
} from './lspExt';
import { TaskRecord, isTerminal } from './tasks';
import type { PastedImage } from './transcript';
import { TranscriptActions, TranscriptPanels } from './transcriptView';
import { showPlan } from './ask';
import { registerClaudeCommand } from './commandUtil';

/** VS Code's image preview (the built-in editor of png, jpg, gif, webp files). */
const IMAGE_PREVIEW = 'imagePreview.previewEditor';
const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'webp'];

/** "3 min ago", "2 h ago", "4 d ago" for an RFC 3339 time. */
export function ago(when: string | Date): string {
  const t = typeof when === 'string' ? new Date(when) : when;
  const s = Math.max(0, Math.round((Date.now() - t.getTime()) / 1000));
  if (Number.isNaN(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** An LSP Diagnostic (lspExt) of a VS Code one. */
export function lspDiagnostic(d: vscode.Diagnostic): Diagnostic {
  const code = typeof d.code === 'object' && d.code !== null ? d.code.value : d.code;
  return {
    range: { start: { line: d.range.start.line, character: d.range.start.character }, end: { line: d.range.end.line, character: d.range.end.character } },
    severity: d.severity + 1, // VS Code counts from 0 (Error), LSP from 1
    message: d.message,
    ...(d.source ? { source: d.source } : {}),
    ...(code !== undefined ? { code } : {}),
  };
}

/** The diagnostics VS Code shows in a range of a document. */
export function diagnosticsIn(uri: vscode.Uri, range: vscode.Range): Diagnostic[] | undefined {
  const list = vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.range.intersection(range) !== undefined)
    .map(lspDiagnostic);
  return list.length > 0 ? list : undefined;
}

/** The files open in editor tabs under a folder (for the openFiles of a prompt), when the setting asks for them. */
export function openFiles(folder: string | undefined): string[] | undefined {
  if (!vscode.workspace.getConfiguration('claudeBridge').get<boolean>('includeOpenFiles')) return undefined;
  const seen = new Set<string>();
  for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
    const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
    if (!uri || uri.scheme !== 'file') continue;
    if (folder && !uri.toString().startsWith(folder.replace(/\/?$/, '/'))) continue;
    seen.add(uri.toString());
  }
  return seen.size > 0 ? [...seen] : undefined;
}

/** The image in the active editor tab (VS Code's image preview), if any. */
export function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType === IMAGE_PREVIEW) return input.uri;
  const uri = input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && IMAGE_EXTENSIONS.includes(path.extname(uri.fsPath).slice(1).toLowerCase()) ? uri : undefined;
}

/**
 * The prompt box: a QuickPick whose text is the prompt. Typing "/" lists
 * claude's slash commands in the folder (its own, the project's and yours,
 * with what they do); picking one puts it in the box for its arguments.
 * Resolves to the prompt, or undefined (Escape).
 */
export async function promptPick(bridge: Bridge, folder: string | undefined, title: string, placeholder: string): Promise<string | undefined> {
  type Item = vscode.QuickPickItem & { command?: SlashCommand };
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = title;
  qp.placeholder = `${placeholder} (/ lists claude's commands)`;
  qp.ignoreFocusOut = true;
  qp.matchOnDetail = true;
  let commands: SlashCommand[] = [];
  const refresh = () => {
    const v = qp.value;
    qp.items =
      v.startsWith('/') && !/\s/.test(v)
        ? commands.map((c) => ({
            label: `/${c.name}`,
            description: c.argumentHint || undefined,
            detail: `${c.description}${c.source === 'builtin' ? '' : ` (${c.source})`}`,
            command: c,
          }))
        : [];
  };
  // The last list at once, then the bridge's current one (it changes with the command files).
  qp.busy = true;
  void bridge.commandLists.look(
    folder,
    (list, fresh) => {
      commands = list.commands;
      if (fresh) qp.busy = false;
      refresh();
    },
    (err: unknown) => {
      qp.busy = false;
      bridge.output.warn(`claude.commands: ${String(err)}`);
    },
  );
  qp.onDidChangeValue(refresh);
  const prompt = await new Promise<string | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const v = qp.value.trim();
      const it = qp.activeItems[0];
      if (it?.command && v.startsWith('/') && !/\s/.test(v) && it.label !== v) {
        qp.value = `${it.label} `; // the command, then its arguments
        refresh();
        return;
      }
      if (v) resolve(v);
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  return prompt;
}

/** The folder of the active editor, else the first. */
function activeFolder(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri ?? activeImage();
  const f = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  return f?.uri.toString();
}

function taskIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { taskId?: unknown }).taskId === 'string') return (arg as { taskId: string }).taskId;
  return undefined;
}

function field<T>(arg: unknown, key: string): T | undefined {
  return typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) ? ((arg as Record<string, unknown>)[key] as T | undefined) : undefined;
}

export class ConversationCommands {
  constructor(
    private readonly bridge: Bridge,
    private readonly transcripts: TranscriptPanels,
  ) {}

  register(): vscode.Disposable[] {
    const reg = registerClaudeCommand;
    return [
      reg('claudeBridge.runTaskWithImage', (a) => this.runTaskWithImage(a)),
      reg('claudeBridge.sendToTask', (a) => this.sendToTask(a)),
      reg('claudeBridge.interruptTask', (a) => this.interruptTask(a)),
      reg('claudeBridge.setPermissionMode', (a) => this.setPermissionMode(a)),
      reg('claudeBridge.setModel', (a) => this.setModel(a)),
      reg('claudeBridge.showSessions', (a) => this.showSessions(a)),
    ];
  }

  /** A running task: by id, the only one, or picked. */
  private async runningTask(arg: unknown, what: string): Promise<TaskRecord | undefined> {
    const id = taskIdOf(arg);
    if (id) {
      const t = this.bridge.store.get(id);
      if (!t) throw new Error(`no task ${id}`);
      return t;
    }
    const running = this.bridge.store.running();
    if (running.length === 0) {
      void vscode.window.showInformationMessage('Claude: no task is running');
      return undefined;
    }
    if (running.length === 1) return running[0];
    const pick = await vscode.window.showQuickPick(
      running.map((t) => ({ label: short(t.prompt || t.taskId, 70), description: t.step ?? t.status, t })),
      { title: `Claude: ${what} which task?` },
    );
    return pick?.t;
  }

  /**
   * Runs a task with images: the one in the active editor (VS Code's image
   * preview), the file a menu passed, or files picked; the prompt from the
   * argument's `prompt`, else the prompt box.
   */
  async runTaskWithImage(arg: unknown): Promise<RunResult | undefined> {
    let images: vscode.Uri[] = [];
    if (arg instanceof vscode.Uri) images = [arg];
    const given = field<ImageRef[]>(arg, 'images');
    const active = activeImage();
    if (images.length === 0 && !given && active) images = [active];
    if (images.length === 0 && !given) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Claude: images to send with the task',
        canSelectMany: true,
        filters: { Images: IMAGE_EXTENSIONS },
      });
      if (!picked?.length) return undefined;
      images = picked;
    }
    const refs: ImageRef[] = [...(given ?? []), ...images.map((u) => ({ uri: u.toString() }))];
    const folderUri = images[0] ? vscode.workspace.getWorkspaceFolder(images[0])?.uri.toString() : undefined;
    const workspaceFolder = field<string>(arg, 'workspaceFolder') ?? folderUri ?? activeFolder();
    let prompt = field<string>(arg, 'prompt');
    if (prompt === undefined) {
      const names = images.map((u) => path.basename(u.fsPath)).join(', ');
      prompt = await promptPick(this.bridge, workspaceFolder, `Claude: Run Task with ${names || 'images'}`, 'What should Claude do with it?');
      if (!prompt) return undefined;
    }
    return this.bridge.run({ prompt, workspaceFolder, images: refs, openFiles: openFiles(workspaceFolder), taskId: newTaskId() });
  }

  /** Send to Task: a message into the running task (its next step reads it), with the selection as context. */
  async sendToTask(arg: unknown): Promise<boolean> {
    const t = await this.runningTask(arg, 'Send to');
    if (!t) return false;
    let prompt = typeof arg === 'object' ? field<string>(arg, 'prompt') : undefined;
    if (prompt === undefined) {
      prompt = await vscode.window.showInputBox({
        title: `Claude: Send to “${short(t.prompt, 40)}”`,
        prompt: 'Claude reads it at its next step',
        ignoreFocusOut: true,
      });
      if (!prompt?.trim()) return false;
    }
    const editor = vscode.window.activeTextEditor;
    let context: ContextRef[] | undefined = field<ContextRef[]>(arg, 'context');
    if (!context && editor && !editor.selection.isEmpty && editor.document.uri.scheme === 'file') {
      const sel = editor.selection;
      context = [
        {
          uri: editor.document.uri.toString(),
          range: { start: { line: sel.start.line, character: sel.start.character }, end: { line: sel.end.line, character: sel.end.character } },
          diagnostics: diagnosticsIn(editor.document.uri, sel),
        },
      ];
    }
    const images = field<ImageRef[]>(arg, 'images');
    const reply = await this.bridge.execute(COMMANDS.send, { taskId: t.taskId, prompt, ...(context ? { context } : {}), ...(images ? { images } : {}) });
    return reply?.sent === true;
  }

  /** Interrupt: stops the running turn, keeps the conversation (Follow Up goes on). */
  async interruptTask(arg: unknown): Promise<boolean> {
    const t = await this.runningTask(arg, 'Interrupt');
    if (!t) return false;
    const reply = await this.bridge.execute(COMMANDS.interrupt, { taskId: t.taskId });
    if (!reply?.interrupted) vscode.window.setStatusBarMessage(`Claude: “${short(t.prompt, 40)}” had no turn to interrupt`, 5000);
    return reply?.interrupted === true;
  }

  async setPermissionMode(arg: unknown): Promise<string | undefined> {
    const t = await this.runningTask(arg, 'Change the mode of');
    if (!t) return undefined;
    let mode = field<PermissionMode>(arg, 'mode');
    if (!mode) {
      const pick = await vscode.window.showQuickPick(
        PERMISSION_MODE_VALUES.map((m) => ({ label: m, description: m === t.permissionMode ? 'now' : undefined })),
        { title: `Claude: permission mode for “${short(t.prompt, 40)}”` },
      );
      if (!pick) return undefined;
      mode = pick.label;
    }
    const reply = await this.bridge.execute(COMMANDS.setPermissionMode, { taskId: t.taskId, mode });
    return reply?.permissionMode;
  }

  async setModel(arg: unknown): Promise<string | undefined> {
    const t = await this.runningTask(arg, 'Change the model of');
    if (!t) return undefined;
    let model = field<string>(arg, 'model');
    if (!model) {
      const list = await this.bridge.commands(t.workspaceFolder).catch(() => undefined);
      const items = (list?.models ?? []).map((m) => ({ label: m.value, description: m.displayName, detail: m.description }));
      const pick = await vscode.window.showQuickPick([...items, { label: '$(edit) Other…', description: 'type a model name', detail: undefined }], {
        title: `Claude: model for “${short(t.prompt, 40)}” (from its next request)`,
      });
      if (!pick) return undefined;
      model = pick.label.startsWith('$(edit)') ? await vscode.window.showInputBox({ title: 'Claude: model', placeHolder: 'sonnet, opus, claude-…' }) : pick.label;
      if (!model?.trim()) return undefined;
    }
    const reply = await this.bridge.execute(COMMANDS.setModel, { taskId: t.taskId, model });
    if (reply) vscode.window.setStatusBarMessage(`Claude: “${short(t.prompt, 40)}” uses ${reply.model} from its next request`, 5000);
    return reply?.model;
  }

  /**
   * Past Conversations: claude's conversations of the workspace (those from
   * a terminal too), most recent first; then follow one up, or open its
   * transcript (read from claude's store). Resolves to what was done.
   */
  async showSessions(arg: unknown): Promise<string | undefined> {
    const reply = await this.bridge.execute(COMMANDS.sessions, field<string>(arg, 'workspaceFolder') ? { workspaceFolder: field<string>(arg, 'workspaceFolder') } : {});
    const sessions = reply?.sessions ?? [];
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage('Claude: no past conversations in this workspace');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      sessions.map((s) => ({
        label: short(s.title || s.firstPrompt || s.sessionId, 70),
        description: `${s.turns} turn${s.turns === 1 ? '' : 's'} · ${ago(s.lastActivity)}`,
        detail: s.lastPrompt && s.lastPrompt !== s.firstPrompt ? `last: ${short(s.lastPrompt, 80)}` : undefined,
        s,
      })),
      { title: 'Claude: Past Conversations', matchOnDetail: true, placeHolder: 'Pick one to follow it up or read it' },
    );
    if (!pick) return undefined;
    const action = await vscode.window.showQuickPick(
      [
        { label: '$(comment-discussion) Follow Up…', id: 'followUp' },
        { label: '$(output) Open Transcript', id: 'transcript' },
      ],
      { title: pick.label },
    );
    if (action?.id === 'transcript') return this.openSession(pick.s);
    if (action?.id !== 'followUp') return undefined;
    const prompt = await promptPick(this.bridge, pick.s.workspaceFolder, `Claude: Follow Up “${pick.label}”`, 'What next?');
    if (!prompt) return undefined;
    const r = await this.bridge.followUp({ sessionId: pick.s.sessionId, workspaceFolder: pick.s.workspaceFolder, prompt });
    return r.taskId;
  }

  /** What the transcript's composer and plan buttons do. */
  transcriptActions(): TranscriptActions {
    return {
      send: (taskId, text, images) => this.sendOrFollowUp(taskId, text, images),
      interrupt: async (taskId) => {
        await this.interruptTask({ taskId });
      },
      showPlan: async (question) => {
        const plan = this.bridge.questions.get(question)?.plan;
        if (plan) await showPlan(plan);
      },
    };
  }

  /**
   * The composer's message: into the task while it runs (claude.send),
   * else a follow-up of its conversation, whose transcript opens in its place.
   */
  async sendOrFollowUp(taskId: string, prompt: string, pasted: PastedImage[]): Promise<void> {
    const t = this.bridge.store.get(taskId);
    if (!t) throw new Error(`no task ${taskId}`);
    const images: ImageRef[] = pasted.map((p) => {
      // The bridge takes the four types claude's image blocks take (lspExt's ImageMediaType).
      const mediaType = IMAGE_MEDIA_TYPE_VALUES.find((t: ImageMediaType) => t === p.mediaType);
      if (!mediaType) throw new Error(`the pasted image ${p.name ?? ''} is ${p.mediaType}: Claude takes PNG, JPEG, GIF or WebP images`);
      return { data: p.data, mediaType };
    });
    const withImages = images.length > 0 ? { images } : {};
    if (canSend(t)) {
      const reply = await this.bridge.execute(COMMANDS.send, { taskId, prompt, ...withImages });
      if (reply?.sent) return;
      // It ended meanwhile: follow it up instead.
    }
    const newId = newTaskId();
    const from = t.pastSession && t.sessionId ? { sessionId: t.sessionId, workspaceFolder: t.workspaceFolder } : { taskId };
    const done = this.bridge.followUp({ ...from, prompt, ...withImages, newTaskId: newId });
    // Its record exists once the request went out; a follow-up refused at once rejects instead.
    await Promise.race([this.bridge.store.whenKnown(newId), done]);
    this.transcripts.show(newId);
  }

  /** A past conversation's transcript, read from claude's store, in a transcript panel. */
  async openSession(s: SessionInfo): Promise<string> {
    const reply = await this.bridge.execute(COMMANDS.transcript, { sessionId: s.sessionId, workspaceFolder: s.workspaceFolder });
    const id = this.bridge.store.addPastSession(s.sessionId, reply?.title || s.title || s.firstPrompt, s.workspaceFolder, reply?.events ?? []);
    this.transcripts.show(id);
    return id;
  }
}

/** Whether a task can take a message now (Send) or only a follow-up. */
export function canSend(t: TaskRecord | undefined): boolean {
  return !!t && !t.pastSession && !isTerminal(t.status);
}
