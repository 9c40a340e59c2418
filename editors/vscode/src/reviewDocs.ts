// The documents the review diffs show beside the real files, all in memory:
// claude's proposal of an edit held for review (scheme claude-proposal,
// editable: a FileSystemProvider, so the diff editor lets the user change it
// and revert hunks with its own arrows), and read-only texts (scheme
// claude-original: the file as the user had it when claude asked, or as it
// was before a task: its checkpoint). Their paths end with the file's name,
// so VS Code picks the file's language.

import * as vscode from 'vscode';

export const PROPOSAL_SCHEME = 'claude-proposal';
export const ORIGINAL_SCHEME = 'claude-original';

/** The last part of a URI's path: the file's name. */
export function baseName(uri: string | vscode.Uri): string {
  const p = typeof uri === 'string' ? vscode.Uri.parse(uri).path : uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || p;
}

/** An in-memory file system of proposals: one file per review, written by the user's saves. */
class ProposalFs implements vscode.FileSystemProvider {
  readonly files = new Map<string, { data: Uint8Array; mtime: number; ctime: number }>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const f = this.files.get(uri.toString());
    if (f) return { type: vscode.FileType.File, ctime: f.ctime, mtime: f.mtime, size: f.data.byteLength };
    const dir = uri.toString().replace(/\/?$/, '/');
    if (uri.path === '/' || [...this.files.keys()].some((k) => k.startsWith(dir))) {
      return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    }
    throw vscode.FileSystemError.FileNotFound(uri);
  }

  readDirectory(uri: vscode.Uri): [string, vscode.FileType][] {
    const dir = uri.toString().replace(/\/?$/, '/');
    const out = new Map<string, vscode.FileType>();
    for (const k of this.files.keys()) {
      if (!k.startsWith(dir)) continue;
      const rest = k.slice(dir.length);
      const i = rest.indexOf('/');
      out.set(i < 0 ? rest : rest.slice(0, i), i < 0 ? vscode.FileType.File : vscode.FileType.Directory);
    }
    return [...out];
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const f = this.files.get(uri.toString());
    if (!f) throw vscode.FileSystemError.FileNotFound(uri);
    return f.data;
  }

  writeFile(uri: vscode.Uri, content: Uint8Array): void {
    const now = Date.now();
    const old = this.files.get(uri.toString());
    // Only files a review put here: a save elsewhere under the scheme has no review to go to.
    if (!old) throw vscode.FileSystemError.NoPermissions(uri);
    this.files.set(uri.toString(), { data: content, ctime: old.ctime, mtime: Math.max(now, old.mtime + 1) });
    this.changed.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  put(uri: vscode.Uri, text: string): void {
    const now = Date.now();
    const existed = this.files.has(uri.toString());
    this.files.set(uri.toString(), { data: new TextEncoder().encode(text), ctime: now, mtime: now });
    this.changed.fire([{ type: existed ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri }]);
  }

  forget(uri: vscode.Uri): void {
    if (this.files.delete(uri.toString())) this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  createDirectory(): void {
    // Directories are implied by the files.
  }

  delete(uri: vscode.Uri): void {
    this.forget(uri);
  }

  rename(oldUri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(oldUri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Read-only texts by URI (a TextDocumentContentProvider's documents cannot be edited). */
class OriginalTexts implements vscode.TextDocumentContentProvider {
  readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  put(uri: vscode.Uri, text: string): void {
    const key = uri.toString();
    if (this.texts.get(key) === text) return;
    const had = this.texts.has(key);
    this.texts.set(key, text);
    if (had) this.changed.fire(uri);
  }

  forget(uri: vscode.Uri): void {
    this.texts.delete(uri.toString());
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class ReviewDocs implements vscode.Disposable {
  private readonly fs = new ProposalFs();
  private readonly originals = new OriginalTexts();
  private readonly subs: vscode.Disposable[];

  constructor() {
    this.subs = [
      vscode.workspace.registerFileSystemProvider(PROPOSAL_SCHEME, this.fs, { isCaseSensitive: true }),
      vscode.workspace.registerTextDocumentContentProvider(ORIGINAL_SCHEME, this.originals),
      this.fs,
      this.originals,
    ];
  }

  /**
   * A document's URI: claude-proposal:/Claude's proposal/<path in the
   * workspace>?<key> (or claude-original:/<what>/…): the path reads well in
   * the breadcrumbs and ends with the file's name (its language); the query
   * tells documents of the same file apart.
   */
  private uri(scheme: string, what: string, key: string, fileUri: string): vscode.Uri {
    let rel: string;
    try {
      rel = vscode.workspace.asRelativePath(vscode.Uri.parse(fileUri), false);
    } catch {
      rel = baseName(fileUri);
    }
    return vscode.Uri.from({ scheme, path: `/${what}/${rel.replace(/^\/+/, '')}`, query: key });
  }

  /** The proposal of review `id`. */
  proposalUri(id: number, fileUri: string): vscode.Uri {
    return this.uri(PROPOSAL_SCHEME, "Claude's proposal", `review=${id}`, fileUri);
  }

  /** A read-only text of a file: `what` names it in the breadcrumbs ("current", "before the task"); `key` is unique. */
  originalUri(what: string, key: string, fileUri: string): vscode.Uri {
    return this.uri(ORIGINAL_SCHEME, what, key, fileUri);
  }

  setProposal(uri: vscode.Uri, text: string): void {
    this.fs.put(uri, text);
  }

  setOriginal(uri: vscode.Uri, text: string): void {
    this.originals.put(uri, text);
  }

  hasOriginal(uri: vscode.Uri): boolean {
    return this.originals.texts.has(uri.toString());
  }

  /** The proposal as the user has it now: the open document (unsaved changes included), else the stored text. */
  proposalText(uri: vscode.Uri): string | undefined {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc) return doc.getText();
    const f = this.fs.files.get(uri.toString());
    return f ? new TextDecoder().decode(f.data) : undefined;
  }

  forget(...uris: vscode.Uri[]): void {
    for (const u of uris) {
      if (u.scheme === PROPOSAL_SCHEME) this.fs.forget(u);
      else this.originals.forget(u);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/** Whether a tab shows one of some URIs, alone or as a side of a diff. */
function shows(t: vscode.Tab, keys: Set<string>): boolean {
  const i = t.input;
  if (i instanceof vscode.TabInputTextDiff) return keys.has(i.original.toString()) || keys.has(i.modified.toString());
  if (i instanceof vscode.TabInputText) return keys.has(i.uri.toString());
  return false;
}

/** The tabs that show a URI, alone or as a side of a diff. */
export function tabsOf(...uris: vscode.Uri[]): vscode.Tab[] {
  const keys = new Set(uris.map((u) => u.toString()));
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => shows(t, keys));
}

/**
 * Closes the tabs of a proposal without VS Code asking to save it (the
 * review has its text already): the active tab is reverted and closed at
 * once; a proposal the user changed that shows elsewhere is saved into
 * memory first (a save runs VS Code's save participants: slower). Resolves
 * to what happened, for the log.
 */
export async function closeQuietly(proposal: vscode.Uri, ...others: vscode.Uri[]): Promise<string> {
  const done: string[] = [];
  const active = vscode.window.tabGroups.activeTabGroup.activeTab;
  if (active && shows(active, new Set([proposal, ...others].map((u) => u.toString())))) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor').then(
      () => done.push('active tab reverted and closed'),
      (err) => done.push(`revert and close failed: ${String(err)}`),
    );
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === proposal.toString());
  const tabs = tabsOf(proposal, ...others);
  if (doc?.isDirty && tabs.length > 0) done.push(await doc.save().then((ok) => (ok ? 'saved' : 'not saved'), (err) => `save failed: ${String(err)}`));
  if (tabs.length > 0) done.push(`${tabs.length} tab(s) closed: ${await vscode.window.tabGroups.close(tabs, true).then(String, (err) => `failed: ${String(err)}`)}`);
  return done.join(', ') || 'no tab';
}
