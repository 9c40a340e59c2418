// The change listeners of the extension's pure stores (tasks, questions,
// reviews, changes), and the store of what the bridge waits on the user for:
// no vscode, so the stores stay unit-testable.

export class Listeners<A extends unknown[] = []> {
  private readonly set = new Set<(...args: A) => void>();

  /** Adds a listener; dispose() removes it. */
  add(l: (...args: A) => void): { dispose(): void } {
    this.set.add(l);
    return { dispose: () => this.set.delete(l) };
  }

  /** Calls every listener; a broken one does not stop the others. */
  fire(...args: A): void {
    for (const l of [...this.set]) {
      try {
        l(...args);
      } catch {
        // a broken listener must not stop the others
      }
    }
  }
}

/**
 * Things the bridge waits on the user for (questions, reviews), each with a
 * callback that ends it once: answered, or withdrawn by the bridge. Numbered
 * 1, 2, … in this window; kept in the order they came. An item lives no
 * longer than its call and its task: withdrawCall, withdrawTask and
 * withdrawAll end it whatever the bridge sends.
 */
export abstract class Waiting<T extends { id: number }, E> {
  private nextId = 1;
  private readonly open = new Map<number, { item: T; done: (end: E) => void }>();
  private readonly listeners = new Listeners();

  /** How an item ends when the bridge no longer waits for it. */
  protected abstract readonly withdrawn: E;

  /** The task that asks and the tool call it asks about (absent from a bridge older than them). */
  protected abstract callOf(item: T): { taskId?: string; toolUseId?: string };

  onDidChange(l: () => void): { dispose(): void } {
    return this.listeners.add(l);
  }

  protected fire(): void {
    this.listeners.fire();
  }

  protected newId(): number {
    return this.nextId++;
  }

  /** Adds an item; `done` is called once, when it ends. */
  protected put(item: T, done: (end: E) => void): T {
    this.open.set(item.id, { item, done });
    this.fire();
    return item;
  }

  /** Ends an item; false when it is no longer open. */
  protected end(id: number, end: E): boolean {
    const o = this.open.get(id);
    if (!o) return false;
    this.open.delete(id);
    o.done(end);
    this.fire();
    return true;
  }

  get(id: number): T | undefined {
    return this.open.get(id)?.item;
  }

  /** The open items, oldest first. */
  pending(): T[] {
    return [...this.open.values()].map((o) => o.item);
  }

  /** The open items of a task, oldest first. */
  forTask(taskId: string): T[] {
    return this.pending().filter((i) => this.callOf(i).taskId === taskId);
  }

  /** The bridge no longer waits (it cancelled the request): the item goes away unanswered; false when it is no longer open. */
  withdraw(id: number): boolean {
    return this.end(id, this.withdrawn);
  }

  /**
   * The task ended (its result, its reply, its failure): none of its items
   * waits any more, whatever the bridge sent. Returns how many went.
   */
  withdrawTask(taskId: string): number {
    const ids = this.forTask(taskId).map((i) => i.id);
    for (const id of ids) this.withdraw(id);
    return ids.length;
  }

  /** The call was decided (its permission, question, plan or review event): its item goes. */
  withdrawCall(taskId: string, toolUseId: string): void {
    for (const i of this.forTask(taskId)) if (this.callOf(i).toolUseId === toolUseId) this.withdraw(i.id);
  }

  /** Every item goes (the bridge stopped). */
  withdrawAll(): void {
    for (const i of this.pending()) this.withdraw(i.id);
  }
}
