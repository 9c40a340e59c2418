// Issue 10: files as Windows tools write them, and clients that spell or
// support things differently, with the real claude CLI. Edits are applied the
// way VS Code applies them (vscode-languageserver-textdocument; the text of a
// CRLF file keeps "\r\n", a byte-order mark is never in the text, inserted
// line breaks become the document's).

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

const BOM = '\ufeff';

async function runEdit(t, { name, disk, shown, turns, expectDisk, expectShown, initialize }) {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, name);
  fs.writeFileSync(file, disk);
  const api = await h.startFakeApi(t, sb, turns(`{{workspace}}/${name}`));
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize(initialize);
  await ed.open(file, shown);
  const reply = await ed.execute('claude.run', { prompt: `edit ${name}`, taskId: 'le' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(fs.readFileSync(file, 'utf8'), expectDisk, 'claude wrote the disk');
  assert.equal(ed.doc(file).getText(), expectShown, 'the document');
  assert.equal(ed.log.filter((m) => m.type === 'conflict').length, 0, 'no conflict');
  const statuses = ed.events('le').filter((e) => e.kind === 'status').map((e) => e.message);
  assert.ok(statuses.some((m) => m.startsWith('Applied to the open buffer')), JSON.stringify(statuses));
  return { ed, file, reply };
}

const editTurns = (oldString, newString) => (file) => [
  h.tool('Edit', { file_path: file, old_string: oldString, new_string: newString }),
  h.text('Edited.'),
];

h.bridgeTest('a CRLF document gets the edit with CRLF, cleanly', async (t) => {
  const { ed, file } = await runEdit(t, {
    name: 'Program.cs',
    disk: 'class A\r\n{\r\n    int x = 1;\r\n}\r\n',
    turns: editTurns('int x = 1;', 'int x = 2;\n    int y = 3;'),
    expectDisk: 'class A\r\n{\r\n    int x = 2;\r\n    int y = 3;\r\n}\r\n',
    expectShown: 'class A\r\n{\r\n    int x = 2;\r\n    int y = 3;\r\n}\r\n',
  });
  // One small edit, not the whole file.
  const edits = ed.applyEdits.flatMap((p) => p.edit.documentChanges.flatMap((c) => c.edits));
  assert.ok(edits.length >= 1 && edits.every((e) => e.range.start.line >= 2), JSON.stringify(edits));
  assert.equal(ed.doc(file).version, 2);
});

h.bridgeTest('a UTF-8 file with a byte-order mark: the edit lands, the mark stays on disk', async (t) => {
  await runEdit(t, {
    name: 'bom.txt',
    disk: BOM + 'x\ny\n',
    shown: 'x\ny\n',
    turns: editTurns('x', 'X'),
    expectDisk: BOM + 'X\ny\n',
    expectShown: 'X\ny\n',
  });
});

h.bridgeTest("claude's Write with LF over a CRLF document: the document keeps CRLF", async (t) => {
  await runEdit(t, {
    name: 'notes.txt',
    disk: 'l1\r\nl2\r\n',
    turns: (file) => [h.tool('Read', { file_path: file }), h.tool('Write', { file_path: file, content: 'w1\nw2\n' }), h.text('Written.')],
    expectDisk: 'w1\nw2\n',
    expectShown: 'w1\r\nw2\r\n',
  });
});

h.bridgeTest('a client without workspaceEdit.documentChanges gets changes, and they land', async (t) => {
  const { ed } = await runEdit(t, {
    name: 'main.go',
    disk: h.MAIN_GO,
    turns: editTurns('println("hello")', 'println("plain")'),
    expectDisk: h.MAIN_GO.replace('hello', 'plain'),
    expectShown: h.MAIN_GO.replace('hello', 'plain'),
    initialize: { capabilities: { workspace: { applyEdit: true }, window: { workDoneProgress: true } } },
  });
  assert.ok(ed.applyEdits.length >= 1 && ed.applyEdits.every((p) => p.edit.changes && !p.edit.documentChanges), JSON.stringify(ed.applyEdits));
});

h.bridgeTest('rootUri in the RFC 8089 short form file:/path, without workspaceFolders', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('Here.')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize({ rootUri: 'file:' + sb.workspace, workspaceFolders: null });
  const reply = await ed.execute('claude.run', { prompt: 'where', taskId: 'short' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(ed.events('short').find((e) => e.kind === 'started').cwd, fs.realpathSync(sb.workspace));
  assert.equal(ed.log.filter((m) => m.type === 'showMessage' && /workspace folder/.test(m.m.message)).length, 0);
});
