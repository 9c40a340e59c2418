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

h.bridgeTest('the schema refuses what the bridge refuses; what it cannot say, the bridge names by path and value', async (t) => {
  const p = h.protocol;
  const args = (cmd) => ['$defs', 'commands', '$defs', cmd, 'properties', 'arguments'];
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [h.text('unused')]);
  const ed = new h.Editor(t, sb, api.url);
  await ed.initialize();
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const refusedBy = async (cmd, arg) => {
    try {
      await ed.execute(cmd, arg);
    } catch (err) {
      assert.equal(err.code, -32602, `${cmd} ${JSON.stringify(arg)}: ${err.message}`);
      return err.message;
    }
    assert.fail(`${cmd} ${JSON.stringify(arg)} was accepted`);
  };
  // Refused by both (issue 12: the schema took every one of these): the bridge's error is
  // the one lspext.Decode gives, in the schema's terms.
  for (const [cmd, arg, says] of [
    ['claude.send', { taskId: 't', prompt: '' }, 'arguments[0].prompt is "", which is blank'],
    ['claude.send', { taskId: 't', prompt: '   ' }, 'arguments[0].prompt is "   ", which is blank'],
    ['claude.send', { taskId: '', prompt: 'x' }, 'arguments[0].taskId is "", which is blank'],
    ['claude.interrupt', { taskId: '' }, 'arguments[0].taskId is "", which is blank'],
    ['claude.setPermissionMode', { taskId: '', mode: 'plan' }, 'arguments[0].taskId is "", which is blank'],
    ['claude.setModel', { taskId: 't', model: '' }, 'arguments[0].model is "", which is blank'],
    ['claude.transcript', { sessionId: '' }, 'arguments[0].sessionId is "", which is blank'],
    ['claude.answer', { taskId: '', toolUseId: 'u' }, 'arguments[0].taskId is "", which is blank'],
    ['claude.answer', { taskId: 't', toolUseId: 'u', plan: {} }, 'arguments[0].plan lacks the required field "decision"'],
    ['claude.answer', { taskId: 't', toolUseId: 'u', plan: { deferred: true } }, 'arguments[0].plan has an unknown field "deferred"'],
    ['claude.run', { prompt: 'x', images: [{}] }, 'arguments[0].images[0] needs one of the fields "uri" or "data"'],
    ['claude.run', { prompt: 'x', images: [{ data: png }] }, 'arguments[0].images[0] has the field "data" without "mediaType"'],
    ['claude.send', { taskId: 't', prompt: 'x', images: [{ uri: 'file:///a.png', data: png, mediaType: 'image/png' }] },
      'arguments[0].images[0] has the fields "uri" and "data": give only one of them'],
    ['claude.run', { prompt: 'x', images: [{ data: png, mediaType: 'text/plain' }] }, 'arguments[0].images[0].mediaType is "text/plain", not one of'],
    ['claude.run', { prompt: 'x', images: [{ uri: 'https://example.com/a.png' }] }, 'arguments[0].images[0].uri is "https://example.com/a.png", which is not a file:// URI'],
    ['claude.run', { prompt: 'x', taskId: '' }, 'arguments[0].taskId is "", which is blank (leave the field out instead)'],
    ['claude.run', { prompt: 'x', sessionId: '' }, 'arguments[0].sessionId is "", which is blank'],
    ['claude.run', { prompt: 'x', model: '' }, 'arguments[0].model is "", which is blank'],
    ['claude.run', { prompt: 'x', workspaceFolder: '' }, 'arguments[0].workspaceFolder is "", which is not a file:// URI'],
    ['claude.followUp', { taskId: 't', prompt: 'x', newTaskId: '' }, 'arguments[0].newTaskId is "", which is blank'],
    ['claude.commands', { workspaceFolder: '' }, 'arguments[0].workspaceFolder is "", which is not a file:// URI'],
  ]) {
    assert.notEqual(p.check(args(cmd), [arg]), null, `the schema accepts ${cmd} ${JSON.stringify(arg)}`);
    const message = await refusedBy(cmd, arg);
    assert.ok(message.startsWith(`${cmd}: `) && message.includes(says), `${cmd} ${JSON.stringify(arg)}: ${message}`);
  }
  // The schema's shape, refused for what only the bridge knows: the path and the value as sent.
  const ws = h.uri(sb.workspace);
  for (const [cmd, arg, says] of [
    ['claude.run', { prompt: 'x', workspaceFolder: 'file:///etc' }, `claude.run: arguments[0].workspaceFolder "file:///etc" is not one of the editor's workspace folders (${sb.workspace})`],
    ['claude.run', { prompt: 'x', context: [{ uri: 'https://example.com/a.go' }] }, 'claude.run: arguments[0].context[0].uri "https://example.com/a.go" is a https: URI'],
    ['claude.run', { prompt: 'x', images: [{ data: '!!notbase64', mediaType: 'image/png' }] }, 'claude.run: arguments[0].images[0].data "!!notbase64" is not base64'],
    ['claude.send', { taskId: 'nope', prompt: 'x' }, 'claude.send: arguments[0].taskId "nope" names no task'],
    ['claude.cancel', { taskId: 'nope' }, 'claude.cancel: arguments[0].taskId "nope" names no task'],
    ['claude.transcript', { sessionId: 'nope', workspaceFolder: ws }, 'claude.transcript: arguments[0].sessionId "nope" names no conversation'],
  ]) {
    assert.equal(p.check(args(cmd), [arg]), null, `the schema refuses ${cmd} ${JSON.stringify(arg)}`);
    const message = await refusedBy(cmd, arg);
    assert.ok(message.includes(says), `${cmd} ${JSON.stringify(arg)}: ${message}`);
  }
  // The documented deferred replies are replies the schema takes.
  const reply = (m) => ['$defs', 'requests', '$defs', m, 'properties', 'result'];
  assert.equal(p.check(reply('claude/ask'), { deferred: true }), null, 'claude/ask: {"deferred": true}');
  assert.equal(p.check(reply('claude/plan'), { deferred: true }), null, 'claude/plan: {"deferred": true}');
  assert.notEqual(p.check(reply('claude/plan'), { feedback: 'f' }), null, 'claude/plan: no decision, not deferred');
  const { code } = await ed.shutdown();
  assert.equal(code, 0);
});
