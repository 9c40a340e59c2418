package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

func editTurns(ws string) []fakeapi.Turn {
	return []fakeapi.Turn{
		fakeapi.ToolUse("Read", map[string]any{"file_path": ws + "/main.go"}),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": ws + "/main.go", "old_string": `println("hello")`, "new_string": `println("hello, bridge")`}),
		fakeapi.ToolUse("Write", map[string]any{"file_path": ws + "/NOTES.md", "content": "# notes\n"}),
		fakeapi.ToolUse("Bash", map[string]any{"command": "echo built", "description": "Pretend to build"}),
		fakeapi.Text("Edited main.go and wrote NOTES.md. All done."),
	}
}

// slowTurn answers only after d: a task that is still running when the
// test acts on it.
func slowTurn(d time.Duration) fakeapi.Turn {
	t := fakeapi.Text("finally")
	t.Delay = d
	return t
}

// claudeProcessesIn lists the processes whose working directory is dir.
func claudeProcessesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := fmt.Sscan(e.Name(), new(int)); err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

func assertNoProcesses(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := claudeProcessesIn(t, dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left in %s: %v", dir, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunReportsProgressEventsAndResult(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	turns := editTurns(b.ws(0))
	// The answer trickles in, as from the real API: the editor must see it
	// in pieces as it comes, not in one piece at the end.
	turns[len(turns)-1].ChunkDelay = 30 * time.Millisecond
	b.api.SetTurns(turns)
	call := b.run(map[string]any{"prompt": "make main.go greet the bridge", "taskId": "task-a"})
	res := b.result(call)
	if res.Status != "completed" || res.IsError || res.TaskID != "task-a" {
		t.Fatalf("result = %+v", res)
	}
	if res.Result != "Edited main.go and wrote NOTES.md. All done." || res.SessionID == "" || res.NumTurns != 5 {
		t.Errorf("result = %+v", res)
	}
	wantFiles := []string{"file://" + b.ws(0) + "/main.go", "file://" + b.ws(0) + "/NOTES.md"}
	if strings.Join(res.EditedFiles, " ") != strings.Join(wantFiles, " ") {
		t.Errorf("editedFiles = %v, want %v", res.EditedFiles, wantFiles)
	}

	// Events: seq from 1 with no gaps; queued and started first, result last.
	evs := b.client.Events(t, "task-a")
	for i, e := range evs {
		if e.Head().Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: %s", i, e.Head().Seq, lsptest.Kinds(evs))
		}
	}
	kinds := lsptest.Kinds(evs)
	if !strings.HasPrefix(kinds, "queued,started,") || !strings.HasSuffix(kinds, ",result") {
		t.Errorf("event kinds = %s", kinds)
	}
	var text strings.Builder
	var tools []string
	for _, e := range lsptest.Of[*lspext.TextEvent](evs) {
		text.WriteString(e.Text)
	}
	for _, e := range lsptest.Of[*lspext.ToolUseEvent](evs) {
		tools = append(tools, e.Summary)
	}
	if text.String() != res.Result {
		t.Errorf("text events join to %q, want %q", text.String(), res.Result)
	}
	if got := strings.Join(tools, "|"); got != "Read main.go|Edit main.go|Write NOTES.md|Bash: echo built" {
		t.Errorf("toolUse summaries = %s", got)
	}
	// Streamed: the answer's deltas come 30 ms apart, about 250 ms from
	// the first to the last; the editor gets the first piece while the
	// rest is still coming (deltas that reach the bridge together, as on a
	// busy machine, may go out as one event, so the count is not fixed).
	var firstText, lastText time.Time
	n := 0
	for _, m := range b.client.Messages(lspext.MethodEvent) {
		if ev, err := lspext.DecodeEvent(m.Params); err == nil && ev.Head().TaskID == "task-a" && ev.EventKind() == lspext.KindText {
			if n == 0 {
				firstText = m.At
			}
			lastText, n = m.At, n+1
		}
	}
	if span := lastText.Sub(firstText); n < 2 || span < 100*time.Millisecond {
		t.Errorf("the answer came in %d text events over %s; want it streamed in pieces as it comes", n, span)
	}

	// Progress: begin, a report per step, end; all before the reply.
	prog := b.client.Progress(t, "claude-bridge/task-a")
	if len(prog) < 3 || prog[0].Kind != protocol.WorkDoneProgressKindBegin || prog[0].Title != "Claude" || !prog[0].Cancellable {
		t.Fatalf("progress = %+v", prog)
	}
	var reports []string
	for _, p := range prog[1 : len(prog)-1] {
		if p.Kind != protocol.WorkDoneProgressKindReport || !p.Cancellable {
			t.Errorf("progress report = %+v", p)
		}
		reports = append(reports, p.Message)
	}
	for _, want := range []string{"Read main.go", "Edit main.go", "Write NOTES.md", "Bash: echo built"} {
		if !strings.Contains(strings.Join(reports, "|"), want) {
			t.Errorf("no progress report %q in %q", want, reports)
		}
	}
	last := prog[len(prog)-1]
	if last.Kind != protocol.WorkDoneProgressKindEnd || !strings.HasPrefix(last.Message, "Done: Edited main.go") {
		t.Errorf("progress end = %+v", last)
	}
	reply, _ := call.Wait(time.Second)
	for _, m := range append(b.client.Messages("claude/event"), b.client.Messages("$/progress")...) {
		if m.Seq > reply.Seq {
			t.Errorf("%s arrived after the reply", m.Method)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(b.ws(0), "main.go")); !strings.Contains(string(b), "hello, bridge") {
		t.Errorf("main.go on disk = %q", b)
	}
}

func TestPermissionAllowAndDeny(t *testing.T) {
	for _, answer := range []string{"Allow", "Deny", ""} {
		t.Run("answer="+answer, func(t *testing.T) {
			b := startBridge(t, bridgeOpts{})
			b.api.SetTurns([]fakeapi.Turn{
				fakeapi.ToolUse("Bash", map[string]any{"command": "touch made-by-bash.txt", "description": "make a file"}),
				fakeapi.Text("ok"),
			})
			asked := make(chan lspext.PermissionRequestParams, 4)
			b.client.Handle("window/showMessageRequest", func(p json.RawMessage) (any, error) {
				asked <- lsptest.Decode[lspext.PermissionRequestParams](t, "window/showMessageRequest", p)
				if answer == "" {
					return nil, nil // dismissed
				}
				return &protocol.MessageActionItem{Title: answer}, nil
			})
			res := b.result(b.run(map[string]any{"prompt": "make a file", "taskId": "p", "permissionMode": "default"}))
			if res.Status != "completed" {
				t.Fatalf("result = %+v", res)
			}
			var q lspext.PermissionRequestParams
			select {
			case q = <-asked:
			default:
				t.Fatal("no permission question reached the editor")
			}
			if q.Message != "Claude wants to run Bash: `touch made-by-bash.txt`" || q.Type != int(protocol.MessageTypeInfo) {
				t.Errorf("question = %+v", q)
			}
			var titles []string
			for _, a := range q.Actions {
				titles = append(titles, a.Title)
			}
			if strings.Join(titles, "|") != "Allow|Allow for this task|Deny" {
				t.Errorf("actions = %v", titles)
			}
			_, err := os.Stat(filepath.Join(b.ws(0), "made-by-bash.txt"))
			created := err == nil
			if created != (answer == "Allow") {
				t.Errorf("answer %q: file created = %v", answer, created)
			}
			evs := b.client.Events(t, "p")
			perm, result := lsptest.Last[*lspext.PermissionEvent](evs), lsptest.Last[*lspext.ToolResultEvent](evs)
			wantDecision := map[string]lspext.Decision{"Allow": lspext.DecisionAllow, "Deny": lspext.DecisionDeny, "": lspext.DecisionDeny}[answer]
			if perm == nil || perm.Decision != wantDecision || perm.Automatic || perm.Name != "Bash" || perm.Summary != "Bash: touch made-by-bash.txt" {
				t.Errorf("permission event = %+v", perm)
			}
			if answer != "Allow" && (result == nil || !result.IsError || !strings.Contains(result.Content, map[string]string{"Deny": "denied", "": "dismissed"}[answer])) {
				t.Errorf("denied tool's result = %+v", result)
			}
		})
	}
}

func TestAllowForTaskAsksOnce(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": "touch one.txt"}),
		fakeapi.ToolUse("Bash", map[string]any{"command": "touch two.txt"}),
		fakeapi.Text("ok"),
	})
	n := 0
	b.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) {
		n++
		return &protocol.MessageActionItem{Title: "Allow for this task"}, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "two files", "taskId": "a", "permissionMode": "default"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if n != 1 {
		t.Errorf("asked %d times, want once", n)
	}
	for _, f := range []string{"one.txt", "two.txt"} {
		if _, err := os.Stat(filepath.Join(b.ws(0), f)); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	var auto int
	for _, e := range lsptest.Of[*lspext.PermissionEvent](b.client.Events(t, "a")) {
		if e.Automatic && e.Decision == lspext.DecisionAllow {
			auto++
		}
	}
	if auto != 1 {
		t.Errorf("%d automatic allows, want 1", auto)
	}
}

func TestEditOutsideWorkspaceDeniedWithoutAsking(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	outside := t.TempDir()
	target := filepath.Join(outside, "secret.txt")
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Write", map[string]any{"file_path": target, "content": "pwned\n"}),
		fakeapi.Text("tried"),
	})
	asked := false
	b.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) {
		asked = true
		return &protocol.MessageActionItem{Title: "Allow"}, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "write outside", "taskId": "o"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if asked {
		t.Error("the editor was asked about an edit outside the workspace")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the file outside the workspace was written")
	}
	perm := lsptest.Last[*lspext.PermissionEvent](b.client.Events(t, "o"))
	if perm == nil || perm.Decision != lspext.DecisionDeny || !perm.Automatic || !strings.Contains(perm.Reason, "outside") {
		t.Errorf("permission event = %+v", perm)
	}
}

func TestCancelRoutes(t *testing.T) {
	routes := map[string]func(b *bridge, call *lsptest.Call){
		"cancelRequest": func(b *bridge, call *lsptest.Call) { _ = b.client.Cancel(call) },
		"claude.cancel": func(b *bridge, call *lsptest.Call) {
			var r lspext.CancelResult
			if err := b.command("claude.cancel", map[string]string{"taskId": "c"}, &r); err != nil || !r.Cancelled {
				b.t.Errorf("claude.cancel = %+v, %v", r, err)
			}
		},
		"progressCancel": func(b *bridge, call *lsptest.Call) {
			_ = b.client.Notify("window/workDoneProgress/cancel", map[string]any{"token": "claude-bridge/c"})
		},
	}
	for name, cancel := range routes {
		for _, when := range []string{"running", "at-once"} {
			t.Run(name+"/"+when, func(t *testing.T) {
				b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(60 * time.Second)}})
				call := b.run(map[string]any{"prompt": "take your time", "taskId": "c"})
				if when == "running" {
					if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "c", 30*time.Second); err != nil {
						t.Fatal(err)
					}
				} else {
					// At once: as soon as the task exists (its first event).
					if _, err := b.client.WaitFor("claude/event", 10*time.Second, nil); err != nil {
						t.Fatal(err)
					}
				}
				start := time.Now()
				cancel(b, call)
				res := b.result(call)
				if res.Status != "cancelled" {
					t.Fatalf("result = %+v", res)
				}
				if d := time.Since(start); d > 12*time.Second {
					t.Errorf("cancel took %s", d)
				}
				evs := b.client.Events(t, "c")
				results := lsptest.Of[*lspext.ResultEvent](evs)
				if len(results) != 1 || results[0].Status != lspext.StatusCancelled {
					t.Errorf("result events %+v, want exactly 1, cancelled: %s", results, lsptest.Kinds(evs))
				}
				// The reply does not wait for the editor's answer to
				// window/workDoneProgress/create: cancelled at once, the task
				// may end before it, and its progress begins and ends after.
				if _, err := b.client.WaitFor("$/progress", 10*time.Second, func(m lsptest.Message) bool {
					var p struct {
						Token string                       `json:"token"`
						Value protocol.WorkDoneProgressEnd `json:"value"`
					}
					_ = json.Unmarshal(m.Params, &p)
					return p.Token == "claude-bridge/c" && p.Value.Kind == protocol.WorkDoneProgressKindEnd && p.Value.Message == "Cancelled"
				}); err != nil {
					t.Errorf("progress end: %v (progress %+v)", err, b.client.Progress(t, "claude-bridge/c"))
				}
				assertNoProcesses(t, b.ws(0))
			})
		}
	}
}
