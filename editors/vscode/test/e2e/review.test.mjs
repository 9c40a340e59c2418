// The real VS Code suite of reviewing the agent's edits (issue 13), run by
// test/e2e/run.sh beside e2e.test.mjs: code-server with the packaged
// extension and the harness (harness-ext/review.js), the real bridge, the
// real claude CLI and the Messages API stand-in. This driver answers the UI
// through the Chrome DevTools Protocol as a person would:
//
// - review "beforeWrite": an Edit of main.go with two changes opens VS
//   Code's diff editor; the driver clicks the CodeLens "Reject" of the
//   second change, then "Accept Edit" in the editor's title, and types
//   feedback into the box that asks for it; a Write of a new file opens
//   next; the driver types a line into the proposal and accepts it.
// - review "afterTurn": a task edits main.go (where the user has an unsaved
//   line at the top) and util.go and runs sed on notes.txt; the driver
//   clicks "Review Changes" on the end notification, looks at the Claude
//   Changes tree and the diff, clicks the task's "Revert Task" and confirms.
//
// The screenshots it takes are under .cache/e2e/review/.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIDGE, CLAUDE, Clicker, FAKEAPI, Processes, SCENARIO_TIMEOUT_MS, VSCODE_DIR, launchVsCode, makeSandbox, must, readSteps, sleep, startFakeApi } from './lib.mjs';

const WORK = process.env.CB_E2E_REVIEW_WORK || path.join(VSCODE_DIR, '.cache', 'e2e', 'review');
const KEY = 'sk-ant-test-e2e-review-0123456789';

const REVIEW_PROMPT = 'Make the greeting friendlier and write the notes (review each edit)';
const CHANGES_PROMPT = 'Update the greeting, the helper and the notes';
const MAIN_GO = 'package main\n\nfunc main() {\n\tprintln("hello")\n}\n';
// The Edit's proposal changes line 1 and line 4: two changes (h1, h2). Only h1 is accepted.
const MAIN_PROPOSED = 'package main // reviewed\n\nfunc main() {\n\tprintln("hello, review")\n}\n';
const MAIN_REVIEWED = 'package main // reviewed\n\nfunc main() {\n\tprintln("hello")\n}\n';
const NOTES_MD = '# Notes\n\nWritten by Claude.\n';
const MY_LINE = 'Edited by me.';
const FEEDBACK = 'keep the old greeting';
const UTIL_GO = 'package main\n\nfunc twice(n int) int {\n\treturn n * 2\n}\n';
const NOTES_TXT = 'status: draft\n';
const USER_LINE = '// my own note, not saved\n';
const QUEUE_A = 'Write the first queued file';
const QUEUE_B = 'Write the second queued file';

const procs = new Processes(WORK);
let sandbox;
let cdp;
let clicker;
let result;
let steps = [];
const seen = {
  screenshots: [],
  reviewTabs: [],
  lensesBefore: [],
  lensesAfterReject: [],
  titleActions: [],
  feedbackTitle: '',
  toasts: new Set(),
  tree: null,
  dialog: '',
  changesDiffTab: '',
};
let requestsLog;

// What the page shows for the review, in one evaluation: the tabs; the
// visible diff editor's modified side (its CodeLens links, its lines); the
// editor title actions; the quick input; the notifications; the modal; the
// Claude Changes pane (its rows, with the inline actions of each).
const READ_UI = `(() => {
  const centre = (el) => { const r = el.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height }; };
  // Monaco renders spaces as no-break spaces.
  const text = (el) => (el.textContent || '').replace(/[\\s\\u00a0]+/g, ' ').trim();
  const visible = (el) => el && el.offsetParent !== null && el.getBoundingClientRect().width > 0;
  const buttons = (root) => [...root.querySelectorAll('a.monaco-button, .monaco-button')]
    .filter((b, i, all) => all.indexOf(b) === i)
    .map((b) => ({ label: (b.textContent || b.getAttribute('aria-label') || b.title || '').trim(), ...centre(b) }));
  const tabs = [...document.querySelectorAll('.tab')].map((t) => ({ label: (t.getAttribute('aria-label') || t.textContent || '').trim(), active: t.classList.contains('active') }));
  const diff = [...document.querySelectorAll('.monaco-diff-editor')].find(visible);
  const modified = diff && diff.querySelector('.editor.modified');
  const lenses = modified ? [...modified.querySelectorAll('.codelens-decoration a')].filter(visible).map((a) => ({ label: text(a), ...centre(a) })) : [];
  const lensLines = modified ? [...modified.querySelectorAll('.codelens-decoration')].filter(visible).map(text) : [];
  const lines = modified ? [...modified.querySelectorAll('.view-line')].filter(visible)
    .map((l) => ({ text: (l.textContent || '').replace(/\u00a0/g, ' '), ...centre(l), top: l.getBoundingClientRect().top, right: (l.firstElementChild || l).getBoundingClientRect().right }))
    .sort((a, b) => a.top - b.top) : [];
  const editorBox = modified ? modified.getBoundingClientRect() : null;
  const actions = [...document.querySelectorAll('.editor-actions .action-label, .title-actions .action-label')].filter(visible)
    .map((a) => ({ label: a.getAttribute('aria-label') || a.title || '', ...centre(a) }));
  const qi = document.querySelector('.quick-input-widget');
  const quick = visible(qi) && qi.style.display !== 'none' ? {
    title: ((qi.querySelector('.quick-input-title') || {}).textContent || '').trim(),
    value: (qi.querySelector('input') || {}).value || '',
    focused: document.activeElement === qi.querySelector('input'),
  } : null;
  const toasts = [...document.querySelectorAll('.notification-toast')].filter(visible)
    .map((t) => ({ text: (t.querySelector('.notification-list-item-message') || t).textContent.trim(), buttons: buttons(t) }));
  const box = document.querySelector('.monaco-dialog-box');
  const dialog = visible(box) ? {
    text: ((box.querySelector('.dialog-message-text') || {}).textContent || '') + ' ' + ((box.querySelector('.dialog-message-detail') || {}).textContent || ''),
    buttons: buttons(box.querySelector('.dialog-buttons') || box),
  } : null;
  // The Claude view in the side bar (its title names it), with the Changes tree.
  const sidebar = document.getElementById('workbench.parts.sidebar');
  const sideTitle = sidebar ? text(sidebar.querySelector('.composite.title') || sidebar) : '';
  const tree = sidebar && visible(sidebar) && /^CLAUDE/i.test(sideTitle) ? {
    title: sideTitle,
    rows: [...sidebar.querySelectorAll('.monaco-list-row')].map((r) => ({
      label: ((r.querySelector('.label-name') || {}).textContent || '').trim(),
      description: ((r.querySelector('.label-description') || {}).textContent || '').trim(),
      level: Number(r.getAttribute('aria-level')),
      ...centre(r),
      actions: [...r.querySelectorAll('.actions .action-label')].map((a) => ({ label: a.getAttribute('aria-label') || '', ...centre(a) })),
    })),
  } : null;
  const status = [...document.querySelectorAll('.statusbar-item')].map((e) => (e.textContent || '').trim()).filter((t) => /Review|Claude/.test(t));
  return { tabs, lenses, lensLines, lines, editorBox, actions, quick, toasts, dialog, tree, status };
})()`;

// The transcript webview's changes block (inside VS Code's webview iframe and the page's own): its text and buttons, scrolled into view.
const READ_TRANSCRIPT_CHANGES = `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    try {
      const inner = outer.contentDocument && (outer.contentDocument.querySelector('iframe#active-frame') || outer.contentDocument.querySelector('iframe'));
      const d = inner && inner.contentDocument;
      const c = d && d.querySelector('.changes');
      if (!c) continue;
      c.scrollIntoView({ block: 'center' });
      return { text: c.innerText.replace(/[\\s\\u00a0]+/g, ' ').trim(), buttons: [...c.querySelectorAll('button')].map((b) => b.textContent.trim()) };
    } catch { /* not ours */ }
  }
  return null;
})()`;

function why() {
  return `\nresult: ${JSON.stringify(result, null, 2)?.slice(0, 5000)}\nclicks: ${JSON.stringify(clicker?.clicks)}\nartifacts: ${WORK}`;
}

async function shot(name) {
  const file = await cdp.screenshot(path.join(WORK, `${name}.png`));
  seen.screenshots.push(file);
  return file;
}

/** The driver's part of the beforeWrite review: reject change 2 by its CodeLens, accept with feedback, then edit and accept the new file. */
async function driveBeforeWrite(ui) {
  const mainTab = ui.tabs.find((t) => /^main\.go: Current ↔ Claude's Proposal/.test(t.label));
  const notesTab = ui.tabs.find((t) => /^NOTES\.md \(new file\): Claude's Proposal/.test(t.label));
  for (const t of [mainTab, notesTab]) if (t && !seen.reviewTabs.includes(t.label)) seen.reviewTabs.push(t.label);
  if (mainTab?.active && !clicker.clicked('accept-main')) {
    const rejects = ui.lenses.filter((l) => l.label === 'Reject').sort((a, b) => a.y - b.y);
    if (!clicker.clicked('reject-h2')) {
      if (rejects.length < 2) return;
      if (seen.lensesBefore.length === 0) {
        seen.lensesBefore = ui.lensLines;
        await sleep(300);
        await shot('review-diff');
      }
      await clicker.once('reject-h2', rejects[1], { where: 'codelens', text: 'Reject (change 2 of 2)' });
      return;
    }
    // Rejected: its CodeLens says so; then Accept in the title.
    if (!ui.lensLines.some((l) => /Change 2 of 2: rejected/.test(l))) return;
    if (seen.lensesAfterReject.length === 0) {
      seen.lensesAfterReject = ui.lensLines;
      seen.titleActions = ui.actions.map((a) => a.label);
      await shot('review-hunk-rejected');
    }
    const accept = ui.actions.find((a) => /^Accept Edit/.test(a.label));
    if (accept) await clicker.once('accept-main', accept, { where: 'editor title', text: accept.label });
    return;
  }
  if (ui.quick && /accept 1 of 2 changes to main\.go/.test(ui.quick.title) && !clicker.clicked('feedback')) {
    seen.feedbackTitle = ui.quick.title;
    await cdp.type(FEEDBACK);
    await sleep(200);
    await shot('review-feedback');
    clicker.state.set('feedback', { tries: 1, lastAt: Date.now(), pos: '' });
    await cdp.key('Enter', 'Enter', 13);
    return;
  }
  if (notesTab?.active && !clicker.clicked('accept-notes')) {
    // Click at the end of the proposal's last line, type a line of one's own
    // (once its CodeLens is there: it moves the lines down when it comes).
    const last = ui.lines.filter((l) => l.text.trim() !== '').at(-1);
    if (!last || !ui.lensLines.some((l) => /The one change/.test(l))) return;
    if (!seen.typedAt) {
      if (!(await clicker.once('notes-line', { x: last.right - 2, y: last.y, label: last.text }, { where: 'proposal', text: last.text }))) return;
      await cdp.key('End', 'End', 35);
      await cdp.key('Enter', 'Enter', 13);
      await cdp.type(MY_LINE);
      seen.typedAt = Date.now();
      return;
    }
    if (!ui.lines.some((l) => l.text.includes(MY_LINE))) return;
    if (!seen.notesShot) {
      seen.notesShot = true;
      await shot('review-new-file-edited');
    }
    const accept = ui.actions.find((a) => /^Accept Edit/.test(a.label));
    if (accept) await clicker.once('accept-notes', accept, { where: 'editor title', text: accept.label });
  }
}

/** The driver's part of afterTurn: Review Changes from the end notification, look, Revert Task from the tree, confirm. */
async function driveAfterTurn(ui) {
  if (ui.dialog && /Revert every change/.test(ui.dialog.text)) {
    seen.dialog = ui.dialog.text;
    const revert = ui.dialog.buttons.find((b) => b.label === 'Revert');
    if (revert) await clicker.once('confirm-revert', revert, { where: 'modal', text: ui.dialog.text });
    return;
  }
  if (!clicker.clicked('review-changes')) {
    const toast = ui.toasts.find((t) => /^Claude finished “Update the greeting/.test(t.text));
    const b = toast?.buttons.find((x) => x.label === 'Review Changes');
    if (b) {
      seen.endToast = { text: toast.text, buttons: toast.buttons.map((x) => x.label) };
      await clicker.once('review-changes', b, { where: 'end notification', text: toast.text });
    }
    return;
  }
  if (!ui.tree || ui.tree.rows.length === 0) return;
  const task = ui.tree.rows.find((r) => r.level === 1 && r.label.startsWith(CHANGES_PROMPT.slice(0, 20)));
  if (!task) return;
  const diffTab = ui.tabs.find((t) => /\(before Claude ↔ now\)/.test(t.label));
  if (!seen.tree) {
    if (!diffTab || ui.tree.rows.length < 4) return;
    await sleep(500); // the diff's decorations settle
    const settled = await cdp.eval(READ_UI);
    seen.tree = settled.tree;
    seen.changesDiffTab = diffTab.label;
    seen.changesDiffActions = settled.actions.map((a) => a.label);
    await shot('changes-tree');
    fs.writeFileSync(path.join(sandbox.e2eDir, 'changes-seen'), '');
    return;
  }
  // The transcript, opened by the harness meanwhile: its changes block.
  if (steps.some((s) => s.step === 'transcript-open') && !seen.transcriptChanges) {
    const block = await cdp.eval(READ_TRANSCRIPT_CHANGES);
    if (!block) return;
    await sleep(300);
    seen.transcriptChanges = block;
    await shot('changes-transcript');
    fs.writeFileSync(path.join(sandbox.e2eDir, 'transcript-seen'), '');
    return;
  }
  if (!steps.some((s) => s.step === 'transcript-closed')) return;
  const revert = task.actions.find((a) => a.label === 'Revert Task');
  if (!revert || revert.w === 0) {
    await cdp.hover(task.x, task.y); // inline actions show on hover
    return;
  }
  await clicker.once('revert-task', revert, { where: 'tree', text: task.label });
}

async function drive() {
  const end = Date.now() + SCENARIO_TIMEOUT_MS;
  const resultFile = path.join(sandbox.e2eDir, 'result.json');
  while (Date.now() < end) {
    if (fs.existsSync(resultFile)) {
      result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      steps = readSteps(sandbox.e2eDir);
      return;
    }
    steps = readSteps(sandbox.e2eDir);
    let ui;
    try {
      ui = await cdp.eval(READ_UI);
    } catch {
      await sleep(250);
      continue;
    }
    for (const t of ui.toasts) seen.toasts.add(t.text);
    const at = (name) => steps.some((s) => s.step === name);
    if (at('before-write-start') && !at('before-write-end')) await driveBeforeWrite(ui);
    else if (at('queue-two') && !seen.queueStatus) {
      // Two reviews wait: the status bar item says so (once the page has its new text).
      const item = ui.status.find((x) => /^Review .*\(\+1\)$/.test(x));
      if (item) {
        seen.queueStatus = item;
        await shot('review-queue');
        fs.writeFileSync(path.join(sandbox.e2eDir, 'queue-seen'), '');
      }
    } else if (at('queue-end') && !seen.queueEndStatus) {
      seen.queueEndStatus = ui.status;
      fs.writeFileSync(path.join(sandbox.e2eDir, 'queue-end-seen'), '');
    }
    else if (at('after-turn-start') && !at('reverted')) {
      if (at('after-turn-end')) await driveAfterTurn(ui);
    }
    await sleep(150);
  }
  throw new Error(`no result from the harness after ${SCENARIO_TIMEOUT_MS} ms; steps: ${JSON.stringify(readSteps(sandbox.e2eDir).map((s) => s.step))}`);
}

before(async () => {
  for (const [what, p] of [
    ['claude-bridge (make build)', BRIDGE],
    ['fakeapi (make build)', FAKEAPI],
    ['claude CLI (make tools)', CLAUDE],
    ['code-server', must('CB_CODE_SERVER')],
    ['the .vsix', must('CB_VSIX')],
  ]) {
    assert.ok(fs.existsSync(p), `${what} not found at ${p}`);
  }
  sandbox = makeSandbox(WORK, KEY);
  const ws = (f) => path.join(sandbox.workspace, f);
  fs.writeFileSync(ws('main.go'), MAIN_GO);
  fs.writeFileSync(ws('util.go'), UTIL_GO);
  fs.writeFileSync(ws('notes.txt'), NOTES_TXT);
  fs.writeFileSync(
    path.join(sandbox.e2eDir, 'scenario.json'),
    JSON.stringify({
      suite: 'review',
      main: ws('main.go'),
      util: ws('util.go'),
      notes: ws('notes.txt'),
      newFile: ws('NOTES.md'),
      reviewPrompt: REVIEW_PROMPT,
      changesPrompt: CHANGES_PROMPT,
      queuePromptA: QUEUE_A,
      queuePromptB: QUEUE_B,
      queueFileA: ws('queue-a.txt'),
      queueFileB: ws('queue-b.txt'),
      e2eDir: sandbox.e2eDir,
      userLine: USER_LINE,
      mainBefore: MAIN_REVIEWED,
    }),
  );
  // One conversation per task, told apart by the prompt.
  const script = {
    turns: [{ blocks: [{ type: 'text', text: 'This stand-in has no script for that prompt.' }] }],
    conversations: [
      {
        match: REVIEW_PROMPT,
        turns: [
          { blocks: [{ type: 'tool_use', name: 'Read', input: { file_path: '{{workspace}}/main.go' } }] },
          {
            blocks: [
              { type: 'text', text: 'I will change the greeting.' },
              { type: 'tool_use', name: 'Edit', input: { file_path: '{{workspace}}/main.go', old_string: 'package main\n\nfunc main() {\n\tprintln("hello")', new_string: 'package main // reviewed\n\nfunc main() {\n\tprintln("hello, review")' } },
            ],
          },
          { blocks: [{ type: 'tool_use', name: 'Write', input: { file_path: '{{workspace}}/NOTES.md', content: NOTES_MD } }] },
          { blocks: [{ type: 'text', text: 'Both edits went through your review.' }] },
        ],
      },
      { match: QUEUE_A, turns: [{ blocks: [{ type: 'tool_use', name: 'Write', input: { file_path: '{{workspace}}/queue-a.txt', content: 'A\n' } }] }, { blocks: [{ type: 'text', text: 'Wrote A.' }] }] },
      { match: QUEUE_B, turns: [{ blocks: [{ type: 'tool_use', name: 'Write', input: { file_path: '{{workspace}}/queue-b.txt', content: 'B\n' } }] }, { blocks: [{ type: 'text', text: 'Wrote B.' }] }] },
      {
        match: CHANGES_PROMPT,
        turns: [
          { blocks: [{ type: 'tool_use', name: 'Read', input: { file_path: '{{workspace}}/main.go' } }] },
          { blocks: [{ type: 'tool_use', name: 'Edit', input: { file_path: '{{workspace}}/main.go', old_string: 'println("hello")', new_string: 'println("hello, changes")' } }] },
          { blocks: [{ type: 'tool_use', name: 'Read', input: { file_path: '{{workspace}}/util.go' } }] },
          { blocks: [{ type: 'tool_use', name: 'Edit', input: { file_path: '{{workspace}}/util.go', old_string: 'return n * 2', new_string: 'return n + n' } }] },
          { blocks: [{ type: 'tool_use', name: 'Bash', input: { command: "sed -i 's/draft/final/' notes.txt", description: 'Mark the notes final' } }] },
          { blocks: [{ type: 'text', text: 'Changed the greeting, the helper and the notes.' }] },
        ],
      },
    ],
  };
  requestsLog = path.join(WORK, 'requests.jsonl');
  const apiUrl = await startFakeApi(procs, { script, workspace: sandbox.workspace, key: KEY, work: WORK, requestsLog });
  // acceptEdits, the sed command allowed, and CodeLens in diff editors (the changes' Accept / Reject).
  cdp = await launchVsCode(procs, sandbox, {
    work: WORK,
    apiUrl,
    settings: { 'claudeBridge.permissionMode': 'acceptEdits', 'claudeBridge.allowedTools': ['Bash(sed:*)'], 'diffEditor.codeLens': true },
  });
  clicker = new Clicker(cdp, WORK);
  clicker.screenshots = seen.screenshots;
  await drive();
  await shot('end');
});

after(async () => {
  if (cdp) cdp.close();
  await procs.stopAll();
  fs.writeFileSync(
    path.join(WORK, 'observed.json'),
    JSON.stringify({ result, steps, clicks: clicker?.clicks, seen: { ...seen, toasts: [...seen.toasts] } }, null, 2),
  );
});

/** The requests the stand-in got, in order (--requests-log). */
function requests() {
  return fs
    .readFileSync(requestsLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * What claude told the model about the tools in a request: the tool results,
 * and the hooks' additional context after them (claude 2.1.332 sends it as
 * a message of its own, "PostToolUse:Edit hook additional context: …").
 * Not the environment claude describes (it quotes the repository's git log).
 */
function toolTexts(req) {
  const body = typeof req.body === 'string' ? JSON.parse(req.body) : req.body;
  const out = [];
  const text = (b) => (typeof b === 'string' ? b : b.type === 'tool_result' ? (typeof b.content === 'string' ? b.content : (b.content ?? []).map(text).join('')) : (b.text ?? ''));
  for (const m of body?.messages ?? []) {
    for (const b of Array.isArray(m.content) ? m.content : [m.content]) {
      const t = text(b);
      if ((typeof b === 'object' && b.type === 'tool_result') || /^PostToolUse:/.test(t)) out.push(t);
    }
  }
  return out;
}

test('the harness ran the review scenario inside VS Code', () => {
  assert.ok(result, 'result.json was written' + why());
  assert.equal(result.ok, true, result.error + why());
});

test('beforeWrite: the Edit opened in the diff editor with a CodeLens per change and Accept / Reject in its title', () => {
  const b = result.beforeWrite;
  assert.equal(b.run.status, 'completed', why());
  assert.deepEqual(
    b.reviews.map((r) => [r.tool, path.basename(r.uri), r.hunks.length]),
    [
      ['Edit', 'main.go', 2],
      ['Write', 'NOTES.md', 1],
    ],
  );
  assert.equal(b.reviews[0].original, MAIN_GO);
  assert.equal(b.reviews[0].proposed, MAIN_PROPOSED);
  assert.ok(seen.reviewTabs.some((t) => t.startsWith("main.go: Current ↔ Claude's Proposal")), JSON.stringify(seen.reviewTabs));
  assert.ok(seen.reviewTabs.some((t) => t.startsWith("NOTES.md (new file): Claude's Proposal")), JSON.stringify(seen.reviewTabs));
  assert.deepEqual(seen.lensesBefore, ['Accept | Reject | Change 1 of 2 · +1 −1', 'Accept | Reject | Change 2 of 2 · +1 −1'], 'each change has its CodeLens');
  assert.ok(seen.lensesAfterReject.some((l) => /Change 2 of 2: rejected/.test(l)), JSON.stringify(seen.lensesAfterReject));
  assert.ok(seen.titleActions.some((a) => /^Accept Edit/.test(a)) && seen.titleActions.some((a) => /^Reject Edit/.test(a)), JSON.stringify(seen.titleActions));
});

test('beforeWrite: Accept wrote the proposal as the user left it, to disk and into the open document', () => {
  const b = result.beforeWrite;
  // Change 2 rejected by its CodeLens: only change 1 is written.
  assert.equal(b.mainDisk, MAIN_REVIEWED, why());
  assert.equal(b.mainDoc, MAIN_REVIEWED, 'the open document has exactly what was accepted');
  // The new file with the line the user typed into the proposal.
  assert.equal(b.notesDisk, NOTES_MD + MY_LINE + '\n');
  assert.match(seen.feedbackTitle, /^Claude: accept 1 of 2 changes to main\.go/);
  const [edit, write] = b.events;
  assert.deepEqual(
    { decision: edit.decision, accepted: edit.acceptedHunks, rejected: edit.rejectedHunks, edited: edit.edited, feedback: edit.feedback },
    { decision: 'accept', accepted: ['h1'], rejected: ['h2'], edited: false, feedback: FEEDBACK },
  );
  assert.equal(write.decision, 'accept');
  assert.equal(write.edited, true, 'the user\'s own version was written');
  assert.equal(b.openReviews, 0);
  assert.deepEqual(b.reviewTabs, [], 'the review editors closed');
  // claude was told: the rejected change and the feedback, in the Edit's tool result.
  const told = requests().flatMap(toolTexts).join('\n');
  assert.match(told, /The user modified your proposed changes before accepting them/);
  assert.match(told, /left out h2 \(line 4: `println\("hello, review"\)`\)/, 'claude read which change was left out');
  assert.ok(told.includes(`Their feedback: ${FEEDBACK}`), 'claude read the feedback');
  assert.match(told, /in their version line 4 read:\nEdited by me\./, 'claude read the user\'s version of the new file');
});

test('beforeWrite: reviews of two tasks queue up; the next opens by itself; a withdrawn one closes', () => {
  const q = result.queue;
  assert.ok(q, why());
  assert.deepEqual([q.first.tool, path.basename(q.first.uri), q.second.tool, path.basename(q.second.uri)], ['Write', 'queue-a.txt', 'Write', 'queue-b.txt']);
  assert.equal(q.tabsWhileTwo.length, 1, `one review on screen at a time: ${JSON.stringify(q.tabsWhileTwo)}`);
  assert.ok(q.tabsWhileTwo[0].startsWith("queue-a.txt (new file): Claude's Proposal"), q.tabsWhileTwo[0]);
  assert.equal(seen.queueStatus, 'Review queue-a.txt (+1)', 'the status bar item counts the one waiting behind');
  assert.deepEqual(q.accepted, { decision: 'accept' });
  assert.equal(q.tabsAfterFirst.length, 1, JSON.stringify(q.tabsAfterFirst));
  assert.ok(q.tabsAfterFirst[0].startsWith("queue-b.txt (new file): Claude's Proposal"), 'the next review opened by itself');
  assert.equal(q.cancelled, true);
  assert.equal(q.statusA, 'completed');
  assert.equal(q.fileA, 'A\n');
  assert.equal(q.statusB, 'cancelled');
  assert.equal(q.fileB, false, 'a withdrawn review writes nothing');
  assert.deepEqual(q.tabsAfter, [], 'the withdrawn review\'s editor closed');
  assert.equal(q.pendingAfter, 0);
  assert.ok(!seen.queueEndStatus.some((x) => /^Review /.test(x)), `the status bar item went: ${JSON.stringify(seen.queueEndStatus)}`);
});

test('afterTurn: the task\'s changes were listed in Claude Changes, each file a diff against the file before the task', () => {
  const a = result.afterTurn;
  assert.equal(a.run.status, 'completed', why());
  assert.equal(result.userEditDirty, true);
  assert.deepEqual(
    (a.listed ?? []).map((f) => [path.basename(f.uri), f.status]),
    [
      ['main.go', 'modified'],
      ['notes.txt', 'modified'],
      ['util.go', 'modified'],
    ],
    'the sed command\'s change is listed too' + why(),
  );
  assert.equal(a.mainDocBeforeRevert, USER_LINE + MAIN_REVIEWED.replace('println("hello")', 'println("hello, changes")'), 'the task\'s edit and the user\'s line');
  assert.equal(a.notesDiskBeforeRevert, 'status: final\n');
  assert.deepEqual(seen.endToast?.buttons.filter(Boolean), ['Review Changes', 'Show Transcript', 'Follow Up']);
  const rows = seen.tree.rows.map((r) => `${'  '.repeat(r.level - 1)}${r.label}${r.description ? ` (${r.description})` : ''}`);
  assert.match(rows[0], /^Update the greeting, the helper and the notes \(3 files · \+3 −3\)$/, rows.join('\n'));
  assert.ok(rows.some((r) => /^ {2}main\.go/.test(r)) && rows.some((r) => /^ {2}util\.go/.test(r)) && rows.some((r) => /^ {2}notes\.txt/.test(r)), rows.join('\n'));
  assert.ok(seen.changesDiffTab.startsWith('main.go (before Claude ↔ now)'), seen.changesDiffTab);
  assert.ok(seen.changesDiffActions.some((x) => /^Revert File/.test(x)), JSON.stringify(seen.changesDiffActions));
  // The transcript ends with the same list and actions.
  const tc = seen.transcriptChanges;
  assert.ok(tc, 'the transcript showed the changes');
  assert.match(tc.text, /^Changes to review: 3 files \+3 −3 main\.go \+1 −1 Revert Accept notes\.txt \+1 −1 Revert Accept util\.go \+1 −1 Revert Accept Revert Task Accept All$/, tc.text);
  assert.deepEqual(tc.buttons, ['Revert', 'Accept', 'Revert', 'Accept', 'Revert', 'Accept', 'Revert Task', 'Accept All']);
});

test('afterTurn: Revert Task from the tree restored every file, the user\'s unsaved line kept', () => {
  const r = result.afterRevert;
  assert.match(seen.dialog, /^Revert every change of “Update the greeting, the helper and the notes” \(3 files\)\?/);
  assert.ok(clicker.clicks.some((c) => c.where === 'tree' && c.button === 'Revert Task'), JSON.stringify(clicker.clicks));
  assert.equal(r.mainDoc, USER_LINE + MAIN_REVIEWED, 'main.go as before the task, with the user\'s line' + why());
  assert.equal(r.mainDirty, true, 'the user\'s line is still unsaved');
  assert.equal(r.mainDisk, MAIN_REVIEWED);
  assert.equal(r.utilDisk, UTIL_GO);
  assert.equal(r.notesDisk, NOTES_TXT, 'the sed command\'s change was taken back too');
  assert.ok(!r.tasks[0]?.unreviewedChanges, JSON.stringify(r.tasks));
});

