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
import { APPROVE, APPROVE_ASK, KEEP_PLANNING, Question, QuestionEnd, filteredOption, multiAnswer, ownAnswer, plainMessage } from './questions';

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
  qp.ignoreFocusOut = true;
  qp.items = [...options, other];
  const labels = q.options.map((o) => o.label);
  // A typed text becomes an item of its own: first and the one Enter takes
  // when it is the user's own answer, after the options when it only
  // filters toward one (ownAnswer).
  let typed: AskItem | undefined;
  const withTyped = (v: string): AskItem[] => {
    typed = v.trim() ? { label: `$(edit) ${v.trim()}`, description: 'your own answer', text: v.trim(), alwaysShow: true } : undefined;
    if (!typed) return [...options, other];
    return ownAnswer(v, labels) !== undefined ? [typed, ...options] : [...options, typed];
  };
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
      else {
        // The item Enter takes: the user's own text, or the option the text filters toward
        // (set here: VS Code would make the best label match active, which may be either).
        const toward = filteredOption(v, labels);
        const active = toward !== undefined ? qp.items.find((i) => i.option === toward) : typed;
        if (active) qp.activeItems = [active];
      }
    });
    qp.onDidAccept(() => {
      if (q.multiSelect) {
        const ticked = qp.selectedItems;
        const own = ticked.find((i) => i.text)?.text;
        const answer = multiAnswer(ticked.filter((i) => i.option).map((i) => i.option!), own, qp.value, labels);
        const wantsOther = ticked.some((i) => i.other);
        if (answer.length > 0 || wantsOther) finish({ labels: answer, other: wantsOther });
        return;
      }
      const chosen = qp.activeItems[0];
      const answer = chosen?.option ?? chosen?.text ?? ownAnswer(qp.value, labels);
      if (chosen?.other) finish({ labels: [], other: true });
      else if (answer) finish({ labels: [answer], other: false });
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
