// Reviewing the agent's edits (issue 13) as the extension does it, against
// the real bridge and claude: the extension's own logic (reviewModel.ts,
// changes.ts, bundled by run.sh into $CLAUDE_BRIDGE_UNIT_DIR) answers
// claude/reviewEdit from a proposal the user changed, and rebuilds the file
// before a task from claude/changes; the bridge must agree with it on what
// the hunks are, what lands on disk and in the open document, and what a
// revert takes back.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();
const dir = process.env.CLAUDE_BRIDGE_UNIT_DIR;
if (!dir) throw new Error('run through test/protocol/run.sh (CLAUDE_BRIDGE_UNIT_DIR is not set)');
const { viewProposal, acceptAnswer } = require(path.join(dir, 'reviewModel.js'));
const { ChangesStore, checkpointText, revertSummary } = require(path.join(dir, 'changes.js'));

const MAIN_GO = h.MAIN_GO; // package main\n\nfunc main() {\n\tprintln("hello")\n}\n
const TWO_CHANGES = {
  file_path: '{{workspace}}/main.go',
  old_string: 'package main\n\nfunc main() {\n\tprintln("hello")',
  new_string: 'package main // reviewed\n\nfunc main() {\n\tprintln("hello, review")',
};
const MY_LINE = '// my unsaved line\n';

/** The proposal as the user leaves it after taking one change back (Reject Hunk, or the diff's revert arrow). */
function takeBack(params, doc, id) {
  const hv = viewProposal(params, doc).hunks.find((x) => x.id === id);
  const hunk = params.hunks.find((x) => x.id === id);
  const lines = doc.split('\n');
  const head = lines.slice(0, hv.line).join('\n');
  const tail = lines.slice(hv.line + hv.count).join('\n');
  return (hv.line > 0 ? head + '\n' : '') + hunk.originalText + tail;
}

async function reviewEditor(t, sb, turns, reviewEdit) {
  const api = await h.startFakeApi(t, sb, turns);
  const ed = new h.Editor(t, sb, api.url, {
    experimental: { claudeBridge: { ask: true, plan: true, reviewEdit: true } },
    initializationOptions: { permissionMode: 'acceptEdits', review: 'beforeWrite', auth: {} },
    reviewEdit,
  });
  await ed.initialize();
  return ed;
}

h.bridgeTest('beforeWrite: a change taken back in the proposal is left out; the rest lands on disk and in the open document, unsaved lines kept', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const seen = [];
  const ed = await reviewEditor(
    t,
    sb,
    [h.tool('Read', { file_path: '{{workspace}}/main.go' }), h.tool('Edit', TWO_CHANGES), h.text('Done.')],
    (params) => {
      seen.push(params);
      // The extension's view of the untouched proposal: two changes, where the bridge says.
      const v = viewProposal(params, params.proposed);
      assert.deepEqual(v.hunks.map((x) => [x.id, x.content]), [['h1', 'proposed'], ['h2', 'proposed']]);
      assert.equal(v.otherEdits, false);
      return acceptAnswer(params, takeBack(params, params.proposed, 'h2'), 'keep the old greeting');
    },
  );
  await ed.open(file);
  await ed.type(file, { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, MY_LINE);
  const reply = await ed.execute('claude.run', { prompt: 'review this', taskId: 'rv1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(seen.length, 1);
  assert.equal(seen[0].original, MAIN_GO + MY_LINE, 'the proposal is made against the open document');
  assert.equal(seen[0].proposed, 'package main // reviewed\n\nfunc main() {\n\tprintln("hello, review")\n}\n' + MY_LINE);
  const reviewed = 'package main // reviewed\n\nfunc main() {\n\tprintln("hello")\n}\n';
  assert.equal(fs.readFileSync(file, 'utf8'), reviewed, 'disk: change 1 only, no unsaved line');
  assert.equal(ed.doc(file).getText(), reviewed + MY_LINE, 'the document: change 1, and the unsaved line kept');
  const ev = ed.events('rv1').find((e) => e.kind === 'review');
  assert.deepEqual([ev.decision, ev.acceptedHunks, ev.rejectedHunks, ev.edited, ev.feedback], ['accept', ['h1'], ['h2'], false, 'keep the old greeting']);
});

h.bridgeTest('beforeWrite: the user\'s own version of the proposal (the extension\'s text answer) is what is written', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  let answer;
  const ed = await reviewEditor(
    t,
    sb,
    [h.tool('Read', { file_path: '{{workspace}}/main.go' }), h.tool('Edit', TWO_CHANGES), h.text('Done.')],
    (params) => {
      const mine = params.proposed.replace('hello, review', 'hello, mine').replace('func main() {', 'func main() { // entry');
      answer = acceptAnswer(params, mine);
      return answer;
    },
  );
  const reply = await ed.execute('claude.run', { prompt: 'review this', taskId: 'rv2' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.ok(answer.text, 'the user changed lines, in a change and beside it: the answer is their text');
  assert.equal(fs.readFileSync(file, 'utf8'), 'package main // reviewed\n\nfunc main() { // entry\n\tprintln("hello, mine")\n}\n');
  const ev = ed.events('rv2').find((e) => e.kind === 'review');
  assert.equal(ev.edited, true);
});

h.bridgeTest('afterTurn: the extension rebuilds the file before the task from claude/changes; Revert Task restores it, an overlapping unsaved edit is reported', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const notes = path.join(sb.workspace, 'notes.txt');
  const api = await h.startFakeApi(t, sb, [
    h.tool('Read', { file_path: '{{workspace}}/main.go' }),
    h.tool('Edit', { file_path: '{{workspace}}/main.go', old_string: 'println("hello")', new_string: 'println("hello, changes")\n\tprintln("more")' }),
    h.tool('Write', { file_path: '{{workspace}}/notes.txt', content: 'new notes\n' }),
    h.text('Done.'),
  ]);
  const ed = new h.Editor(t, sb, api.url, { initializationOptions: { permissionMode: 'acceptEdits', review: 'afterTurn', auth: {} } });
  await ed.initialize();
  await ed.open(file);
  // An unsaved line of the user's above the task's change.
  await ed.type(file, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, MY_LINE);
  const reply = await ed.execute('claude.run', { prompt: 'change things', taskId: 'at1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  const note = ed.log.find((m) => m.type === 'changes' && m.c.taskId === 'at1');
  assert.ok(note, 'claude/changes came');
  assert.deepEqual(reply.changes, note.c, 'the reply carries the same changes');

  const store = new ChangesStore();
  store.set(reply.changes, 'change things');
  const mainChanges = store.file('at1', h.uri(file));
  assert.equal(mainChanges.status, 'modified');
  assert.equal(store.file('at1', h.uri(notes)).status, 'added');
  // The diff's left side: from the disk the bridge listed against, and from
  // the open document with the user's unsaved line (found by a line diff).
  const disk = fs.readFileSync(file, 'utf8');
  assert.deepEqual(checkpointText(disk, mainChanges.hunks), { text: MAIN_GO, mismatched: [] });
  const docText = ed.doc(file).getText();
  assert.equal(docText, MY_LINE + disk);
  assert.deepEqual(checkpointText(docText, mainChanges.hunks, disk), { text: MY_LINE + MAIN_GO, mismatched: [] });

  // An unsaved edit of the user's on a line the task changed: that change cannot be reverted.
  await ed.type(file, { start: { line: 4, character: 1 }, end: { line: 4, character: 1 } }, '// ');
  const r1 = await ed.execute('claude.revert', { taskId: 'at1', uri: h.uri(file) });
  const s1 = revertSummary(r1, (u) => path.basename(new URL(u).pathname));
  assert.equal(s1.complete, false, JSON.stringify(r1));
  assert.match(s1.message, /^Nothing was reverted: main\.go.*overlaps your unsaved changes/, s1.message);
  // The user undoes their edit; the whole task is reverted.
  await ed.type(file, { start: { line: 4, character: 1 }, end: { line: 4, character: 4 } }, '');
  const r2 = await ed.execute('claude.revert', { taskId: 'at1' });
  const s2 = revertSummary(r2, (u) => path.basename(new URL(u).pathname));
  assert.equal(s2.complete, true, JSON.stringify(r2));
  assert.match(s2.message, /^Reverted \d+ changes? in 2 files$/);
  assert.equal(fs.readFileSync(file, 'utf8'), MAIN_GO);
  assert.equal(ed.doc(file).getText(), MY_LINE + MAIN_GO, 'the unsaved line stays');
  assert.equal(fs.existsSync(notes), false, 'the file the task created is gone');
  // Nothing left to review: the listing is empty, or the checkpoint gone.
  const after = await ed.execute('claude.changes', { taskId: 'at1' }).catch((err) => ({ refused: String(err.message) }));
  assert.ok(after.refused || after.files.length === 0, JSON.stringify(after));
});

h.bridgeTest('afterTurn: a task\'s changes outlive the bridge: a new bridge process lists them (the extension lists them again after a reload)', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const api = await h.startFakeApi(t, sb, [
    h.tool('Read', { file_path: '{{workspace}}/main.go' }),
    h.tool('Edit', { file_path: '{{workspace}}/main.go', old_string: 'println("hello")', new_string: 'println("hello, later")' }),
    h.text('Done.'),
  ]);
  const opts = { initializationOptions: { permissionMode: 'acceptEdits', review: 'afterTurn', auth: {} } };
  const first = new h.Editor(t, sb, api.url, opts);
  await first.initialize();
  const reply = await first.execute('claude.run', { prompt: 'change it', taskId: 'kept1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  await first.shutdown();

  const second = new h.Editor(t, sb, api.url, opts);
  await second.initialize();
  const listed = await second.execute('claude.changes', { taskId: 'kept1' });
  assert.deepEqual(listed, reply.changes, 'the same changes, listed by the new process');
  const store = new ChangesStore();
  store.set(listed);
  assert.deepEqual(checkpointText(fs.readFileSync(file, 'utf8'), store.file('kept1', h.uri(file)).hunks), { text: MAIN_GO, mismatched: [] });
  const r = await second.execute('claude.revert', { taskId: 'kept1' });
  assert.equal(revertSummary(r, (u) => path.basename(new URL(u).pathname)).complete, true, JSON.stringify(r));
  assert.equal(fs.readFileSync(file, 'utf8'), MAIN_GO);
});
