// Unit tests of the extension's pure modules (bundled by test/protocol/run.sh
// into $CLAUDE_BRIDGE_UNIT_DIR): finding the bridge, the settings object,
// the task store and the transcript.

'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

const dir = process.env.CLAUDE_BRIDGE_UNIT_DIR;
if (!dir) throw new Error('run through test/protocol/run.sh (CLAUDE_BRIDGE_UNIT_DIR is not set)');
const { locateBridge, notFoundMessage, INSTALL_COMMAND } = require(path.join(dir, 'locate.js'));
const { bridgeOptions } = require(path.join(dir, 'settings.js'));
const { TaskStore } = require(path.join(dir, 'tasks.js'));
const { render, describeEvent } = require(path.join(dir, 'transcript.js'));

function env(over) {
  return { setting: '', pathVar: '/usr/bin:/opt/x/bin', home: '/home/me', platform: 'linux', isExecutable: () => false, ...over };
}

test('locate: the setting wins, then PATH, then ~/go/bin', () => {
  const all = new Set(['/custom/cb', '/opt/x/bin/claude-bridge', '/home/me/go/bin/claude-bridge']);
  const isExecutable = (p) => all.has(p);
  assert.deepEqual(locateBridge(env({ setting: '/custom/cb', isExecutable })), { found: true, path: '/custom/cb', source: 'setting' });
  assert.deepEqual(locateBridge(env({ isExecutable })), { found: true, path: '/opt/x/bin/claude-bridge', source: 'PATH' });
  all.delete('/opt/x/bin/claude-bridge');
  assert.deepEqual(locateBridge(env({ isExecutable })), { found: true, path: '/home/me/go/bin/claude-bridge', source: 'go bin' });
  assert.deepEqual(locateBridge(env({ setting: '~/bin/cb', isExecutable: (p) => p === '/home/me/bin/cb' })), {
    found: true,
    path: '/home/me/bin/cb',
    source: 'setting',
  });
});

test('locate: GOBIN and GOPATH/bin are tried before ~/go/bin', () => {
  const r = locateBridge(env({ gobin: '/gb', gopath: '/gp1:/gp2', isExecutable: (p) => p === '/gp2/bin/claude-bridge' }));
  assert.deepEqual(r, { found: true, path: '/gp2/bin/claude-bridge', source: 'go bin' });
});

test('locate: a missing bridge names where it looked and the install command', () => {
  const r = locateBridge(env({}));
  assert.equal(r.found, false);
  assert.deepEqual(r.looked, ['PATH', '/home/me/go/bin']);
  const msg = notFoundMessage(r);
  assert.ok(msg.includes(INSTALL_COMMAND));
  assert.ok(msg.includes('go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest'));
  assert.ok(msg.includes('make build'));
});

test('locate: a setting that points nowhere is reported, not replaced by PATH', () => {
  const r = locateBridge(env({ setting: '/nope/cb', isExecutable: (p) => p === '/opt/x/bin/claude-bridge' }));
  assert.equal(r.found, false);
  assert.equal(r.settingInvalid, true);
  assert.match(notFoundMessage(r), /claudeBridge\.path = \/nope\/cb is not an executable file/);
});

test('locate: Windows names and separators', () => {
  const r = locateBridge(
    env({ platform: 'win32', pathVar: 'C:\\a;C:\\b', isExecutable: (p) => p.endsWith('claude-bridge.exe') && p.includes('b') }),
  );
  assert.equal(r.found, true);
  assert.ok(r.path.endsWith('claude-bridge.exe'));
});

test('settings: the README shape, empty values left out, auth nested', () => {
  const s = {
    path: '/x/claude-bridge',
    claudePath: '',
    model: 'sonnet',
    permissionMode: 'acceptEdits',
    allowedTools: ['Bash(go test:*)', ''],
    disallowedTools: [],
    maxConcurrentTasks: 2,
    followUpIdleSeconds: 60,
    logLevel: 'debug',
    'auth.mode': 'helper',
    'auth.keyFile': '~/.claude/api_key',
    'auth.keyCommand': '',
  };
  assert.deepEqual(
    bridgeOptions((k) => s[k]),
    {
      model: 'sonnet',
      permissionMode: 'acceptEdits',
      allowedTools: ['Bash(go test:*)'],
      maxConcurrentTasks: 2,
      followUpIdleSeconds: 60,
      logLevel: 'debug',
      auth: { mode: 'helper', keyFile: '~/.claude/api_key' },
    },
  );
  assert.deepEqual(
    bridgeOptions(() => undefined),
    { auth: {} },
  );
});

test('task store: events, steps, results and follow-up renames', () => {
  const store = new TaskStore();
  const changes = [];
  store.onDidChange((id) => changes.push(id));
  store.begin('t1', 'do it', 'file:///w');
  assert.equal(store.running().length, 1);
  store.addEvent({ taskId: 't1', seq: 1, kind: 'queued', prompt: 'do it', workspaceFolder: 'file:///w', position: 0 });
  store.addEvent({ taskId: 't1', seq: 2, kind: 'started', sessionId: 's1' });
  assert.equal(store.get('t1').status, 'running');
  store.setStep('t1', 'Waiting for permission: Bash');
  assert.equal(store.get('t1').status, 'waiting');
  store.addEvent({ taskId: 't1', seq: 3, kind: 'permission', decision: 'allow' });
  assert.equal(store.get('t1').status, 'running');
  store.addEvent({ taskId: 't1', seq: 5, kind: 'text', messageId: 'm', text: 'x' });
  assert.equal(store.get('t1').seqGaps, 1);
  store.finish({ taskId: 't1', status: 'completed', result: 'ok', isError: false, sessionId: 's1' });
  assert.equal(store.running().length, 0);
  assert.equal(store.ended()[0].taskId, 't1');
  assert.ok(changes.length >= 6);

  store.begin('followup-1', 'and then', undefined, 't1');
  store.addEvent({ taskId: 'followup-1', seq: 1, kind: 'queued', prompt: 'and then' });
  store.rename('followup-1', 't2');
  assert.equal(store.get('followup-1'), undefined);
  assert.equal(store.get('t2').followUpOf, 't1');
  assert.equal(store.get('t2').events.length, 1);

  store.merge([{ taskId: 't3', status: 'running', prompt: 'from elsewhere', startedAt: new Date().toISOString() }]);
  assert.equal(store.get('t3').status, 'running');
  store.fail('t3', 'bridge stopped');
  assert.equal(store.get('t3').status, 'failed');
  // No reply came: the transcript says why, and no made-up cost or duration stands in for one.
  assert.equal(store.get('t3').result, undefined);
  assert.match(render(store.get('t3')), /Result: failed\n {4}bridge stopped/);
  // A terminal status is never overwritten by a stale listing.
  store.merge([{ taskId: 't3', status: 'running' }]);
  assert.equal(store.get('t3').status, 'failed');
});

test('transcript: joined text deltas, tool uses and results, permissions, retries, cost', () => {
  const store = new TaskStore();
  store.begin('t1', 'fix the bug', 'file:///w');
  const evs = [
    { kind: 'queued', prompt: 'fix the bug', workspaceFolder: 'file:///w', position: 1 },
    { kind: 'started', sessionId: 's1', model: 'sonnet', cwd: '/w', permissionMode: 'default', claudeVersion: '2.1' },
    { kind: 'text', messageId: 'm1', text: 'Let me ' },
    { kind: 'text', messageId: 'm1', text: 'look.\nSecond line.' },
    { kind: 'toolUse', toolUseId: 'u1', name: 'Bash', input: { command: 'go test' }, summary: 'Bash: go test' },
    { kind: 'permission', toolUseId: 'u1', name: 'Bash', summary: 'Bash: go test', decision: 'allowTask', reason: '', automatic: false },
    { kind: 'toolResult', toolUseId: 'u1', name: 'Bash', isError: false, content: 'ok\nPASS' },
    { kind: 'retry', attempt: 2, maxRetries: 10, delayMs: 1500, errorStatus: 529, error: 'overloaded' },
    { kind: 'status', message: 'refreshed key' },
    { kind: 'result', status: 'completed', result: 'Fixed.', isError: false, costUsd: 0.0123, durationMs: 5300, numTurns: 3 },
  ];
  evs.forEach((e, i) => store.addEvent({ taskId: 't1', seq: i + 1, ...e }));
  const text = render(store.get('t1'));
  assert.ok(text.includes('Prompt: fix the bug'));
  assert.ok(text.includes('## Claude\n\nLet me look.\nSecond line.\n'), text);
  assert.ok(text.includes('▶ Bash: go test'));
  assert.ok(text.includes('Permission: Bash: go test: allowed for this task by you'));
  assert.ok(text.includes('✓ Bash\n    ok\n    PASS'));
  assert.ok(text.includes('Retrying (attempt 2 of 10, in 1.5 s): HTTP 529 overloaded'));
  assert.ok(text.includes('Note: refreshed key'));
  assert.ok(text.includes('Result: completed, 5.3 s, 3 turn(s), $0.0123\n    Fixed.'));
  assert.ok(text.includes('1 task(s) ahead'));
  assert.match(describeEvent({ kind: 'permission', name: 'Write', decision: 'deny', automatic: true, reason: 'outside the workspace' }), /denied automatically \(outside the workspace\)/);
});
