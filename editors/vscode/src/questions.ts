// The questions the bridge is waiting on (permission questions, asked with
// window/showMessageRequest), kept apart from VS Code so it can be
// unit-tested. A question stays here until it is answered (from its
// notification, the status bar item's picker or the transcript) or the
// bridge withdraws it (the task ended): dismissing a notification never
// answers it.

import { PermissionRequestParams } from './lspExt';

export const ALLOW = 'Allow';
export const ALLOW_TASK = 'Allow for this task';
export const DENY = 'Deny';

/** A question the bridge waits on. */
export interface Question {
  /** This window's number for it (1, 2, …). */
  id: number;
  /** The message as the bridge wrote it: "Claude wants to run Bash: `go test`". */
  message: string;
  /** The answers, in the bridge's order. */
  actions: string[];
  /** The task that asks, the tool call and the tool (absent from a bridge older than them). */
  taskId?: string;
  toolUseId?: string;
  toolName?: string;
  askedAt: Date;
}

/** How a question ended. */
export type QuestionEnd = { answer: string } | { withdrawn: true };

type Listener = () => void;

export class QuestionStore {
  private next = 1;
  private readonly open = new Map<number, { q: Question; done: (end: QuestionEnd) => void }>();
  private readonly listeners = new Set<Listener>();

  onDidChange(l: Listener): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // a broken listener must not stop the others
      }
    }
  }

  /**
   * Adds a question; `done` is called once, with the answer or the
   * withdrawal. Returns the question.
   */
  add(p: Pick<PermissionRequestParams, 'message'> & Partial<PermissionRequestParams>, done: (end: QuestionEnd) => void, now = new Date()): Question {
    const q: Question = {
      id: this.next++,
      message: p.message,
      actions: (p.actions ?? []).map((a) => a.title),
      taskId: p.taskId || undefined,
      toolUseId: p.toolUseId || undefined,
      toolName: p.toolName || toolOf(p.message),
      askedAt: now,
    };
    this.open.set(q.id, { q, done });
    this.fire();
    return q;
  }

  /** Answers a question; false when it is no longer open or the answer is not one of its actions. */
  answer(id: number, title: string): boolean {
    const o = this.open.get(id);
    if (!o || !o.q.actions.includes(title)) return false;
    this.open.delete(id);
    o.done({ answer: title });
    this.fire();
    return true;
  }

  /** The bridge no longer waits (it cancelled the request): the question goes away unanswered. */
  withdraw(id: number): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    o.done({ withdrawn: true });
    this.fire();
  }

  get(id: number): Question | undefined {
    return this.open.get(id)?.q;
  }

  /** The open questions, oldest first. */
  pending(): Question[] {
    return [...this.open.values()].map((o) => o.q);
  }

  forTask(taskId: string): Question[] {
    return this.pending().filter((q) => q.taskId === taskId);
  }
}

/** "Claude wants to run Bash: `go test ./...`" → "Bash". */
export function toolOf(message: string): string | undefined {
  const m = /^Claude wants to (?:run|use|call)\s+([A-Za-z_][\w.-]*)/.exec(message);
  return m?.[1];
}

/** A piece of a message: plain text, or code (what was in backticks). */
export interface MessagePart {
  text: string;
  code: boolean;
}

/** Splits a message at its backtick spans: "run `ls`" → [run ][ls as code]. An unpaired backtick stays text. */
export function messageParts(message: string): MessagePart[] {
  const out: MessagePart[] = [];
  const re = /`([^`]+)`/g;
  let at = 0;
  for (let m = re.exec(message); m; m = re.exec(message)) {
    if (m.index > at) out.push({ text: message.slice(at, m.index), code: false });
    out.push({ text: m[1], code: true });
    at = m.index + m[0].length;
  }
  if (at < message.length) out.push({ text: message.slice(at), code: false });
  return out;
}

/**
 * The message for a surface that cannot show code (a notification, a
 * picker's title): the backticks go, the code is set apart by quotes when
 * it has spaces ("Claude wants to run Bash: “go test ./...”").
 */
export function plainMessage(message: string): string {
  return messageParts(message)
    .map((p) => (p.code && /\s/.test(p.text) ? `“${p.text}”` : p.text))
    .join('');
}
