// claude's own questions (claude/ask: its AskUserQuestion tool) and plans
// (claude/plan: ExitPlanMode in plan mode). Each goes into the
// QuestionStore like a permission question: a notification with a button
// (unless the task's transcript, on screen, shows it with its form), the
// status bar item, and the transcript. A click opens a QuickPick per
// question (several options at once where claude allows it, and an answer
// of your own typed into the box); a plan opens as a Markdown preview with
// Approve, Approve (ask before edits) and Keep Planning (with feedback).

import * as vscode from 'vscode';
import { AskParams, AskResult, PlanParams, PlanResult, Question as AskedQuestion } from './lspExt';
import { PermissionUi, answeredAlready } from './permissions';
import { APPROVE, APPROVE_ASK, KEEP_PLANNING, Question, QuestionEnd, plainMessage } from './questions';

/** What answering claude's questions and plans needs besides the store. */
export interface ConversationUi extends PermissionUi {
  showTranscript?: (taskId: string) => Thenable<unknown>;
}

/** Waits for a question's end, withdrawing it when the bridge cancels the request. */
function whenAnswered<T>(
  add: (done: (end: QuestionEnd) => void) => Question,
  token: vscode.CancellationToken,
  ui: ConversationUi,
  reply: (end: QuestionEnd) => T | null,
  notify: (q: Question) => void,
): Promise<T | null> {
  return new Promise<T | null>((resolve) => {
    const q = add((end) => {
      sub.dispose();
      ui.log?.(`${q.kind}: ${plainMessage(q.message)} → ${JSON.stringify(end)}`);
      resolve(reply(end));
    });
    const sub = token.onCancellationRequested(() => ui.questions.withdraw(q.id));
    if (token.isCancellationRequested) ui.questions.withdraw(q.id);
    else if (!(q.taskId && ui.inSight?.(q.taskId))) notify(q);
  });
}

function taskSuffix(q: Question, ui: ConversationUi): string {
  const task = q.taskId ? ui.taskLabel?.(q.taskId) : undefined;
  return task ? ` (task “${task}”)` : '';
}

// --- claude/ask -------------------------------------------------------------------

export function handleAsk(params: AskParams, token: vscode.CancellationToken, ui: ConversationUi): Promise<AskResult | null> {
  return whenAnswered(
    (done) => ui.questions.addAsk(params, done),
    token,
    ui,
    (end) => ('answers' in end ? { answers: end.answers } : null),
    (q) => {
      const answer = 'Answer…';
      void vscode.window.showInformationMessage(plainMessage(q.message) + taskSuffix(q, ui), answer).then((pick) => {
        if (pick !== answer) return;
        if (ui.questions.get(q.id)) void pickAsk(q, ui);
        else answeredAlready(q, pick, ui);
      });
    },
  );
}

type AskItem = vscode.QuickPickItem & { option?: string; other?: boolean; text?: string };

/** The answer of one QuickPick: labels and a text of the user's own, or Other (ask for the text). */
interface Picked {
  labels: string[];
  other: boolean;
}

/** One question in a QuickPick: resolves to the answer, or undefined (Escape). */
async function askOne(q: AskedQuestion, n: number, of: number): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<AskItem>();
  const options: AskItem[] = q.options.map((o) => ({ label: o.label, detail: o.description || undefined, option: o.label }));
  const other: AskItem = { label: '$(edit) Other…', description: 'type your own answer', other: true, alwaysShow: true };
  qp.title = `Claude asks${q.header ? ` (${q.header})` : ''}: ${q.question}${of > 1 ? ` (${n}/${of})` : ''}`;
  qp.placeholder = q.multiSelect
    ? 'Pick one or more (Space), then Enter, or type your own answer'
    : 'Pick an answer, or type your own and press Enter';
  qp.canSelectMany = q.multiSelect;
  qp.matchOnDetail = true;
  qp.ignoreFocusOut = true;
  qp.items = [...options, other];
  // A typed text that is not an option becomes an item of its own.
  const withTyped = (v: string): AskItem[] =>
    v.trim() ? [...options, { label: `$(edit) ${v.trim()}`, description: 'your own answer', text: v.trim(), alwaysShow: true }] : [...options, other];
  const picked = await new Promise<Picked | undefined>((resolve) => {
    let done = false;
    const finish = (v: Picked | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      qp.hide();
    };
    qp.onDidChangeValue((v) => {
      const kept = qp.selectedItems.filter((i) => i.option).map((i) => i.option);
      qp.items = withTyped(v);
      if (q.multiSelect) qp.selectedItems = qp.items.filter((i) => i.option && kept.includes(i.option));
    });
    qp.onDidAccept(() => {
      const chosen = q.multiSelect ? [...qp.selectedItems] : qp.activeItems.slice(0, 1);
      const labels = chosen.map((i) => i.option ?? i.text).filter((x): x is string => !!x);
      const wantsOther = chosen.some((i) => i.other);
      if (labels.length === 0 && !wantsOther && qp.value.trim()) labels.push(qp.value.trim());
      if (labels.length > 0 || wantsOther) finish({ labels, other: wantsOther });
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked) return undefined;
  if (picked.other) {
    const text = await vscode.window.showInputBox({
      title: `Claude asks${q.header ? ` (${q.header})` : ''}: ${q.question}`,
      prompt: 'Your own answer',
      ignoreFocusOut: true,
    });
    if (!text?.trim()) return undefined;
    picked.labels.push(text.trim());
  }
  return picked.labels.join(', '); // several: claude's own dialog's form
}

/**
 * Puts claude's questions in QuickPicks, one after the other, and answers
 * them. Escape leaves them open (the status bar item opens them again).
 * Resolves to the answers given, or undefined.
 */
export async function pickAsk(q: Question, ui: ConversationUi): Promise<Record<string, string> | undefined> {
  const list = q.ask?.questions ?? [];
  const answers: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    if (!ui.questions.get(q.id)) return undefined; // answered elsewhere, or withdrawn
    const a = await askOne(list[i], i + 1, list.length);
    if (a === undefined) return undefined;
    answers[list[i].question] = a;
  }
  return ui.questions.answerAsk(q.id, answers) ? answers : undefined;
}

// --- claude/plan ------------------------------------------------------------------

/** Opens the plan as a Markdown preview beside the editor: the bridge's copy, else the text. */
export async function showPlan(p: PlanParams): Promise<void> {
  let uri: vscode.Uri | undefined;
  if (p.uri) uri = vscode.Uri.parse(p.uri);
  else uri = (await vscode.workspace.openTextDocument({ language: 'markdown', content: p.plan })).uri;
  try {
    await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
  } catch {
    // No Markdown preview (the built-in extension disabled): the text itself.
    await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
}

/** A plan decision from one of its choices; Keep Planning asks for the feedback. */
async function decide(choice: string | undefined): Promise<PlanResult | undefined> {
  if (choice === APPROVE) return { decision: 'approve', permissionMode: 'acceptEdits' };
  if (choice === APPROVE_ASK) return { decision: 'approve', permissionMode: 'default' };
  if (choice !== KEEP_PLANNING) return undefined;
  const feedback = await vscode.window.showInputBox({
    title: 'Claude: Keep Planning',
    prompt: 'What should Claude change in the plan? (Enter alone: nothing in particular)',
    ignoreFocusOut: true,
  });
  if (feedback === undefined) return undefined;
  return feedback.trim() ? { decision: 'keepPlanning', feedback: feedback.trim() } : { decision: 'keepPlanning' };
}

export function handlePlan(params: PlanParams, token: vscode.CancellationToken, ui: ConversationUi): Promise<PlanResult | null> {
  void showPlan(params).catch((err) => ui.log?.(`plan preview: ${String(err)}`));
  return whenAnswered(
    (done) => ui.questions.addPlan(params, done),
    token,
    ui,
    (end) => ('plan' in end ? end.plan : null),
    (q) => {
      void vscode.window.showInformationMessage(plainMessage(q.message) + taskSuffix(q, ui), APPROVE, APPROVE_ASK, KEEP_PLANNING).then(async (pick) => {
        ui.log?.(`plan notification: ${pick ? `“${pick}” clicked` : 'closed'}`);
        if (!pick) return;
        if (!ui.questions.get(q.id)) return answeredAlready(q, pick, ui);
        const d = await decide(pick);
        if (d && !ui.questions.answerPlan(q.id, d)) answeredAlready(q, pick, ui);
      });
    },
  );
}

/** The plan's choices in a QuickPick (the status bar item), with the plan a click away. */
export async function pickPlan(q: Question, ui: ConversationUi): Promise<PlanResult | undefined> {
  type Item = vscode.QuickPickItem & { choice?: string; show?: boolean };
  const items: Item[] = [
    { label: `$(check) ${APPROVE}`, description: 'and accept edits', choice: APPROVE },
    { label: `$(check) ${APPROVE_ASK}`, choice: APPROVE_ASK },
    { label: `$(edit) ${KEEP_PLANNING}`, description: 'say what to change', choice: KEEP_PLANNING },
    { label: '$(preview) Show the Plan', show: true },
  ];
  for (;;) {
    const pick = await vscode.window.showQuickPick(items, { title: plainMessage(q.message) + taskSuffix(q, ui), ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.show) {
      if (q.plan) await showPlan(q.plan);
      continue;
    }
    const d = await decide(pick.choice);
    if (d && ui.questions.answerPlan(q.id, d)) return d;
    return undefined;
  }
}
