#!/usr/bin/env node
// A stand-in for claude-bridge that speaks the protocol of README.md ("The protocol") with
// scripted tasks and no claude CLI. The plugin's mock specs use it to check the plugin's
// side of the contract quickly and exactly: what it sends (every message received is
// appended as a JSON line to $MOCK_BRIDGE_LOG) and how it handles what a bridge sends.
// Every message either side sends is validated against editors/protocol.schema.json
// (schema.js): a message that does not validate fails the spec, so the mock speaks the
// protocol the real bridge speaks, and the plugin is held to it.
//
// A task's script is chosen by words in its prompt:
//   "edit"  - a toolUse Edit of main.go, carried into the buffer with workspace/applyEdit
//   "bash"  - a permission question for Bash: claude/permission (answered later with
//             claude.answer when deferred) to a client that declares it, else
//             window/showMessageRequest; "long" makes the command 40 lines; "vanish"
//             ends the task (failed) while the question waits, with no permission event;
//             "die" makes the bridge exit while the question waits
//   "slow"  - runs until cancelled
//   "fail"  - ends with status "failed"
//   "crash" - the bridge exits with code 3 in the middle of the task
//   "review" - an Edit of main.go held for review (claude/reviewEdit, two hunks; "two
//             reviews": two at once, the second of README.md), answered with claude.answer
//             ({"deferred": true} first), written to disk and the open buffer as answered
//   "change" - the task's changes listed for review (claude/changes and the reply's
//             changes); claude.changes, claude.revert and claude.accept answer from them;
//             with "noted", a hunk another task shares (its note) and a file whose
//             permissions alone changed (the file's note)
//   "noticed" - with "review": the review carries a notice (unsaved changes overlap)
//   "ask"   - claude's questions (claude/ask, to a plugin that declares experimental
//             claudeBridge.ask), answered in the reply or later with claude.answer
//   "plan"  - claude's plan (claude/plan, to a plugin that declares ...plan), likewise
// Every task: progress begin/report/end on its token, claude/event queued, started, text
// (two deltas), ..., result; the reply comes after them. The result text holds the prompt
// the bridge would give claude (context turned into @path#Lx-y mentions).
// claude.send, claude.interrupt, claude.setPermissionMode and claude.setModel act on a
// running ("slow") task; claude.commands, claude.sessions and claude.transcript answer
// fixed lists.
'use strict';
const fs = require('fs');
const path = require('path');
const { fileURLToPath, pathToFileURL } = require('url');
const schema = require('./schema.js');

const logFile = process.env.MOCK_BRIDGE_LOG;
function record(msg) {
  if (logFile) fs.appendFileSync(logFile, JSON.stringify(msg) + '\n');
}

// ---- framing ----------------------------------------------------------------------
let buf = Buffer.alloc(0);
function send(msg) {
  schema.sent(msg);
  msg.jsonrpc = '2.0';
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const sep = buf.indexOf('\r\n\r\n');
    if (sep < 0) return;
    const header = buf.slice(0, sep).toString();
    const m = /content-length:\s*(\d+)/i.exec(header);
    if (!m) { buf = buf.slice(sep + 4); continue; }
    const len = Number(m[1]);
    if (buf.length < sep + 4 + len) return;
    const body = buf.slice(sep + 4, sep + 4 + len).toString('utf8');
    buf = buf.slice(sep + 4 + len);
    let msg;
    try { msg = JSON.parse(body); } catch (e) { send({ id: null, error: { code: -32700, message: 'parse error' } }); continue; }
    record(msg);
    schema.received(msg);
    dispatch(msg);
  }
});
process.stdin.on('end', () => process.exit(shutdownSeen ? 0 : 1));

let nextId = 1;
const pending = new Map(); // our request id -> resolve
function request(method, params) {
  const id = 'm' + nextId++;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}
function notify(method, params) { send({ method, params }); }
function reply(id, result) { send({ id, result: result === undefined ? null : result }); }
function replyError(id, code, message) { send({ id, error: { code, message } }); }

// ---- state ------------------------------------------------------------------------
let folders = [];
let settings = {};
let bridgeCaps = {}; // the plugin's capabilities.experimental.claudeBridge
let shutdownSeen = false;
const tasks = new Map(); // taskId -> task
const requestTask = new Map(); // json-rpc id of the run request -> task
let taskCounter = 0;
let sessionCounter = 0;
const docs = new Map(); // uri -> text
// taskId/toolUseId -> resolve(claude.answer's arguments) of a deferred question or review
// ({ withdrawn: reason } when the task is cancelled)
const deferred = new Map();
const changes = new Map(); // taskId -> claude/changes params

function folderPath(uri) { return fileURLToPath(uri); }

function mention(ctx) {
  const file = fileURLToPath(ctx.uri);
  let rel = file;
  for (const f of folders) {
    const root = folderPath(f.uri);
    if (file.startsWith(root + path.sep)) rel = file.slice(root.length + 1);
  }
  const start = ctx.range.start.line + 1;
  let end = ctx.range.end.line + 1;
  if (ctx.range.end.character === 0 && ctx.range.end.line > ctx.range.start.line) end -= 1;
  return `@${rel}#L${start}-${end}`;
}

function dispatch(msg) {
  if (msg.id !== undefined && msg.method === undefined) {
    const resolve = pending.get(msg.id);
    if (resolve) { pending.delete(msg.id); resolve(msg); }
    return;
  }
  const p = msg.params || {};
  switch (msg.method) {
    case 'initialize':
      folders = p.workspaceFolders || (p.rootUri ? [{ uri: p.rootUri, name: 'root' }] : []);
      settings = p.initializationOptions || {};
      bridgeCaps = (p.capabilities && p.capabilities.experimental && p.capabilities.experimental.claudeBridge) || {};
      // MOCK_INIT_DELAY_MS: a bridge slow to start
      return setTimeout(() => reply(msg.id, {
        capabilities: {
          executeCommandProvider: { commands: ['claude.run', 'claude.cancel', 'claude.followUp', 'claude.tasks', 'claude.authStatus',
            'claude.send', 'claude.interrupt', 'claude.setPermissionMode', 'claude.setModel', 'claude.commands', 'claude.sessions', 'claude.transcript',
            'claude.answer', 'claude.changes', 'claude.revert', 'claude.accept'] },
          textDocumentSync: { openClose: true, change: 2, save: true },
          workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
        },
        serverInfo: { name: 'mock-bridge', version: '0' },
      }), Number(process.env.MOCK_INIT_DELAY_MS || 0));
    case 'initialized':
      // MOCK_SHOW_MESSAGE: a warning at start, as the real bridge sends when claude is unusable
      if (process.env.MOCK_SHOW_MESSAGE) notify('window/showMessage', { type: 2, message: process.env.MOCK_SHOW_MESSAGE });
      return;
    case 'shutdown':
      shutdownSeen = true;
      for (const t of tasks.values()) if (!t.done) finish(t, 'cancelled', 'shutdown');
      return reply(msg.id, null);
    case 'exit': return process.exit(shutdownSeen ? 0 : 1);
    case 'workspace/didChangeConfiguration':
      settings = (p.settings && p.settings.claudeBridge) || {};
      return;
    case 'workspace/didChangeWorkspaceFolders':
      for (const f of (p.event && p.event.added) || []) folders.push(f);
      return;
    case 'textDocument/didOpen': docs.set(p.textDocument.uri, p.textDocument.text); return;
    case 'textDocument/didChange': {
      // incremental changes are recorded; the mock keeps only full-text replacements exact
      for (const c of p.contentChanges || []) if (!c.range) docs.set(p.textDocument.uri, c.text);
      return;
    }
    case 'textDocument/didClose': case 'textDocument/didSave': case 'textDocument/willSave': return;
    case '$/cancelRequest': {
      const t = requestTask.get(p.id);
      if (t) cancel(t);
      return;
    }
    case 'window/workDoneProgress/cancel': {
      for (const t of tasks.values()) if (t.token === p.token) cancel(t);
      return;
    }
    case 'workspace/executeCommand': return executeCommand(msg);
    default:
      if (msg.id !== undefined) return replyError(msg.id, -32601, 'method not found: ' + msg.method);
  }
}

function executeCommand(msg) {
  const p = msg.params || {};
  const arg = (p.arguments || [])[0] || {};
  switch (p.command) {
    case 'claude.run': {
      if (!arg.prompt) return replyError(msg.id, -32602, 'prompt is required');
      if (arg.taskId && tasks.has(arg.taskId)) return replyError(msg.id, -32602, 'taskId in use');
      let folder = arg.workspaceFolder || (folders[0] && folders[0].uri);
      if (!folders.some((f) => f.uri === folder)) return replyError(msg.id, -32602, 'not a workspace folder: ' + folder);
      const t = newTask(msg, arg, folder, 'sess-' + ++sessionCounter, arg.taskId);
      return runTask(t);
    }
    case 'claude.followUp': {
      let prev = arg.taskId ? tasks.get(arg.taskId) : [...tasks.values()].find((x) => x.sessionId === arg.sessionId);
      if (!prev && arg.sessionId) prev = { sessionId: arg.sessionId, folder: folders[0].uri, history: [] };
      if (!prev) return replyError(msg.id, -32602, 'unknown task');
      if (prev.done === false) return replyError(msg.id, -32602, 'task is still running');
      if (arg.newTaskId && tasks.has(arg.newTaskId)) return replyError(msg.id, -32602, 'newTaskId in use');
      const t = newTask(msg, arg, prev.folder, prev.sessionId, arg.newTaskId);
      t.history = (prev.history || []).slice();
      return runTask(t);
    }
    case 'claude.cancel': {
      const t = tasks.get(arg.taskId);
      if (!t) return replyError(msg.id, -32602, 'unknown task');
      const was = !t.done;
      cancel(t);
      return reply(msg.id, { cancelled: was });
    }
    case 'claude.tasks': {
      const list = [...tasks.values()].map((t) => ({
        taskId: t.id, status: t.status, workspaceFolder: t.folder, prompt: t.prompt, sessionId: t.started ? t.sessionId : undefined,
        startedAt: t.startedAt, endedAt: t.endedAt, costUsd: t.costUsd,
        review: t.review && t.review !== 'off' ? t.review : undefined,
        unreviewedChanges: changes.has(t.id) && changes.get(t.id).files.length > 0 ? true : undefined,
      }));
      if (!arg.processes) return reply(msg.id, list);
      const running = list.filter((t) => !['completed', 'failed', 'cancelled'].includes(t.status)).length;
      return reply(msg.id, { tasks: list, processes: { live: running, running, idle: 0, maxIdle: 4, slots: 4 } });
    }
    case 'claude.authStatus': {
      // The shape of the real bridge's reply (a managed helper, the key from the key file).
      const home = process.env.HOME || '/home/me';
      return reply(msg.id, {
        status: 'ok', mode: 'helper', helperPath: home + '/.claude/auth_helper.sh', helperExists: true, helperMode: '0700',
        helperManagedContent: true, managed: true, source: 'keyFile',
        keyFile: { path: home + '/.claude/api_key', exists: true, ownerUid: 1000, owner: 'me', mode: '0600', ok: true },
        keyCommandConfigured: false, fingerprint: '0123abcd', ttlMs: 240000, lastRefresh: new Date().toISOString(),
        lastRefreshOk: true, lastRefreshMs: 4, claude: { path: '/usr/local/bin/claude', foundIn: 'PATH' },
      });
    }
    // Issue 14's commands: recorded (the spec checks what was sent), answered plainly.
    case 'claude.send': case 'claude.interrupt': case 'claude.setPermissionMode': case 'claude.setModel': {
      const t = tasks.get(arg.taskId);
      if (!t) return replyError(msg.id, -32602, 'no task ' + arg.taskId);
      if (t.done) return replyError(msg.id, -32602, 'the task is not running');
      if (p.command === 'claude.send') {
        event(t, 'userMessage', { text: arg.prompt, imageCount: (arg.images || []).length || undefined });
        return reply(msg.id, { sent: true });
      }
      if (p.command === 'claude.interrupt') {
        t.interrupted = true;
        cancel(t);
        return reply(msg.id, { interrupted: true });
      }
      if (p.command === 'claude.setPermissionMode') {
        t.mode = arg.mode;
        event(t, 'mode', { permissionMode: arg.mode, model: 'claude-test' });
        return reply(msg.id, { permissionMode: arg.mode });
      }
      event(t, 'mode', { permissionMode: t.mode || 'acceptEdits', model: 'claude-' + arg.model + '-5-5' });
      return reply(msg.id, { model: 'claude-' + arg.model + '-5-5' });
    }
    case 'claude.answer': {
      const w = deferred.get(arg.taskId + '/' + arg.toolUseId);
      if (!w) return reply(msg.id, { accepted: false });
      deferred.delete(arg.taskId + '/' + arg.toolUseId);
      w(arg);
      return reply(msg.id, { accepted: true });
    }
    case 'claude.changes': {
      const c = changes.get(arg.taskId);
      if (!c) return replyError(msg.id, -32602, 'no checkpoint for task ' + arg.taskId);
      return reply(msg.id, c);
    }
    case 'claude.revert': {
      const c = changes.get(arg.taskId);
      if (!c) return replyError(msg.id, -32602, 'no checkpoint for task ' + arg.taskId);
      const files = [];
      for (const f of c.files) {
        if (arg.uri && f.uri !== arg.uri) continue;
        const want = f.hunks.filter((h) => !arg.hunks || arg.hunks.includes(h.id));
        // a hunk whose new text says "busy" overlaps the user's unsaved changes
        const not = want.filter((h) => h.newText.includes('busy'));
        const done = want.filter((h) => !h.newText.includes('busy'));
        f.hunks = f.hunks.filter((h) => !done.includes(h));
        files.push({ uri: f.uri, reverted: done.map((h) => h.id),
          notReverted: not.map((h) => ({ id: h.id, reason: 'overlaps your unsaved changes (line 4 of your buffer)' })),
          restored: f.hunks.length === 0 });
      }
      c.files = c.files.filter((f) => f.hunks.length > 0);
      return reply(msg.id, { files });
    }
    case 'claude.accept': {
      const c = changes.get(arg.taskId);
      if (!c) return replyError(msg.id, -32602, 'no checkpoint for task ' + arg.taskId);
      const accepted = c.files.filter((f) => !arg.uri || f.uri === arg.uri).map((f) => f.uri);
      c.files = c.files.filter((f) => !accepted.includes(f.uri));
      if (c.files.length === 0) changes.delete(arg.taskId);
      return reply(msg.id, { accepted });
    }
    case 'claude.commands':
      return reply(msg.id, {
        commands: [
          { name: 'compact', description: 'Free up context', argumentHint: '<instructions>', source: 'builtin' },
          { name: 'context', description: 'Show context usage', source: 'builtin' },
          { name: 'greet', description: 'Greets someone', argumentHint: '<name>', source: 'project' },
          ...projectCommands(fileURLToPath(arg.workspaceFolder || folders[0].uri)),
        ],
        models: [{ value: 'sonnet', displayName: 'Sonnet' }, { value: 'opus', displayName: 'Opus' }],
      });
    case 'claude.sessions':
      return reply(msg.id, { sessions: [
        { sessionId: 'term-1', title: 'Greeting investigation', firstPrompt: 'Explain the greeting', lastPrompt: 'and then?',
          lastActivity: new Date(Date.now() - 2 * 3600 * 1000).toISOString(), turns: 3, workspaceFolder: arg.workspaceFolder || folders[0].uri },
      ] });
    case 'claude.transcript':
      if (arg.sessionId !== 'term-1') return replyError(msg.id, -32602, 'no such session');
      return reply(msg.id, { sessionId: 'term-1', title: 'Greeting investigation', events: [
        { taskId: 'term-1', seq: 1, kind: 'userMessage', text: 'Explain the greeting' },
        { taskId: 'term-1', seq: 2, kind: 'text', messageId: 'm0', text: 'It prints hello.' },
      ] });
    default:
      return replyError(msg.id, -32602, 'unknown command ' + p.command);
  }
}

// The folder's own commands as claude lists them: each .claude/commands/**/*.md, named by
// its path (sub/new.md is sub:new), described by its first line.
function projectCommands(folder) {
  const out = [];
  const walk = (dir, prefix) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(dir, e.name), prefix + e.name + ':');
      else if (e.name.endsWith('.md')) {
        const first = fs.readFileSync(path.join(dir, e.name), 'utf8').split('\n')[0];
        out.push({ name: prefix + e.name.slice(0, -3), description: first, source: 'project' });
      }
    }
  };
  walk(path.join(folder, '.claude', 'commands'), '');
  return out;
}

function newTask(msg, arg, folder, sessionId, id) {
  const t = {
    id: id || 'mock-' + ++taskCounter,
    requestId: msg.id,
    token: msg.params.workDoneToken,
    prompt: arg.prompt,
    review: arg.review || settings.review,
    context: arg.context || [],
    folder,
    sessionId,
    seq: 0,
    status: 'queued',
    done: false,
    startedAt: new Date().toISOString(),
    history: [],
  };
  tasks.set(t.id, t);
  requestTask.set(msg.id, t);
  return t;
}

// askEditor sends claude/ask or claude/plan and returns the answer: the reply, or, when the
// reply is {"deferred": true}, claude.answer's argument (its field `field` for a plan);
// null when dismissed.
async function askEditor(t, method, params, toolUseId, field) {
  const res = await request(method, params);
  let answer = res.result || null;
  if (answer && answer.deferred) {
    const a = await new Promise((resolve) => deferred.set(t.id + '/' + toolUseId, resolve));
    answer = a.dismissed ? null : (field ? a[field] : a) || null;
  }
  return answer;
}

function event(t, kind, fields) {
  notify('claude/event', Object.assign({ taskId: t.id, seq: ++t.seq, kind }, fields));
}
function progress(t, value) {
  if (t.token !== undefined && t.token !== null) notify('$/progress', { token: t.token, value });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cancel(t) {
  if (t.done) return;
  t.cancelled = true;
  if (t.wake) t.wake();
  for (const [k, w] of deferred) {
    if (k.startsWith(t.id + '/')) { deferred.delete(k); w({ withdrawn: 'the task was cancelled' }); }
  }
}

// A permission question as the real bridge asks it: claude/permission to a client that
// declares it (a deferred reply waits for claude.answer), else window/showMessageRequest.
// Resolves to the decision ('' when none: cancelled, or the question withdrawn).
async function askPermission(t, toolUseId, command, words) {
  const message = 'Claude wants to run Bash: `' + command.split('\n')[0] + '`' +
    (command.includes('\n') ? ` (and ${command.split('\n').length - 1} more lines)` : '');
  if (!bridgeCaps.permission) {
    const res = await request('window/showMessageRequest', {
      type: 3, message: 'Claude wants to run Bash: `' + command + '`',
      actions: [{ title: 'Allow' }, { title: 'Allow for this task' }, { title: 'Deny' }],
      taskId: t.id, toolUseId, toolName: 'Bash',
    });
    const title = res.result && res.result.title;
    return title === 'Allow' ? 'allow' : title === 'Allow for this task' ? 'allowTask' : title ? 'deny' : '';
  }
  const later = new Promise((resolve) => deferred.set(t.id + '/' + toolUseId, resolve));
  const res = await request('claude/permission', {
    taskId: t.id, toolUseId, toolName: 'Bash', message, keyInput: command, description: 'Run it',
    summary: 'Bash: ' + command.split('\n')[0], input: { command, description: 'Run it' },
  });
  if (words.includes('die')) setTimeout(() => process.exit(3), 300);
  if (words.includes('vanish')) setTimeout(() => finish(t, 'failed', 'claude exited with code 143 before it finished the task'), 300);
  if (!(res.result && res.result.deferred)) return (res.result && res.result.decision) || '';
  const a = await later;
  return a.dismissed ? 'deny' : a.decision || '';
}

const LONG_COMMAND = Array.from({ length: 40 }, (_, i) => `echo step ${i + 1} of a long script that does many things`).join('\n');

function finish(t, status, result) {
  if (t.done) return;
  t.done = true;
  t.status = status;
  t.endedAt = new Date().toISOString();
  t.costUsd = 0.0123;
  progress(t, { kind: 'end', message: status === 'completed' ? 'Done: ' + result.slice(0, 40) : status === 'cancelled' ? 'Cancelled' : 'Failed: ' + result });
  event(t, 'result', { status, result, isError: status !== 'completed', costUsd: 0.0123, durationMs: 1500, numTurns: 2, sessionId: t.sessionId });
  const res = {
    taskId: t.id, sessionId: t.sessionId, status, result, isError: status !== 'completed',
    costUsd: 0.0123, durationMs: 1500, numTurns: 2, editedFiles: t.edited || [],
  };
  if (changes.has(t.id)) res.changes = changes.get(t.id);
  reply(t.requestId, res);
}

async function runTask(t) {
  if (t.token === undefined) {
    t.token = 'bridge-' + t.id;
    await request('window/workDoneProgress/create', { token: t.token });
  }
  const fullPrompt = [t.prompt, ...t.context.map(mention)].join(' ');
  t.history.push('user: ' + fullPrompt);
  progress(t, { kind: 'begin', title: 'Claude', message: t.prompt.slice(0, 40), cancellable: true });
  event(t, 'queued', { prompt: t.prompt, workspaceFolder: t.folder, position: 0, waiting: false });
  await sleep(5);
  t.status = 'running';
  t.started = true;
  progress(t, { kind: 'report', message: 'Starting claude' });
  event(t, 'started', {
    sessionId: t.sessionId, model: settings.model || 'claude-test', cwd: folderPath(t.folder),
    permissionMode: settings.permissionMode || 'acceptEdits', apiKeySource: 'apiKeyHelper', claudeVersion: '2.1.332',
  });
  progress(t, { kind: 'report', message: 'Thinking' });
  event(t, 'text', { messageId: 'msg1', text: 'Working on ' });
  event(t, 'text', { messageId: 'msg1', text: 'it.\nSecond line.' });
  const words = t.prompt.toLowerCase();
  if (words.includes('crash')) process.exit(3);
  if (words.includes('edit')) {
    const file = path.join(folderPath(t.folder), 'main.go');
    const uri = pathToFileURL(file).href;
    progress(t, { kind: 'report', message: 'Edit main.go' });
    event(t, 'toolUse', { toolUseId: 'tu1', name: 'Edit', input: { file_path: file, old_string: 'a', new_string: 'b' }, summary: 'Edit main.go' });
    const res = await request('workspace/applyEdit', {
      label: 'Claude: Edit main.go',
      edit: { changes: { [uri]: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '// edited by claude\n' }] } },
    });
    const applied = res.result && res.result.applied;
    t.edited = [uri];
    event(t, 'toolResult', { toolUseId: 'tu1', name: 'Edit', isError: !applied, content: applied ? 'The file main.go has been updated.' : 'not applied', filePath: file, uri });
    event(t, 'status', { message: applied ? 'edit carried into the open buffer main.go' : 'edit not applied' });
  }
  if (words.includes('bash')) {
    // As the real bridge: the call's toolUse (claude writes it before it asks), the question
    // (claude/permission, or LSP's params plus the task and the call), the answer as a
    // permission event, the result.
    const command = words.includes('long') ? LONG_COMMAND : 'touch x.txt';
    const summary = 'Bash: ' + command.split('\n')[0];
    event(t, 'toolUse', { toolUseId: 'tu2', name: 'Bash', input: { command }, summary });
    progress(t, { kind: 'report', message: 'Waiting for permission: Bash' });
    t.status = 'waiting';
    const asked = await askPermission(t, 'tu2', command, words);
    if (t.done) return;
    t.status = 'running';
    const decision = asked || 'deny';
    const automatic = !asked;
    const reason = t.cancelled ? 'The task was cancelled.'
      : decision === 'deny' ? 'The user denied Bash in the editor.' : 'Allowed in the editor.';
    event(t, 'permission', { toolUseId: 'tu2', name: 'Bash', input: { command }, summary, decision, reason, automatic });
    event(t, 'toolResult', { toolUseId: 'tu2', name: 'Bash', isError: decision === 'deny', content: decision === 'deny' ? reason : '' });
  }
  if (words.includes('review')) {
    const files = words.includes('two reviews') ? ['main.go', 'README.md'] : ['main.go'];
    await Promise.all(files.map((name, i) => reviewEdit(t, name, 'tr' + (i + 1))));
  }
  if (words.includes('change')) {
    const dir = folderPath(t.folder);
    const c = { taskId: t.id, files: [
      { uri: pathToFileURL(path.join(dir, 'README.md')).href, status: 'modified', hunks: [
        { id: 'f1h1', range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, originalText: '# demo\n', newText: '# busy demo\n' },
      ] },
      { uri: pathToFileURL(path.join(dir, 'main.go')).href, status: 'modified', hunks: [
        { id: 'f2h1', range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, originalText: 'import "fmt"\n', newText: 'import "fmt" // changed\n' },
        { id: 'f2h2', range: { start: { line: 5, character: 0 }, end: { line: 6, character: 0 } }, originalText: '\tfmt.Println("hello")\n', newText: '\tfmt.Println("changed")\n' },
      ] },
    ] };
    if (words.includes('noted')) {
      c.files[0].hunks[0].note = "task t9 changed these lines too while this task ran: reverting them would undo its work";
      c.files.push({ uri: pathToFileURL(path.join(dir, 'run.sh')).href, status: 'modified', hunks: [], note: 'permissions 0644 → 0755' });
    }
    for (const f of c.files) {
      if (!f.hunks.length) continue;
      const file = fileURLToPath(f.uri);
      let text = fs.readFileSync(file, 'utf8');
      for (const h of f.hunks) text = text.replace(h.originalText, h.newText);
      fs.writeFileSync(file, text);
    }
    changes.set(t.id, c);
    notify('claude/changes', c);
  }
  if (/\bask\b/.test(words) && bridgeCaps.ask) {
    // As the real bridge: the AskUserQuestion call, claude/ask, the answer (in the reply, or
    // with claude.answer after {"deferred": true}), a question event.
    const toolUseId = 'tu-ask-' + t.id;
    const questions = [
      { question: 'Which color?', header: 'Color', multiSelect: false, options: [{ label: 'Blue', description: 'calm' }, { label: 'Red' }] },
      { question: 'Which size?', header: 'Size', multiSelect: false, options: [{ label: 'Small' }, { label: 'Large', description: 'big' }] },
    ];
    event(t, 'toolUse', { toolUseId, name: 'AskUserQuestion', input: { questions }, summary: 'AskUserQuestion' });
    t.status = 'waiting';
    const answer = await askEditor(t, 'claude/ask', { taskId: t.id, toolUseId, questions }, toolUseId);
    t.status = 'running';
    const answers = (answer && answer.answers) || {};
    const q = { toolUseId, questions, answers };
    if (Object.keys(answers).length === 0) q.reason = 'dismissed in the editor';
    event(t, 'question', q);
    t.history.push('answers: ' + JSON.stringify(answers));
  }
  if (/\bplan\b/.test(words) && bridgeCaps.plan) {
    const toolUseId = 'tu-plan-' + t.id;
    const plan = '# Plan\n\n1. Greet the world\n';
    event(t, 'toolUse', { toolUseId, name: 'ExitPlanMode', input: { plan }, summary: 'ExitPlanMode' });
    t.status = 'waiting';
    const answer = await askEditor(t, 'claude/plan', { taskId: t.id, toolUseId, plan }, toolUseId, 'plan');
    t.status = 'running';
    const ev = { toolUseId, plan, decision: answer && answer.decision === 'approve' ? 'approve' : 'keepPlanning' };
    if (ev.decision === 'approve') ev.permissionMode = answer.permissionMode || 'acceptEdits';
    if (answer && answer.feedback) ev.feedback = answer.feedback;
    if (!answer) ev.reason = 'dismissed in the editor';
    event(t, 'plan', ev);
    t.history.push('plan: ' + ev.decision);
  }
  if (words.includes('slow')) {
    progress(t, { kind: 'report', message: 'Bash: sleep 600' });
    await new Promise((resolve) => { t.wake = resolve; if (t.cancelled) resolve(); setTimeout(resolve, 60000); });
  }
  if (t.interrupted) return finish(t, 'interrupted', 'Interrupted');
  if (t.cancelled) return finish(t, 'cancelled', 'cancelled');
  if (words.includes('fail')) return finish(t, 'failed', 'claude exited with code 1: it broke');
  t.history.push('assistant: answered');
  event(t, 'retry', { attempt: 1, maxRetries: 10, delayMs: 10, errorStatus: 529, error: 'overloaded' });
  finish(t, 'completed', 'prompt: ' + fullPrompt + ' | history: ' + t.history.length);
}

// An edit held for review: main.go gets two hunks (h1: the import, h2: the greeting),
// README.md one. The answer decides what is written (disk, and the buffer when open).
async function reviewEdit(t, name, toolUseId) {
  const file = path.join(folderPath(t.folder), name);
  const uri = pathToFileURL(file).href;
  const original = fs.readFileSync(file, 'utf8');
  const lines = original.split('\n');
  const hunks = [];
  const edits = name === 'main.go'
    ? [[2, 'import "fmt"', 'import (\n\t"fmt"\n)'], [5, '\tfmt.Println("hello")', '\tfmt.Println("hello, review")']]
    : [[0, '# demo', '# demo, reviewed']];
  const proposedLines = lines.slice();
  for (let i = edits.length - 1; i >= 0; i--) proposedLines.splice(edits[i][0], 1, ...edits[i][2].split('\n'));
  edits.forEach(([line, , after], i) => hunks.push({
    id: 'h' + (i + 1),
    range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } },
    originalText: lines[line] + '\n', proposedText: after + '\n',
  }));
  const proposed = proposedLines.join('\n');
  event(t, 'toolUse', { toolUseId, name: 'Edit', input: { file_path: file }, summary: 'Edit ' + name });
  progress(t, { kind: 'report', message: 'Waiting for your review: ' + name });
  const answer = new Promise((resolve) => deferred.set(t.id + '/' + toolUseId, resolve));
  const params = { taskId: t.id, toolUseId, uri, tool: 'Edit', original, proposed, hunks };
  if (t.prompt.includes('noticed')) params.notice = 'Your unsaved changes to ' + name + ' overlap the lines Claude changes, so this review shows the file as saved on disk.';
  const res = await request('claude/reviewEdit', params);
  let review = res.result;
  if (review && review.deferred) {
    const a = await answer;
    if (a.withdrawn) {
      event(t, 'review', { toolUseId, uri, tool: 'Edit', decision: 'reject', acceptedHunks: [],
        rejectedHunks: hunks.map((h) => h.id), edited: false, reason: a.withdrawn });
      return;
    }
    review = a.review || { decision: 'reject' };
  }
  review = review || { decision: 'reject' };
  let text = null;
  let accepted = [];
  if (review.decision === 'accept') {
    if (review.text !== undefined) text = review.text;
    else {
      accepted = review.acceptedHunks || hunks.map((h) => h.id);
      const out = lines.slice();
      for (let i = edits.length - 1; i >= 0; i--) if (accepted.includes('h' + (i + 1))) out.splice(edits[i][0], 1, ...edits[i][2].split('\n'));
      text = out.join('\n');
    }
  }
  if (text !== null && text !== original) {
    fs.writeFileSync(file, text);
    t.edited = (t.edited || []).concat([uri]);
    await request('workspace/applyEdit', { label: 'Claude: Edit ' + name, edit: { changes: { [uri]: [
      { range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: 0 } }, newText: text },
    ] } } });
  }
  event(t, 'review', { toolUseId, uri, tool: 'Edit', decision: text === null ? 'reject' : 'accept',
    acceptedHunks: accepted, rejectedHunks: hunks.map((h) => h.id).filter((id) => !accepted.includes(id)),
    edited: review.text !== undefined, feedback: review.feedback });
  event(t, 'toolResult', { toolUseId, name: 'Edit', isError: text === null, content: text === null ? 'rejected' : 'updated' });
}
