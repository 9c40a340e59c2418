// The tasks this window knows of, with their events, kept apart from VS Code
// so it can be unit-tested. Fed by claude/event notifications, replies of
// claude.run / claude.followUp, and claude.tasks listings.

import { BridgeEvent, EditConflictParams, RunResult, TaskInfo, TaskStatus } from './lspExt';
import { Listeners } from './listeners';

/** A task in one of its final statuses: completed, failed, cancelled or interrupted. */
export function isTerminal(s: TaskStatus | undefined): boolean {
  return s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'interrupted';
}

export interface TaskRecord {
  taskId: string;
  prompt: string;
  status: TaskStatus;
  workspaceFolder?: string;
  sessionId?: string;
  startedAt: Date;
  endedAt?: Date;
  /** The latest progress step ("Edit main.go", "Waiting for permission: Bash"). */
  step?: string;
  events: BridgeEvent[];
  /** Events that arrived out of order (seq gap) are still kept; this counts gaps seen. */
  seqGaps: number;
  conflicts: EditConflictParams[];
  /** The bridge's reply to claude.run / claude.followUp. */
  result?: RunResult;
  /** Why the task failed without a reply (the bridge stopped). */
  failure?: string;
  /** Set for a follow-up: the task it continued. */
  followUpOf?: string;
  /** What claude runs the task with now (started and mode events). */
  permissionMode?: string;
  model?: string;
  /** A past conversation read from claude's store (claude.transcript), not a task. */
  pastSession?: boolean;
}

type Listener = (taskId: string) => void;

export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly listeners = new Listeners<[string]>();

  onDidChange(l: Listener): { dispose(): void } {
    return this.listeners.add(l);
  }

  private fire(taskId: string): void {
    this.listeners.fire(taskId);
  }

  get(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId);
  }

  /** All tasks, the newest first. */
  all(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }

  running(): TaskRecord[] {
    return this.all().filter((t) => !isTerminal(t.status));
  }

  ended(): TaskRecord[] {
    return this.all().filter((t) => isTerminal(t.status));
  }

  /** Registers a task this window is about to start. */
  /** Resolves once the store has the task. */
  whenKnown(taskId: string): Promise<void> {
    if (this.tasks.has(taskId)) return Promise.resolve();
    return new Promise((resolve) => {
      const sub = this.onDidChange((id) => {
        if (id !== taskId) return;
        sub.dispose();
        resolve();
      });
    });
  }

  begin(taskId: string, prompt: string, workspaceFolder?: string, followUpOf?: string): TaskRecord {
    const existing = this.tasks.get(taskId);
    if (existing) {
      existing.prompt = existing.prompt || prompt;
      existing.followUpOf ??= followUpOf;
      this.fire(taskId);
      return existing;
    }
    const t: TaskRecord = {
      taskId,
      prompt,
      status: 'queued',
      workspaceFolder,
      startedAt: new Date(),
      events: [],
      seqGaps: 0,
      conflicts: [],
      followUpOf,
    };
    this.tasks.set(taskId, t);
    this.fire(taskId);
    return t;
  }

  private ensure(taskId: string): TaskRecord {
    return this.tasks.get(taskId) ?? this.begin(taskId, '');
  }

  /** Moves the events of a task known under a provisional id to its real id. */
  rename(fromId: string, toId: string): void {
    if (fromId === toId) return;
    const from = this.tasks.get(fromId);
    if (!from) return;
    this.tasks.delete(fromId);
    const to = this.tasks.get(toId);
    if (to) {
      to.prompt ||= from.prompt;
      to.followUpOf ??= from.followUpOf;
    } else {
      from.taskId = toId;
      this.tasks.set(toId, from);
    }
    this.fire(toId);
  }

  addEvent(ev: BridgeEvent): void {
    if (!ev || typeof ev.taskId !== 'string') return;
    const t = this.ensure(ev.taskId);
    const last = t.events.length > 0 ? t.events[t.events.length - 1].seq : 0;
    if (ev.seq !== last + 1) t.seqGaps++;
    t.events.push(ev);
    switch (ev.kind) {
      case 'queued':
        if (ev.prompt && !t.prompt) t.prompt = ev.prompt;
        if (ev.workspaceFolder) t.workspaceFolder = ev.workspaceFolder;
        break;
      case 'started':
        if (!isTerminal(t.status)) t.status = 'running';
        if (ev.sessionId) t.sessionId = ev.sessionId;
        t.permissionMode = ev.permissionMode || t.permissionMode;
        t.model = ev.model || t.model;
        break;
      case 'mode':
        t.permissionMode = ev.permissionMode || t.permissionMode;
        t.model = ev.model || t.model;
        break;
      case 'permission':
        if (t.status === 'waiting') t.status = 'running';
        break;
      case 'result':
        if (isTerminal(ev.status)) {
          t.status = ev.status;
          t.endedAt ??= new Date();
        }
        if (ev.sessionId) t.sessionId = ev.sessionId;
        break;
    }
    this.fire(t.taskId);
  }

  setStep(taskId: string, step: string): void {
    const t = this.ensure(taskId);
    t.step = step;
    if (!isTerminal(t.status)) {
      if (/^Waiting for (permission|your answer|your approval|your review)/.test(step)) t.status = 'waiting';
      else if (t.status === 'waiting' || t.status === 'queued') t.status = step.startsWith('Queued') ? 'queued' : 'running';
    }
    this.fire(taskId);
  }

  addConflict(c: EditConflictParams): void {
    const t = this.ensure(c.taskId);
    t.conflicts.push(c);
    this.fire(t.taskId);
  }

  finish(r: RunResult): void {
    const t = this.ensure(r.taskId);
    t.result = r;
    t.status = r.status;
    t.endedAt ??= new Date();
    if (r.sessionId) t.sessionId = r.sessionId;
    this.fire(t.taskId);
  }

  /** A request that never got a reply (the bridge stopped, say). */
  fail(taskId: string, reason: string): void {
    const t = this.ensure(taskId);
    if (isTerminal(t.status)) return;
    t.status = 'failed';
    t.failure = reason;
    t.endedAt ??= new Date();
    this.fire(t.taskId);
  }

  /**
   * Adds a past conversation (claude.transcript) as a record of its own,
   * under `session:<id>`, with its events; returns its id.
   */
  addPastSession(sessionId: string, title: string, workspaceFolder: string | undefined, events: BridgeEvent[]): string {
    const id = `session:${sessionId}`;
    const t = this.begin(id, title, workspaceFolder);
    t.pastSession = true;
    t.sessionId = sessionId;
    t.status = 'completed';
    t.events = events.map((e) => ({ ...e, taskId: id }));
    this.fire(id);
    return id;
  }

  /** Merges a claude.tasks listing: statuses of tasks this window did not see end. */
  merge(list: TaskInfo[]): void {
    for (const info of list) {
      const t = this.tasks.get(info.taskId) ?? this.begin(info.taskId, info.prompt ?? '', info.workspaceFolder);
      if (!t.prompt && info.prompt) t.prompt = info.prompt;
      if (info.sessionId) t.sessionId = info.sessionId;
      if (info.workspaceFolder) t.workspaceFolder = info.workspaceFolder;
      if (info.startedAt) {
        const d = new Date(info.startedAt);
        if (!Number.isNaN(d.getTime())) t.startedAt = d;
      }
      if (!isTerminal(t.status)) t.status = info.status;
      if (info.endedAt && !t.endedAt) {
        const d = new Date(info.endedAt);
        if (!Number.isNaN(d.getTime())) t.endedAt = d;
      }
      this.fire(t.taskId);
    }
  }
}
