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
 * 1, 2, … in this window; kept in the order they came.
 */
export class Waiting<T extends { id: number }, E> {
  private nextId = 1;
  private readonly open = new Map<number, { item: T; done: (end: E) => void }>();
  private readonly listeners = new Listeners();

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
}
