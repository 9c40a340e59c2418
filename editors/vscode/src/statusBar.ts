// The status bar: the Claude item (running tasks; a click opens the task
// list) and, while the agent waits for an answer, the question item (a
// warning-coloured "Claude asks: Edit main.go"; a click re-opens the
// question). The question item stays until every question is answered.

import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { plainMessage } from './questions';

export const ANSWER_COMMAND = 'claudeBridge.answerQuestion';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('claudeBridge.status', vscode.StatusBarAlignment.Left, 10);
  private readonly question = vscode.window.createStatusBarItem('claudeBridge.question', vscode.StatusBarAlignment.Left, 9);
  private readonly subs: { dispose(): void }[] = [];

  constructor(private readonly bridge: Bridge) {
    this.item.name = 'Claude Bridge';
    this.item.command = 'claudeBridge.showTasks';
    this.question.name = 'Claude Bridge: question';
    this.question.command = ANSWER_COMMAND;
    this.question.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.subs.push(
      bridge.store.onDidChange(() => this.update()),
      bridge.onDidChangeState(() => this.update()),
      bridge.questions.onDidChange(() => this.updateQuestion()),
    );
    this.update();
    this.item.show();
    this.updateQuestion();
  }

  update(): void {
    const running = this.bridge.store.running();
    const n = running.length;
    const waiting = this.bridge.questions.pending().length;
    if (this.bridge.missing) {
      this.item.text = '$(warning) Claude';
      this.item.tooltip = 'claude-bridge was not found: click for the task list, or run “Claude: Run Task…” for the install command';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (n > 0) {
      this.item.text = `$(loading~spin) Claude: ${n}`;
      this.item.tooltip = `${n} Claude task(s) running${waiting ? `, ${waiting} waiting for your answer` : ''}: click to show them`;
      this.item.backgroundColor = undefined;
    } else {
      this.item.text = '$(sparkle) Claude';
      const ended = this.bridge.store.ended().length;
      this.item.tooltip = `No Claude task running${ended ? ` (${ended} finished)` : ''}: click to show tasks`;
      this.item.backgroundColor = undefined;
    }
    void vscode.commands.executeCommand('setContext', 'claudeBridge.running', n > 0);
    void vscode.commands.executeCommand('setContext', 'claudeBridge.hasTasks', this.bridge.store.all().length > 0);
  }

  private updateQuestion(): void {
    const open = this.bridge.questions.pending();
    void vscode.commands.executeCommand('setContext', 'claudeBridge.questionWaits', open.length > 0);
    if (open.length === 0) {
      this.question.hide();
      this.update();
      return;
    }
    const q = open[0];
    const what = plainMessage(q.message).replace(/^Claude wants to (?:run|use|call)\s+/, '');
    this.question.text = `$(bell-dot) Claude asks: ${what.length > 40 ? what.slice(0, 39) + '…' : what}${open.length > 1 ? ` (+${open.length - 1})` : ''}`;
    this.question.tooltip = `${plainMessage(q.message)}\nClick to answer (Allow, Allow for this task, Deny)`;
    this.question.show();
    this.update();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
    this.question.dispose();
  }
}
