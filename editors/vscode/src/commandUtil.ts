// How every command of the extension reports a failure: an error
// notification (none for a missing bridge, which has its own), and the
// failure itself to a program that called the command with an argument.

import * as vscode from 'vscode';
import { BridgeMissingError } from './bridge';

/** A caller that passed a real argument is a program (not a menu or the palette, which pass a Uri or nothing). */
export function isProgrammatic(arg: unknown): boolean {
  return arg !== undefined && !(arg instanceof vscode.Uri);
}

/**
 * Registers a command whose failures are shown; `program(arg)` says when
 * the caller gets the failure too (default: it passed an argument that is
 * not a menu's Uri).
 */
export function registerClaudeCommand(
  id: string,
  fn: (arg: unknown) => Promise<unknown>,
  program: (arg: unknown) => boolean = isProgrammatic,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (arg?: unknown) => {
    try {
      return await fn(arg);
    } catch (err) {
      if (!(err instanceof BridgeMissingError)) {
        void vscode.window.showErrorMessage(`Claude: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (program(arg)) throw err;
      return undefined;
    }
  });
}
