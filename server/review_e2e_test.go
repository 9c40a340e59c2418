package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// End-to-end tests of reviewing the agent's edits (issue 13), with the
// real claude CLI against the stand-in: edits held before they are written
// (review beforeWrite), and a task's changes listed, reverted and accepted
// afterwards (afterTurn). What the stand-in received is the proof of what
// claude was told.

const sixLines = "line1\nline2\nline3\nline4\nline5\nline6\n"

// twoHunkEdit edits line2 and line5 of sixLines: two hunks.
func twoHunkEdit(path string) fakeapi.Turn {
	return edit(path, "line2\nline3\nline4\nline5", "LINE2\nline3\nline4\nLINE5")
}

// typeText makes the editor's buffer text (an unsaved change) and waits
// until the bridge has it.
func (e *vsEditor) typeText(uri, text string) {
	e.mu.Lock()
	d := e.docs[uri]
	d.text = text
	d.version++
	v := d.version
	e.mu.Unlock()
	_ = e.b.client.Notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": v},
		"contentChanges": []any{map[string]any{"text": text}},
	})
	// Notifications are handled in order before any later request is read.
	if err := e.b.command(lspext.CommandTasks, map[string]any{}, nil); err != nil {
		e.b.t.Fatal(err)
	}
}

// reviewing answers claude/reviewEdit with answer and sends what it was
// asked on the channel returned.
func reviewing(t *testing.T, b *bridge, answer func(lspext.ReviewEditParams) any) chan lspext.ReviewEditParams {
	asked := make(chan lspext.ReviewEditParams, 8)
	b.client.Handle(lspext.MethodReviewEdit, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.ReviewEditParams](t, lspext.MethodReviewEdit, p)
		asked <- q
		return answer(q), nil
	})
	return asked
}

// neverAnswered holds every claude/reviewEdit unanswered until the test
// ends; the channel is closed when the first arrives.
func neverAnswered(t *testing.T, b *bridge) <-chan struct{} {
	held := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var once sync.Once
	b.client.Handle(lspext.MethodReviewEdit, func(json.RawMessage) (any, error) {
		once.Do(func() { close(held) })
		<-release
		return nil, nil
	})
	return held
}

// contextAfter is the text claude put into its next request right after
// the tool result of id (a hook's additional context), "" when none.
func contextAfter(t *testing.T, api *fakeapi.Server, id string) string {
	t.Helper()
	var out []string
	eachLastMessages(api, func(msgs []apiMessage) bool {
		for k, m := range msgs {
			if !strings.Contains(string(m.Content), `"tool_use_id":"`+id+`"`) {
				continue
			}
			for _, next := range msgs[k+1:] {
				if next.Role == "assistant" {
					break
				}
				out = append(out, string(next.Content))
			}
			return true
		}
		return false
	})
	return strings.Join(out, "\n")
}

// reviewBridge starts a bridge with review beforeWrite whose editor
// declares reviewEdit, writes a.txt (sixLines) in its folder and scripts
// claude's two-hunk Edit of it; it returns a.txt's path.
func reviewBridge(t *testing.T) (*bridge, string) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), init: map[string]any{"review": "beforeWrite"}})
	path := filepath.Join(b.ws(0), "a.txt")
	if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("edited")})
	return b, path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReviewKeepsOnlyTheAcceptedHunk: with review beforeWrite an editor
// that declares reviewEdit gets claude's two-hunk Edit before anything is
// written (original = the open buffer, hunks with ranges in it); it
// accepts only the first, with feedback. The disk and the open buffer then
// have exactly the first hunk, and claude's next request carries the tool
// result saying the user modified the edit, followed by the context that
// names the hunk left out and the feedback.
func TestReviewKeepsOnlyTheAcceptedHunk(t *testing.T) {
	b, path := reviewBridge(t)
	e := newVSEditor(b)
	uri := e.open(path, "")
	asked := reviewing(t, b, func(p lspext.ReviewEditParams) any {
		// Nothing is on disk while the user reviews.
		if got := readFile(t, path); got != sixLines {
			t.Errorf("the disk changed before the review was answered: %q", got)
		}
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h1"}, Feedback: "keep line5 as it is"}
	})
	res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "r1"}))
	if res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if p.TaskID != "r1" || p.URI != uri || p.Tool != "Edit" || p.Original != sixLines || p.Proposed != "line1\nLINE2\nline3\nline4\nLINE5\nline6\n" {
		t.Fatalf("claude/reviewEdit %+v", p)
	}
	if len(p.Hunks) != 2 || p.Hunks[0].ID != "h1" || p.Hunks[0].OriginalText != "line2\n" || p.Hunks[0].ProposedText != "LINE2\n" ||
		p.Hunks[1].Range != (lspext.Range{Start: lspext.Position{Line: 4}, End: lspext.Position{Line: 5}}) {
		t.Errorf("hunks %+v", p.Hunks)
	}
	want := "line1\nLINE2\nline3\nline4\nline5\nline6\n"
	if got := readFile(t, path); got != want {
		t.Errorf("disk %q, want %q", got, want)
	}
	if got := e.text(uri); got != want {
		t.Errorf("buffer %q, want %q", got, want)
	}
	text, isErr, ok := toolResult(t, b.api, p.ToolUseID)
	if !ok || isErr || !strings.Contains(text, "The user modified your proposed changes") {
		t.Errorf("tool result %q (error %v, found %v)", text, isErr, ok)
	}
	ctx := contextAfter(t, b.api, p.ToolUseID)
	if !strings.Contains(ctx, "left out h2 (line 5: `LINE5`)") || !strings.Contains(ctx, "keep line5 as it is") {
		t.Errorf("what claude was told after the tool result: %s", ctx)
	}
	ev := lsptest.Last[*lspext.ReviewEvent](b.client.Events(t, "r1"))
	if ev == nil || ev.Decision != lspext.ReviewAccept || strings.Join(ev.AcceptedHunks, ",") != "h1" || strings.Join(ev.RejectedHunks, ",") != "h2" || ev.Feedback != "keep line5 as it is" {
		t.Errorf("review event %+v", ev)
	}
	if n := len(b.client.Messages(lspext.MethodShowMessageRequest)); n != 0 {
		t.Errorf("%d permission questions besides the review", n)
	}
}

// TestReviewUserVersionLands: the user's own version of the file (text)
// is what claude writes; claude is told the user changed its edit, and
// where their version differs from its proposal.
func TestReviewUserVersionLands(t *testing.T) {
	b, path := reviewBridge(t)
	mine := "line1\nLINE2\nline3\nline4\nLine5 (mine)\nline6\n"
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, Text: &mine}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "mine"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if got := readFile(t, path); got != mine {
		t.Errorf("disk %q, want the user's version %q", got, mine)
	}
	text, isErr, _ := toolResult(t, b.api, p.ToolUseID)
	ctx := contextAfter(t, b.api, p.ToolUseID)
	if isErr || !strings.Contains(text, "The user modified your proposed changes") || !strings.Contains(ctx, "the file now has their version") ||
		!strings.Contains(ctx, "Line5 (mine)") {
		t.Errorf("tool result %q, then %s", text, ctx)
	}
	if ev := lsptest.Last[*lspext.ReviewEvent](b.client.Events(t, "mine")); ev == nil || !ev.Edited || ev.Decision != lspext.ReviewAccept {
		t.Errorf("review event %+v", ev)
	}
}

// TestReviewUserVersionIsTheOriginal: a user's version equal to the file
// as it was is a reject of every hunk: nothing written, the review event
// a reject with every hunk rejected and nothing accepted or edited, and
// claude told its edit was rejected.
func TestReviewUserVersionIsTheOriginal(t *testing.T) {
	b, path := reviewBridge(t)
	orig := readFile(t, path)
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, Text: &orig}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "orig"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if got := readFile(t, path); got != orig {
		t.Errorf("disk %q, want it as it was", got)
	}
	ev := lsptest.Last[*lspext.ReviewEvent](b.client.Events(t, "orig"))
	if ev == nil || ev.Decision != lspext.ReviewReject || ev.Edited || len(ev.AcceptedHunks) != 0 || strings.Join(ev.RejectedHunks, ",") != "h1,h2" {
		t.Errorf("review event %+v", ev)
	}
	text, isErr, _ := toolResult(t, b.api, p.ToolUseID)
	if !isErr || !strings.Contains(text, "The user rejected this edit of a.txt (rejected h1") || !strings.Contains(text, "their version is the file as it was") {
		t.Errorf("tool result %q (error %v)", text, isErr)
	}
}

// TestReviewRejected: a rejected edit writes nothing and claude gets an
// error result naming the file, the hunks and the feedback.
func TestReviewRejected(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), init: map[string]any{"review": "beforeWrite"}})
	e := newVSEditor(b)
	path := filepath.Join(b.ws(0), "a.txt")
	if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := e.open(path, "")
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("ok")})
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewReject, Feedback: "use a constant instead"}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "no"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if got := readFile(t, path); got != sixLines || e.text(uri) != sixLines {
		t.Errorf("disk %q, buffer %q: a rejected edit was written", got, e.text(uri))
	}
	text, isErr, _ := toolResult(t, b.api, p.ToolUseID)
	if !isErr || !strings.Contains(text, "The user rejected this edit of a.txt (rejected h1 (line 2: `LINE2`), h2 (line 5: `LINE5`))") ||
		!strings.Contains(text, "Their feedback: use a constant instead") {
		t.Errorf("tool result %q (error %v)", text, isErr)
	}
}

// TestReviewWithoutTheCapability: an editor that does not declare
// reviewEdit is asked with window/showMessageRequest; Show diff opens the
// change as a unified diff (window/showDocument) and asks again; Accept
// writes the whole proposal.
func TestReviewWithoutTheCapability(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"review": "beforeWrite"}, initialize: func(p map[string]any, _ []string) {
		c := p["capabilities"].(map[string]any)
		c["window"].(map[string]any)["showDocument"] = map[string]any{"support": true}
	}})
	path := filepath.Join(b.ws(0), "a.txt")
	if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("edited")})
	shown := make(chan string, 2)
	b.client.Handle("window/showDocument", func(p json.RawMessage) (any, error) {
		var d struct {
			URI string `json:"uri"`
		}
		_ = json.Unmarshal(p, &d)
		shown <- d.URI
		return map[string]any{"success": true}, nil
	})
	n := 0
	asked := answering(t, b, func(q lspext.PermissionRequestParams) string {
		if n++; n == 1 {
			return "Show diff"
		}
		return "Accept"
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "plain"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	qs := asked()
	if len(qs) != 2 || qs[0].Message != "Claude wants to edit a.txt: +2 \u22122 in 2 hunks" || qs[0].ToolName != "Edit" || qs[0].TaskID != "plain" {
		t.Fatalf("questions %+v", qs)
	}
	var titles []string
	for _, a := range qs[0].Actions {
		titles = append(titles, a.Title)
	}
	if strings.Join(titles, ",") != "Accept,Reject,Show diff" {
		t.Errorf("actions %v", titles)
	}
	select {
	case u := <-shown:
		if !strings.HasSuffix(u, ".diff") {
			t.Errorf("shown %s", u)
		}
		diff := readFile(t, strings.TrimPrefix(u, "file://"))
		if !strings.Contains(diff, "-line2\n+LINE2\n") || !strings.Contains(diff, "-line5\n+LINE5\n") {
			t.Errorf("diff file:\n%s", diff)
		}
		proposal := strings.TrimSuffix(strings.TrimPrefix(u, "file://"), ".diff") + "-a.txt"
		if got := readFile(t, proposal); got != "line1\nLINE2\nline3\nline4\nLINE5\nline6\n" || !strings.Contains(diff, proposal) {
			t.Errorf("the proposal beside the diff: %q", got)
		}
	default:
		t.Error("Show diff showed nothing")
	}
	if got := readFile(t, path); got != "line1\nLINE2\nline3\nline4\nLINE5\nline6\n" {
		t.Errorf("disk %q", got)
	}
}

// TestReviewHoldsEditsInEveryMode: acceptEdits and bypassPermissions (in
// which claude asks nothing about edits) and default hold the edit for
// review just the same; nothing is written before the answer.
func TestReviewHoldsEditsInEveryMode(t *testing.T) {
	// claude refuses bypassPermissions to root unless it runs in a sandbox.
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), claudeEnv: []string{"IS_SANDBOX=1"}})
	path := filepath.Join(b.ws(0), "a.txt")
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewReject}
	})
	for _, mode := range []string{"bypassPermissions", "acceptEdits", "default"} {
		if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
			t.Fatal(err)
		}
		b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("ok")})
		res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": mode, "permissionMode": mode, "review": "beforeWrite"}))
		if res.Status != "completed" {
			t.Fatalf("%s: %+v", mode, res)
		}
		select {
		case p := <-asked:
			if p.TaskID != mode {
				t.Errorf("%s: review of task %s", mode, p.TaskID)
			}
		default:
			t.Errorf("%s: the edit was not held for review", mode)
		}
		if got := readFile(t, path); got != sixLines {
			t.Errorf("%s: a rejected edit was written: %q", mode, got)
		}
		if st := lsptest.Last[*lspext.StartedEvent](b.client.Events(t, mode)); st == nil || st.PermissionMode != mode {
			t.Errorf("%s: claude ran in %+v", mode, st)
		}
	}
	if n := len(b.client.Messages(lspext.MethodShowMessageRequest)); n != 0 {
		t.Errorf("%d permission questions besides the reviews", n)
	}
}

// TestReviewOfCRLFAndBOMFile: a file with a byte-order mark and CRLF line
// breaks, open in the editor, is reviewed as the editor shows it (no mark,
// CRLF), and the hunk kept is written with both.
func TestReviewOfCRLFAndBOMFile(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), init: map[string]any{"review": "beforeWrite"}})
	e := newVSEditor(b)
	path := filepath.Join(b.ws(0), "win.cs")
	crlf := strings.ReplaceAll(sixLines, "\n", "\r\n")
	if err := os.WriteFile(path, []byte("\ufeff"+crlf), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := e.open(path, "")
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("edited")})
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h2"}}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "crlf"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if p.Original != crlf || len(p.Hunks) != 2 || p.Hunks[1].OriginalText != "line5\r\n" || p.Hunks[1].ProposedText != "LINE5\r\n" {
		t.Errorf("review %q %+v", p.Original, p.Hunks)
	}
	want := "line1\r\nline2\r\nline3\r\nline4\r\nLINE5\r\nline6\r\n"
	if got := readFile(t, path); got != "\ufeff"+want {
		t.Errorf("disk %q", got)
	}
	if got := e.text(uri); got != want {
		t.Errorf("buffer %q", got)
	}
}

// TestReviewOfAWriteOverACRLFFile: claude's Write of LF content over a
// file with a byte-order mark and CRLF line breaks is proposed with the
// file's line breaks: one hunk for the one changed line (not the whole
// file), the file left with its mark and CRLF, and claude told so.
func TestReviewOfAWriteOverACRLFFile(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), init: map[string]any{"review": "beforeWrite"}})
	path := filepath.Join(b.ws(0), "w.txt")
	crlf := strings.ReplaceAll(sixLines, "\n", "\r\n")
	if err := os.WriteFile(path, []byte("\ufeff"+crlf), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Read", map[string]any{"file_path": path}),
		fakeapi.ToolUse("Write", map[string]any{"file_path": path, "content": strings.Replace(sixLines, "line3", "LINE3", 1)}),
		fakeapi.Text("written"),
	})
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any { return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept} })
	if res := b.result(b.run(map[string]any{"prompt": "write", "taskId": "wcrlf"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if len(p.Hunks) != 1 || p.Hunks[0].OriginalText != "line3\r\n" || p.Hunks[0].ProposedText != "LINE3\r\n" {
		t.Errorf("review of the Write: %d hunks %+v", len(p.Hunks), p.Hunks)
	}
	if got, want := readFile(t, path), "\ufeff"+strings.Replace(crlf, "line3", "LINE3", 1); got != want {
		t.Errorf("disk %q, want %q", got, want)
	}
	if ctx := contextAfter(t, b.api, p.ToolUseID); !strings.Contains(ctx, "w.txt keeps its CRLF line breaks") {
		t.Errorf("claude was not told the line breaks were kept: %s", ctx)
	}
}

// TestReviewNeverAnswered: a review the editor does not answer holds the
// task as waiting; claude.cancel still ends it at once, nothing is
// written, and the request is withdrawn with $/cancelRequest.
func TestReviewNeverAnswered(t *testing.T) {
	b, path := reviewBridge(t)
	held := neverAnswered(t, b)
	call := b.run(map[string]any{"prompt": "edit a.txt", "taskId": "hung"})
	<-held
	var tasks []lspext.TaskInfo
	if err := b.command(lspext.CommandTasks, map[string]any{}, &tasks); err != nil || len(tasks) != 1 || tasks[0].Status != lspext.StatusWaiting || tasks[0].Review != lspext.ReviewBeforeWrite {
		t.Errorf("tasks %+v %v", tasks, err)
	}
	start := time.Now()
	var c lspext.CancelResult
	if err := b.command(lspext.CommandCancel, map[string]any{"taskId": "hung"}, &c); err != nil || !c.Cancelled {
		t.Fatalf("cancel %+v %v", c, err)
	}
	if res := b.result(call); res.Status != lspext.StatusCancelled {
		t.Errorf("result %+v", res)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the cancel took %v", d)
	}
	if _, err := b.client.WaitFor("$/cancelRequest", 10*time.Second, func(lsptest.Message) bool { return true }); err != nil {
		t.Errorf("the review request was not withdrawn: %v", err)
	}
	if got := readFile(t, path); got != sixLines {
		t.Errorf("disk %q", got)
	}
}

// twelve is a file of twelve lines, l1 to l12.
const twelve = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n"

// afterTurnTask runs a task with review afterTurn that edits a.txt (two
// hunks: lines 2 and 10) and d.txt, creates b.txt and runs `sed -i` on
// c.txt, and returns the claude/changes it got (files in path order: f1
// a.txt, f2 b.txt, f3 c.txt, f4 d.txt).
func afterTurnTask(t *testing.T, b *bridge, taskID string) (lspext.RunResult, lspext.ChangesParams) {
	t.Helper()
	ws := b.ws(0)
	a, c := filepath.Join(ws, "a.txt"), filepath.Join(ws, "c.txt")
	d := filepath.Join(ws, "d.txt")
	for p, s := range map[string]string{a: twelve, c: "keep\nold\nkeep\n", d: "one\ntwo\n"} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.api.SetTurns([]fakeapi.Turn{
		edit(a, "l2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10", "L2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nL10"),
		edit(d, "two", "TWO"),
		fakeapi.ToolUse("Write", map[string]any{"file_path": filepath.Join(ws, "b.txt"), "content": "brand new\n"}),
		fakeapi.ToolUse("Bash", map[string]any{"command": "sed -i s/old/new/ c.txt", "description": "sed"}),
		fakeapi.Text("done"),
	})
	res := b.result(b.run(map[string]any{"prompt": "change things", "taskId": taskID, "review": "afterTurn"}))
	if res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	m, err := b.client.WaitFor(lspext.MethodChanges, 10*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), `"taskId":"`+taskID+`"`)
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := lsptest.Decode[lspext.ChangesParams](t, lspext.MethodChanges, m.Params)
	return res, ch
}

// TestAfterTurnListsEveryChange: a task that edits two files, creates one
// and changes another with `sed -i` (a Bash command: no tool result says
// so) ends with claude/changes listing all four, hunks with ranges in
// today's file; the reply carries the same, and claude.tasks says the task
// has unreviewed changes until they are accepted.
func TestAfterTurnListsEveryChange(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	res, ch := afterTurnTask(t, b, "at")
	ws := b.ws(0)
	uri := func(n string) string { return "file://" + filepath.Join(ws, n) }
	if ch.TaskID != "at" || len(ch.Files) != 4 || len(ch.Uncovered) != 0 {
		t.Fatalf("claude/changes %+v", ch)
	}
	a, bb, c, d := ch.Files[0], ch.Files[1], ch.Files[2], ch.Files[3]
	if d.URI != uri("d.txt") || len(d.Hunks) != 1 || d.Hunks[0].ID != "f4h1" || d.Hunks[0].NewText != "TWO\n" {
		t.Errorf("d.txt %+v", d)
	}
	if a.URI != uri("a.txt") || a.Status != lspext.ChangeModified || len(a.Hunks) != 2 || a.Hunks[0].ID != "f1h1" || a.Hunks[1].ID != "f1h2" ||
		a.Hunks[1].Range != (lspext.Range{Start: lspext.Position{Line: 9}, End: lspext.Position{Line: 10}}) || a.Hunks[1].OriginalText != "l10\n" || a.Hunks[1].NewText != "L10\n" {
		t.Errorf("a.txt %+v", a)
	}
	if bb.URI != uri("b.txt") || bb.Status != lspext.ChangeAdded || len(bb.Hunks) != 1 || bb.Hunks[0].NewText != "brand new\n" {
		t.Errorf("b.txt %+v", bb)
	}
	if c.URI != uri("c.txt") || c.Status != lspext.ChangeModified || len(c.Hunks) != 1 || c.Hunks[0].OriginalText != "old\n" || c.Hunks[0].NewText != "new\n" {
		t.Errorf("c.txt (sed -i) %+v", c)
	}
	if res.Changes == nil || len(res.Changes.Files) != 4 {
		t.Errorf("the reply's changes %+v", res.Changes)
	}
	var tasks []lspext.TaskInfo
	if err := b.command(lspext.CommandTasks, map[string]any{}, &tasks); err != nil || !tasks[0].UnreviewedChanges || tasks[0].Review != lspext.ReviewAfterTurn {
		t.Errorf("tasks %+v %v", tasks, err)
	}
	var acc lspext.AcceptResult
	if err := b.command(lspext.CommandAccept, map[string]any{"taskId": "at"}, &acc); err != nil || len(acc.Accepted) != 4 {
		t.Fatalf("accept %+v %v", acc, err)
	}
	tasks = nil // a decode into the old slice would keep its fields
	if err := b.command(lspext.CommandTasks, map[string]any{}, &tasks); err != nil || tasks[0].UnreviewedChanges {
		t.Errorf("after accept: tasks %+v %v", tasks, err)
	}
	var again lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "at"}, &again); err != nil || len(again.Files) != 0 {
		t.Errorf("changes after accept %+v %v", again, err)
	}
	if got := readFile(t, filepath.Join(ws, "c.txt")); got != "keep\nnew\nkeep\n" {
		t.Errorf("accepted c.txt %q", got)
	}
}

// unsavedElsewhere opens a.txt and types an unsaved edit on line 6, far
// from the task's hunks (lines 2 and 10); it returns the URI.
func unsavedElsewhere(b *bridge, e *vsEditor) string {
	uri := e.open(filepath.Join(b.ws(0), "a.txt"), "")
	e.typeText(uri, strings.Replace(e.text(uri), "l6\n", "l6 (mine)\n", 1))
	return uri
}

// revert sends claude.revert.
func (b *bridge) revert(args map[string]any) lspext.RevertResult {
	b.t.Helper()
	var r lspext.RevertResult
	if err := b.command(lspext.CommandRevert, args, &r); err != nil {
		b.t.Fatal(err)
	}
	return r
}

// TestRevertAHunkThenAnOverlappingOne: reverting one hunk of a file open
// with an unsaved edit elsewhere takes the hunk back on disk and in the
// buffer and keeps the edit; a hunk that overlaps an unsaved edit is not
// reverted and says why, the disk and the buffer left as they were; once
// the edit is gone it is.
func TestRevertAHunkThenAnOverlappingOne(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	afterTurnTask(t, b, "rv")
	aPath := filepath.Join(b.ws(0), "a.txt")
	e := newVSEditor(b)
	uri := unsavedElsewhere(b, e)

	r := b.revert(map[string]any{"taskId": "rv", "hunks": []string{"f1h2"}})
	if len(r.Files) != 1 || strings.Join(r.Files[0].Reverted, ",") != "f1h2" || len(r.Files[0].NotReverted) != 0 || r.Files[0].Restored {
		t.Fatalf("revert f1h2: %+v", r)
	}
	if got := readFile(t, aPath); got != "l1\nL2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n" {
		t.Errorf("disk after reverting f1h2: %q", got)
	}
	if got := e.text(uri); got != "l1\nL2\nl3\nl4\nl5\nl6 (mine)\nl7\nl8\nl9\nl10\nl11\nl12\n" {
		t.Errorf("buffer after reverting f1h2: %q (the unsaved edit must stay)", got)
	}

	mine := "l1\nL2 and mine\nl3\nl4\nl5\nl6 (mine)\nl7\nl8\nl9\nl10\nl11\nl12\n"
	e.typeText(uri, mine)
	diskBefore := readFile(t, aPath)
	r = b.revert(map[string]any{"taskId": "rv", "hunks": []string{"f1h1"}})
	if len(r.Files) != 1 || len(r.Files[0].Reverted) != 0 || len(r.Files[0].NotReverted) != 1 || r.Files[0].NotReverted[0].ID != "f1h1" ||
		!strings.Contains(r.Files[0].NotReverted[0].Reason, "overlaps your unsaved changes (line 2 of your buffer)") {
		t.Fatalf("revert over an overlapping unsaved edit: %+v", r)
	}
	if readFile(t, aPath) != diskBefore || e.text(uri) != mine {
		t.Errorf("disk %q, buffer %q: something was overwritten", readFile(t, aPath), e.text(uri))
	}
	e.typeText(uri, diskBefore) // the user undoes their edits
	r = b.revert(map[string]any{"taskId": "rv", "hunks": []string{"f1h1"}})
	if len(r.Files) != 1 || !r.Files[0].Restored || readFile(t, aPath) != twelve || e.text(uri) != twelve {
		t.Errorf("revert f1h1: %+v; disk %q buffer %q", r, readFile(t, aPath), e.text(uri))
	}
	if n := len(b.client.Messages("claude/editConflict")); n != 0 {
		t.Errorf("%d edit conflicts", n)
	}
}

// TestRevertAFileOverUnsavedEdits: one file (uri) reverted whole, its
// buffer's unsaved edit elsewhere kept; the task's other files left.
func TestRevertAFileOverUnsavedEdits(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	afterTurnTask(t, b, "rf")
	e := newVSEditor(b)
	uri := unsavedElsewhere(b, e)
	r := b.revert(map[string]any{"taskId": "rf", "uri": uri})
	if len(r.Files) != 1 || strings.Join(r.Files[0].Reverted, ",") != "f1h1,f1h2" || !r.Files[0].Restored {
		t.Fatalf("revert a.txt: %+v", r)
	}
	ws := b.ws(0)
	if got := readFile(t, filepath.Join(ws, "a.txt")); got != twelve {
		t.Errorf("a.txt on disk %q", got)
	}
	if got := e.text(uri); got != strings.Replace(twelve, "l6\n", "l6 (mine)\n", 1) {
		t.Errorf("a.txt's buffer %q", got)
	}
	if readFile(t, filepath.Join(ws, "c.txt")) != "keep\nnew\nkeep\n" || readFile(t, filepath.Join(ws, "d.txt")) != "one\nTWO\n" {
		t.Error("the other files of the task were reverted too")
	}
	var left lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "rf"}, &left); err != nil || len(left.Files) != 3 || left.Files[0].URI == uri {
		t.Errorf("changes left %+v %v", left, err)
	}
}

// TestRevertTheWholeTask: every file back (the created one gone, the sed
// undone) with an unsaved edit kept in an open buffer, except a file
// changed again since the task, which is reported and left alone.
func TestRevertTheWholeTask(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	afterTurnTask(t, b, "rt")
	ws := b.ws(0)
	e := newVSEditor(b)
	uri := unsavedElsewhere(b, e)
	// d.txt changed again after the task, on its changed line.
	if err := os.WriteFile(filepath.Join(ws, "d.txt"), []byte("one\nTWO, then mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := b.revert(map[string]any{"taskId": "rt"})
	got := map[string]lspext.RevertedFile{}
	for _, f := range r.Files {
		got[filepath.Base(f.URI)] = f
	}
	if !got["a.txt"].Restored || !got["b.txt"].Restored || !got["c.txt"].Restored || got["d.txt"].Restored ||
		len(got["d.txt"].NotReverted) != 1 || !strings.Contains(got["d.txt"].NotReverted[0].Reason, "changed since the task") {
		t.Fatalf("whole task: %+v", r)
	}
	if readFile(t, filepath.Join(ws, "a.txt")) != twelve || readFile(t, filepath.Join(ws, "c.txt")) != "keep\nold\nkeep\n" ||
		readFile(t, filepath.Join(ws, "d.txt")) != "one\nTWO, then mine\n" {
		t.Error("files after the revert are not as they should be")
	}
	if _, err := os.Stat(filepath.Join(ws, "b.txt")); !os.IsNotExist(err) {
		t.Errorf("b.txt, which the task created, is still there: %v", err)
	}
	if got := e.text(uri); got != strings.Replace(twelve, "l6\n", "l6 (mine)\n", 1) {
		t.Errorf("a.txt's buffer %q", got)
	}
	var tasks []lspext.TaskInfo
	if err := b.command(lspext.CommandTasks, map[string]any{}, &tasks); err != nil || !tasks[0].UnreviewedChanges {
		t.Errorf("d.txt is still the task's to review: %+v %v", tasks, err)
	}
	var left lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "rt"}, &left); err != nil || len(left.Files) != 1 ||
		filepath.Base(left.Files[0].URI) != "d.txt" || len(left.Files[0].Hunks) != 0 {
		t.Errorf("changes left: %+v %v", left, err)
	}
}

// TestAfterTurnCRLFAndBOM: a file with a byte-order mark and CRLF line
// breaks: claude/changes has ranges in the file as an editor shows it, and
// a revert gives back the file byte for byte.
func TestAfterTurnCRLFAndBOM(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	e := newVSEditor(b)
	path := filepath.Join(b.ws(0), "win.cs")
	before := "\ufeff" + strings.ReplaceAll(sixLines, "\n", "\r\n")
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := e.open(path, "")
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("edited")})
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "crlf", "review": "afterTurn"})); res.Status != "completed" || res.Changes == nil {
		t.Fatalf("result %+v", res)
	}
	m, err := b.client.WaitFor(lspext.MethodChanges, 10*time.Second, func(lsptest.Message) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	ch := lsptest.Decode[lspext.ChangesParams](t, lspext.MethodChanges, m.Params)
	if len(ch.Files) != 1 || len(ch.Files[0].Hunks) != 2 || ch.Files[0].Hunks[0].Range.Start != (lspext.Position{Line: 1}) ||
		ch.Files[0].Hunks[0].OriginalText != "line2\r\n" || ch.Files[0].Hunks[0].NewText != "LINE2\r\n" {
		t.Fatalf("changes %+v", ch)
	}
	var r lspext.RevertResult
	if err := b.command(lspext.CommandRevert, map[string]any{"taskId": "crlf"}, &r); err != nil || !r.Files[0].Restored {
		t.Fatalf("revert %+v %v", r, err)
	}
	if got := readFile(t, path); got != before {
		t.Errorf("disk %q, want %q", got, before)
	}
	if got := e.text(uri); got != strings.TrimPrefix(before, "\ufeff") {
		t.Errorf("buffer %q", got)
	}
}

// TestReviewDeferred: an editor that replies {"deferred": true} (Neovim
// before 0.10) answers the review later with claude.answer; the hunks it
// keeps are what is written.
func TestReviewDeferred(t *testing.T) {
	b, path := reviewBridge(t)
	b.client.Handle(lspext.MethodReviewEdit, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.ReviewEditParams](t, lspext.MethodReviewEdit, p)
		go func() { // the user answers after the reply
			var r lspext.AnswerResult
			err := b.command(lspext.CommandAnswer, map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID,
				"review": map[string]any{"decision": "accept", "acceptedHunks": []string{"h2"}}}, &r)
			if err != nil || !r.Accepted {
				t.Errorf("claude.answer: %+v %v", r, err)
			}
		}()
		return &lspext.ReviewEditResult{Deferred: true}, nil
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "later"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	if got := readFile(t, path); got != "line1\nline2\nline3\nline4\nLINE5\nline6\n" {
		t.Errorf("disk %q", got)
	}
}

// TestShutdownWhileReviewWaits: shutdown with a review unanswered answers
// within its bound, writes nothing and leaves no claude behind.
func TestShutdownWhileReviewWaits(t *testing.T) {
	b, path := reviewBridge(t)
	held := neverAnswered(t, b)
	call := b.run(map[string]any{"prompt": "edit", "taskId": "sd"})
	<-held
	start := time.Now()
	if err := b.client.Request("shutdown", nil, nil, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 11*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if res := b.result(call); res.Status != lspext.StatusCancelled {
		t.Errorf("result %+v", res)
	}
	assertNoProcesses(t, b.ws(0))
	if got := readFile(t, path); got != sixLines {
		t.Errorf("disk %q", got)
	}
}

// notebook is a small Jupyter notebook: a code cell c1 and a markdown cell.
const notebook = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [], "source": ["print('a')"]},
  {"cell_type": "markdown", "id": "c2", "metadata": {}, "source": ["# Title"]}
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// TestReviewNotebookEdit: a NotebookEdit is held like any edit; the user's
// version of the edited cell is written by claude (a new_source of the
// user's), and a version that changes another cell too, which no
// NotebookEdit can write, is written by the bridge and claude told so.
func TestReviewNotebookEdit(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"reviewEdit": true}), init: map[string]any{"review": "beforeWrite"}})
	path := filepath.Join(b.ws(0), "nb.ipynb")
	for _, c := range []struct {
		name, replace, with string
		bridgeWrote         bool
	}{
		{"cell", "print('A')", "print('mine')", false},
		{"beyond", "# Title", "# Other", true},
	} {
		if err := os.WriteFile(path, []byte(notebook), 0o644); err != nil {
			t.Fatal(err)
		}
		b.api.SetTurns([]fakeapi.Turn{
			fakeapi.ToolUse("Read", map[string]any{"file_path": path}), // NotebookEdit needs a Read first
			fakeapi.ToolUse("NotebookEdit", map[string]any{"notebook_path": path, "cell_id": "c1", "new_source": "print('A')"}),
			fakeapi.Text("edited"),
		})
		var mine string
		asked := reviewing(t, b, func(p lspext.ReviewEditParams) any {
			mine = strings.Replace(p.Proposed, c.replace, c.with, 1)
			if c.bridgeWrote {
				mine = strings.Replace(mine, "print('A')", "print('mine')", 1)
			}
			return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, Text: &mine}
		})
		if res := b.result(b.run(map[string]any{"prompt": "edit the notebook", "taskId": c.name})); res.Status != "completed" {
			t.Fatalf("%s: %+v", c.name, res)
		}
		p := <-asked
		if p.Tool != "NotebookEdit" || !strings.Contains(p.Proposed, `"source": "print('A')"`) {
			t.Errorf("%s: review %+v", c.name, p)
		}
		if got := readFile(t, path); got != mine {
			t.Errorf("%s: disk\n%s\nwant the user's version\n%s", c.name, got, mine)
		}
		text, isErr, _ := toolResult(t, b.api, p.ToolUseID)
		if c.bridgeWrote != isErr || c.bridgeWrote && !strings.Contains(text, "claude-bridge wrote the user's version itself") {
			t.Errorf("%s: tool result %q (error %v)", c.name, text, isErr)
		}
	}
}

// TestReviewAgainstAnUnsavedBuffer: the file is open with an unsaved edit
// away from claude's change: the review shows the buffer (the unsaved
// edit on both sides), the disk gets only the hunk kept, and the buffer
// keeps the unsaved edit with the hunk.
func TestReviewAgainstAnUnsavedBuffer(t *testing.T) {
	b, path := reviewBridge(t)
	if err := os.WriteFile(path, []byte(twelve), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{edit(path, "l2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10", "L2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nL10"), fakeapi.Text("edited")})
	e := newVSEditor(b)
	uri := e.open(path, "")
	buffer := strings.Replace(twelve, "l6\n", "l6 (unsaved)\n", 1)
	e.typeText(uri, buffer)
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h2"}}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "dirty"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if p.Original != buffer || !strings.Contains(p.Proposed, "l6 (unsaved)\n") || len(p.Hunks) != 2 || p.Hunks[1].Range.Start.Line != 9 {
		t.Fatalf("review %q → %q %+v", p.Original, p.Proposed, p.Hunks)
	}
	if got := readFile(t, path); got != strings.Replace(twelve, "l10\n", "L10\n", 1) {
		t.Errorf("disk %q: only h2, without the unsaved edit", got)
	}
	if got := e.text(uri); got != strings.Replace(buffer, "l10\n", "L10\n", 1) {
		t.Errorf("buffer %q: the unsaved edit and h2", got)
	}
}
