// Test-only: the review scenario (review.test.mjs), run inside VS Code's
// extension host. It starts the tasks with the extension's own command and
// reads what VS Code ends up with (the open documents, the files on disk,
// the extension's stores); the driver outside clicks the review's UI as a
// person would: the CodeLens of a change, the diff editor's title actions,
// the feedback box, the Claude Changes tree, the modal.
'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

/** What a review looked like when it opened (for the driver and the checks). */
function describe(r) {
  return { id: r.id, uri: r.params.uri, tool: r.params.tool, hunks: r.params.hunks.map((h) => h.id), original: r.params.original, proposed: r.params.proposed };
}

/** The tabs of reviews (their diff editors). */
function reviewTabs() {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => /Claude's Proposal/.test(t.label));
}

/**
 * Two tasks' edits at once: the second waits behind the first (the status
 * bar says +1, one editor open); accepting the first (the command, as a
 * keybinding would) opens the second by itself; cancelling the second's
 * task withdraws its review, which closes.
 */
async function queue(s, api, { step, waitFor }) {
  step('queue-start');
  const runA = vscode.commands.executeCommand('claudeBridge.runTask', { prompt: s.queuePromptA, review: 'beforeWrite' });
  await waitFor(() => api.reviews.pending().length === 1, 60000, 'the first review');
  const runB = vscode.commands.executeCommand('claudeBridge.runTask', { prompt: s.queuePromptB, review: 'beforeWrite' });
  await waitFor(() => api.reviews.pending().length === 2, 60000, 'two reviews waiting');
  const [a, b] = api.reviews.pending();
  await waitFor(() => reviewTabs().length > 0, 30000, 'the first review\'s editor');
  const out = { first: describe(a), second: describe(b), tabsWhileTwo: reviewTabs().map((t) => t.label) };
  step('queue-two');
  await waitFor(() => fs.existsSync(path.join(s.e2eDir, 'queue-seen')), 60000, 'the driver to see the queue');
  out.accepted = await vscode.commands.executeCommand('claudeBridge.review.accept', a.id);
  await waitFor(() => reviewTabs().some((t) => t.label.startsWith('queue-b.txt')), 30000, 'the second review to open by itself');
  out.tabsAfterFirst = reviewTabs().map((t) => t.label);
  out.cancelled = await vscode.commands.executeCommand('claudeBridge.cancelTask', b.params.taskId);
  const [resA, resB] = await Promise.all([runA, runB]);
  await waitFor(() => reviewTabs().length === 0 && api.reviews.pending().length === 0, 15000, 'the withdrawn review to close').catch(() => undefined);
  Object.assign(out, {
    statusA: resA.status,
    statusB: resB.status,
    tabsAfter: reviewTabs().map((t) => t.label),
    pendingAfter: api.reviews.pending().length,
    fileA: fs.existsSync(s.queueFileA) ? fs.readFileSync(s.queueFileA, 'utf8') : null,
    fileB: fs.existsSync(s.queueFileB),
    reviewEventB: api.store.get(resB.taskId).events.filter((e) => e.kind === 'review'),
  });
  step('queue-end');
  await waitFor(() => fs.existsSync(path.join(s.e2eDir, 'queue-end-seen')), 60000, 'the driver to see the status bar after the queue');
  return out;
}

async function scenario(s, { step, waitFor }) {
  const out = { ok: false };
  const ext = vscode.extensions.getExtension('claude-bridge.claude-bridge');
  if (!ext) throw new Error('the claude-bridge.claude-bridge extension is not installed');
  const api = await ext.activate();
  await waitFor(() => api.bridge.running, 30000, 'the bridge to start');
  step('bridge-running');

  const main = vscode.Uri.file(s.main);
  const doc = await vscode.workspace.openTextDocument(main);
  await vscode.window.showTextDocument(doc, { preview: false });

  // 1. beforeWrite: each edit waits in the diff editor. The driver rejects
  //    the second change of main.go with its CodeLens, accepts the rest
  //    from the title with feedback, then edits the proposal of a new file
  //    and accepts that.
  const reviews = [];
  const sub = api.reviews.onDidChange(() => {
    for (const r of api.reviews.pending()) {
      if (reviews.some((x) => x.id === r.id)) continue;
      reviews.push({ ...describe(r), at: Date.now() });
      step('review', { id: r.id, uri: r.params.uri, tool: r.params.tool, hunks: r.params.hunks.length });
    }
  });
  step('before-write-start');
  const first = await vscode.commands.executeCommand('claudeBridge.runTask', { prompt: s.reviewPrompt, review: 'beforeWrite' });
  sub.dispose();
  // The last review's editor closes once it is answered (the task may end first).
  await waitFor(() => reviewTabs().length === 0, 15000, 'the review editors to close').catch(() => undefined);
  out.beforeWrite = {
    run: first,
    reviews,
    events: api.store.get(first.taskId).events.filter((e) => e.kind === 'review'),
    mainDoc: doc.getText(),
    mainDisk: fs.readFileSync(s.main, 'utf8'),
    notesDisk: fs.existsSync(s.newFile) ? fs.readFileSync(s.newFile, 'utf8') : null,
    openReviews: api.reviews.pending().length,
    reviewTabs: reviewTabs().map((t) => t.label),
  };
  step('before-write-end', { status: first.status });
  // The user saves main.go (the carried edit left it modified).
  await doc.save();

  out.queue = await queue(s, api, { step, waitFor });

  // 2. afterTurn: an unsaved edit of the user's at the top of main.go, then
  //    a task that edits main.go and util.go and runs sed on notes.txt. The
  //    driver opens its changes from the end notification and clicks
  //    Revert Task in the tree (and confirms).
  const ed = await vscode.window.showTextDocument(doc, { preview: false });
  await ed.edit((b) => b.insert(new vscode.Position(0, 0), s.userLine));
  out.userEditDirty = doc.isDirty;
  step('after-turn-start');
  const second = await vscode.commands.executeCommand('claudeBridge.runTask', s.changesPrompt);
  const kept = api.changes.get(second.taskId);
  out.afterTurn = {
    run: { ...second, changes: second.changes },
    listed: kept && kept.files.map((f) => ({ uri: f.uri, status: f.status, hunks: f.hunks.length })),
    mainDocBeforeRevert: doc.getText(),
    utilDiskBeforeRevert: fs.readFileSync(s.util, 'utf8'),
    notesDiskBeforeRevert: fs.readFileSync(s.notes, 'utf8'),
  };
  step('after-turn-end', { status: second.status, taskId: second.taskId });
  // Once the driver looked at the tree, the task's transcript (its changes at the end, with their buttons).
  await waitFor(() => fs.existsSync(path.join(s.e2eDir, 'changes-seen')), 120000, 'the driver to look at the changes');
  await vscode.commands.executeCommand('claudeBridge.showTranscript', second.taskId);
  step('transcript-open');
  await waitFor(() => fs.existsSync(path.join(s.e2eDir, 'transcript-seen')), 120000, 'the driver to look at the transcript');
  for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
    if (tab.input instanceof vscode.TabInputWebview) await vscode.window.tabGroups.close(tab);
  }
  step('transcript-closed');
  // The driver reverts the task from the tree.
  await waitFor(() => !api.changes.get(second.taskId), 120000, 'the task\'s changes to be reverted from the tree');
  // The revert reaches the open document through the bridge's applyEdit: wait for it.
  await waitFor(() => doc.getText() === s.userLine + s.mainBefore, 30000, 'main.go to read as before the task, with the user\'s line');
  out.afterRevert = {
    mainDoc: doc.getText(),
    mainDirty: doc.isDirty,
    mainDisk: fs.readFileSync(s.main, 'utf8'),
    utilDisk: fs.readFileSync(s.util, 'utf8'),
    notesDisk: fs.readFileSync(s.notes, 'utf8'),
    tasks: (await api.bridge.tasks()).filter((t) => t.taskId === second.taskId),
  };
  step('reverted');

  out.ok = true;
  return out;
}

module.exports = { scenario };
