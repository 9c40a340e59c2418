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
const { Transcript, money, composerState } = require(path.join(dir, 'transcript.js'));
const { QuestionStore, messageParts, plainMessage, showsAll, APPROVE, KEEP_PLANNING } = require(path.join(dir, 'questions.js'));

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
  const tr = new Transcript();
  tr.setHeader({ taskId: 't3', prompt: 'from elsewhere', status: 'failed', startedAt: Date.now(), failure: 'bridge stopped', conflicts: [] });
  assert.match(tr.html(), /✗ Failed<\/div><div class="error">bridge stopped/);
  // A terminal status is never overwritten by a stale listing.
  store.merge([{ taskId: 't3', status: 'running' }]);
  assert.equal(store.get('t3').status, 'failed');
});

function header(over) {
  return { taskId: 't1', prompt: 'fix the bug', status: 'running', folder: 'file:///w', startedAt: Date.now(), conflicts: [], ...over };
}

test('transcript: Markdown text from joined deltas, a tool block with its command, the permission, the output, retries, the end', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  const evs = [
    { kind: 'queued', prompt: 'fix the bug', workspaceFolder: 'file:///w', position: 1, waiting: true },
    { kind: 'started', sessionId: 's1', model: 'sonnet', cwd: '/w', permissionMode: 'default', apiKeySource: 'apiKeyHelper', claudeVersion: '2.1' },
    { kind: 'text', messageId: 'm1', text: 'Let me **look** at ' },
    { kind: 'text', messageId: 'm1', text: '`main.go`.\n\n- one\n- two' },
    { kind: 'toolUse', toolUseId: 'u1', name: 'Bash', input: { command: 'go test ./...', description: 'Run the tests' }, summary: 'Bash: go test ./...' },
    { kind: 'permission', toolUseId: 'u1', name: 'Bash', input: {}, summary: 'Bash: go test ./...', decision: 'allowTask', reason: '', automatic: false },
    { kind: 'toolResult', toolUseId: 'u1', name: 'Bash', isError: false, content: 'ok\nPASS' },
    { kind: 'retry', attempt: 2, maxRetries: 10, delayMs: 1500, errorStatus: 529, error: 'overloaded' },
    { kind: 'status', message: 'refreshed key' },
    { kind: 'result', status: 'completed', result: 'Fixed <it>.', isError: false, costUsd: 0.0123, durationMs: 5300, numTurns: 3, sessionId: 's1' },
  ];
  tr.addEvents(evs.map((e, i) => ({ taskId: 't1', seq: i + 1, ...e })));
  const html = tr.html();
  assert.match(html, /<h1 title="fix the bug">fix the bug<\/h1>/);
  assert.match(html, /<p>Let me <strong>look<\/strong> at <code>main\.go<\/code>\.<\/p>/, 'text rendered as Markdown');
  assert.match(html, /<li>one<\/li>/);
  assert.match(html, /<details class="tool ok" data-k="tool:u1">/, 'a collapsible tool block, folded once it went well');
  assert.match(html, /<span class="summary">Bash: go test \.\/\.\.\.<\/span>/);
  assert.match(html, /<pre class="command"><span class="prompt">\$<\/span> go test \.\/\.\.\.<\/pre>/, 'the command first');
  assert.match(html, /<span class="key">description:<\/span> Run the tests/, 'other fields as key: value');
  assert.match(html, /allowed for this task by you/);
  assert.match(html, /<pre class="output">ok\nPASS<\/pre>/);
  assert.match(html, /Queued: 1 task ahead/);
  assert.match(html, /↻ Retrying: HTTP 529 overloaded <span class="facts">attempt 2 of 10, in 1\.5 s<\/span>/);
  assert.match(html, /refreshed key/);
  assert.match(html, /✓ Completed <span class="facts">in 5\.3 s · 3 turns · \$0\.0123<\/span>/);
  assert.match(html, /Fixed &lt;it&gt;\./, 'the result, escaped (it differs from the last text)');
  assert.ok(!/<it>/.test(html), 'no HTML from the agent gets through');
});

test('transcript: a subagent\'s text and calls are marked as its own, never the task\'s answer', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  const evs = [
    { kind: 'toolUse', toolUseId: 'a1', name: 'Agent', input: { description: 'look around' }, summary: 'Agent: look around' },
    { kind: 'text', messageId: 'm9', text: 'the subagent ', parentToolUseId: 'a1' },
    { kind: 'text', messageId: 'm9', text: 'looks', parentToolUseId: 'a1' },
    { kind: 'toolUse', toolUseId: 's1', name: 'Read', input: { file_path: '/w/main.go' }, summary: 'Read main.go', parentToolUseId: 'a1' },
    { kind: 'toolResult', toolUseId: 's1', name: 'Read', isError: false, content: 'package main', parentToolUseId: 'a1' },
    { kind: 'text', messageId: 'm1', text: 'Main answer.' },
    { kind: 'result', status: 'completed', result: 'Main answer.', isError: false, costUsd: 0.01, durationMs: 100, numTurns: 2, sessionId: 's1' },
  ];
  tr.addEvents(evs.map((e, i) => ({ taskId: 't1', seq: i + 1, ...e })));
  const html = tr.html();
  assert.match(html, /<div class="subagent text"><div class="who">Subagent<\/div><div class="markdown"><p>the subagent looks<\/p>/, 'the subagent\'s text, joined and marked');
  assert.match(html, /<details class="tool ok subagent" data-k="tool:s1"><summary><span class="icon">✓<\/span> <span class="who">Subagent<\/span> <span class="summary">Read main\.go/, 'its call, marked');
  assert.match(html, /<div class="text markdown"><p>Main answer\.<\/p>/, 'the task\'s own text as ever');
  assert.ok(!/Subagent<\/span> <span class="summary">Agent/.test(html), 'the Agent call is the task\'s own');
  assert.ok(!/✓ Completed[^]*Main answer/.test(html.slice(html.indexOf('class="end'))), 'the result repeats the task\'s last text, not the subagent\'s: not shown again');
});

test('transcript: an Edit as a diff, its question with buttons while it waits, a cancelled end without a zero cost', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  tr.takeChanges();
  tr.addEvents([
    {
      taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'e1', name: 'Edit', summary: 'Edit main.go',
      input: { file_path: '/w/main.go', old_string: 'a\nprintln("hello")\nb', new_string: 'a\nprintln("hello, e2e")\nb' },
    },
  ]);
  tr.setQuestions([{ id: 7, message: 'Claude wants to run Edit: `main.go`', actions: ['Allow', 'Allow for this task', 'Deny'], toolUseId: 'e1', askedAt: Date.now() }]);
  const changes = tr.takeChanges();
  assert.deepEqual(changes.map((c) => c.key), ['tool:e1'], 'only the tool block is redrawn');
  const html = changes[0].html;
  assert.match(html, /<details class="tool waiting" data-k="tool:e1" open>/);
  assert.match(html, /<div class="file">main\.go<\/div>/, 'the file, relative to the folder');
  assert.match(html, /<div class="del"><span class="sign">-<\/span>println\(&quot;hello&quot;\)<\/div><div class="add"><span class="sign">\+<\/span>println\(&quot;hello, e2e&quot;\)<\/div>/);
  assert.match(html, /<div class="ctx"><span class="sign"> <\/span>a<\/div>/);
  assert.match(html, /Claude wants to run Edit: <code>main\.go<\/code>/, 'backticks as code');
  assert.match(html, /<button class="" data-question="7" data-answer="Allow">Allow<\/button>/);
  assert.match(html, /data-answer="Deny">Deny<\/button>/);
  tr.setQuestions([]);
  assert.doesNotMatch(tr.html(), /data-question/, 'answered: the buttons go');
  tr.addEvents([{ taskId: 't1', seq: 2, kind: 'result', status: 'cancelled', result: '', isError: false, costUsd: 0, durationMs: 0, numTurns: 0, sessionId: '' }]);
  assert.match(tr.html(), /■ Cancelled<\/div>/);
  assert.match(tr.html(), /<details class="tool stopped" data-k="tool:e1"><summary><span class="icon">■<\/span> <span class="summary">Edit main\.go<\/span> <span class="badge">did not finish<\/span>/);
  assert.doesNotMatch(tr.html(), /\$0\.0000/, 'no zero cost');
  assert.equal(money(0), '');
  assert.equal(money(0.5), '$0.5000');
});

test('questions: open until answered with one of their actions; withdrawn by the bridge; backticks', () => {
  const qs = new QuestionStore();
  const ends = [];
  let changes = 0;
  qs.onDidChange(() => changes++);
  const q = qs.add(
    { message: 'Claude wants to run Bash: `go test ./...`', actions: [{ title: 'Allow' }, { title: 'Allow for this task' }, { title: 'Deny' }], taskId: 't1', toolUseId: 'u1', toolName: 'Bash' },
    (e) => ends.push(e),
  );
  assert.equal(qs.pending().length, 1);
  assert.equal(qs.answer(q.id, 'Maybe'), false, 'not one of its actions');
  assert.equal(qs.pending().length, 1, 'still open');
  assert.equal(qs.answer(q.id, 'Allow'), true);
  assert.equal(qs.answer(q.id, 'Deny'), false, 'answered once');
  assert.deepEqual(ends, [{ answer: 'Allow' }]);
  const q2 = qs.add({ message: 'Claude wants to run Edit: `main.go`', actions: [{ title: 'Allow' }, { title: 'Deny' }] }, (e) => ends.push(e));
  assert.equal(q2.toolName, 'Edit', 'the tool from the message of an older bridge');
  assert.deepEqual(qs.forTask('t1'), []);
  qs.withdraw(q2.id);
  assert.deepEqual(ends.at(-1), { withdrawn: true });
  assert.equal(qs.pending().length, 0);
  assert.equal(changes, 4);
  assert.deepEqual(messageParts('run `a b` and `c`'), [
    { text: 'run ', code: false }, { text: 'a b', code: true }, { text: ' and ', code: false }, { text: 'c', code: true },
  ]);
  assert.equal(plainMessage('Claude wants to run Bash: `go test ./...`'), 'Claude wants to run Bash: “go test ./...”');
  assert.equal(plainMessage('Claude wants to run Edit: `main.go`'), 'Claude wants to run Edit: main.go');
});

test('questions: a permission from claude/permission keeps the whole command; a cut message shows it all only with the whole', () => {
  const qs = new QuestionStore();
  const ends = [];
  const whole = 'echo tidying up\nrm -rf "$HOME/.ssh"';
  const cut = qs.addPermission(
    { taskId: 't1', toolUseId: 'u1', toolName: 'Bash', message: 'Claude wants to run Bash: `echo tidying up` (and 1 more line)', keyInput: whole, summary: 'Bash: echo tidying up', description: 'Tidy up' },
    (e) => ends.push(e),
  );
  assert.equal(cut.whole, whole);
  assert.deepEqual(cut.actions, ['Allow', 'Allow for this task', 'Deny']);
  assert.equal(showsAll(cut), false, 'the message hides the second line');
  const short = qs.addPermission(
    { taskId: 't1', toolUseId: 'u2', toolName: 'Edit', message: 'Claude wants to run Edit: `main.go`', keyInput: 'main.go', summary: 'Edit main.go' },
    (e) => ends.push(e),
  );
  assert.equal(showsAll(short), true, 'a message that holds the whole');
  const long = qs.addPermission(
    { taskId: 't2', toolUseId: 'u3', toolName: 'Bash', message: 'Claude wants to run Bash: `' + 'x'.repeat(119) + '…` (cut: the whole is longer)', keyInput: 'x'.repeat(400), summary: '' },
    (e) => ends.push(e),
  );
  assert.equal(showsAll(long), false, 'a line cut short');
  // The call decided (its permission event), then the task ended (its result): the questions go.
  qs.withdrawCall('t1', 'u2');
  assert.deepEqual(qs.pending().map((q) => q.id), [cut.id, long.id]);
  assert.equal(qs.withdrawTask('t1'), 1);
  assert.deepEqual(qs.pending().map((q) => q.id), [long.id]);
  qs.withdrawAll();
  assert.equal(qs.pending().length, 0);
  assert.deepEqual(ends, [{ withdrawn: true }, { withdrawn: true }, { withdrawn: true }]);
  // In the transcript: the whole command above the buttons.
  const tr = new Transcript();
  tr.setHeader(header());
  tr.setQuestions([{ id: 3, message: cut.message, whole, actions: cut.actions, askedAt: Date.now(), kind: 'permission' }]);
  assert.match(tr.html(), /<pre class="command whole">echo tidying up\nrm -rf &quot;\$HOME\/\.ssh&quot;<\/pre><div class="buttons">/);
});

test('transcript: a run of messages of one kind the bridge passes through is one block that counts them; thinking stays one block', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  const evs = [];
  for (let i = 1; i <= 300; i++) {
    evs.push({ kind: 'other', raw: { type: 'system', subtype: 'thinking_tokens', estimated_tokens: i * 3 } });
    evs.push({ kind: 'thinking', messageId: 'm1', text: `thought${i} ` });
  }
  evs.push({ kind: 'other', raw: { type: 'brand_new' } });
  tr.addEvents(evs.map((e, i) => ({ taskId: 't1', seq: i + 1, ...e })));
  const html = tr.html();
  assert.equal((html.match(/Message from claude/g) || []).length, 2, 'one block per kind');
  assert.match(html, /Message from claude: system\/thinking_tokens <span class="facts">×300<\/span>/);
  assert.match(html, /&quot;estimated_tokens&quot;: 900/, 'the last one shown');
  assert.match(html, /Message from claude: brand_new<\/summary>/);
  assert.equal((html.match(/<details class="thinking"/g) || []).length, 1, 'the thinking in one block');
  assert.match(html, /thought1 thought2 .*thought300/s);
});

test('transcript: thousands of text deltas cost one redraw per batch (prints the time it took)', () => {
  // 6,000 deltas of 8 characters (48 KB of Markdown), in batches the size
  // the extension posts every 50 ms at 2,000 deltas a second.
  const tr = new Transcript();
  tr.setHeader(header());
  const para = 'Lorem **ipsum** dolor `sit` amet, consectetur adipiscing elit; sed do eiusmod tempor incididunt.\n\n';
  const all = para.repeat(Math.ceil(48000 / para.length));
  tr.takeChanges();
  let seq = 0;
  let at = 0;
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < 60; b++) {
    const evs = [];
    for (let i = 0; i < 100; i++, at += 8) evs.push({ taskId: 't1', seq: ++seq, kind: 'text', messageId: 'm1', text: all.slice(at, at + 8) });
    tr.addEvents(evs);
    assert.equal(tr.takeChanges().length, 1, 'one block redrawn per batch');
  }
  const sent = all.slice(0, at);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // A figure, not a timed assertion (the machine may be busy).
  console.log(`# transcript: ${seq} text deltas (${sent.length} characters) in 60 batches: ${ms.toFixed(0)} ms of model and Markdown work in total (target: under 1,500 ms, the 3 s such a stream takes to arrive at 2,000 deltas/s)`);
  assert.match(tr.html(), /<p>Lorem <strong>ipsum<\/strong> dolor <code>sit<\/code> amet/);
});

// --- issue 14: claude's questions, plans, to-dos, modes, messages -----------

const COLOR = {
  question: 'Which color should the button be?',
  header: 'Color',
  multiSelect: false,
  options: [{ label: 'Red', description: 'warm' }, { label: 'Blue' }],
};
const EXTRAS = { question: 'Which extras?', header: 'Extras', multiSelect: true, options: [{ label: 'Dark mode' }, { label: 'Export' }] };

test('transcript: claude\'s questions as a form while they wait (radio, check boxes, Other), then their answers', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  tr.addEvents([{ taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'q1', name: 'AskUserQuestion', input: { questions: [COLOR, EXTRAS] }, summary: 'AskUserQuestion' }]);
  assert.match(tr.html(), /<span class="badge">Color<\/span> Which color should the button be\?/, 'the questions in the call');
  assert.match(tr.html(), /<li><b>Red<\/b> — warm<\/li>/, 'with their options');
  tr.takeChanges();
  tr.setQuestions([{ id: 3, kind: 'ask', message: 'Claude asks (Color): …', actions: [], toolUseId: 'q1', askedAt: Date.now(), questions: [COLOR, EXTRAS] }]);
  const html = tr.takeChanges().map((c) => c.html).join('');
  assert.match(html, /<details class="tool waiting" data-k="tool:q1" open>.*waiting for your answer/s);
  assert.match(html, /<fieldset class="ask-field" data-q="Which color should the button be\?" data-multi="">/);
  assert.match(html, /<input type="radio" name="ask-3-0" value="Red">/, 'one choice: radio buttons');
  assert.match(html, /<input type="checkbox" name="ask-3-1" value="Dark mode">/, 'several: check boxes');
  assert.match(html, /<input type="radio" name="ask-3-0" value="" data-other="1"> Other: <input type="text" class="other-text"/, 'and a text of your own');
  assert.match(html, /<button data-ask-submit="3">Answer<\/button>/);
  tr.setQuestions([]);
  tr.addEvents([
    { taskId: 't1', seq: 2, kind: 'question', toolUseId: 'q1', questions: [COLOR, EXTRAS], answers: { [COLOR.question]: 'Red', [EXTRAS.question]: 'Dark mode, Export' } },
    { taskId: 't1', seq: 3, kind: 'toolResult', toolUseId: 'q1', name: 'AskUserQuestion', isError: false, content: 'answered' },
  ]);
  const after = tr.html();
  assert.doesNotMatch(after, /ask-field/, 'answered: the form goes');
  assert.match(after, /Which color should the button be\?<\/span> → <b>Red<\/b>/);
  assert.match(after, /Which extras\?<\/span> → <b>Dark mode, Export<\/b>/);

  const tr2 = new Transcript();
  tr2.setHeader(header());
  tr2.addEvents([
    { taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'q2', name: 'AskUserQuestion', input: { questions: [COLOR] }, summary: 'AskUserQuestion' },
    { taskId: 't1', seq: 2, kind: 'question', toolUseId: 'q2', questions: [COLOR], answers: {}, reason: 'dismissed in the editor' },
  ]);
  assert.match(tr2.html(), /✗ not answered: dismissed in the editor/);
});

test('transcript: a plan as Markdown with its choices while it waits, then the decision; to-dos under the header; modes; sent messages', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  tr.addEvents([
    { taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'p1', name: 'ExitPlanMode', input: { plan: '# Plan\n\n1. Add **x**', planFilePath: '/h/.claude/plans/a.md' }, summary: 'ExitPlanMode' },
  ]);
  tr.setQuestions([{ id: 4, kind: 'plan', message: "Claude's plan is ready: approve it?", actions: [], toolUseId: 'p1', askedAt: Date.now() }]);
  let html = tr.html();
  assert.match(html, /<div class="plan markdown"><h1>Plan<\/h1>\n<ol>\n<li>Add <strong>x<\/strong><\/li>/, 'the plan rendered');
  assert.match(html, /waiting for your approval/);
  assert.match(html, /<button data-plan="4" data-decision="approve" data-mode="acceptEdits">Approve<\/button>/);
  assert.match(html, /data-plan="4" data-decision="approve" data-mode="default">Approve, ask before edits/);
  assert.match(html, /data-plan="4" data-decision="keepPlanning">Keep planning/);
  assert.match(html, /<textarea class="feedback"/);
  assert.match(html, /data-show-plan="4"/);
  tr.setQuestions([]);
  tr.addEvents([
    { taskId: 't1', seq: 2, kind: 'plan', toolUseId: 'p1', plan: '# Plan', decision: 'keepPlanning', feedback: 'use a map' },
    { taskId: 't1', seq: 3, kind: 'toolResult', toolUseId: 'p1', name: 'ExitPlanMode', isError: true, content: 'The user doesn\'t want to proceed' },
    { taskId: 't1', seq: 4, kind: 'toolUse', toolUseId: 'p2', name: 'ExitPlanMode', input: { plan: '# Plan 2' }, summary: 'ExitPlanMode' },
    { taskId: 't1', seq: 5, kind: 'plan', toolUseId: 'p2', plan: '# Plan 2', decision: 'approve', permissionMode: 'acceptEdits' },
    { taskId: 't1', seq: 6, kind: 'mode', permissionMode: 'acceptEdits', model: 'claude-sonnet-4-5' },
    {
      taskId: 't1', seq: 7, kind: 'toolUse', toolUseId: 'w1', name: 'TodoWrite', summary: 'TodoWrite',
      input: { todos: [{ content: 'Add x', status: 'completed', activeForm: 'Adding x' }, { content: 'Run the tests', status: 'in_progress', activeForm: 'Running the tests' }] },
    },
    {
      taskId: 't1', seq: 8, kind: 'todos', toolUseId: 'w1',
      todos: [{ content: 'Add x', status: 'completed', activeForm: 'Adding x' }, { content: 'Run the tests', status: 'in_progress', activeForm: 'Running the tests' }, { content: 'Commit', status: 'pending' }],
    },
    { taskId: 't1', seq: 9, kind: 'userMessage', text: 'also update the *docs*', imageCount: 1 },
  ]);
  html = tr.html();
  assert.match(html, /<details class="tool ok" data-k="tool:p1">.*kept planning.*↺ Kept planning: use a map/s, 'kept planning: not an error');
  assert.match(html, /✓ Approved, in acceptEdits mode/);
  assert.match(html, /⇄ Now in acceptEdits mode · claude-sonnet-4-5/);
  assert.match(html, /<details class="todos-head" data-k="todos" open><summary>To-dos 1\/3<\/summary>/, 'the list under the header, open while work remains');
  assert.match(html, /<li class="todo completed"><span class="mark">☑<\/span> Add x<\/li><li class="todo in_progress"><span class="mark">▶<\/span> Running the tests<\/li><li class="todo pending"><span class="mark">☐<\/span> Commit<\/li>/);
  assert.match(html, /<div class="who">You<\/div><div class="markdown"><p>also update the <em>docs<\/em><\/p>\n<\/div><div class="facts">with 1 image<\/div>/);
  tr.addEvents([{ taskId: 't1', seq: 10, kind: 'todos', toolUseId: 'w2', todos: [{ content: 'Add x', status: 'completed' }] }]);
  assert.match(tr.html(), /<details class="todos-head" data-k="todos"><summary>To-dos 1\/1<\/summary>/, 'all done: folded');
});

test('transcript: a message sent into the task shows as sent until claude takes it, then where it took it; the end stays last', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  tr.addEvents([{ taskId: 't1', seq: 1, kind: 'text', messageId: 'm1', text: 'Carried out the plan.' }]);
  tr.addSent('Also print the date', 0);
  tr.addSent('And the time', 2);
  assert.match(tr.pendingHtml(), /^<div class="pending-message"><span class="who">Sent<\/span> Also print the date <span class="facts">· Claude reads it at its next step<\/span><\/div>/);
  assert.match(tr.pendingHtml(), /And the time <span class="facts">with 2 images<\/span>/);
  tr.takeChanges();
  // The page gets the header saying the task ended in the same batch as
  // its last events, header first (webview/main.ts): the message claude
  // took and its last answer go before the end, not after it.
  tr.setHeader(header({ status: 'completed', result: { status: 'completed', result: 'Printed the date too.', costUsd: 0.1, durationMs: 900, numTurns: 2 } }));
  tr.addEvents([
    { taskId: 't1', seq: 2, kind: 'userMessage', text: 'Also print the date' },
    { taskId: 't1', seq: 3, kind: 'text', messageId: 'm2', text: 'Printed the date too.' },
    { taskId: 't1', seq: 4, kind: 'result', status: 'completed', result: 'Printed the date too.', isError: false, costUsd: 0.1, durationMs: 900, numTurns: 2, sessionId: 's' },
  ]);
  const order = [...tr.html().matchAll(/Carried out|class="user-message"|<p>Printed the date too|class="end /g)].map((m) => m[0]);
  assert.deepEqual(order, ['Carried out', 'class="user-message"', '<p>Printed the date too', 'class="end '], tr.html());
  assert.equal(tr.html().match(/Printed the date too/g).length, 1, 'the end does not repeat the last answer');
  // The page inserts each new block after the one before it: the end stays below.
  const changes = tr.takeChanges();
  assert.equal(changes.find((c) => c.key === 'user:2').after, 'text:m1');
  assert.equal(tr.pendingHtml(), '', 'taken, and the task ended');
  const tr2 = new Transcript();
  tr2.setHeader(header());
  tr2.addSent('refused one', 0);
  tr2.dropSent('refused one');
  assert.equal(tr2.pendingHtml(), '', 'a send the bridge refused is no longer shown as sent');
});

test('composer: sends into a running task, follows up an ended one or a past conversation', () => {
  assert.deepEqual(composerState(undefined).mode, 'none');
  assert.equal(composerState(header({ status: 'running' })).mode, 'send');
  assert.equal(composerState(header({ status: 'running' })).interrupt, true);
  assert.equal(composerState(header({ status: 'queued' })).interrupt, false, 'nothing to interrupt yet');
  assert.equal(composerState(header({ status: 'interrupted' })).mode, 'followUp');
  assert.equal(composerState(header({ status: 'completed' })).mode, 'followUp');
  assert.equal(composerState(header({ status: 'completed', pastSession: true })).mode, 'followUp');
});

test('questions: claude\'s questions and plans wait until answered through their own answers', () => {
  const qs = new QuestionStore();
  const ends = [];
  const ask = qs.addAsk({ taskId: 't1', toolUseId: 'q1', questions: [COLOR, EXTRAS] }, (e) => ends.push(e));
  assert.equal(ask.kind, 'ask');
  assert.equal(ask.message, 'Claude asks (Color): Which color should the button be? (and 1 more)');
  assert.equal(qs.answer(ask.id, 'Allow'), false, 'not a permission');
  assert.equal(qs.answerPlan(ask.id, { decision: 'approve' }), false, 'not a plan');
  assert.equal(qs.answerAsk(ask.id, { [COLOR.question]: 'Red' }), true);
  assert.equal(qs.answerAsk(ask.id, { [COLOR.question]: 'Blue' }), false, 'answered once');
  const plan = qs.addPlan({ taskId: 't1', toolUseId: 'p1', plan: '# Plan' }, (e) => ends.push(e));
  assert.deepEqual(plan.actions, [APPROVE, 'Approve, Ask Before Edits', KEEP_PLANNING]);
  assert.equal(qs.answerAsk(plan.id, {}), false, 'not a question');
  assert.equal(qs.answerPlan(plan.id, { decision: 'keepPlanning', feedback: 'more tests' }), true);
  const late = qs.addPlan({ taskId: 't1', toolUseId: 'p2', plan: '' }, (e) => ends.push(e));
  qs.withdraw(late.id);
  assert.deepEqual(ends, [{ answers: { [COLOR.question]: 'Red' } }, { plan: { decision: 'keepPlanning', feedback: 'more tests' } }, { withdrawn: true }]);
});

test('command lists: every look shows the last list at once and asks the bridge again; a late older reply is not kept', async () => {
  const { CommandLists } = require(path.join(dir, 'commandLists.js'));
  const replies = [];
  let asked = 0;
  const lists = new CommandLists(() => {
    asked++;
    return new Promise((resolve) => replies.push(resolve));
  });
  const list = (...names) => ({ commands: names.map((name) => ({ name, description: '', source: 'project' })), models: [] });
  const shown = [];
  const show = (l, fresh) => shown.push([l.commands.map((c) => c.name).join(','), fresh]);
  const fail = (e) => assert.fail(String(e));

  let look = lists.look('file:///w', show, fail);
  assert.deepEqual(shown, [], 'nothing to show before the first list');
  replies.shift()(list('greet'));
  await look;
  assert.deepEqual(shown, [['greet', true]]);

  // The box opens again after a command was added: the old list at once, the new one when the bridge answers.
  shown.length = 0;
  look = lists.look('file:///w', show, fail);
  assert.equal(asked, 2, 'asked again at the second look');
  assert.deepEqual(shown, [['greet', false]]);
  replies.shift()(list('greet', 'sub:new'));
  await look;
  assert.deepEqual(shown, [['greet', false], ['greet,sub:new', true]]);
  assert.deepEqual(lists.cached('file:///w').commands.map((c) => c.name), ['greet', 'sub:new']);

  // Two looks in flight: the later request's reply wins whatever the order they come in.
  const first = lists.fresh('file:///w');
  const second = lists.fresh('file:///w');
  const [older, newer] = replies.splice(0, 2);
  newer(list('newest'));
  await second;
  older(list('stale'));
  await first;
  assert.deepEqual(lists.cached('file:///w').commands.map((c) => c.name), ['newest'], 'a late older reply is not kept');
  lists.forget();
  assert.equal(lists.cached('file:///w'), undefined);
});

test('question QuickPick: typed text is the user\'s own answer unless it begins an option\'s label; ticking options keeps it', () => {
  const { ownAnswer, filteredOption, multiAnswer } = require(path.join(dir, 'questions.js'));
  const labels = ['Blue', 'Red', 'Dark mode'];
  // Filters toward an option: Enter picks the option.
  assert.equal(ownAnswer('bl', labels), undefined);
  assert.equal(filteredOption('bl', labels), 'Blue');
  assert.equal(ownAnswer('  Red ', labels), undefined, 'a label, in any case and with blanks, is the option');
  assert.equal(filteredOption('dark', labels), 'Dark mode');
  // The user's own text: Enter sends it, though a word matches a description or part of a label.
  assert.equal(ownAnswer('calm', labels), 'calm', 'a word of a description is no filter');
  assert.equal(ownAnswer('Blue, but lighter ', labels), 'Blue, but lighter', 'longer than a label: own text');
  assert.equal(ownAnswer('mode', labels), 'mode', 'the middle of a label is no filter');
  assert.equal(filteredOption('mode', labels), undefined);
  assert.equal(ownAnswer('   ', labels), undefined, 'nothing typed');
  // A multiple choice: the ticked options in their order, then the typed text.
  assert.deepEqual(multiAnswer(['Dark mode', 'Blue'], undefined, 'and export too', labels), ['Blue', 'Dark mode', 'and export too']);
  assert.deepEqual(multiAnswer(['Dark mode'], undefined, 'dar', labels), ['Dark mode'], 'a filter used to tick an option is no answer');
  assert.deepEqual(multiAnswer([], 'dar', 'dar', labels), ['dar'], 'the typed entry ticked itself counts');
  assert.deepEqual(multiAnswer([], undefined, '', labels), [], 'nothing chosen');
});

test('claude problems: missing, not executable, failing: what the notification says and offers', () => {
  const { claudeNotice, claudeProblem, MISSING_TEXT } = require(path.join(dir, 'claudeProblem.js'));
  const missing = 'claude-bridge: claude CLI not found: install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath to its location (looked in: PATH)';
  assert.equal(claudeProblem(missing), 'missing');
  assert.deepEqual(claudeNotice(missing), { text: MISSING_TEXT, buttons: ['Copy Install Command', 'Set claudePath…', 'Open README'] });
  const noexec = 'claude-bridge: claude CLI at ~/.local/bin/claude is not executable: run `chmod +x ~/.local/bin/claude` (or set claudePath to a claude that is)';
  assert.equal(claudeProblem(noexec), 'unusable');
  const n = claudeNotice(noexec);
  assert.equal(n.text, 'Claude Bridge: claude CLI at ~/.local/bin/claude is not executable: run “chmod +x ~/.local/bin/claude” (or set claudePath to a claude that is)');
  assert.deepEqual(n.buttons, ['Copy Fix Command', 'Set claudePath…', 'Open README']);
  assert.equal(n.fix, 'chmod +x ~/.local/bin/claude');
  const fails = 'claude-bridge: claude CLI at /opt/claude does not run (`/opt/claude --version` exited with code 3: boom): reinstall it (`npm install -g @anthropic-ai/claude-code`), or set claudePath to a claude that works';
  assert.equal(claudeProblem(fails), 'fails');
  const f = claudeNotice(fails);
  assert.match(f.text, /^Claude Bridge: claude CLI at \/opt\/claude does not run \(“\/opt\/claude --version” exited with code 3: boom\): reinstall it/);
  assert.deepEqual(f.buttons, ['Set claudePath…', 'Copy Install Command', 'Open README']);
  assert.equal(claudeProblem('Claude failed: something else'), undefined);
});

test('transcript: an image in the agent\'s Markdown is a link, never loaded', () => {
  const tr = new Transcript();
  tr.setHeader(header());
  tr.addEvents([{ taskId: 't1', seq: 1, kind: 'text', messageId: 'm1', text: 'Look: ![status](https://attacker.invalid/pixel.png?key=abc) and ![](data:image/png;base64,AAAA)' }]);
  const html = tr.html();
  assert.doesNotMatch(html, /<img/, 'no image element');
  assert.match(html, /<a class="image-link" href="https:\/\/attacker\.invalid\/pixel\.png\?key=abc" title="https:\/\/attacker\.invalid\/pixel\.png\?key=abc"><span class="badge">image<\/span> status<\/a>/);
  assert.match(html, /<span class="badge">image<\/span> data:image\/png;base64,AAAA<\/a>/, 'without alt text, the address');
});

test('transcript: a finished task opened afterwards, in either order of header and events: the answer once, the end last; a cancel says Cancelled once', () => {
  const evs = [
    { kind: 'text', messageId: 'm1', text: 'The answer is 42.' },
    { kind: 'result', status: 'completed', result: 'The answer is 42.', isError: false, costUsd: 0.01, durationMs: 1200, numTurns: 1, sessionId: 's' },
  ].map((e, i) => ({ taskId: 't1', seq: i + 1, ...e }));
  const result = { taskId: 't1', sessionId: 's', status: 'completed', result: 'The answer is 42.', isError: false, costUsd: 0.01, durationMs: 1200, numTurns: 1, editedFiles: [] };
  for (const headerFirst of [false, true]) {
    const tr = new Transcript();
    if (headerFirst) tr.setHeader(header({ status: 'completed', result }));
    tr.addEvents(evs);
    if (!headerFirst) tr.setHeader(header({ status: 'completed', result }));
    const html = tr.html();
    assert.equal((html.match(/The answer is 42\./g) || []).length, 1, `the answer once (header first: ${headerFirst})`);
    assert.ok(html.indexOf('The answer is 42.') < html.indexOf('class="end'), 'the end after the answer');
    assert.match(html, /^<header>/, 'the header first');
    assert.match(html.trim(), /<div class="end completed">.*<\/div><\/div>$/s, 'the end is the last block');
  }
  const tr = new Transcript();
  tr.setHeader(header());
  tr.addEvents([{ taskId: 't1', seq: 1, kind: 'result', status: 'cancelled', result: 'Cancelled', isError: true, costUsd: 0, durationMs: 0, numTurns: 0, sessionId: '' }]);
  tr.addEvents([{ taskId: 't1', seq: 2, kind: 'status', message: 'a late note' }]);
  const html = tr.html();
  assert.equal((html.match(/Cancelled/g) || []).length, 1, html);
  assert.ok(html.indexOf('a late note') < html.indexOf('class="end'), 'a block added later comes before the end');
});

test('transcript: a large Edit: both sides shown, the rest behind an expand, the diff made once (prints the time it took)', () => {
  const oldText = Array.from({ length: 3000 }, (_, i) => `old line ${i}`).join('\n');
  const newText = Array.from({ length: 3000 }, (_, i) => `new line ${i}`).join('\n');
  const tr = new Transcript();
  tr.setHeader(header());
  const t0 = process.hrtime.bigint();
  tr.addEvents([{ taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'big', name: 'Edit', summary: 'Edit big.go', input: { file_path: '/w/big.go', old_string: oldText, new_string: newText, replace_all: false } }]);
  const first = tr.tools.get('big').inputHtml;
  for (let i = 0; i < 20; i++) tr.setQuestions(i % 2 ? [] : [{ id: 1, message: 'Claude wants to run Edit: `big.go`', actions: ['Allow', 'Deny'], toolUseId: 'big', askedAt: 0, kind: 'permission' }]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`# a 3,000-line rewrite and 20 redraws of its block: ${ms.toFixed(0)} ms`);
  assert.equal(tr.tools.get('big').inputHtml, first, 'the input rendered once');
  const html = first;
  const shown = html.split('<details class="more">')[0] + html.split('</details>').slice(1).join('');
  assert.match(shown, /<div class="del"><span class="sign">-<\/span>old line 0<\/div>/, 'removed lines in sight');
  assert.match(shown, /<div class="add"><span class="sign">\+<\/span>new line 0<\/div>/, 'added lines in sight');
  assert.match(html, /<summary>… 2,900 more removed lines<\/summary>/);
  assert.match(html, /<summary>… 2,900 more added lines<\/summary>/);
  assert.match(html, /new line 2999<\/div>/, 'the rest behind the expand');
  assert.doesNotMatch(html, /replace_all/, 'replace_all: false is no news');
  const small = new Transcript();
  small.addEvents([{ taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'e', name: 'Edit', summary: 'Edit a.go', input: { file_path: '/w/a.go', old_string: 'a', new_string: 'b', replace_all: true } }]);
  assert.match(small.html(), /<span class="key">replace_all:<\/span> true/);
});

test('transcript: a long prompt: a short title, the whole prompt folded under it', () => {
  const prompt = 'Why does this fail?\n' + Array.from({ length: 60 }, (_, i) => `log line ${i}: something happened here`).join('\n');
  const tr = new Transcript();
  tr.setHeader(header({ prompt }));
  const html = tr.html();
  assert.match(html, /<h1 title="Why does this fail\?">Why does this fail\?<\/h1>/);
  assert.match(html, /<details class="prompt" data-k="prompt"><summary>The whole prompt<\/summary><pre>Why does this fail\?\nlog line 0/);
  const one = new Transcript();
  one.setHeader(header({ prompt: 'x'.repeat(300) }));
  assert.match(one.html(), new RegExp(`<h1 title="${'x'.repeat(99)}…">`), 'one long line: cut to 100');
});

test('transcript style: a failed tool block is not all red, only its output and errors are', () => {
  const css = require('node:fs').readFileSync(path.join(__dirname, '..', '..', 'media', 'transcript.css'), 'utf8');
  // details.tool.error carries the class "error": a bare .error rule would colour the whole block.
  assert.doesNotMatch(css, /(^|[\s,}])\.error\b[^{]*\{[^}]*\bcolor\s*:/m, 'no bare .error colour rule');
  assert.match(css, /pre\.output\.error, div\.error \{ color: var\(--vscode-errorForeground\); \}/);
});
