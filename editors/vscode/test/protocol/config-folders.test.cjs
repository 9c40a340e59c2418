// What the extension sends besides commands: its settings (initializationOptions
// with the nested auth object, then workspace/didChangeConfiguration with
// settings.claudeBridge) and a multi-root window's folders.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

h.bridgeTest('initializationOptions in the extension\'s shape: auth.keyFile is the key the bridge uses', async (t) => {
  const sb = h.makeSandbox(t);
  // The default key file holds a key the stand-in refuses; the configured one is right.
  fs.writeFileSync(path.join(sb.home, '.claude', 'api_key'), 'sk-ant-wrong-key\n', { mode: 0o600 });
  const keyFile = path.join(sb.dir, 'my-key');
  fs.writeFileSync(keyFile, h.KEY + '\n', { mode: 0o600 });
  fs.chmodSync(keyFile, 0o600);
  const api = await h.startFakeApi(t, sb, [h.text('Authenticated.')]);
  const ed = new h.Editor(t, sb, api.url, {
    // Exactly what src/settings.ts builds from the claudeBridge.* settings.
    initializationOptions: {
      permissionMode: 'acceptEdits',
      maxConcurrentTasks: 2,
      logLevel: 'debug',
      auth: { mode: 'helper', keyFile },
    },
  });
  await ed.initialize();
  const status = await ed.execute('claude.authStatus');
  assert.equal(status.mode, 'helper');
  assert.equal(status.keyFile.path, keyFile, JSON.stringify(status));
  const reply = await ed.execute('claude.run', { prompt: 'check auth', taskId: 'auth-1' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(reply.result, 'Authenticated.');
});

h.bridgeTest('workspace/didChangeConfiguration with settings.claudeBridge changes the next task', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('first'), h.text('second')]);
  const ed = new h.Editor(t, sb, api.url, { initializationOptions: { permissionMode: 'acceptEdits', auth: {} } });
  await ed.initialize();
  const first = await ed.execute('claude.run', { prompt: 'one', taskId: 'cfg-1' });
  assert.equal(first.status, 'completed');
  assert.equal(ed.events('cfg-1').find((e) => e.kind === 'started').permissionMode, 'acceptEdits');

  await ed.conn.sendNotification('workspace/didChangeConfiguration', {
    settings: { claudeBridge: { permissionMode: 'plan', model: 'claude-test-model', auth: {} } },
  });
  const second = await ed.execute('claude.run', { prompt: 'two', taskId: 'cfg-2' });
  assert.equal(second.status, 'completed');
  const started = ed.events('cfg-2').find((e) => e.kind === 'started');
  assert.equal(started.permissionMode, 'plan');
  assert.equal(started.model, 'claude-test-model');
});

h.bridgeTest('a multi-root window: tasks run in the folder asked for or holding the context; other folders are refused', async (t) => {
  const sb = h.makeSandbox(t);
  const second = path.join(sb.dir, 'second');
  const third = path.join(sb.dir, 'third');
  fs.mkdirSync(second);
  fs.mkdirSync(third);
  fs.writeFileSync(path.join(second, 'lib.go'), 'package lib\n\nfunc Lib() {}\n');
  const api = await h.startFakeApi(t, sb, [h.text('ok')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize({
    workspaceFolders: [
      { uri: h.uri(sb.workspace), name: 'workspace' },
      { uri: h.uri(second), name: 'second' },
    ],
  });

  const byFolder = await ed.execute('claude.run', { prompt: 'in second', taskId: 'mr-1', workspaceFolder: h.uri(second) });
  assert.equal(byFolder.status, 'completed');
  assert.equal(ed.events('mr-1').find((e) => e.kind === 'started').cwd, second);

  const byContext = await ed.execute('claude.run', {
    prompt: 'about lib',
    taskId: 'mr-2',
    context: [{ uri: h.uri(path.join(second, 'lib.go')), range: { start: { line: 2, character: 0 }, end: { line: 2, character: 14 } } }],
  });
  assert.equal(byContext.status, 'completed');
  const q = ed.events('mr-2')[0];
  assert.equal(q.workspaceFolder, h.uri(second));
  assert.match(q.prompt, /@lib\.go#L3\b/);

  const plain = await ed.execute('claude.run', { prompt: 'default folder', taskId: 'mr-3' });
  assert.equal(ed.events('mr-3').find((e) => e.kind === 'started').cwd, sb.workspace, 'the first folder by default');
  assert.equal(plain.status, 'completed');

  await assert.rejects(
    ed.execute('claude.run', { prompt: 'elsewhere', taskId: 'mr-4', workspaceFolder: h.uri(third) }),
    (err) => err.code === -32602,
  );
  // VS Code adds a folder to the window: the bridge takes it.
  await ed.conn.sendNotification('workspace/didChangeWorkspaceFolders', {
    event: { added: [{ uri: h.uri(third), name: 'third' }], removed: [] },
  });
  const added = await ed.execute('claude.run', { prompt: 'now allowed', taskId: 'mr-5', workspaceFolder: h.uri(third) });
  assert.equal(added.status, 'completed');
  assert.equal(ed.events('mr-5').find((e) => e.kind === 'started').cwd, third);
});
