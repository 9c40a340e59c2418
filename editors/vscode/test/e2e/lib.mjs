// What the real VS Code suites share (test/e2e/*.test.mjs, run by run.sh):
// the processes they start (each in its own process group, stopped in
// reverse order), the Messages API stand-in, code-server with the packaged
// extension and the harness, headless Chromium, and a minimal Chrome
// DevTools Protocol client to watch the page and click as a person would.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const VSCODE_DIR = path.resolve(here, '../..');
export const ROOT = path.resolve(VSCODE_DIR, '../..');
export const BRIDGE = process.env.CLAUDE_BRIDGE_BIN || path.join(ROOT, 'bin', 'claude-bridge');
export const FAKEAPI = process.env.CLAUDE_BRIDGE_FAKEAPI || path.join(ROOT, 'bin', 'fakeapi');
export const CLAUDE = process.env.CLAUDE_BRIDGE_TEST_CLAUDE || path.join(ROOT, '.tools', 'node_modules', '.bin', 'claude');
export const CHROMIUM = process.env.CHROMIUM || 'chromium';
export const SCENARIO_TIMEOUT_MS = Number(process.env.CB_E2E_TIMEOUT_MS || 360000);

export function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run test/e2e/run.sh`);
  return v;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Processes a suite started, each in its own process group, logging to WORK/<name>.log, stopped in reverse order. */
export class Processes {
  constructor(work) {
    this.work = work;
    this.started = [];
  }

  start(name, cmd, args, opts = {}) {
    const logPath = path.join(this.work, `${name}.log`);
    const log = fs.openSync(logPath, 'a');
    const p = spawn(cmd, args, { detached: true, stdio: ['ignore', opts.pipeStdout ? 'pipe' : log, log], ...opts });
    this.started.push({ name, p });
    return { p, logPath };
  }

  async stopAll() {
    for (const { p } of this.started.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const end = Date.now() + 8000;
      while (p.exitCode === null && p.signalCode === null && Date.now() < end) await sleep(100);
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.started = [];
  }
}

/** A minimal Chrome DevTools Protocol client over Node's WebSocket. */
export class CDP {
  static async connect(port, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const page = list.find((t) => t.type === 'page' && t.url.startsWith('http://127.0.0.1'));
        if (page) {
          const c = new CDP(page.webSocketDebuggerUrl);
          await c.opened;
          return c;
        }
      } catch {
        // not up yet
      }
      if (Date.now() > end) throw new Error('Chromium did not open the page');
      await sleep(200);
    }
  }

  constructor(url) {
    this.ws = new WebSocket(url);
    this.nextId = 1;
    this.pending = new Map();
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = reject;
    });
    this.ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    };
  }

  send(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page error: ${JSON.stringify(r.exceptionDetails).slice(0, 500)}`);
    return r.result.value;
  }

  /** A real mouse click (move, press, release) at page coordinates. */
  async click(x, y) {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }

  /** The mouse over a point (hover: a tree row's inline actions show). */
  async hover(x, y) {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
  }

  async key(key, code, keyCode) {
    // Enter types a line break into an editor only with its text.
    const text = key === 'Enter' ? { text: '\r' } : {};
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, ...text });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode });
  }

  /** Types text into the focused element, as an input method would. */
  async type(text) {
    await this.send('Input.insertText', { text });
  }

  async screenshot(file) {
    const r = await this.send('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
    return file;
  }

  close() {
    try {
      this.ws.close();
    } catch {
      // closed
    }
  }
}

/**
 * Clicks a button once its position has settled (toasts slide in), and
 * again if it is still there retryMs later (at most 4 times): a click must
 * land, not just be sent. A QuickPick's row wants a long retryMs: the next
 * picker takes the place of the one answered, and a second click sent as
 * it appears would pick one of its rows. The first try of each is
 * photographed first.
 */
export class Clicker {
  constructor(cdp, work) {
    this.cdp = cdp;
    this.work = work;
    this.state = new Map(); // key → { lastAt, tries, pos }
    this.clicks = [];
    this.screenshots = [];
  }

  async once(key, button, record, retryMs = 1500) {
    const st = this.state.get(key) ?? { lastAt: 0, tries: 0, pos: null };
    this.state.set(key, st);
    const pos = `${Math.round(button.x)},${Math.round(button.y)}`;
    if (st.pos !== pos) {
      // Moved since the last look: wait for it to stand still.
      st.pos = pos;
      return false;
    }
    if (st.tries >= 4 || Date.now() - st.lastAt < retryMs) return false;
    st.tries++;
    st.lastAt = Date.now();
    if (st.tries === 1) this.screenshots.push(await this.cdp.screenshot(path.join(this.work, `${record.where.replace(/[^\w-]+/g, '-')}-${this.clicks.length}.png`)));
    await this.cdp.click(button.x, button.y);
    this.clicks.push({ ...record, button: button.label, try: st.tries, at: Date.now() });
    return true;
  }

  clicked(key) {
    return (this.state.get(key)?.tries ?? 0) > 0;
  }
}

/**
 * Starts bin/fakeapi with a script (its turns, or {turns, conversations});
 * resolves to its base URL. requestsLog: where it logs each request.
 */
export async function startFakeApi(procs, { script, workspace, key, work, requestsLog }) {
  const scriptPath = path.join(work, 'script.json');
  fs.writeFileSync(scriptPath, JSON.stringify(script));
  const args = ['--script', scriptPath, '--workspace', workspace, '--key', key];
  if (requestsLog) args.push('--requests-log', requestsLog);
  const api = procs.start('fakeapi', FAKEAPI, args, { pipeStdout: true });
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: api.p.stdout }).once('line', (l) => resolve(l.trim()));
    api.p.once('exit', (c) => reject(new Error(`fakeapi exited ${c}`)));
  });
}

/** VS Code's settings for a quiet test window, beside the suite's own. */
export const QUIET_SETTINGS = {
  'claudeBridge.logLevel': 'debug',
  'claudeBridge.trace.server': 'messages',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'files.autoSave': 'off',
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
  'git.openRepositoryInParentFolders': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/**
 * A home with the API key, and code-server's directories, under `work`
 * (wiped first): {home, workspace, userData, extensions, chromeProfile, e2eDir}.
 */
export function makeSandbox(work, key) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const sandbox = {
    home: path.join(work, 'home'),
    workspace: path.join(work, 'workspace'),
    userData: path.join(work, 'user-data'),
    extensions: path.join(work, 'extensions'),
    chromeProfile: path.join(work, 'chromium-profile'),
    e2eDir: path.join(work, 'harness'),
  };
  for (const d of Object.values(sandbox)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(sandbox.home, '.claude'), { recursive: true });
  fs.writeFileSync(path.join(sandbox.home, '.claude', 'api_key'), key + '\n', { mode: 0o600 });
  return sandbox;
}

/**
 * Installs the extension and the harness into code-server, starts it on
 * the sandbox's workspace with `settings` (the bridge of this checkout as
 * claudeBridge.path: a machine-overridable setting, which in a remote window
 * such as code-server's is read from the remote machine's settings), opens
 * it in headless Chromium and connects to the page. Resolves to the CDP
 * client. The environment points claude at the stand-in (`apiUrl`), with
 * `env` added.
 */
export async function launchVsCode(procs, sandbox, { work, apiUrl, settings, env: extraEnv = {} }) {
  fs.mkdirSync(path.join(sandbox.userData, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(sandbox.userData, 'Machine', 'settings.json'), JSON.stringify({ 'claudeBridge.path': BRIDGE }, null, 2));
  fs.mkdirSync(path.join(sandbox.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(sandbox.userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  const env = {
    PATH: process.env.PATH,
    HOME: sandbox.home,
    LANG: 'C.UTF-8',
    XDG_CONFIG_HOME: path.join(sandbox.home, '.config'),
    XDG_DATA_HOME: path.join(sandbox.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(sandbox.home, '.local', 'state'),
    ANTHROPIC_BASE_URL: apiUrl,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_BRIDGE_CLAUDE: CLAUDE,
    CB_E2E_DIR: sandbox.e2eDir,
    ...extraEnv,
  };
  const codeServer = must('CB_CODE_SERVER');
  const dirs = ['--user-data-dir', sandbox.userData, '--extensions-dir', sandbox.extensions];
  const inst = spawnSync(codeServer, [...dirs, '--force', '--install-extension', must('CB_VSIX'), '--install-extension', must('CB_HARNESS_VSIX')], {
    env,
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(inst.status, 0, `installing the extensions failed:\n${inst.stdout}\n${inst.stderr}`);

  const port = await freePort();
  const cfg = path.join(work, 'code-server.yaml');
  fs.writeFileSync(cfg, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  procs.start(
    'code-server',
    codeServer,
    ['--config', cfg, ...dirs, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', sandbox.workspace],
    { env },
  );
  const healthEnd = Date.now() + 60000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > healthEnd) throw new Error(`code-server did not answer /healthz; see ${path.join(work, 'code-server.log')}`);
    await sleep(200);
  }

  // The extension host starts only when a browser connects.
  const cdpPort = await freePort();
  procs.start(CHROMIUM === 'chromium' ? 'chromium' : path.basename(CHROMIUM), CHROMIUM, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
    '--window-size=1400,900',
    `--remote-debugging-port=${cdpPort}`,
    '--remote-allow-origins=*',
    `--user-data-dir=${sandbox.chromeProfile}`,
    `http://127.0.0.1:${port}/?folder=${encodeURIComponent(sandbox.workspace)}`,
  ]);
  const cdp = await CDP.connect(cdpPort);
  await cdp.send('Runtime.enable');
  return cdp;
}

/** The harness's steps so far (steps.jsonl). */
export function readSteps(e2eDir) {
  try {
    return fs
      .readFileSync(path.join(e2eDir, 'steps.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
