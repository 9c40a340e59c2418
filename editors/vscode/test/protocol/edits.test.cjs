// Issue #4: the agent's edits carried into open documents with
// workspace/applyEdit, applied the way VS Code applies them
// (vscode-languageserver-textdocument, UTF-16 positions, versioned edits,
// a didChange after each applied edit).

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

function editScript(file, oldString, newString, done = 'Edited.') {
  return [
    h.tool('Read', { file_path: `{{workspace}}/${file}` }),
    h.tool('Edit', { file_path: `{{workspace}}/${file}`, old_string: oldString, new_string: newString }),
    h.text(done),
  ];
}

h.bridgeTest('a clean open document ends equal to the file on disk', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const api = await h.startFakeApi(t, sb, editScript('main.go', 'println("hello")', 'println("hello, bridge")'));
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  const reply = await ed.execute('claude.run', { prompt: 'greet the bridge', taskId: 'clean' }, 'clean-token');
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  const disk = fs.readFileSync(file, 'utf8');
  assert.match(disk, /println\("hello, bridge"\)/);
  assert.ok(ed.applyEdits.length >= 1, 'the bridge sent workspace/applyEdit');
  assert.equal(ed.doc(file).getText(), disk);
  assert.ok(ed.doc(file).version > 1);
  assert.equal(ed.log.filter((m) => m.type === 'conflict').length, 0);
});

h.bridgeTest('UTF-16 positions: an edit after characters outside the BMP lands in the right place', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  fs.writeFileSync(file, 'package main\n\n// 😀 é 𝄞 ✓\nfunc main() {\n\tprintln("😀😀 héllo 𝄞 world")\n}\n');
  const api = await h.startFakeApi(t, sb, editScript('main.go', 'world")', 'bridge 🚀")'));
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  const reply = await ed.execute('claude.run', { prompt: 'rename world', taskId: 'utf16' });
  assert.equal(reply.status, 'completed');
  const disk = fs.readFileSync(file, 'utf8');
  assert.match(disk, /println\("😀😀 héllo 𝄞 bridge 🚀"\)/);
  assert.equal(ed.doc(file).getText(), disk);
});

h.bridgeTest('a dirty document keeps the user\'s unsaved line and gets the agent\'s edit', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const api = await h.startFakeApi(t, sb, editScript('main.go', 'println("hello")', 'println("hello, bridge")'));
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  // The user adds a line at the end and does not save.
  const lines = h.MAIN_GO.split('\n').length - 1; // 5 lines, then the empty last line
  await ed.type(file, { start: { line: lines, character: 0 }, end: { line: lines, character: 0 } }, '// unsaved user note\n');
  assert.equal(ed.doc(file).getText(), h.MAIN_GO + '// unsaved user note\n');

  const reply = await ed.execute('claude.run', { prompt: 'greet the bridge', taskId: 'dirty' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  const disk = fs.readFileSync(file, 'utf8');
  assert.equal(disk, h.MAIN_GO.replace('println("hello")', 'println("hello, bridge")'), 'the disk has the agent\'s edit only');
  assert.equal(ed.doc(file).getText(), disk + '// unsaved user note\n', 'the buffer has both');
  assert.equal(ed.log.filter((m) => m.type === 'conflict').length, 0);
});

h.bridgeTest('an overlapping unsaved change leaves the document untouched and sends claude/editConflict', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const api = await h.startFakeApi(t, sb, editScript('main.go', 'println("hello")', 'println("hello, bridge")'));
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  await ed.open(file);
  // The user rewrites the very line the agent will edit, unsaved.
  const line = 3;
  const old = h.MAIN_GO.split('\n')[line];
  await ed.type(file, { start: { line, character: 0 }, end: { line, character: old.length } }, '\tprintln("hello, user")');
  const userText = ed.doc(file).getText();
  const versionBefore = ed.doc(file).version;

  const reply = await ed.execute('claude.run', { prompt: 'greet the bridge', taskId: 'overlap' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.match(fs.readFileSync(file, 'utf8'), /println\("hello, bridge"\)/, 'the agent still wrote the disk');
  assert.equal(ed.doc(file).getText(), userText, 'the buffer is untouched');
  assert.equal(ed.doc(file).version, versionBefore);
  const conflicts = ed.log.filter((m) => m.type === 'conflict').map((m) => m.c);
  assert.equal(conflicts.length, 1, JSON.stringify(ed.log.filter((m) => m.type !== 'progress')));
  assert.equal(conflicts[0].taskId, 'overlap');
  assert.equal(conflicts[0].uri, h.uri(file));
  assert.equal(typeof conflicts[0].message, 'string');
  assert.ok(conflicts[0].message.length > 0);
  const shown = ed.log.filter((m) => m.type === 'showMessage').map((m) => m.m.message);
  assert.ok(
    shown.some((msg) => msg.includes('main.go')),
    `a window/showMessage names the file: ${JSON.stringify(shown)}`,
  );
  // The conflict arrives before the reply.
  const conflictAt = ed.indexOf((m) => m.type === 'conflict');
  const replyAt = ed.indexOf((m) => m.type === 'reply' && m.command === 'claude.run');
  assert.ok(conflictAt < replyAt);
});
