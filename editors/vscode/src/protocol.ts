// The bridge's protocol types (README "The protocol"), as the extension uses them.

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface ContextEntry { uri: string; range?: Range }

export interface RunArgs {
  prompt: string;
  workspaceFolder?: string;
  context?: ContextEntry[];
  model?: string;
  permissionMode?: string;
  sessionId?: string;
  taskId?: string;
}

export interface FollowUpArgs {
  taskId?: string;
  sessionId?: string;
  prompt: string;
  model?: string;
  permissionMode?: string;
  context?: ContextEntry[];
  /** The new task's id (accepted by the bridge, not in the README's list). */
  newTaskId?: string;
}

export type TaskStatus = 'queued' | 'starting' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

export interface TaskResult {
  taskId: string;
  sessionId?: string;
  status: 'completed' | 'failed' | 'cancelled';
  result: string;
  isError: boolean;
  costUsd?: number;
  durationMs?: number;
  numTurns?: number;
  editedFiles?: string[];
}

export interface TaskInfo {
  taskId: string;
  status: TaskStatus;
  workspaceFolder?: string;
  prompt?: string;
  sessionId?: string;
  startedAt?: string;
  endedAt?: string;
  costUsd?: number;
}

/** A claude/event notification: {taskId, seq, kind, ...fields of the kind}. */
export interface BridgeEvent {
  taskId: string;
  seq: number;
  kind: string;
  [field: string]: unknown;
}

export interface EditConflict { taskId: string; uri: string; message: string }

export function isTerminal(s: TaskStatus | undefined): boolean {
  return s === 'completed' || s === 'failed' || s === 'cancelled';
}

export const COMMANDS = {
  run: 'claude.run',
  cancel: 'claude.cancel',
  followUp: 'claude.followUp',
  tasks: 'claude.tasks',
  authStatus: 'claude.authStatus',
} as const;
