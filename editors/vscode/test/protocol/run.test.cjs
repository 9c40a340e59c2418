// initialize, claude.run with progress and claude/event ordering, and the
// other commands the extension calls.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

// Every command of the protocol (editors/protocol.schema.json, generated from
// server/lspext), not a list of its own that falls behind.
const COMMANDS = Object.keys(require('../../../protocol.schema.json').$defs.commands.$defs);

h.bridgeTest('initialize announces the commands, incremental sync and workspace folders; shutdown and exit end the bridge with 0', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('unused')]);
  const ed = new h.Editor(t, sb, api.url);
  const res = await ed.initialize();
  const caps = res.capabilities;
  assert.deepEqual([...caps.executeCommandProvider.commands].sort(), [...COMMANDS].sort());
  const sync = caps.textDocumentSync;
  assert.equal(typeof sync, 'object', 'textDocumentSync is an options object');
  assert.equal(sync.openClose, true);
  assert.equal(sync.change, 2, 'incremental change');
  assert.ok(sync.save === true || (typeof sync.save === 'object' && sync.save !== null), 'save notifications');
  assert.equal(caps.workspace?.workspaceFolders?.supported, true);
  assert.ok(caps.workspace.workspaceFolders.changeNotifications, 'workspace folder change notifications');
  const { code } = await ed.shutdown();
  assert.equal(code, 0);
});

h.bridgeTest('claude.run with the client\'s workDoneToken: begin, reports, end, gapless events, reply after both', async (t) => {
  const sb = h.makeSandbox(t);
  const file = path.join(sb.workspace, 'main.go');
  const api = await h.startFakeApi(t, sb, [
    h.tool('Read', { file_path: '{{workspace}}/main.go' }),
    h.tool('Edit', { file_path: '{{workspace}}/main.go', old_string: 'println("hello")', new_string: 'println("hello, bridge")' }),
    h.text('Edited main.go to greet the bridge.'),
  ]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  const token = 'vscode-progress-1';
  const reply = await ed.execute('claude.run', { prompt: 'make main.go greet the bridge', taskId: 'vscode-t1' }, token);

  assert.equal(reply.taskId, 'vscode-t1');
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(reply.isError, false);
  assert.equal(reply.result, 'Edited main.go to greet the bridge.');
  assert.equal(typeof reply.sessionId, 'string');
  assert.ok(reply.sessionId.length > 0);
  assert.equal(typeof reply.durationMs, 'number');
  assert.equal(typeof reply.numTurns, 'number');
  assert.equal(typeof reply.costUsd, 'number');
  assert.deepEqual(reply.editedFiles, [h.uri(file)]);
  assert.match(fs.readFileSync(file, 'utf8'), /println\("hello, bridge"\)/);

  // No create: the client gave its own token.
  assert.equal(ed.log.filter((m) => m.type === 'create').length, 0);
  const prog = ed.progress(token);
  assert.ok(prog.length >= 3, `progress: ${JSON.stringify(prog)}`);
  assert.equal(prog[0].kind, 'begin');
  assert.equal(prog[0].title, 'Claude');
  assert.equal(prog[0].cancellable, true);
  assert.match(prog[0].message, /^make main.go greet the bridge/);
  const reports = prog.filter((p) => p.kind === 'report').map((p) => p.message);
  assert.ok(reports.includes('Read main.go'), `reports: ${JSON.stringify(reports)}`);
  assert.ok(reports.includes('Edit main.go'), `reports: ${JSON.stringify(reports)}`);
  assert.equal(prog.at(-1).kind, 'end');
  assert.match(prog.at(-1).message, /^Done: Edited main.go to greet the bridge/);
  assert.equal(prog.filter((p) => p.kind === 'end').length, 1);
  assert.equal(prog.filter((p) => p.kind === 'begin').length, 1);

  const evs = ed.events('vscode-t1');
  assert.deepEqual(
    evs.map((e) => e.seq),
    evs.map((_, i) => i + 1),
    'seq counts from 1 with no gaps',
  );
  const kinds = evs.map((e) => e.kind);
  assert.equal(kinds[0], 'queued');
  assert.ok(kinds.indexOf('started') > 0);
  assert.equal(kinds.at(-1), 'result');
  assert.equal(kinds.filter((k) => k === 'result').length, 1);
  const queued = evs[0];
  assert.equal(queued.prompt, 'make main.go greet the bridge');
  assert.equal(queued.workspaceFolder, h.uri(sb.workspace));
  const started = evs.find((e) => e.kind === 'started');
  assert.equal(started.sessionId, reply.sessionId);
  assert.equal(started.cwd, sb.workspace);
  assert.equal(started.permissionMode, 'acceptEdits');
  const uses = evs.filter((e) => e.kind === 'toolUse');
  assert.deepEqual(
    uses.map((e) => [e.name, e.summary]),
    [
      ['Read', 'Read main.go'],
      ['Edit', 'Edit main.go'],
    ],
  );
  const results = evs.filter((e) => e.kind === 'toolResult');
  assert.deepEqual(
    results.map((e) => [e.name, e.isError, e.toolUseId]),
    uses.map((u) => [u.name, false, u.toolUseId]),
  );
  const text = evs
    .filter((e) => e.kind === 'text')
    .map((e) => e.text)
    .join('');
  assert.equal(text, 'Edited main.go to greet the bridge.');
  const result = evs.at(-1);
  assert.equal(result.status, 'completed');
  assert.equal(result.result, reply.result);
  assert.equal(result.sessionId, reply.sessionId);

  // The reply comes after the progress end and the last event.
  const replyAt = ed.indexOf((m) => m.type === 'reply' && m.command === 'claude.run');
  const endAt = ed.indexOf((m) => m.type === 'progress' && m.value.kind === 'end');
  const lastEventAt = ed.lastIndexOf((m) => m.type === 'event' && m.ev.taskId === 'vscode-t1');
  assert.ok(endAt >= 0 && endAt < replyAt, `end (${endAt}) before reply (${replyAt})`);
  assert.ok(lastEventAt < replyAt, `last event (${lastEventAt}) before reply (${replyAt})`);
  // Progress begins before the first step is reported, and every report sits between begin and end.
  const beginAt = ed.indexOf((m) => m.type === 'progress' && m.value.kind === 'begin');
  assert.ok(beginAt < endAt);

  // claude.tasks lists it, ended.
  const tasks = await ed.execute('claude.tasks');
  const mine = tasks.find((x) => x.taskId === 'vscode-t1');
  assert.ok(mine, JSON.stringify(tasks));
  assert.equal(mine.status, 'completed');
  assert.equal(mine.workspaceFolder, h.uri(sb.workspace));
  assert.equal(mine.prompt, 'make main.go greet the bridge');
  assert.equal(mine.sessionId, reply.sessionId);
  assert.ok(mine.startedAt && mine.endedAt);
});

h.bridgeTest('without a workDoneToken the bridge creates one with window/workDoneProgress/create', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('Nothing to do.')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  const reply = await ed.execute('claude.run', { prompt: 'say hi', taskId: 'vscode-t2' });
  assert.equal(reply.status, 'completed');
  const createAt = ed.indexOf((m) => m.type === 'create');
  assert.ok(createAt >= 0, 'create was sent');
  const token = ed.log[createAt].token;
  const firstProgress = ed.indexOf((m) => m.type === 'progress' && JSON.stringify(m.token) === JSON.stringify(token));
  assert.ok(firstProgress > createAt, 'create before the first $/progress');
  const prog = ed.progress(token);
  assert.equal(prog[0].kind, 'begin');
  assert.equal(prog.at(-1).kind, 'end');
  assert.equal(prog.at(-1).message.startsWith('Done: Nothing to do.'), true, prog.at(-1).message);
});

h.bridgeTest('claude.run with context turns the selection into an @path#L mention; followUp continues the session', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('It prints hello.'), h.text('It is in main.')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  const file = path.join(sb.workspace, 'main.go');
  const first = await ed.execute('claude.run', {
    prompt: 'what does this do?',
    taskId: 'vscode-ctx',
    context: [{ uri: h.uri(file), range: { start: { line: 2, character: 0 }, end: { line: 5, character: 0 } } }],
  });
  assert.equal(first.status, 'completed');
  const queued = ed.events('vscode-ctx')[0];
  assert.match(queued.prompt, /@main\.go#L3-5/);

  const second = await ed.execute('claude.followUp', { taskId: 'vscode-ctx', prompt: 'where?', newTaskId: 'vscode-ctx-2' }, 'fu-token');
  assert.equal(second.status, 'completed', JSON.stringify(second));
  assert.equal(second.sessionId, first.sessionId, 'same conversation');
  assert.equal(second.result, 'It is in main.');
  const evs = ed.events(second.taskId);
  assert.deepEqual(
    evs.map((e) => e.seq),
    evs.map((_, i) => i + 1),
  );
  assert.equal(evs.at(-1).kind, 'result');
  const prog = ed.progress('fu-token');
  assert.equal(prog[0].kind, 'begin');
  assert.equal(prog.at(-1).kind, 'end');
});

h.bridgeTest('claude.authStatus and unknown tasks', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('unused')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  const status = await ed.execute('claude.authStatus');
  assert.equal(typeof status, 'object');
  assert.equal(typeof status.status, 'string');
  await assert.rejects(ed.execute('claude.cancel', { taskId: 'no-such-task' }), (err) => err.code === -32602);
  await assert.rejects(ed.execute('claude.followUp', { taskId: 'no-such-task', prompt: 'x' }), (err) => err.code === -32602);
});
