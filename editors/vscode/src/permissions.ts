// Permission questions from the bridge: claude/permission (this extension
// declares it; the whole of what is to be allowed comes in keyInput) and,
// from a bridge older than it, window/showMessageRequest with the actions
// Allow / Allow for this task / Deny. Each goes into the QuestionStore and
// is shown the same way for every tool: a notification, the status bar item
// (which re-opens the question), and the question with its buttons in the
// task's transcript. It stays until it is answered or its task ends: closing
// the notification (or its hiding after a few seconds) leaves it open.
// Allow is offered only where the whole command is in sight: a command the
// one-line message cuts (more lines, or a long one) is answered from a modal
// that shows it whole ("Review…"), or in the transcript. Other
// showMessageRequests get a plain notification.

import * as vscode from 'vscode';
import { MessageActionItem, MessageType, ShowMessageRequestParams } from 'vscode-languageclient/node';
import { PermissionParams, PermissionRequestParams, PermissionResult } from './lspExt';
import { ALLOW, DECISION_OF, DENY, Question, QuestionEnd, QuestionStore, plainMessage, showsAll } from './questions';

/** VS Code's notification of an LSP MessageType's severity. */
export function notifierFor(type: MessageType): typeof vscode.window.showInformationMessage {
  return type === MessageType.Error
    ? vscode.window.showErrorMessage
    : type === MessageType.Warning
      ? vscode.window.showWarningMessage
      : vscode.window.showInformationMessage;
}

export function isPermissionQuestion(p: ShowMessageRequestParams): boolean {
  const titles = new Set((p.actions ?? []).map((a) => a.title));
  return titles.has(ALLOW) && titles.has(DENY);
}

export interface PermissionUi {
  questions: QuestionStore;
  /** The short prompt of a task, for the question's notification. */
  taskLabel?: (taskId: string) => string | undefined;
  /** Whether the task's transcript is on screen (it shows the question with its buttons). */
  inSight?: (taskId: string) => boolean;
  log?: (line: string) => void;
}

export async function handleShowMessageRequest(
  params: ShowMessageRequestParams,
  token: vscode.CancellationToken,
  ui: PermissionUi,
): Promise<MessageActionItem | null> {
  const actions = params.actions ?? [];
  if (!isPermissionQuestion(params)) {
    const show = notifierFor(params.type);
    const picked = await raceCancel(show(params.message, ...actions.map((a) => ({ title: a.title }))), token);
    return picked ? (actions.find((a) => a.title === picked.title) ?? null) : null;
  }
  return new Promise<MessageActionItem | null>((resolve) => {
    // The bridge's question carries more than LSP's params (lspext.PermissionRequestParams).
    const q = ui.questions.add({ ...(params as unknown as Partial<PermissionRequestParams>), message: params.message }, (end) => {
      sub.dispose();
      if ('answer' in end) {
        ui.log?.(`permission: ${params.message} → ${end.answer}`);
        resolve(actions.find((a) => a.title === end.answer) ?? null);
      } else {
        ui.log?.(`permission: ${params.message} → withdrawn by the bridge`);
        resolve(null);
      }
    });
    // The bridge withdraws the question when the task ends first.
    const sub = token.onCancellationRequested(() => ui.questions.withdraw(q.id));
    if (token.isCancellationRequested) ui.questions.withdraw(q.id);
    // A notification cannot be closed once the question is answered elsewhere:
    // none when the transcript, on screen, shows the question already.
    else if (!(q.taskId && ui.inSight?.(q.taskId))) void notify(q, ui);
  });
}

/** claude/permission: the question waits in the store; the reply is the decision, or null when withdrawn. */
export function handlePermission(params: PermissionParams, token: vscode.CancellationToken, ui: PermissionUi): Promise<PermissionResult | null> {
  return new Promise<PermissionResult | null>((resolve) => {
    const q = ui.questions.addPermission(params, (end: QuestionEnd) => {
      sub.dispose();
      if ('answer' in end) {
        ui.log?.(`permission: ${params.message} → ${end.answer}`);
        resolve({ decision: DECISION_OF[end.answer] ?? 'deny' });
      } else {
        ui.log?.(`permission: ${params.message} → withdrawn`);
        resolve(null);
      }
    });
    const sub = token.onCancellationRequested(() => ui.questions.withdraw(q.id));
    if (token.isCancellationRequested) ui.questions.withdraw(q.id);
    else if (!(q.taskId && ui.inSight?.(q.taskId))) void notify(q, ui);
  });
}

export const REVIEW = 'Review…';

/**
 * The question's notification: answered by a click; closed or hidden, the
 * question stays open. A cut message offers Review… (the whole, in a modal)
 * and Deny instead of Allow. A click after the question ended elsewhere says so.
 */
async function notify(q: Question, ui: PermissionUi): Promise<void> {
  const task = q.taskId ? ui.taskLabel?.(q.taskId) : undefined;
  const text = plainMessage(q.message) + (task ? ` (task “${task}”)` : '');
  const all = showsAll(q);
  const picked = await vscode.window.showInformationMessage(text, ...(all ? q.actions : [REVIEW, DENY]));
  if (!picked) return;
  if (!ui.questions.get(q.id)) return answeredAlready(q, picked, ui);
  if (picked === REVIEW) await review(q, ui);
  else if (!ui.questions.answer(q.id, picked)) answeredAlready(q, picked, ui);
}

/**
 * Says why a click on a question's notification did nothing: VS Code
 * cannot close a notification, so one stays after its question was
 * answered in the transcript or from the status bar item, withdrawn, or
 * its task ended. A notification, and the status bar: clicked in the
 * notification center, the new notification lands above the list's
 * scrolled view (measured in VS Code 1.139), where no one sees it.
 */
export function answeredAlready(q: Question, clicked: string, ui: PermissionUi): void {
  ui.log?.(`${q.kind}: ${plainMessage(q.message)} → “${clicked}” clicked on its notification after it was answered or its task ended`);
  vscode.window.setStatusBarMessage('$(info) Claude: answered already, or its task ended; nothing changed', 10000);
  void vscode.window.showInformationMessage(
    'Claude no longer waits for this answer: it was given in the transcript or from the status bar, or its task moved on or ended. Nothing was changed.',
  );
}

/**
 * The whole of a permission question in a modal: every line of the command,
 * claude's reason, the task; answered with its buttons (Cancel leaves it open).
 */
export async function review(q: Question, ui: PermissionUi): Promise<string | undefined> {
  const task = q.taskId ? ui.taskLabel?.(q.taskId) : undefined;
  const detail = [q.whole ?? plainMessage(q.message), '', q.description ? `Claude's reason: ${q.description}` : '', task ? `Task: ${task}` : '']
    .filter((l, i) => i < 2 || l !== '')
    .join('\n');
  const picked = await vscode.window.showWarningMessage(`Claude wants to run ${q.toolName ?? 'a tool'}`, { modal: true, detail }, ...q.actions);
  if (!picked) return undefined;
  if (ui.questions.answer(q.id, picked)) return picked;
  answeredAlready(q, picked, ui);
  return undefined;
}

/** The bridge may withdraw a request (task cancelled): stop waiting for the click. */
function raceCancel<T>(p: Thenable<T>, token: vscode.CancellationToken): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      resolve(undefined);
    });
    p.then(
      (v) => {
        sub.dispose();
        resolve(v);
      },
      (e: unknown) => {
        sub.dispose();
        // VS Code rejects with an Error; anything else is wrapped so callers get a message and a stack.
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Re-opens a waiting question in a picker (the status bar item's click,
 * "Claude: Answer Question"): its answers, and the transcript that shows
 * the call in full. Escape leaves the question open; the picker closes by
 * itself when the question is answered elsewhere or withdrawn.
 */
export async function pickAnswer(q: Question, ui: PermissionUi & { showTranscript: (taskId: string) => Thenable<unknown> }): Promise<string | undefined> {
  const task = q.taskId ? ui.taskLabel?.(q.taskId) : undefined;
  const waited = Math.round((Date.now() - q.askedAt.getTime()) / 1000);
  type Item = vscode.QuickPickItem & { answer?: string; transcript?: boolean; review?: boolean };
  const icons: Record<string, string> = { Allow: '$(check)', 'Allow for this task': '$(check-all)', Deny: '$(close)' };
  // Allow only where the whole is in sight: a cut message is reviewed first.
  const all = showsAll(q);
  const items: Item[] = all
    ? q.actions.map((a) => ({ label: `${icons[a] ?? ''} ${a}`.trim(), answer: a }))
    : [
        { label: '$(eye) Review the Whole Command…', description: 'every line, then Allow or Deny', review: true },
        { label: `${icons[DENY]} ${DENY}`, answer: DENY },
      ];
  if (q.taskId) items.push({ label: '$(preview) Show in Transcript', description: 'the call in full, with its buttons', transcript: true });
  const qp = vscode.window.createQuickPick<Item>();
  qp.items = items;
  qp.title = plainMessage(q.message);
  qp.placeholder = `${task ? `“${task}” · ` : ''}asked ${waited < 60 ? `${waited} s` : `${Math.round(waited / 60)} min`} ago · Escape: answer later`;
  qp.ignoreFocusOut = true;
  const pick = await new Promise<Item | undefined>((resolve) => {
    const subs = [
      qp.onDidAccept(() => resolve(qp.selectedItems[0])),
      qp.onDidHide(() => resolve(undefined)),
      ui.questions.onDidChange(() => {
        if (!ui.questions.get(q.id)) qp.hide();
      }),
    ];
    qp.show();
    qp.onDidHide(() => {
      for (const d of subs) d.dispose();
    });
  });
  qp.dispose();
  if (!pick) return undefined;
  if (pick.transcript && q.taskId) {
    await ui.showTranscript(q.taskId);
    return undefined;
  }
  if (pick.review) return review(q, ui);
  if (pick.answer && ui.questions.answer(q.id, pick.answer)) return pick.answer;
  return undefined;
}
