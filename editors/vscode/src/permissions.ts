// window/showMessageRequest from the bridge: permission questions get our own
// UI (a notification, modal for Bash) instead of languageclient's default.

import * as vscode from 'vscode';
import { MessageActionItem, MessageType, ShowMessageRequestParams } from 'vscode-languageclient/node';

export const ALLOW = 'Allow';
export const ALLOW_TASK = 'Allow for this task';
export const DENY = 'Deny';

/** Tools whose questions are modal: they run commands on the user's machine. */
const MODAL_TOOLS = new Set(['Bash']);

export function isPermissionQuestion(p: ShowMessageRequestParams): boolean {
  const titles = new Set((p.actions ?? []).map((a) => a.title));
  return titles.has(ALLOW) && titles.has(DENY);
}

/** "Claude wants to run Bash: go test ./..." → "Bash". */
export function toolOf(message: string): string | undefined {
  const m = /^Claude wants to (?:run|use|call)\s+([A-Za-z_][\w.-]*)/.exec(message);
  return m?.[1];
}

export interface PermissionUiOptions {
  /** A line naming the task that asks, shown as the modal's detail. */
  describeAsker?: () => string | undefined;
  log?: (line: string) => void;
}

export async function handleShowMessageRequest(
  params: ShowMessageRequestParams,
  token: vscode.CancellationToken,
  opts: PermissionUiOptions = {},
): Promise<MessageActionItem | null> {
  const actions = params.actions ?? [];
  if (!isPermissionQuestion(params)) {
    const show =
      params.type === MessageType.Error
        ? vscode.window.showErrorMessage
        : params.type === MessageType.Warning
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const picked = await raceCancel(show(params.message, ...actions.map((a) => ({ title: a.title }))), token);
    return picked ? (actions.find((a) => a.title === picked.title) ?? null) : null;
  }
  const tool = toolOf(params.message);
  const modal = tool !== undefined && MODAL_TOOLS.has(tool);
  // Deny is the close affordance: Escape or closing a modal means Deny, as
  // the README says a dismissed request does.
  const items: vscode.MessageItem[] = actions.map((a) => ({ title: a.title, isCloseAffordance: a.title === DENY }));
  const detail = opts.describeAsker?.();
  const picked = await raceCancel(
    modal
      ? vscode.window.showWarningMessage(params.message, { modal: true, detail }, ...items)
      : vscode.window.showInformationMessage(params.message, ...items),
    token,
  );
  const answer = picked ? (actions.find((a) => a.title === picked.title) ?? null) : null;
  opts.log?.(`permission: ${params.message} → ${answer ? answer.title : 'dismissed (Deny)'}`);
  return answer;
}

/** The bridge may withdraw a question (task cancelled): stop waiting for the click. */
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
