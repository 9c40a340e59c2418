// Reviewing Claude's edits (issue 13) as the extension will do it over
// vscode-jsonrpc: an editor that declares experimental.claudeBridge.reviewEdit
// answers claude/reviewEdit per hunk (review beforeWrite), and takes a task's
// changes back with claude.revert after claude/changes (afterTurn).

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

const SIX = 'line1\nline2\nline3\nline4\nline5\nline6\n';

function twoHunkEdit(file) {
  return h.tool('Edit', { file_path: file, old_string: 'line2\nline3\nline4\nline5', new_string: 'LINE2\nline3\nline4\nLINE5' });
}

h.bridgeTest('claude/reviewEdit answered with one hunk of two', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'a.txt');
  fs.writeFileSync(file, SIX);
  const api = await h.startFakeApi(t, sb, [twoHunkEdit(file), h.text('Edited.')]);
  const ed = new h.Editor(t, sb, api.url, {
    experimental: { claudeBridge: { reviewEdit: true } },
    initializationOptions: { permissionMode: 'acceptEdits', review: 'beforeWrite', auth: {} },
  });
  const asked = [];
  ed.conn.onRequest('claude/reviewEdit', (params) => {
    asked.push(params);
    assert.equal(fs.readFileSync(file, 'utf8'), SIX, 'nothing is written while the user reviews');
    return { decision: 'accept', acceptedHunks: ['h1'], feedback: 'keep line5' };
  });
  await ed.initialize();
  await ed.open(file);
  const reply = await ed.execute('claude.run', { prompt: 'edit a.txt', taskId: 'rv1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));

  assert.equal(asked.length, 1);
  const p = asked[0];
  assert.equal(p.taskId, 'rv1');
  assert.equal(p.uri, h.uri(file));
  assert.equal(p.tool, 'Edit');
  assert.equal(p.original, SIX);
  assert.equal(p.proposed, 'line1\nLINE2\nline3\nline4\nLINE5\nline6\n');
  assert.deepEqual(p.hunks, [
    { id: 'h1', range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } }, originalText: 'line2\n', proposedText: 'LINE2\n' },
    { id: 'h2', range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } }, originalText: 'line5\n', proposedText: 'LINE5\n' },
  ]);
  const want = 'line1\nLINE2\nline3\nline4\nline5\nline6\n';
  assert.equal(fs.readFileSync(file, 'utf8'), want);
  await h.waitFor(() => ed.doc(file).getText() === want, 10000, 'the kept hunk in the document');
  const review = ed.events('rv1').find((e) => e.kind === 'review');
  assert.deepEqual(
    { decision: review.decision, acceptedHunks: review.acceptedHunks, rejectedHunks: review.rejectedHunks, feedback: review.feedback },
    { decision: 'accept', acceptedHunks: ['h1'], rejectedHunks: ['h2'], feedback: 'keep line5' },
  );
});

h.bridgeTest('claude/changes after an afterTurn task, then claude.revert of one hunk', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'a.txt');
  fs.writeFileSync(file, SIX);
  const api = await h.startFakeApi(t, sb, [twoHunkEdit(file), h.text('Edited.')]);
  const ed = new h.Editor(t, sb, api.url, { initializationOptions: { permissionMode: 'acceptEdits', review: 'afterTurn', auth: {} } });
  const changes = [];
  ed.conn.onNotification('claude/changes', (c) => changes.push(c));
  await ed.initialize();
  await ed.open(file);
  const reply = await ed.execute('claude.run', { prompt: 'edit a.txt', taskId: 'at1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  await h.waitFor(() => changes.length === 1, 10000, 'claude/changes');
  assert.deepEqual(reply.changes, changes[0]);
  const [f] = changes[0].files;
  assert.equal(f.uri, h.uri(file));
  assert.equal(f.status, 'modified');
  assert.deepEqual(
    f.hunks.map((x) => [x.id, x.range.start.line, x.originalText, x.newText]),
    [
      ['f1h1', 1, 'line2\n', 'LINE2\n'],
      ['f1h2', 4, 'line5\n', 'LINE5\n'],
    ],
  );
  const tasks = await ed.execute('claude.tasks', {});
  assert.equal(tasks[0].unreviewedChanges, true);

  const r = await ed.execute('claude.revert', { taskId: 'at1', hunks: ['f1h2'] });
  assert.deepEqual(r.files.map((x) => [x.uri, x.reverted, x.notReverted, x.restored]), [[h.uri(file), ['f1h2'], [], false]]);
  const want = 'line1\nLINE2\nline3\nline4\nline5\nline6\n';
  assert.equal(fs.readFileSync(file, 'utf8'), want);
  await h.waitFor(() => ed.doc(file).getText() === want, 10000, 'the revert in the document');
  const left = await ed.execute('claude.changes', { taskId: 'at1' });
  assert.deepEqual(left.files[0].hunks.map((x) => x.id), ['f1h1']);
  const acc = await ed.execute('claude.accept', { taskId: 'at1' });
  assert.deepEqual(acc.accepted, [h.uri(file)]);
});
