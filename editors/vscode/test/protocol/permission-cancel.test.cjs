// Permission questions (claude/permission, as the extension declares it, and
// window/showMessageRequest answered Allow / Deny) and cancel through
// window/workDoneProgress/cancel, as the extension sends them.

'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

h.checkTools();

const ACTIONS = ['Allow', 'Allow for this task', 'Deny'];

function bashScript(marker) {
  return [
    h.tool('Bash', { command: `echo ${marker} > marker.txt && cat marker.txt`, description: 'Write a marker file' }),
    h.text('Done with the marker.'),
  ];
}

for (const [answer, decision] of [
  ['Allow', 'allow'],
  ['Deny', 'deny'],
]) {
  h.bridgeTest(`a permission question answered ${answer}`, async (t) => {
    const sb = h.makeSandbox(t);
    const api = await h.startFakeApi(t, sb, bashScript('marker-ok'));
    const ed = new h.Editor(t, sb, api.url, { permission: () => answer });
    await ed.initialize();
    const token = `perm-${answer}`;
    const reply = await ed.execute(
      'claude.run',
      { prompt: 'write a marker', taskId: `perm-${answer}`, permissionMode: 'default' },
      token,
    );
    assert.equal(reply.status, 'completed', JSON.stringify(reply));

    assert.equal(ed.permissionAsks.length, 1, JSON.stringify(ed.permissionAsks));
    const ask = ed.permissionAsks[0];
    assert.equal(ask.type, 3, 'MessageType.Info');
    assert.match(ask.message, /^Claude wants to run Bash: /);
    assert.ok(ask.message.includes('echo marker-ok > marker.txt'), ask.message);
    assert.deepEqual(
      ask.actions.map((a) => a.title),
      ACTIONS,
    );

    const reports = ed.progress(token).filter((p) => p.kind === 'report').map((p) => p.message);
    assert.ok(reports.includes('Waiting for permission: Bash'), JSON.stringify(reports));
    // The question is asked after "Waiting for permission" is reported.
    const waitingAt = ed.indexOf((m) => m.type === 'progress' && m.value.message === 'Waiting for permission: Bash');
    const askAt = ed.indexOf((m) => m.type === 'ask');
    assert.ok(waitingAt < askAt, `waiting report (${waitingAt}) before the question (${askAt})`);

    const evs = ed.events(reply.taskId);
    const perm = evs.find((e) => e.kind === 'permission');
    assert.ok(perm, JSON.stringify(evs.map((e) => e.kind)));
    assert.equal(perm.name, 'Bash');
    assert.equal(perm.decision, decision);
    assert.equal(perm.automatic, false);
    assert.equal(typeof perm.reason, 'string');
    const use = evs.find((e) => e.kind === 'toolUse' && e.name === 'Bash');
    assert.equal(perm.toolUseId, use.toolUseId);
    const res = evs.find((e) => e.kind === 'toolResult' && e.toolUseId === use.toolUseId);
    assert.ok(res, 'the tool got a result');
    const marker = path.join(sb.workspace, 'marker.txt');
    if (answer === 'Allow') {
      assert.equal(res.isError, false);
      assert.match(res.content, /marker-ok/);
      assert.equal(fs.readFileSync(marker, 'utf8').trim(), 'marker-ok');
    } else {
      assert.equal(res.isError, true);
      assert.equal(fs.existsSync(marker), false, 'a denied command did not run');
    }
    assert.deepEqual(
      evs.map((e) => e.seq),
      evs.map((_, i) => i + 1),
    );
  });
}

h.bridgeTest('claude/permission (declared as the extension does): the whole command in keyInput, a one-line message that says what it left out', async (t) => {
  const sb = h.makeSandbox(t);
  const command = 'echo tidying up\necho kept > kept.txt\necho done';
  const api = await h.startFakeApi(t, sb, [h.tool('Bash', { command, description: 'Tidy up' }), h.text('Tidied.')]);
  const ed = new h.Editor(t, sb, api.url, { experimental: { claudeBridge: { permission: true, ask: true, plan: true } }, decide: () => ({ decision: 'allow' }) });
  await ed.initialize();
  const reply = await ed.execute('claude.run', { prompt: 'tidy up', taskId: 'perm-whole', permissionMode: 'default' });
  assert.equal(reply.status, 'completed', JSON.stringify(reply));
  assert.equal(ed.permissionAsks.length, 0, 'no window/showMessageRequest');
  assert.equal(ed.permissionRequests.length, 1);
  const q = ed.permissionRequests[0];
  assert.equal(q.keyInput, command, 'every line');
  assert.equal(q.message, 'Claude wants to run Bash: `echo tidying up` (and 2 more lines)');
  assert.equal(q.toolName, 'Bash');
  assert.equal(q.description, 'Tidy up');
  assert.equal(q.input.command, command);
  const perm = ed.events('perm-whole').find((e) => e.kind === 'permission');
  assert.equal(perm.decision, 'allow');
  assert.equal(perm.toolUseId, q.toolUseId);
  assert.equal(fs.readFileSync(path.join(sb.workspace, 'kept.txt'), 'utf8').trim(), 'kept');
});

h.bridgeTest('"Allow for this task" is not asked again for the same tool in that task', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, [
    h.tool('Bash', { command: 'echo one > one.txt', description: 'first' }),
    h.tool('Bash', { command: 'echo two > two.txt', description: 'second' }),
    h.text('Ran both.'),
  ]);
  const ed = new h.Editor(t, sb, api.url, { permission: () => 'Allow for this task' });
  await ed.initialize();
  const reply = await ed.execute('claude.run', { prompt: 'run two commands', taskId: 'perm-task', permissionMode: 'default' });
  assert.equal(reply.status, 'completed');
  assert.equal(ed.permissionAsks.length, 1);
  const perms = ed.events('perm-task').filter((e) => e.kind === 'permission');
  assert.equal(perms.length, 2, JSON.stringify(perms));
  assert.deepEqual([perms[0].decision, perms[0].automatic], ['allowTask', false]);
  // The second is decided by the bridge from the earlier answer.
  assert.equal(perms[1].automatic, true);
  assert.ok(['allow', 'allowTask'].includes(perms[1].decision), perms[1].decision);
  const results = ed.events('perm-task').filter((e) => e.kind === 'toolResult');
  assert.deepEqual(
    results.map((r) => r.isError),
    [false, false],
  );
});

h.bridgeTest('window/workDoneProgress/cancel cancels the task: one cancelled result, progress end, no claude left', async (t) => {
  const sb = h.makeSandbox(t);
  // The first answer takes 60 s: the task is surely running when cancelled.
  const api = await h.startFakeApi(t, sb, [h.text('too late', { delayMs: 60000 })]);
  // prewarm false: the test counts the task's own claude among the bridge's children.
  const ed = new h.Editor(t, sb, api.url, { initializationOptions: { permissionMode: 'acceptEdits', auth: {}, prewarm: false } });
  await ed.initialize();
  const token = 'cancel-me';
  const started = Date.now();
  const replyP = ed.execute('claude.run', { prompt: 'take your time', taskId: 'cancel-t' }, token);
  await h.waitFor(() => ed.events('cancel-t').some((e) => e.kind === 'started'), 30000, 'the started event');
  await h.waitFor(() => ed.progress(token).some((p) => p.message === 'Thinking'), 30000, 'the Thinking report');
  assert.ok(ed.children().length > 0, 'claude is running');
  await ed.conn.sendNotification('window/workDoneProgress/cancel', { token });
  const reply = await replyP;
  const took = Date.now() - started;
  assert.equal(reply.status, 'cancelled', JSON.stringify(reply));
  assert.ok(took < 20000, `cancelled in ${took} ms`);
  const evs = ed.events('cancel-t');
  const results = evs.filter((e) => e.kind === 'result');
  assert.equal(results.length, 1, 'exactly one result');
  assert.equal(results[0].status, 'cancelled');
  assert.equal(evs.at(-1).kind, 'result');
  const prog = ed.progress(token);
  assert.equal(prog.at(-1).kind, 'end');
  assert.equal(prog.at(-1).message, 'Cancelled');
  const endAt = ed.indexOf((m) => m.type === 'progress' && m.value.kind === 'end');
  const replyAt = ed.indexOf((m) => m.type === 'reply' && m.command === 'claude.run');
  assert.ok(endAt < replyAt);
  await h.waitFor(() => ed.children().length === 0, 5000, 'claude to be gone');
  const tasks = await ed.execute('claude.tasks');
  assert.equal(tasks.find((x) => x.taskId === 'cancel-t').status, 'cancelled');
});

h.bridgeTest('claude.cancel cancels a task waiting for a permission answer', async (t) => {
  const sb = h.makeSandbox(t);
  const api = await h.startFakeApi(t, sb, bashScript('never'));
  let asked;
  const answered = new Promise((resolve) => (asked = resolve));
  // Never answers by itself: the question stays open like an unclicked notification.
  const ed = new h.Editor(t, sb, api.url, {
    permission: () => {
      asked();
      return new Promise(() => {});
    },
    // prewarm false: the test counts the task's own claude among the bridge's children.
    initializationOptions: { permissionMode: 'acceptEdits', auth: {}, prewarm: false },
  });
  await ed.initialize();
  const replyP = ed.execute('claude.run', { prompt: 'write a marker', taskId: 'cancel-wait', permissionMode: 'default' }, 'cw');
  await answered;
  const tasks = await ed.execute('claude.tasks');
  assert.equal(tasks.find((x) => x.taskId === 'cancel-wait').status, 'waiting');
  const c = await ed.execute('claude.cancel', { taskId: 'cancel-wait' });
  assert.deepEqual(c, { cancelled: true });
  const reply = await replyP;
  assert.equal(reply.status, 'cancelled');
  assert.equal(fs.existsSync(path.join(sb.workspace, 'marker.txt')), false);
  await h.waitFor(() => ed.children().length === 0, 5000, 'claude to be gone');
});
