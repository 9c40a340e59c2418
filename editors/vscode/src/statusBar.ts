// The status bar item: the number of running tasks; a click opens the task list.

import * as vscode from 'vscode';
import { Bridge } from './bridge';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('claudeBridge.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subs: { dispose(): void }[] = [];

  constructor(private readonly bridge: Bridge) {
    this.item.name = 'Claude Bridge';
    this.item.command = 'claudeBridge.showTasks';
    this.subs.push(bridge.store.onDidChange(() => this.update()), bridge.onDidChangeState(() => this.update()));
    this.update();
    this.item.show();
  }

  update(): void {
    const running = this.bridge.store.running();
    const n = running.length;
    const waiting = running.filter((t) => t.status === 'waiting').length;
    if (this.bridge.missing) {
      this.item.text = '$(warning) Claude';
      this.item.tooltip = 'claude-bridge was not found: click for the task list, or run “Claude: Run Task…” for the install command';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (n > 0) {
      this.item.text = `$(loading~spin) Claude: ${n}`;
      this.item.tooltip = `${n} Claude task(s) running${waiting ? `, ${waiting} waiting for permission` : ''}: click to show them`;
      this.item.backgroundColor = waiting ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    } else {
      this.item.text = '$(sparkle) Claude';
      const ended = this.bridge.store.ended().length;
      this.item.tooltip = `No Claude task running${ended ? ` (${ended} finished)` : ''}: click to show tasks`;
      this.item.backgroundColor = undefined;
    }
    void vscode.commands.executeCommand('setContext', 'claudeBridge.running', n > 0);
    void vscode.commands.executeCommand('setContext', 'claudeBridge.hasTasks', this.bridge.store.all().length > 0);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
