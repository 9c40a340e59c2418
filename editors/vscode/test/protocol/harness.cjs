// A client that drives the real claude-bridge binary over stdio the way the
// VS Code extension (vscode-languageclient 11 on vscode-jsonrpc) does, against
// the real claude CLI and the Messages API stand-in (bin/fakeapi).
//
// It plays VS Code's part in full: it answers window/workDoneProgress/create,
// window/showMessageRequest (scripted) and workspace/applyEdit (applying the
// edits to its open documents with vscode-languageserver-textdocument and
// sending the didChange VS Code would send), and it records every message
// in arrival order so tests can check ordering.

'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { pathToFileURL } = require('node:url');
const rpc = require('vscode-jsonrpc/node');
const { TextDocument } = require('vscode-languageserver-textdocument');

const ROOT = path.resolve(__dirname, '../../../..');
// The protocol's JSON Schema in ajv's strict mode: every message of the bridge's
// beyond LSP is validated against it (Editor.validate).
const protocol = require(path.join(ROOT, 'editors', 'protocol-validate.cjs')).load();
const BRIDGE = process.env.CLAUDE_BRIDGE_BIN || path.join(ROOT, 'bin', 'claude-bridge');
const FAKEAPI = process.env.CLAUDE_BRIDGE_FAKEAPI || path.join(ROOT, 'bin', 'fakeapi');
const CLAUDE = process.env.CLAUDE_BRIDGE_TEST_CLAUDE || path.join(ROOT, '.tools', 'node_modules', '.bin', 'claude');
const KEY = 'sk-ant-test-protocol-0123456789';

const MAIN_GO = 'package main\n\nfunc main() {\n\tprintln("hello")\n}\n';

function checkTools() {
  for (const [what, p, fix] of [
    ['claude-bridge', BRIDGE, 'make build'],
    ['fakeapi', FAKEAPI, 'make build'],
    ['claude CLI', CLAUDE, 'make tools'],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p}: run \`${fix}\` first`);
  }
}

function uri(p) {
  return pathToFileURL(p).toString();
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Like sleep, but does not keep the process alive (for races with a fallback). */
function unrefSleep(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Polls cond every 20 ms until it returns a truthy value or the time is up. */
async function waitFor(cond, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Registers fn to run when test t ends. Cleanups run last registered first
 * (the bridge stops before its sandbox is removed), each one even if an
 * earlier one failed, so no process outlives its test.
 */
function onCleanup(t, fn) {
  if (!t.cleanups) {
    t.cleanups = [];
    t.after(async () => {
      const errors = [];
      while (t.cleanups.length > 0) {
        const f = t.cleanups.pop();
        try {
          await f();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    });
  }
  t.cleanups.push(fn);
}

/** A temp dir with HOME (~/.claude/api_key, 0600) and a workspace holding main.go. */
function makeSandbox(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-protocol-'));
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
  fs.mkdirSync(workspace);
  fs.writeFileSync(path.join(home, '.claude', 'api_key'), KEY + '\n', { mode: 0o600 });
  fs.chmodSync(path.join(home, '.claude', 'api_key'), 0o600);
  fs.writeFileSync(path.join(workspace, 'main.go'), MAIN_GO);
  if (t && !process.env.KEEP_SANDBOX) onCleanup(t, () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return { dir, home, workspace };
}

/** Starts bin/fakeapi with a script (array of turns); resolves when it prints its URL. */
async function startFakeApi(t, sandbox, turns) {
  const scriptPath = path.join(sandbox.dir, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(scriptPath, JSON.stringify(turns));
  const p = spawn(FAKEAPI, ['--script', scriptPath, '--workspace', sandbox.workspace, '--key', KEY], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  readline.createInterface({ input: p.stderr }).on('line', (l) => log.push(l));
  const url = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: p.stdout });
    rl.once('line', (l) => resolve(l.trim()));
    p.once('exit', (code) => reject(new Error(`fakeapi exited ${code}: ${log.join('\n')}`)));
  });
  onCleanup(t, () => {
    p.kill('SIGTERM');
  });
  return { url, proc: p, log };
}

/**
 * The editor side. Options:
 *   permission(params) → action title | null   (default: 'Allow')
 *   workDoneProgress: advertise window.workDoneProgress (default true)
 *   initializationOptions
 *   experimental: capabilities.experimental (e.g. {claudeBridge: {reviewEdit: true}})
 *   reviewEdit(params) → the claude/reviewEdit reply (the extension's answer)
 *   decide(params) → the claude/permission reply (default: {decision: 'allow'}), to an
 *     editor that declares experimental.claudeBridge.permission
 */
class Editor {
  constructor(t, sandbox, apiUrl, opts = {}) {
    this.t = t;
    this.sandbox = sandbox;
    this.opts = opts;
    this.log = []; // every message from the bridge, in order: {type, ...}
    this.docs = new Map(); // uri → TextDocument
    this.permissionAsks = [];
    this.applyEdits = [];
    this.schemaViolations = []; // messages of the bridge's that the schema refuses
    this.stderr = [];
    this.logFile = path.join(sandbox.dir, 'bridge.log');
    const env = {
      PATH: process.env.PATH,
      HOME: sandbox.home,
      LANG: 'C.UTF-8',
      ANTHROPIC_BASE_URL: apiUrl,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_BRIDGE_CLAUDE: CLAUDE,
      XDG_STATE_HOME: path.join(sandbox.dir, 'state'),
    };
    this.proc = spawn(BRIDGE, ['serve', '--log-file', this.logFile, '--log-level', 'debug'], {
      cwd: sandbox.workspace,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (b) => this.stderr.push(b.toString()));
    this.conn = rpc.createMessageConnection(
      new rpc.StreamMessageReader(this.proc.stdout),
      new rpc.StreamMessageWriter(this.proc.stdin),
    );
    this.conn.onRequest('window/workDoneProgress/create', (p) => {
      this.log.push({ type: 'create', token: p.token, at: Date.now() });
      return null;
    });
    this.conn.onUnhandledProgress((p) => {
      this.log.push({ type: 'progress', token: p.token, value: p.value, at: Date.now() });
    });
    this.conn.onNotification('claude/event', (ev) => {
      const def = protocol.eventDef(ev && ev.kind);
      this.validate('claude/event ' + (ev && ev.kind), def ? ['$defs', def] : ['$defs', 'BridgeEvent'], ev);
      this.log.push({ type: 'event', ev, at: Date.now() });
    });
    this.conn.onNotification('claude/editConflict', (c) => {
      this.validate('claude/editConflict', ['$defs', 'notifications', '$defs', 'claude/editConflict', 'properties', 'params'], c);
      this.log.push({ type: 'conflict', c, at: Date.now() });
    });
    this.conn.onNotification('claude/authChanged', (a) => {
      this.validate('claude/authChanged', ['$defs', 'notifications', '$defs', 'claude/authChanged', 'properties', 'params'], a);
      this.log.push({ type: 'authChanged', a, at: Date.now() });
    });
    this.conn.onNotification('claude/changes', (c) => {
      this.validate('claude/changes', ['$defs', 'notifications', '$defs', 'claude/changes', 'properties', 'params'], c);
      this.log.push({ type: 'changes', c, at: Date.now() });
    });
    this.conn.onRequest('claude/reviewEdit', async (params) => {
      this.validate('claude/reviewEdit', ['$defs', 'requests', '$defs', 'claude/reviewEdit', 'properties', 'params'], params);
      this.log.push({ type: 'reviewEdit', params, at: Date.now() });
      if (!this.opts.reviewEdit) throw new Error('claude/reviewEdit without a handler');
      return this.opts.reviewEdit(params);
    });
    this.conn.onNotification('window/showMessage', (m) => this.log.push({ type: 'showMessage', m, at: Date.now() }));
    this.conn.onNotification('window/logMessage', (m) => this.log.push({ type: 'logMessage', m, at: Date.now() }));
    this.conn.onRequest('window/showMessageRequest', async (params) => {
      this.validate('window/showMessageRequest', ['$defs', 'requests', '$defs', 'window/showMessageRequest', 'properties', 'params'], params);
      this.permissionAsks.push(params);
      this.log.push({ type: 'ask', params, at: Date.now() });
      const title = this.opts.permission ? await this.opts.permission(params) : 'Allow';
      if (title === null || title === undefined) return null;
      const action = (params.actions || []).find((a) => a.title === title);
      if (!action) throw new Error(`no action ${title} in ${JSON.stringify(params.actions)}`);
      return action;
    });
    // claude/permission, to an editor that declares experimental.claudeBridge.permission
    // (opts.experimental), as the extension does: opts.decide(params) → the reply.
    this.permissionRequests = [];
    this.conn.onRequest('claude/permission', async (params) => {
      this.validate('claude/permission', ['$defs', 'requests', '$defs', 'claude/permission', 'properties', 'params'], params);
      this.permissionRequests.push(params);
      this.log.push({ type: 'permission', params, at: Date.now() });
      return this.opts.decide ? await this.opts.decide(params) : { decision: 'allow' };
    });
    this.conn.onRequest('workspace/applyEdit', (params) => this.applyEdit(params));
    this.conn.onRequest('workspace/configuration', (p) => p.items.map(() => null));
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('client/unregisterCapability', () => null);
    this.conn.onRequest('window/showDocument', () => ({ success: true }));
    this.conn.onError(() => undefined);
    this.conn.listen();
    onCleanup(t, () => {
      if (this.schemaViolations.length > 0) {
        throw new Error(`the bridge sent messages the protocol's schema refuses:\n${this.schemaViolations.join('\n')}`);
      }
    });
    onCleanup(t, () => this.dispose());
    (t.editors ??= []).push(this);
  }

  async initialize(extra = {}) {
    const folder = this.sandbox.workspace;
    const caps = {
      workspace: {
        applyEdit: true,
        workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] },
        didChangeConfiguration: { dynamicRegistration: true },
        workspaceFolders: true,
        configuration: true,
      },
      textDocument: {
        synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
      },
      window: {
        workDoneProgress: this.opts.workDoneProgress !== false,
        showMessage: { messageActionItem: { additionalPropertiesSupport: true } },
        showDocument: { support: true },
      },
      general: { positionEncodings: ['utf-16'] },
      ...(this.opts.experimental ? { experimental: this.opts.experimental } : {}),
    };
    const result = await this.conn.sendRequest('initialize', {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.139.1' },
      locale: 'en',
      rootPath: folder,
      rootUri: uri(folder),
      capabilities: caps,
      initializationOptions: this.opts.initializationOptions ?? { permissionMode: 'acceptEdits', auth: {} },
      trace: 'off',
      workspaceFolders: [{ uri: uri(folder), name: path.basename(folder) }],
      ...extra,
    });
    await this.conn.sendNotification('initialized', {});
    this.capabilities = result.capabilities;
    return result;
  }

  /**
   * textDocument/didOpen with the disk content (or the given text). Give the
   * text VS Code would show for a file with a byte-order mark (without it) or
   * mixed line breaks (one of them).
   */
  async open(file, text) {
    const u = uri(file);
    const content = text ?? fs.readFileSync(file, 'utf8');
    const doc = TextDocument.create(u, 'go', 1, content);
    this.docs.set(u, doc);
    await this.conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: u, languageId: 'go', version: 1, text: content },
    });
    return doc;
  }

  doc(file) {
    return this.docs.get(uri(file));
  }

  /** A user's edit: applies the change to the document and sends an incremental didChange. */
  async type(file, range, text) {
    const u = uri(file);
    const doc = this.docs.get(u);
    const next = TextDocument.update(doc, [{ range, text }], doc.version + 1);
    this.docs.set(u, next);
    await this.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: u, version: next.version },
      contentChanges: [{ range, rangeLength: doc.offsetAt(range.end) - doc.offsetAt(range.start), text }],
    });
  }

  /**
   * workspace/applyEdit as VS Code does it through languageclient: refuse
   * when a versioned edit names another version; apply all of a document's
   * edits at once; bump the version and send one didChange with the edits as
   * incremental changes, last position first (so each applies in sequence).
   */
  async applyEdit(params) {
    this.applyEdits.push(params);
    this.log.push({ type: 'applyEdit', params, at: Date.now() });
    const edit = params.edit || {};
    const perDoc = [];
    if (edit.documentChanges) {
      for (const ch of edit.documentChanges) {
        if (!ch.textDocument) return { applied: false, failureReason: `resource operation ${ch.kind} not supported here` };
        perDoc.push({ uri: ch.textDocument.uri, version: ch.textDocument.version, edits: ch.edits });
      }
    }
    for (const [u, edits] of Object.entries(edit.changes || {})) perDoc.push({ uri: u, version: null, edits });
    for (const d of perDoc) {
      const doc = this.docs.get(d.uri);
      if (doc && typeof d.version === 'number' && d.version !== doc.version) {
        return { applied: false, failureReason: `version ${d.version} is not the document's ${doc.version}` };
      }
    }
    for (const d of perDoc) {
      const doc = this.docs.get(d.uri);
      if (!doc) {
        // Not open: VS Code would open it in the background and edit it.
        continue;
      }
      // VS Code keeps one line break per document and converts those of
      // inserted text to it.
      const eol = doc.getText().includes('\r\n') ? '\r\n' : '\n';
      d.edits = d.edits.map((e) => ({ ...e, newText: e.newText.replace(/\r\n|\r|\n/g, eol) }));
      const text = TextDocument.applyEdits(doc, d.edits);
      const sorted = [...d.edits].sort(
        (a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start) || doc.offsetAt(b.range.end) - doc.offsetAt(a.range.end),
      );
      const next = TextDocument.create(d.uri, doc.languageId, doc.version + 1, text);
      this.docs.set(d.uri, next);
      await this.conn.sendNotification('textDocument/didChange', {
        textDocument: { uri: d.uri, version: next.version },
        contentChanges: sorted.map((e) => ({
          range: e.range,
          rangeLength: doc.offsetAt(e.range.end) - doc.offsetAt(e.range.start),
          text: e.newText,
        })),
      });
    }
    return { applied: true };
  }

  /** workspace/executeCommand; resolves to the reply and logs when it arrived. */
  async execute(command, arg, workDoneToken) {
    const params = { command, arguments: arg === undefined ? [] : [arg] };
    if (workDoneToken !== undefined) params.workDoneToken = workDoneToken;
    const reply = await this.conn.sendRequest('workspace/executeCommand', params);
    if (protocol.command(command)) this.validate(command + ' reply', ['$defs', 'commands', '$defs', command, 'properties', 'result'], reply);
    this.log.push({ type: 'reply', command, reply, at: Date.now() });
    return reply;
  }

  /** Records a message the schema refuses; the test fails when it ends. */
  validate(what, parts, value) {
    const errors = protocol.check(parts, value);
    if (errors !== null) this.schemaViolations.push(`${what}: ${errors} in ${JSON.stringify(value).slice(0, 300)}`);
  }

  events(taskId) {
    return this.log.filter((m) => m.type === 'event' && m.ev.taskId === taskId).map((m) => m.ev);
  }

  progress(token) {
    return this.log.filter((m) => m.type === 'progress' && JSON.stringify(m.token) === JSON.stringify(token)).map((m) => m.value);
  }

  /** Index in the log of the first message matching pred. */
  indexOf(pred) {
    return this.log.findIndex(pred);
  }

  lastIndexOf(pred) {
    for (let i = this.log.length - 1; i >= 0; i--) if (pred(this.log[i])) return i;
    return -1;
  }

  /** The pids of the bridge's living child processes (claude), its watchdog aside. */
  children() {
    const out = [];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) !== this.proc.pid || fields[0] === 'Z') continue;
        if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('__watchdog')) continue;
        out.push(Number(d));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  async shutdown() {
    if (this.closed) return;
    await this.conn.sendRequest('shutdown');
    await this.conn.sendNotification('exit');
    this.closed = true;
    return this.exited;
  }

  /** What to print when a test fails: the bridge's stderr and log tail. */
  diagnostics() {
    let logTail = '';
    try {
      logTail = fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      logTail = '(no log file)';
    }
    return `--- bridge stderr ---\n${this.stderr.join('')}\n--- bridge log (tail) ---\n${logTail}`;
  }

  async dispose() {
    if (!this.closed) {
      this.closed = true;
      try {
        const t0 = Date.now();
        await Promise.race([this.conn.sendRequest('shutdown').then(() => this.conn.sendNotification('exit')), unrefSleep(12000)]);
        if (process.env.DEBUG_SHUTDOWN) console.error(`shutdown took ${Date.now() - t0} ms`);
      } catch {
        // already gone
      }
    }
    const gone = await Promise.race([this.exited.then(() => true), unrefSleep(3000).then(() => false)]);
    if (!gone) this.proc.kill('SIGKILL');
    this.conn.dispose();
  }
}

/**
 * node:test's test() with the bridge's stderr and log tail printed when the
 * test fails, for every Editor the test made.
 */
function bridgeTest(name, fn, timeout = 120000) {
  const { test } = require('node:test');
  return test(name, { timeout }, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      for (const ed of t.editors ?? []) {
        console.error(`[${name}] message log:\n` + ed.log.map((m) => JSON.stringify(m).slice(0, 400)).join('\n'));
        console.error(ed.diagnostics());
      }
      throw err;
    }
  });
}

// Script helpers: one turn per API request.
const text = (t, extra = {}) => ({ blocks: [{ type: 'text', text: t }], ...extra });
const tool = (name, input, extra = {}) => ({ blocks: [{ type: 'tool_use', name, input }], ...extra });

module.exports = {
  protocol,
  ROOT,
  BRIDGE,
  CLAUDE,
  KEY,
  MAIN_GO,
  Editor,
  bridgeTest,
  onCleanup,
  checkTools,
  makeSandbox,
  startFakeApi,
  sleep,
  text,
  tool,
  uri,
  waitFor,
};
