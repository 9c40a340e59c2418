// The protocol's JSON Schema as a client author uses it (issue 12): it loads in ajv's
// strict mode (every definition compiled), it refuses what the bridge refuses, and every
// message of the real bridge's in this suite validates against it (harness.cjs checks
// each one as it comes; a test with a message the schema refuses fails). And a request
// the bridge cannot read gets its error under its own id, so the client's promise ends.

'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./harness.cjs');

h.checkTools();

test('the schema loads in ajv strict mode and says what the bridge accepts', () => {
  const p = require('../../../protocol-validate.cjs').load(); // strict: throws on what it does not understand
  const run = ['$defs', 'commands', '$defs', 'claude.run', 'properties', 'arguments'];
  const ok = [{ prompt: 'add a flag', context: [{ uri: 'file:///p/a.go', range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } } }] }];
  assert.equal(p.check(run, ok), null);
  for (const [what, args] of [
    ['a blank prompt', [{ prompt: ' \n' }]],
    ['null for an optional field', [{ prompt: 'p', model: null }]],
    ['a second argument', [{ prompt: 'p' }, {}]],
    ['a negative line', [{ prompt: 'p', context: [{ uri: 'file:///a', range: { start: { line: -1, character: 0 }, end: { line: 1, character: 0 } } }] }]],
    ['an unknown field', [{ prompt: 'p', context: [{ uri: 'file:///a', rnge: {} }] }]],
    ['a permission mode not of the enum', [{ prompt: 'p', permissionMode: 'yolo' }]],
  ]) {
    assert.notEqual(p.check(run, args), null, `the schema accepts ${what}`);
  }
  const followUp = ['$defs', 'commands', '$defs', 'claude.followUp', 'properties', 'arguments'];
  assert.notEqual(p.check(followUp, [{ prompt: 'p' }]), null, 'a follow-up needs taskId or sessionId');
  assert.equal(p.check(followUp, [{ sessionId: 's', prompt: 'p' }]), null);
  const auth = ['$defs', 'commands', '$defs', 'claude.authStatus', 'properties', 'arguments'];
  assert.equal(p.check(auth, []), null);
  assert.equal(p.check(auth, [{}]), null, 'claude.authStatus takes {}');
  const answer = ['$defs', 'requests', '$defs', 'window/showMessageRequest', 'properties', 'result'];
  assert.equal(p.check(answer, null), null, 'a dismissed question answers null');
  assert.equal(p.check(answer, { title: 'Allow' }), null);
  assert.equal(p.check(['$defs', 'Configuration'], { model: 'opus', editorOwn: 1 }), null, 'settings the bridge does not know are allowed');
  assert.notEqual(p.check(['$defs', 'Configuration'], { maxConcurrentTasks: 0 }), null, 'maxConcurrentTasks is at least 1');
});

h.bridgeTest('a request nested too deeply to decode gets its error with its own id', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('unused')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  let deep = [];
  for (let i = 0; i < 600; i++) deep = [deep];
  // vscode-jsonrpc resolves a request only by its id: with id null the promise would
  // never end.
  await assert.rejects(
    ed.conn.sendRequest('workspace/executeCommand', { command: 'claude.run', arguments: [{ prompt: 'p', context: deep }] }),
    (err) => err.code === -32600 && /nested more than 512 levels/.test(err.message),
  );
  await assert.rejects(ed.execute('claude.run', { prompt: 'p', model: null }), (err) => err.code === -32602 && /arguments\[0\]\.model is null/.test(err.message));
  const tasks = await ed.execute('claude.tasks');
  assert.deepEqual(tasks, [], 'no task was started');
  const { code } = await ed.shutdown();
  assert.equal(code, 0);
});
