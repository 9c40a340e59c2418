// claude's slash command lists per folder, as the prompt box shows them.
// Pure (no vscode import): unit-tested in test/unit.

import type { CommandsResult } from './lspExt';

/**
 * The command lists of the folders. A list is never trusted to be current:
 * every look (the prompt box opening, a model picker) shows the last list
 * at once and asks the bridge again, which answers from its own cache while
 * the command files (.claude/commands, .claude/skills, subfolders included)
 * stay as they were (a round trip), and reads them anew once they changed.
 * So a command edited, added or removed shows the next time the box opens,
 * or while it is open.
 */
export class CommandLists {
  private readonly lists = new Map<string, CommandsResult>();
  /** Per folder, the number of the latest request: an older reply that comes later is not kept. */
  private readonly asked = new Map<string, number>();
  private requests = 0;

  constructor(private readonly fetch: (folder: string | undefined) => Promise<CommandsResult | null>) {}

  /** The folder's last list (undefined: none yet). */
  cached(folder: string | undefined): CommandsResult | undefined {
    return this.lists.get(folder ?? '');
  }

  /** Asks the bridge for the folder's list now, and keeps it. */
  async fresh(folder: string | undefined): Promise<CommandsResult> {
    const key = folder ?? '';
    const n = ++this.requests;
    this.asked.set(key, n);
    const list = (await this.fetch(folder)) ?? { commands: [], models: [] };
    if (this.asked.get(key) === n) this.lists.set(key, list);
    return this.lists.get(key) ?? list;
  }

  /**
   * Shows a folder's commands: `show` gets the last list at once (if any),
   * then the fresh one; `failed` gets why the bridge could not list them.
   */
  look(folder: string | undefined, show: (list: CommandsResult, fresh: boolean) => void, failed: (err: unknown) => void): Promise<void> {
    const last = this.cached(folder);
    if (last) show(last, false);
    return this.fresh(folder).then((list) => show(list, true), failed);
  }

  /** Forgets every list (the settings changed). */
  forget(): void {
    this.lists.clear();
  }
}
