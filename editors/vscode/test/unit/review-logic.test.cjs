// Unit tests of the review's pure logic (issue 13), bundled by
// test/protocol/run.sh: where claude's hunks are in a proposal the user has
// changed, the claude/reviewEdit answer that follows from it, the queue of
// reviews; the changes kept after a task (the file before it, rebuilt from
// the hunks), what a revert did in words, and the transcript's blocks.

'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

const dir = process.env.CLAUDE_BRIDGE_UNIT_DIR;
if (!dir) throw new Error('run through test/protocol/run.sh (CLAUDE_BRIDGE_UNIT_DIR is not set)');
const { lineCount, proposedSpans, viewProposal, acceptAnswer, acceptSummary, hunkAt, ReviewQueue, allDecided } = require(path.join(dir, 'reviewModel.js'));
const { ChangesStore, checkpointText, countLabel, hunkLabel, hunkDiff, revertSummary, offsetAt } = require(path.join(dir, 'changes.js'));
const { Transcript } = require(path.join(dir, 'transcript.js'));
const { bridgeOptions } = require(path.join(dir, 'settings.js'));

/**
 * A review's params as the bridge sends them: original, the proposal and
 * its hunks, from edits [firstLine, lineCount, newLines[]] of original's
 * lines (in order, not touching).
 */
function review(original, edits, eol = '\n') {
  const lines = original.split(eol);
  const endsWithEol = original.endsWith(eol);
  if (endsWithEol) lines.pop();
  const join = (ls, last) => ls.map((l, i) => l + (i < ls.length - 1 || last ? eol : '')).join('');
  const hunks = [];
  const out = [];
  let at = 0;
  edits.forEach(([first, count, added], i) => {
    out.push(...lines.slice(at, first));
    const lastLine = first + count === lines.length;
    const originalText = join(lines.slice(first, first + count), !lastLine || endsWithEol);
    const proposedText = join(added, !lastLine || endsWithEol);
    const end = lastLine && !endsWithEol ? { line: first + count - 1, character: lines[first + count - 1].length } : { line: first + count, character: 0 };
    hunks.push({ id: `h${i + 1}`, range: { start: { line: first, character: 0 }, end }, originalText, proposedText });
    out.push(...added);
    at = first + count;
  });
  out.push(...lines.slice(at));
  return { taskId: 't1', toolUseId: 'tu1', uri: 'file:///w/main.go', tool: 'Edit', original, proposed: join(out, endsWithEol), hunks };
}

const ORIGINAL = [
  'package main',
  '',
  'import "fmt"',
  '',
  'func main() {',
  '\tfmt.Println("hello")',
  '}',
  '',
  'func helper() int {',
  '\treturn 1',
  '}',
  '',
].join('\n');

// h1 changes line 6, h2 inserts a comment before `func helper`, h3 replaces `return 1` with two lines.
const P = review(ORIGINAL, [
  [5, 1, ['\tfmt.Println("hello, review")']],
  [8, 0, ['// helper returns two.']],
  [9, 1, ['\tx := 2', '\treturn x']],
]);

test('review: the hunks\' places in the proposal follow the lines the hunks before them add', () => {
  assert.equal(lineCount(''), 0);
  assert.equal(lineCount('a'), 1);
  assert.equal(lineCount('a\n'), 1);
  assert.equal(lineCount('a\nb'), 2);
  assert.deepEqual(proposedSpans(P.hunks), [
    { id: 'h1', line: 5, count: 1 },
    { id: 'h2', line: 8, count: 1 },
    { id: 'h3', line: 10, count: 2 },
  ]);
  assert.ok(P.proposed.includes('// helper returns two.\nfunc helper() int {\n\tx := 2\n\treturn x\n}'));
});

test('review: an untouched proposal is a plain accept; Accept Hunk marks decide it', () => {
  const v = viewProposal(P, P.proposed);
  assert.equal(v.otherEdits, false);
  assert.deepEqual(
    v.hunks.map((h) => [h.id, h.line, h.count, h.content]),
    [
      ['h1', 5, 1, 'proposed'],
      ['h2', 8, 1, 'proposed'],
      ['h3', 10, 2, 'proposed'],
    ],
  );
  assert.deepEqual(acceptAnswer(P, P.proposed), { decision: 'accept' });
  assert.deepEqual(acceptAnswer(P, P.proposed, '  thanks  '), { decision: 'accept', feedback: 'thanks' });
  assert.equal(hunkAt(v, 10).id, 'h3');
  assert.equal(hunkAt(v, 11).id, 'h3');
  assert.equal(hunkAt(v, 7), undefined);
});

/** The proposal with some hunks taken back (their original lines in place), as Reject Hunk or the diff's revert arrow leaves it. */
function withOnly(p, keep) {
  const sub = review(
    p.original,
    [
      [5, 1, ['\tfmt.Println("hello, review")']],
      [8, 0, ['// helper returns two.']],
      [9, 1, ['\tx := 2', '\treturn x']],
    ].filter((_, i) => keep.includes(`h${i + 1}`)),
  );
  return sub.proposed;
}

test('review: hunks taken back are rejected and the rest named; all taken back is a reject', () => {
  const doc = withOnly(P, ['h1', 'h3']);
  const v = viewProposal(P, doc);
  assert.deepEqual(
    v.hunks.map((h) => [h.id, h.content]),
    [
      ['h1', 'proposed'],
      ['h2', 'rejected'],
      ['h3', 'proposed'],
    ],
  );
  assert.equal(v.otherEdits, false);
  assert.equal(v.hunks[1].count, 0, 'a rejected insertion has no lines left');
  assert.deepEqual(acceptAnswer(P, doc, 'no comment needed'), { decision: 'accept', acceptedHunks: ['h1', 'h3'], feedback: 'no comment needed' });
  assert.deepEqual(acceptSummary(P, doc), { rejected: ['h2'], edited: false, none: false });
  // A replaced hunk taken back.
  const doc2 = withOnly(P, ['h2']);
  assert.deepEqual(
    viewProposal(P, doc2).hunks.map((h) => h.content),
    ['rejected', 'proposed', 'rejected'],
  );
  assert.deepEqual(acceptAnswer(P, doc2), { decision: 'accept', acceptedHunks: ['h2'] });
  // Nothing left of the proposal.
  assert.deepEqual(acceptAnswer(P, ORIGINAL, 'not now'), { decision: 'reject', feedback: 'not now' });
  assert.equal(acceptSummary(P, ORIGINAL).none, true);
});

test('review: the user\'s own lines, in a hunk or elsewhere, send their whole text', () => {
  const inHunk = P.proposed.replace('\tx := 2\n', '\tx := 3\n');
  const v = viewProposal(P, inHunk);
  assert.deepEqual(
    v.hunks.map((h) => h.content),
    ['proposed', 'proposed', 'edited'],
  );
  assert.equal(v.hunks[2].text, '\tx := 3\n\treturn x\n');
  assert.deepEqual(acceptAnswer(P, inHunk), { decision: 'accept', text: inHunk });
  const elsewhere = P.proposed.replace('import "fmt"', 'import (\n\t"fmt"\n)');
  const v2 = viewProposal(P, elsewhere);
  assert.equal(v2.otherEdits, true);
  assert.deepEqual(
    v2.hunks.map((h) => [h.id, h.line, h.content]),
    [
      ['h1', 7, 'proposed'],
      ['h2', 10, 'proposed'],
      ['h3', 12, 'proposed'],
    ],
    'hunks below the user\'s lines moved down with them',
  );
  assert.deepEqual(acceptAnswer(P, elsewhere), { decision: 'accept', text: elsewhere });
  assert.equal(acceptSummary(P, elsewhere).edited, true);
  // Their text, then taken back by hand to what was there: nothing to write.
  assert.deepEqual(acceptAnswer(P, ORIGINAL), { decision: 'reject' });
});

test('review: deleted lines; a new file; a last line without a line break; CRLF', () => {
  const del = review('a\nb\nc\nd\n', [[1, 2, []]]);
  assert.equal(del.proposed, 'a\nd\n');
  assert.deepEqual(viewProposal(del, del.proposed).hunks.map((h) => [h.line, h.count, h.content]), [[1, 0, 'proposed']]);
  // The diff's revert arrow puts the lines back: rejected.
  assert.deepEqual(viewProposal(del, 'a\nb\nc\nd\n').hunks.map((h) => [h.line, h.count, h.content]), [[1, 2, 'rejected']]);
  // A line typed right after the deletion's place is the user's, not the hunk's.
  const typed = viewProposal(del, 'a\nd!\n');
  assert.equal(typed.hunks[0].content, 'proposed');
  assert.equal(typed.otherEdits, true);

  const created = { ...review('', []), original: '', proposed: 'x\ny\n', hunks: [{ id: 'h1', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, originalText: '', proposedText: 'x\ny\n' }] };
  assert.deepEqual(acceptAnswer(created, 'x\ny\n'), { decision: 'accept' });
  assert.deepEqual(acceptAnswer(created, ''), { decision: 'reject' });
  assert.deepEqual(acceptAnswer(created, 'x\nz\n'), { decision: 'accept', text: 'x\nz\n' });

  const noEol = review('a\nb', [[1, 1, ['B']]]);
  assert.equal(noEol.proposed, 'a\nB');
  assert.equal(noEol.hunks[0].originalText, 'b');
  assert.deepEqual(viewProposal(noEol, 'a\nB').hunks.map((h) => h.content), ['proposed']);
  assert.deepEqual(viewProposal(noEol, 'a\nb').hunks.map((h) => h.content), ['rejected']);

  const crlf = review('one\r\ntwo\r\nthree\r\n', [[0, 1, ['ONE']], [2, 1, ['THREE']]], '\r\n');
  assert.equal(crlf.proposed, 'ONE\r\ntwo\r\nTHREE\r\n');
  const partly = 'ONE\r\ntwo\r\nthree\r\n';
  assert.deepEqual(acceptAnswer(crlf, partly), { decision: 'accept', acceptedHunks: ['h1'] });
  const own = 'ONE\r\n2\r\nTHREE\r\n';
  assert.deepEqual(acceptAnswer(crlf, own), { decision: 'accept', text: own }, 'the user\'s text keeps its line breaks');
});

test('review queue: oldest first, answered once, withdrawn, hunks accepted one by one', () => {
  const q = new ReviewQueue();
  const ends = [];
  let changes = 0;
  q.onDidChange(() => changes++);
  const a = q.add(P, (e) => ends.push(['a', e]));
  const b = q.add({ ...P, toolUseId: 'tu2', taskId: 't2' }, (e) => ends.push(['b', e]));
  assert.equal(q.current().id, a.id);
  assert.deepEqual(q.forTask('t2').map((r) => r.id), [b.id]);
  assert.equal(q.mark(a.id, 'h1', true), true);
  assert.equal(q.mark(a.id, 'h9', true), false, 'no such hunk');
  assert.equal(allDecided(a, viewProposal(P, P.proposed)), false);
  q.mark(a.id, 'h2', true);
  // h3 taken back: decided too.
  assert.equal(allDecided(a, viewProposal(P, withOnly(P, ['h1', 'h2']))), true);
  assert.equal(q.answer(a.id, { decision: 'accept' }), true);
  assert.equal(q.answer(a.id, { decision: 'reject' }), false, 'answered once');
  assert.equal(q.current().id, b.id, 'the next in line');
  assert.equal(q.withdraw(b.id), true);
  assert.equal(q.withdraw(b.id), false);
  assert.deepEqual(ends, [
    ['a', { answer: { decision: 'accept' } }],
    ['b', { withdrawn: true }],
  ]);
  assert.equal(q.pending().length, 0);
  assert.ok(changes >= 5);
});

test('review queue: a review goes with its call and its task, whatever the bridge sends', () => {
  const q = new ReviewQueue();
  const ends = [];
  const a = q.add(P, (e) => ends.push(['a', e]));
  const b = q.add({ ...P, toolUseId: 'tu2' }, (e) => ends.push(['b', e]));
  const c = q.add({ ...P, toolUseId: 'tu3', taskId: 't2' }, (e) => ends.push(['c', e]));
  // The review event of b's call (decided elsewhere, or given up): b goes.
  q.withdrawCall(P.taskId, 'tu2');
  assert.deepEqual(q.pending().map((r) => r.id), [a.id, c.id]);
  q.withdrawCall('t2', P.toolUseId);
  assert.equal(q.pending().length, 2, 'another task\'s call of the same id is not this one');
  // The task's result: what it waits on goes.
  assert.equal(q.withdrawTask(P.taskId), 1);
  assert.deepEqual(q.pending().map((r) => r.id), [c.id]);
  // The bridge stopped: everything goes.
  q.withdrawAll();
  assert.equal(q.pending().length, 0);
  assert.deepEqual(ends.map((e) => e[0]), ['b', 'a', 'c']);
  assert.ok(ends.every((e) => e[1].withdrawn === true), 'withdrawn, not answered');
  assert.notEqual(b.id, a.id);
});

// --- afterTurn: the changes kept --------------------------------------------------------

const TODAY = 'package main\n\nfunc main() {\n\tprintln("hello, changes")\n\tprintln("more")\n}\n';
const HUNKS = [
  { id: 'f1h1', range: { start: { line: 3, character: 0 }, end: { line: 5, character: 0 } }, originalText: '\tprintln("hello")\n', newText: '\tprintln("hello, changes")\n\tprintln("more")\n' },
];

test('changes: the file before the task is rebuilt from today\'s text and the hunks', () => {
  const before = 'package main\n\nfunc main() {\n\tprintln("hello")\n}\n';
  assert.deepEqual(checkpointText(TODAY, HUNKS), { text: before, mismatched: [] });
  // Lines the user added above since: the listed ranges no longer fit.
  const moved = '// mine\n' + TODAY;
  assert.deepEqual(checkpointText(moved, HUNKS), { text: moved, mismatched: ['f1h1'] });
  // CRLF today: the hunks' text is put back with CRLF.
  const crlf = TODAY.replace(/\n/g, '\r\n');
  assert.equal(checkpointText(crlf, HUNKS.map((h) => ({ ...h, range: h.range }))).text, before.replace(/\n/g, '\r\n'));
  // Two hunks, put back from the last up.
  const two = [
    { id: 'a', range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, originalText: 'A\n', newText: 'a\n' },
    { id: 'b', range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, originalText: 'gone\n', newText: '' },
  ];
  assert.deepEqual(checkpointText('a\nb\n', two), { text: 'A\nb\ngone\n', mismatched: [] });
  // An open document with unsaved lines above the hunk: found by a line diff against the disk they were listed in.
  const doc = '// mine\n' + TODAY.replace('package main', 'package main // edited');
  assert.deepEqual(checkpointText(doc, HUNKS, TODAY), { text: '// mine\n' + before.replace('package main', 'package main // edited'), mismatched: [] });
  assert.equal(offsetAt('ab\ncd', { line: 1, character: 9 }), 5, 'past the line: its end');
  assert.equal(offsetAt('ab\ncd', { line: 7, character: 0 }), 5, 'past the text: its end');
});

test('changes: labels and counts', () => {
  assert.equal(countLabel(HUNKS), '+2 −1');
  assert.equal(countLabel([]), '');
  assert.equal(hunkLabel(HUNKS[0]), 'Lines 4–5');
  assert.equal(hunkLabel({ ...HUNKS[0], newText: 'x\n' }), 'Line 4');
  assert.equal(hunkLabel({ ...HUNKS[0], newText: '' }), 'Removed at line 4');
  assert.equal(hunkDiff(HUNKS[0]), '-\tprintln("hello")\n+\tprintln("hello, changes")\n+\tprintln("more")');
});

test('changes store: newest task first, an empty listing removes the task, accepted files go', () => {
  const s = new ChangesStore();
  let fired = 0;
  s.onDidChange(() => fired++);
  s.set({ taskId: 't1', files: [{ uri: 'file:///w/b.go', status: 'modified', hunks: HUNKS }, { uri: 'file:///w/a.go', status: 'added', hunks: [] }] }, 'first task');
  s.set({ taskId: 't2', files: [{ uri: 'file:///w/b.go', status: 'modified', hunks: HUNKS }], uncovered: [] }, 'second task');
  assert.deepEqual(s.all().map((t) => t.taskId), ['t2', 't1']);
  assert.deepEqual(s.get('t1').files.map((f) => f.uri), ['file:///w/a.go', 'file:///w/b.go'], 'files in path order');
  assert.equal(s.get('t2').uncovered, undefined);
  assert.equal(s.fileCount(), 3);
  assert.deepEqual(s.tasksOf('file:///w/b.go').map((t) => t.taskId), ['t2', 't1']);
  // Listed again (claude.changes): the prompt stays, the order too.
  s.set({ taskId: 't1', files: [{ uri: 'file:///w/b.go', status: 'modified', hunks: HUNKS }] });
  assert.equal(s.get('t1').prompt, 'first task');
  assert.deepEqual(s.all().map((t) => t.taskId), ['t2', 't1']);
  s.removeFiles('t1', ['file:///w/b.go']);
  assert.equal(s.get('t1'), undefined, 'no file left: no task');
  s.set({ taskId: 't2', files: [] });
  assert.equal(s.get('t2'), undefined);
  assert.equal(s.fileCount(), 0);
  assert.ok(fired >= 5);
});

test('revert: what was done, and what was not with the bridge\'s reasons', () => {
  const name = (u) => u.replace('file:///w/', '');
  assert.deepEqual(
    revertSummary({ files: [{ uri: 'file:///w/a.go', reverted: ['f1h1', 'f1h2'], notReverted: [], restored: true }, { uri: 'file:///w/b.go', reverted: ['f2h1'], notReverted: [], restored: true }] }, name),
    { message: 'Reverted 3 changes in 2 files', complete: true, reverted: 3 },
  );
  const partial = revertSummary(
    {
      files: [
        { uri: 'file:///w/a.go', reverted: ['f1h1'], notReverted: [{ id: 'f1h2', reason: 'changed since the task' }], restored: false },
        { uri: 'file:///w/b.go', reverted: [], notReverted: [{ id: 'f2h1', reason: 'overlaps your unsaved changes (line 4 of your buffer)' }], restored: false, message: 'b.go: 0 hunks reverted, 1 not' },
      ],
    },
    name,
  );
  assert.equal(partial.complete, false);
  assert.equal(
    partial.message,
    'Reverted 1 change; not everything: a.go: 1 change not reverted: changed since the task · b.go: 1 change not reverted: overlaps your unsaved changes (line 4 of your buffer)',
  );
  assert.equal(revertSummary({ files: [{ uri: 'file:///w/x.bin', reverted: [], notReverted: [], restored: false, message: 'x.bin: changed since the task' }] }, name).message, 'Nothing was reverted: x.bin: changed since the task');
});

test('transcript: a held edit shows its buttons, then how it was reviewed; the changes kept close the page', () => {
  const t = new Transcript();
  const header = { taskId: 't1', prompt: 'p', status: 'running', startedAt: 0, conflicts: [], folder: 'file:///w' };
  t.setHeader(header);
  t.addEvents([
    { taskId: 't1', seq: 1, kind: 'toolUse', toolUseId: 'tu1', name: 'Edit', input: { file_path: '/w/main.go', old_string: 'a', new_string: 'b' }, summary: 'Edit main.go' },
  ]);
  t.setQuestions([{ id: 4, message: 'Claude wants to edit main.go: 2 changes', actions: [], toolUseId: 'tu1', askedAt: 0, kind: 'review' }]);
  let html = t.html();
  assert.match(html, /waiting for your review/);
  assert.match(html, /<button data-review="4" data-action="open">Open Review<\/button>/);
  assert.match(html, /data-review="4" data-action="reject">Reject…/);
  t.setQuestions([]);
  t.addEvents([
    { taskId: 't1', seq: 2, kind: 'review', toolUseId: 'tu1', uri: 'file:///w/main.go', tool: 'Edit', decision: 'accept', acceptedHunks: ['h1'], rejectedHunks: ['h2'], edited: false, feedback: 'keep the old name' },
  ]);
  html = t.html();
  assert.doesNotMatch(html, /data-review=/);
  assert.match(html, /✓ Reviewed: accepted h1, rejected h2 <span class="feedback">“keep the old name”<\/span>/);
  t.addEvents([{ taskId: 't1', seq: 3, kind: 'review', toolUseId: 'tu2', uri: 'file:///w/x.go', tool: 'Write', decision: 'reject', acceptedHunks: [], rejectedHunks: ['h1'], edited: false, reason: 'the task was cancelled' }]);
  assert.match(t.html(), /✗ Rejected \(the task was cancelled\)/);

  t.setHeader({ ...header, status: 'completed', changes: { files: [{ uri: 'file:///w/main.go', status: 'modified', hunks: HUNKS }, { uri: 'file:///w/new.txt', status: 'added', hunks: [] }], uncovered: ['Bash commands are not covered'] } });
  html = t.html();
  assert.match(html, /Changes to review: 2 files <span class="facts">\+2 −1<\/span>/);
  assert.match(html, /data-changes="open" data-uri="file:\/\/\/w\/main\.go">main\.go<\/a> <span class="facts">\+2 −1<\/span>/);
  assert.match(html, /new\.txt<\/a> <span class="facts">new<\/span>/);
  assert.match(html, /data-changes="revertTask">Revert Task/);
  assert.match(html, /⚠ Bash commands are not covered/);
  t.takeChanges();
  t.setHeader({ ...header, status: 'completed' });
  const after = t.takeChanges();
  assert.deepEqual(after.filter((c) => c.key === 'changes').map((c) => c.html), [''], 'all reviewed: the block goes');
});

test('settings: claudeBridge.review goes to the bridge as review', () => {
  const get = (v) => (k) => (k === 'review' ? v : undefined);
  assert.equal(bridgeOptions(get('afterTurn')).review, 'afterTurn');
  assert.equal(bridgeOptions(get('beforeWrite')).review, 'beforeWrite');
  assert.equal(bridgeOptions(get('off')).review, 'off', 'off is sent: the bridge\'s default may differ from the extension\'s');
  assert.equal('review' in bridgeOptions(get(undefined)), false);
});

test('transcript: opened after its task ended, the end and the changes stay below the events', () => {
  const t = new Transcript();
  const result = { taskId: 't1', sessionId: 's', status: 'completed', result: 'Done.', isError: false, costUsd: 0.1, durationMs: 1000, numTurns: 1, editedFiles: [] };
  t.setHeader({ taskId: 't1', prompt: 'p', status: 'completed', startedAt: 0, conflicts: [], result, changes: { files: [{ uri: 'file:///w/a.go', status: 'modified', hunks: HUNKS }] } });
  t.addEvents([
    { taskId: 't1', seq: 1, kind: 'started', sessionId: 's', model: 'm', cwd: '/w', permissionMode: 'acceptEdits', apiKeySource: 'x', claudeVersion: '2.1.332' },
    { taskId: 't1', seq: 2, kind: 'text', messageId: 'm1', text: 'Done.' },
    { taskId: 't1', seq: 3, kind: 'result', status: 'completed', result: 'Done.', isError: false, costUsd: 0.1, durationMs: 1000, numTurns: 1, sessionId: 's' },
  ]);
  const keys = t.takeChanges().map((c) => c.key);
  assert.deepEqual(keys, ['head', 'started:1', 'text:m1', 'end', 'changes']);
  const html = t.html();
  assert.ok(html.indexOf('Started') < html.indexOf('✓ Completed') && html.indexOf('✓ Completed') < html.indexOf('Changes to review'), html);
  assert.equal(html.split('<p>Done.</p>').length - 1, 1, 'the result that repeats the last text is not shown twice');
});
