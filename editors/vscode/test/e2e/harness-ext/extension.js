// Test-only: runs the e2e scenario inside VS Code's extension host, using the
// Claude Bridge extension exactly as a user's keybinding or another extension
// would (its commands, with the prompt as argument). The driver outside
// (e2e.test.mjs) clicks the notification buttons through Chromium and reads
// what this writes to $CB_E2E_DIR: steps.jsonl as it goes, result.json at the end.
'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

const dir = process.env.CB_E2E_DIR;

function step(name, data = {}) {
  fs.appendFileSync(path.join(dir, 'steps.jsonl'), JSON.stringify({ at: Date.now(), step: name, ...data }) + '\n');
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function scenario() {
  const s = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
  const out = { ok: false };
  const file = vscode.Uri.file(s.file);

  // 1. A workspace with the file open in an editor.
  const doc = await vscode.workspace.openTextDocument(file);
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  out.before = doc.getText();
  step('file-open', { uri: file.toString() });

  // 2. The Claude Bridge extension, active, with its bridge started.
  const ext = vscode.extensions.getExtension('claude-bridge.claude-bridge');
  if (!ext) throw new Error('the claude-bridge.claude-bridge extension is not installed');
  const api = await ext.activate();
  await waitFor(() => api.bridge.running, 30000, 'the bridge to start');
  out.bridgePath = api.bridge.bridgePath;
  step('bridge-running', { path: api.bridge.bridgePath });

  // 3. A task that edits the open file; its permission questions are
  //    answered by the driver clicking the notification / modal buttons.
  const changes = [];
  const sub = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document.uri.toString() === file.toString() && e.contentChanges.length > 0) {
      changes.push({ version: e.document.version, dirty: e.document.isDirty, changes: e.contentChanges.map((c) => c.text) });
    }
  });
  // The first question (the Edit) opens the task's transcript, as a person
  // would from the question's picker: the driver answers the Bash question
  // there, and reads the transcript.
  const questionsSeen = [];
  const qsub = api.questions.onDidChange(() => {
    for (const q of api.questions.pending()) {
      if (questionsSeen.some((x) => x.id === q.id)) continue;
      questionsSeen.push({ id: q.id, message: q.message, taskId: q.taskId, toolUseId: q.toolUseId, toolName: q.toolName, askedAt: q.askedAt.getTime() });
      step('question', { message: q.message, toolName: q.toolName });
    }
  });
  step('run-start', { prompt: s.editPrompt });
  const t0 = Date.now();
  const runP = vscode.commands.executeCommand('claudeBridge.runTask', s.editPrompt);
  const firstQ = await waitFor(() => api.questions.pending()[0], 60000, 'the first permission question');
  await vscode.commands.executeCommand('claudeBridge.showTranscript', firstQ.taskId);
  step('transcript-open', { taskId: firstQ.taskId });
  const postedBefore = api.transcripts.posted;
  const result = await runP;
  qsub.dispose();
  out.questions = questionsSeen;
  out.run = result;
  out.runMs = Date.now() - t0;
  const rec = api.store.get(result.taskId);
  out.textEvents = rec.events.filter((e) => e.kind === 'text').length;
  out.resultEventAt = Date.now();
  // Let the last batch go out before counting the messages.
  await sleep(300);
  out.transcriptMessages = api.transcripts.posted - postedBefore;
  out.questionAnswers = rec.events.filter((e) => e.kind === 'permission').map((e) => ({ name: e.name, decision: e.decision, automatic: e.automatic }));
  step('run-end', { status: result && result.status, taskId: result.taskId });
  // The driver reads the transcript page now (and screenshots it).
  await waitFor(() => fs.existsSync(path.join(dir, 'transcript-read')), 60000, 'the driver to read the transcript');
  sub.dispose();
  out.bufferChanges = changes;
  out.after = editor.document.getText();
  out.afterDirty = editor.document.isDirty;
  out.disk = fs.readFileSync(s.file, 'utf8');
  // The user saves: the document must save without a conflict and end clean.
  await sleep(1500); // give VS Code's file watcher time to see the agent's write
  out.dirtyBeforeSave = editor.document.isDirty;
  out.saved = await editor.document.save();
  out.afterSaveDirty = editor.document.isDirty;
  out.diskAfterSave = fs.readFileSync(s.file, 'utf8');
  out.permFile = fs.existsSync(s.permFile) ? fs.readFileSync(s.permFile, 'utf8') : null;
  out.task = api.store.get(result.taskId) && {
    status: api.store.get(result.taskId).status,
    kinds: api.store.get(result.taskId).events.map((e) => e.kind),
    seqs: api.store.get(result.taskId).events.map((e) => e.seq),
  };

  await vscode.window.showTextDocument(doc, { preview: false });

  // 3b. A task whose Bash command has lines its first one hides, asked by a
  //     prompt of many lines: the notification offers no Allow, only Review…
  //     (a modal with the whole command, where the driver allows it) and Deny.
  step('tidy-start');
  const tidy = await vscode.commands.executeCommand('claudeBridge.runTask', s.tidyPrompt);
  out.tidy = tidy;
  out.tidyFile = fs.existsSync(path.join(path.dirname(s.file), 'tidied.txt'));
  out.tidyTitle = vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).find((l) => /^Claude: /.test(l) && l.includes('Tidy')) || null;
  step('tidy-end', { status: tidy && tidy.status });

  // 3c. A task cancelled while its question waits: the question goes with it,
  //     from the status bar and the store, whatever the bridge sends.
  step('stale-start');
  const knownStale = new Set(api.store.all().map((t) => t.taskId));
  const staleP = vscode.commands.executeCommand('claudeBridge.runTask', s.stalePrompt);
  const staleQ = await waitFor(() => api.questions.pending().find((q) => !knownStale.has(q.taskId)), 60000, 'the stale question');
  step('stale-asked', { taskId: staleQ.taskId });
  await waitFor(() => fs.existsSync(path.join(dir, 'stale-seen')), 60000, 'the driver to see the question');
  out.staleCancel = await vscode.commands.executeCommand('claudeBridge.cancelTask', staleQ.taskId);
  out.stale = await staleP;
  out.stalePending = api.questions.pending().map((q) => q.message);
  step('stale-end', { status: out.stale && out.stale.status });
  await waitFor(() => fs.existsSync(path.join(dir, 'stale-checked')), 60000, 'the driver to check the status bar');

  // 4. A follow-up that the driver cancels from its progress notification.
  step('cancel-start', { prompt: s.cancelPrompt });
  const t1 = Date.now();
  const cancelled = await vscode.commands.executeCommand('claudeBridge.followUp', { taskId: result.taskId, prompt: s.cancelPrompt });
  out.cancel = cancelled;
  out.cancelMs = Date.now() - t1;
  step('cancel-end', { status: cancelled && cancelled.status });
  out.cancelTask = api.store.get(cancelled.taskId) && {
    status: api.store.get(cancelled.taskId).status,
    kinds: api.store.get(cancelled.taskId).events.map((e) => e.kind),
  };
  out.running = api.store.running().length;
  out.tasks = await api.bridge.tasks();

  // 5. Ask About Selection on lines 3-5, then Claude: Cancel Task by id
  //    (the stand-in's first answer takes 1.5 s, so the cancel comes first).
  await vscode.window.showTextDocument(doc, { preview: false });
  const ed = vscode.window.activeTextEditor;
  ed.selection = new vscode.Selection(2, 0, 5, 0);
  step('ask-start');
  const known = new Set(api.store.all().map((t) => t.taskId));
  const askP = vscode.commands.executeCommand('claudeBridge.askAboutSelection', s.askPrompt);
  const askTask = await waitFor(
    () => api.store.all().find((t) => !known.has(t.taskId) && t.events.some((e) => e.kind === 'queued')),
    30000,
    'the ask task to be queued',
  );
  out.askQueuedPrompt = askTask.events.find((e) => e.kind === 'queued').prompt;
  out.askCancelReply = await vscode.commands.executeCommand('claudeBridge.cancelTask', askTask.taskId);
  out.ask = await askP;
  step('ask-end', { status: out.ask && out.ask.status });

  // 6. The task list, opened by clicking the status bar item: the driver
  //    picks the edit task, then "Open Transcript".
  step('tasks-start', { taskId: result.taskId });
  // The edit task's transcript is open already: close it, so that the one
  // the task list opens is seen to open.
  for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
    if (tab.input instanceof vscode.TabInputWebview) await vscode.window.tabGroups.close(tab);
  }
  const shown = await waitFor(
    () => {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      return tab && tab.input instanceof vscode.TabInputWebview && tab.input.viewType.includes('claudeBridge.transcript') && tab.label;
    },
    60000,
    'the task list to open the transcript',
  );
  out.transcriptFromTaskList = shown;
  // The driver reads the page opened after the task ended (order, header).
  await waitFor(() => fs.existsSync(path.join(dir, 'reopened-read')), 60000, 'the driver to read the reopened transcript');
  step('tasks-end');

  // 6b. claude asks (AskUserQuestion): the driver answers from the
  //     notification's "Answer…" through the QuickPicks (one option, then
  //     two of a multi-select question).
  step('color-start', { prompt: s.colorPrompt });
  const color = await vscode.commands.executeCommand('claudeBridge.runTask', s.colorPrompt);
  out.color = color;
  out.colorEvents = api.store.get(color.taskId).events.filter((e) => e.kind === 'question');
  step('color-end', { status: color && color.status });

  // 6c. A plan (plan mode): its transcript opens once it waits, the
  //     driver approves it there, claude keeps a to-do list, and while
  //     claude waits for its last answer the driver sends a message from
  //     the transcript's box. Then it clicks the plan's notification, left
  //     behind.
  step('plan-start', { prompt: s.planPrompt });
  const planP = vscode.commands.executeCommand('claudeBridge.runTask', { prompt: s.planPrompt, permissionMode: 'plan' });
  const planQ = await waitFor(() => api.questions.pending().find((q) => q.kind === 'plan'), 90000, 'the plan');
  out.planQuestion = { message: planQ.message, plan: planQ.plan && planQ.plan.plan, uri: planQ.plan && planQ.plan.uri };
  await vscode.commands.executeCommand('claudeBridge.showTranscript', planQ.taskId);
  step('plan-transcript-open', { taskId: planQ.taskId });
  const plan = await planP;
  out.plan = plan;
  const planRec = api.store.get(plan.taskId);
  out.planEvents = planRec.events.filter((e) => ['plan', 'mode', 'todos', 'userMessage', 'result'].includes(e.kind));
  out.planKinds = planRec.events.map((e) => e.kind);
  out.planTabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label);
  step('plan-end', { status: plan && plan.status });
  await waitFor(() => fs.existsSync(path.join(dir, 'plan-read')), 90000, 'the driver to read the plan transcript and click the notification');
  out.planDecisions = api.store.get(plan.taskId).events.filter((e) => e.kind === 'plan').length;

  // 7. claude cannot be found (claudePath points nowhere, the bridge
  //    restarted): the warning leads with the fix and offers buttons; the
  //    bridge's claude.authStatus says what is wrong. claudePath and path
  //    are machine settings (a workspace cannot set them): they are changed
  //    in the user's (here the remote machine's) settings.
  step('claude-missing-start');
  await vscode.workspace.getConfiguration('claudeBridge').update('claudePath', '/nonexistent/bin/claude', vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('claudeBridge.restart');
  await waitFor(() => api.bridge.running, 30000, 'the bridge to restart');
  out.claudeAuth = await api.bridge.authStatus();
  await waitFor(() => fs.existsSync(path.join(dir, 'claude-missing-seen')), 60000, 'the driver to see the claude-missing notification');
  // The driver clicked Open README; then, once more, Set claudePath….
  out.readmeTabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label);
  step('claude-missing-again');
  await vscode.commands.executeCommand('claudeBridge.restart');
  await waitFor(() => api.bridge.running, 30000, 'the bridge to restart');
  await waitFor(() => fs.existsSync(path.join(dir, 'claude-settings-seen')), 60000, 'the driver to open the settings');
  out.remoteName = vscode.env.remoteName || null;
  await vscode.workspace.getConfiguration('claudeBridge').update('claudePath', undefined, vscode.ConfigurationTarget.Global);
  step('claude-missing-end');

  // 8. A bridge that cannot be found: claudeBridge.path emptied, nothing
  //    on PATH or in ~/go/bin. The notification must say how to install
  //    it; a command must fail, not hang.
  step('missing-start');
  await vscode.workspace.getConfiguration('claudeBridge').update('path', '', vscode.ConfigurationTarget.Global);
  await waitFor(() => api.bridge.missing, 30000, 'the extension to notice the missing bridge');
  out.missing = api.bridge.missing;
  out.missingRun = await vscode.commands.executeCommand('claudeBridge.runTask', 'anything').then(
    (r) => ({ resolved: r }),
    (e) => ({ rejected: String(e && e.message) }),
  );
  step('missing-end');
  out.ok = true;
  return out;
}

function activate() {
  if (!dir) return;
  // The scenario of the suite that wrote scenario.json (review.test.mjs: the review of edits).
  const s = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
  const run = s.suite === 'review' ? () => require('./review').scenario(s, { step, waitFor, sleep }) : scenario;
  run()
    .catch((err) => ({ ok: false, error: String((err && err.stack) || err) }))
    .then((out) => {
      fs.writeFileSync(path.join(dir, 'result.json.tmp'), JSON.stringify(out, null, 2));
      fs.renameSync(path.join(dir, 'result.json.tmp'), path.join(dir, 'result.json'));
    });
}

module.exports = { activate, deactivate() {} };
