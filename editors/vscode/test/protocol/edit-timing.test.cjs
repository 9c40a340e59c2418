// Issue 10, as a user of VS Code sees it (edits applied the way VS Code applies
// them), with the real claude CLI: an editor that never answers applyEdit does
// not keep the task's reply waiting longer than the documented 15 s, and nothing
// of the task comes after its reply; a command that empties a file and then
// writes it is one change, no conflict with the user's unsaved line; a clean
// Latin-1 buffer is not said to have unsaved changes.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

const statuses = (ed, id) => ed.events(id).filter((e) => e.kind === 'status').map((e) => e.message);

h.bridgeTest('an editor that never answers applyEdit: the reply comes, and nothing of the task after it', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'f.txt');
  fs.writeFileSync(file, 'a\nb\nc\nd\ne\nf\n');
  const api = await h.startFakeApi(t, sb, [
    ...['b', 'd', 'f'].map((c) => h.tool('Edit', { file_path: '{{workspace}}/f.txt', old_string: c, new_string: c.toUpperCase() })),
    h.text('ok'),
  ]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  ed.applyEdit = (p) => {
    ed.applyEdits.push(p);
    ed.log.push({ type: 'applyEdit', at: Date.now() });
    return new Promise(() => {}); // never answered
  };
  const t0 = Date.now();
  const reply = await ed.execute('claude.run', { prompt: 'x', taskId: 'hung' });
  const took = Date.now() - t0;
  assert.equal(reply.status, 'completed');
  assert.ok(took < 30000, `the reply took ${took} ms`);
  const atReply = ed.log.length;
  // The last applyEdit went out well before the reply; a carry still running
  // would send its next one within the 10 s applyEdit timeout.
  await h.sleep(11000);
  const after = ed.log.slice(atReply).filter((m) => m.type !== 'progress' && !(m.type === 'event' && m.ev.taskId !== 'hung'));
  assert.deepEqual(after.map((m) => m.type), [], 'messages after the reply');
  // Every change not carried was reported before the reply.
  const st = statuses(ed, 'hung');
  assert.ok(st.some((m) => m.includes('did not reach your buffer before the task ended') || m.includes('failed to apply')), JSON.stringify(st));
  assert.ok(!st.some((m) => m.startsWith('Applied')), JSON.stringify(st));
}, 60000);

h.bridgeTest('a command that empties a file and then writes it: one change, merged with the unsaved line', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'f.txt');
  const text = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n';
  fs.writeFileSync(file, text);
  const api = await h.startFakeApi(t, sb, [
    h.tool('Bash', { command: ": > f.txt; sleep 0.4; printf 'l1\\nl2\\nl3\\nl4\\nl5\\nl6\\nL7\\nl8\\n' >> f.txt", description: 'rewrite' }),
    h.text('ok'),
  ]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  await ed.type(file, { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } }, ' USER');
  const reply = await ed.execute('claude.run', { prompt: 'x', taskId: 'trunc' });
  assert.equal(reply.status, 'completed');
  assert.equal(ed.doc(file).getText(), 'l1 USER\nl2\nl3\nl4\nl5\nl6\nL7\nl8\n');
  assert.equal(ed.log.filter((m) => m.type === 'conflict').length, 0, JSON.stringify(statuses(ed, 'trunc')));
  assert.ok(!statuses(ed, 'trunc').some((m) => m.includes('deleted')), JSON.stringify(statuses(ed, 'trunc')));
});

h.bridgeTest('a clean Latin-1 buffer changed on disk: told to reload, not told it has unsaved changes', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'l1.txt');
  fs.writeFileSync(file, Buffer.from('caf\xe9\nline2\n', 'latin1'));
  const api = await h.startFakeApi(t, sb, [
    h.tool('Bash', { command: "sed -i 's/line2/LINE2/' l1.txt", description: 'sed' }),
    h.text('ok'),
  ]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file, 'café\nline2\n'); // VS Code decoded it with its own encoding
  const reply = await ed.execute('claude.run', { prompt: 'x', taskId: 'latin' });
  assert.equal(reply.status, 'completed');
  const st = statuses(ed, 'latin');
  assert.ok(st.some((m) => m.includes('Reload it')), JSON.stringify(st));
  assert.ok(!st.some((m) => m.includes('unsaved')), JSON.stringify(st));
  assert.equal(ed.doc(file).getText(), 'café\nline2\n');
});
