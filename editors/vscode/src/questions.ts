// The questions the bridge is waiting on, kept apart from VS Code so it can
// be unit-tested: permission questions (window/showMessageRequest), claude's
// own questions (claude/ask) and its plans (claude/plan). A question stays
// here until it is answered (from its notification, the status bar item's
// picker or the transcript) or the bridge withdraws it (the task ended, or
// claude stopped waiting): dismissing a notification never answers it.

import { AskParams, Decision, PermissionParams, PermissionRequestParams, PlanParams, PlanResult } from './lspExt';
import { Waiting } from './listeners';

export const ALLOW = 'Allow';
export const ALLOW_TASK = 'Allow for this task';
export const DENY = 'Deny';

/** The decisions of a permission question by its answer's title. */
export const DECISION_OF: Record<string, Decision> = { [ALLOW]: 'allow', [ALLOW_TASK]: 'allowTask', [DENY]: 'deny' };

/** A question the bridge waits on. */
export interface Question {
  /** This window's number for it (1, 2, …). */
  id: number;
  /**
   * The message as the bridge wrote it: "Claude wants to run Bash: `go test`"
   * (for claude/permission, its one-line form, which may be cut).
   */
  message: string;
  /**
   * What a permission question asks to allow, whole (claude/permission's
   * keyInput: every line of a command); absent when the message holds it all.
   */
  whole?: string;
  /** claude's own words for the call ("Run the tests"). */
  description?: string;
  /** The answers, in the bridge's order. */
  actions: string[];
  /** The task that asks, the tool call and the tool (absent from a bridge older than them). */
  taskId?: string;
  toolUseId?: string;
  toolName?: string;
  askedAt: Date;
  /** What is asked: a permission (answered by an action), claude's questions, or its plan. */
  kind: 'permission' | 'ask' | 'plan';
  /** claude's questions (kind ask). */
  ask?: AskParams;
  /** claude's plan (kind plan). */
  plan?: PlanParams;
}

/** How a question ended. */
export type QuestionEnd = { answer: string } | { answers: Record<string, string> } | { plan: PlanResult } | { withdrawn: true };

/** The choices of a plan, as its notification and pickers show them. */
export const APPROVE = 'Approve';
export const APPROVE_ASK = 'Approve, Ask Before Edits';
export const KEEP_PLANNING = 'Keep Planning…';

export class QuestionStore extends Waiting<Question, QuestionEnd> {
  /**
   * Adds a question; `done` is called once, with the answer or the
   * withdrawal. Returns the question.
   */
  add(p: Pick<PermissionRequestParams, 'message'> & Partial<PermissionRequestParams>, done: (end: QuestionEnd) => void, now = new Date()): Question {
    const q: Question = {
      id: this.newId(),
      message: p.message,
      actions: (p.actions ?? []).map((a) => a.title),
      taskId: p.taskId || undefined,
      toolUseId: p.toolUseId || undefined,
      toolName: p.toolName || toolOf(p.message),
      askedAt: now,
      kind: 'permission',
    };
    return this.put(q, done);
  }

  /** Adds a permission question (claude/permission); `done` gets the answer's title or the withdrawal. */
  addPermission(p: PermissionParams, done: (end: QuestionEnd) => void, now = new Date()): Question {
    return this.put(
      {
        id: this.newId(),
        message: p.message,
        whole: p.keyInput || undefined,
        description: p.description || undefined,
        actions: [ALLOW, ALLOW_TASK, DENY],
        taskId: p.taskId || undefined,
        toolUseId: p.toolUseId || undefined,
        toolName: p.toolName || toolOf(p.message),
        askedAt: now,
        kind: 'permission',
      },
      done,
    );
  }

  /** Adds claude's questions (claude/ask); `done` gets the answers or the withdrawal. */
  addAsk(p: AskParams, done: (end: QuestionEnd) => void, now = new Date()): Question {
    const first = p.questions[0];
    const more = p.questions.length > 1 ? ` (and ${p.questions.length - 1} more)` : '';
    return this.put(
      {
        id: this.newId(),
        message: `Claude asks${first?.header ? ` (${first.header})` : ''}: ${first?.question ?? ''}${more}`,
        actions: [],
        taskId: p.taskId || undefined,
        toolUseId: p.toolUseId || undefined,
        toolName: 'AskUserQuestion',
        askedAt: now,
        kind: 'ask',
        ask: p,
      },
      done,
    );
  }

  /** Adds claude's plan (claude/plan); `done` gets the decision or the withdrawal. */
  addPlan(p: PlanParams, done: (end: QuestionEnd) => void, now = new Date()): Question {
    return this.put(
      {
        id: this.newId(),
        message: "Claude's plan is ready: approve it?",
        actions: [APPROVE, APPROVE_ASK, KEEP_PLANNING],
        taskId: p.taskId || undefined,
        toolUseId: p.toolUseId || undefined,
        toolName: 'ExitPlanMode',
        askedAt: now,
        kind: 'plan',
        plan: p,
      },
      done,
    );
  }

  /** Answers a permission question; false when it is no longer open or the answer is not one of its actions. */
  answer(id: number, title: string): boolean {
    const q = this.get(id);
    if (!q || q.kind !== 'permission' || !q.actions.includes(title)) return false;
    return this.end(id, { answer: title });
  }

  /** Answers claude's questions (by question text); false when they are no longer open. */
  answerAsk(id: number, answers: Record<string, string>): boolean {
    return this.get(id)?.kind === 'ask' && this.end(id, { answers });
  }

  /** Answers claude's plan; false when it is no longer open. */
  answerPlan(id: number, plan: PlanResult): boolean {
    return this.get(id)?.kind === 'plan' && this.end(id, { plan });
  }

  protected readonly withdrawn: QuestionEnd = { withdrawn: true };

  protected callOf(q: Question): { taskId?: string; toolUseId?: string } {
    return q;
  }
}

/**
 * Whether a permission question's message shows all there is to allow:
 * false when the bridge cut it (claude/permission's message is one line;
 * its keyInput is the whole), so the answers must come with the whole.
 */
export function showsAll(q: Question): boolean {
  if (q.kind !== 'permission' || q.whole === undefined) return true;
  return !q.whole.includes('\n') && messageParts(q.message).some((p) => p.code && p.text === q.whole);
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

// --- typing into a question's QuickPick ---------------------------------------------

/**
 * What text typed into the QuickPick of one of claude's questions is. The
 * box both filters the options and takes an answer of the user's own: text
 * that begins an option's label, in any case ("bl" or "Blue" for "Blue"),
 * is a filter toward that option, and Enter picks it; any other text is the
 * user's own answer, and Enter sends it, even when a word of it happens to
 * match an option's description or a fuzzy part of its label. Returns that
 * answer, trimmed, or undefined (nothing typed, or a filter).
 */
export function ownAnswer(value: string, labels: readonly string[]): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const low = v.toLowerCase();
  return labels.some((l) => l.toLowerCase().startsWith(low)) ? undefined : v;
}

/** The option a filter leads to: the first whose label begins with the text, in any case. */
export function filteredOption(value: string, labels: readonly string[]): string | undefined {
  const low = value.trim().toLowerCase();
  return low ? labels.find((l) => l.toLowerCase().startsWith(low)) : undefined;
}

/**
 * The answer of a multiple choice on Enter: the options ticked, in their
 * order, then the user's own text when there is one (its entry ticked, or
 * typed and not a filter toward an option: ticking options does not drop
 * what was typed). Empty when nothing was chosen.
 */
export function multiAnswer(ticked: readonly string[], ownTicked: string | undefined, value: string, labels: readonly string[]): string[] {
  const out = labels.filter((l) => ticked.includes(l));
  const own = ownTicked ?? ownAnswer(value, labels);
  if (own && !out.includes(own)) out.push(own);
  return out;
}
