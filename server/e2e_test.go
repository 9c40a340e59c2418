package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	evs := b.client.Events("task-a")
	for i, e := range evs {
		if e["seq"].(float64) != float64(i+1) {
			t.Fatalf("event %d has seq %v: %s", i, e["seq"], lsptest.Kinds(evs))
		}
	}
	kinds := lsptest.Kinds(evs)
	if !strings.HasPrefix(kinds, "queued,started,") || !strings.HasSuffix(kinds, ",result") {
		t.Errorf("event kinds = %s", kinds)
	}
	var text strings.Builder
	var tools []string
	for _, e := range evs {
		switch e["kind"] {
		case "text":
			text.WriteString(e["text"].(string))
		case "toolUse":
			tools = append(tools, e["summary"].(string))
		}
	}
	if text.String() != res.Result {
		t.Errorf("text events join to %q, want %q", text.String(), res.Result)
	}
	if got := strings.Join(tools, "|"); got != "Read main.go|Edit main.go|Write NOTES.md|Bash: echo built" {
		t.Errorf("toolUse summaries = %s", got)
	}
	if n := strings.Count(kinds, "text"); n < 5 {
		t.Errorf("the answer came in %d text events; want it streamed in pieces", n)
	}

	// Progress: begin, a report per step, end; all before the reply.
	prog := b.client.Progress("claude-bridge/task-a")
	if len(prog) < 3 || prog[0]["kind"] != "begin" || prog[0]["title"] != "Claude" || prog[0]["cancellable"] != true {
		t.Fatalf("progress = %v", prog)
	}
	var reports []string
	for _, p := range prog[1 : len(prog)-1] {
		reports = append(reports, fmt.Sprint(p["message"]))
	}
	for _, want := range []string{"Read main.go", "Edit main.go", "Write NOTES.md", "Bash: echo built"} {
		if !strings.Contains(strings.Join(reports, "|"), want) {
			t.Errorf("no progress report %q in %q", want, reports)
		}
	}
	last := prog[len(prog)-1]
	if last["kind"] != "end" || !strings.HasPrefix(fmt.Sprint(last["message"]), "Done: Edited main.go") {
		t.Errorf("progress end = %v", last)
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
			asked := make(chan map[string]any, 4)
			b.client.Handle("window/showMessageRequest", func(p json.RawMessage) (any, error) {
				var m map[string]any
				_ = json.Unmarshal(p, &m)
				asked <- m
				if answer == "" {
					return nil, nil // dismissed
				}
				return map[string]string{"title": answer}, nil
			})
			res := b.result(b.run(map[string]any{"prompt": "make a file", "taskId": "p", "permissionMode": "default"}))
			if res.Status != "completed" {
				t.Fatalf("result = %+v", res)
			}
			var q map[string]any
			select {
			case q = <-asked:
			default:
				t.Fatal("no permission question reached the editor")
			}
			if q["message"] != "Claude wants to run Bash: `touch made-by-bash.txt`" {
				t.Errorf("question = %q", q["message"])
			}
			var titles []string
			for _, a := range q["actions"].([]any) {
				titles = append(titles, a.(map[string]any)["title"].(string))
			}
			if strings.Join(titles, "|") != "Allow|Allow for this task|Deny" {
				t.Errorf("actions = %v", titles)
			}
			_, err := os.Stat(filepath.Join(b.ws(0), "made-by-bash.txt"))
			created := err == nil
			if created != (answer == "Allow") {
				t.Errorf("answer %q: file created = %v", answer, created)
			}
			var perm, result lsptest.Event
			for _, e := range b.client.Events("p") {
				switch e["kind"] {
				case "permission":
					perm = e
				case "toolResult":
					result = e
				}
			}
			wantDecision := map[string]string{"Allow": "allow", "Deny": "deny", "": "deny"}[answer]
			if perm == nil || perm["decision"] != wantDecision || perm["automatic"] != false || perm["name"] != "Bash" {
				t.Errorf("permission event = %v", perm)
			}
			if answer != "Allow" && (result == nil || result["isError"] != true || !strings.Contains(fmt.Sprint(result["content"]), map[string]string{"Deny": "denied", "": "dismissed"}[answer])) {
				t.Errorf("denied tool's result = %v", result)
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
		return map[string]string{"title": "Allow for this task"}, nil
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
	for _, e := range b.client.Events("a") {
		if e["kind"] == "permission" && e["automatic"] == true && e["decision"] == "allow" {
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
		return map[string]string{"title": "Allow"}, nil
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
	var perm lsptest.Event
	for _, e := range b.client.Events("o") {
		if e["kind"] == "permission" {
			perm = e
		}
	}
	if perm == nil || perm["decision"] != "deny" || perm["automatic"] != true || !strings.Contains(fmt.Sprint(perm["reason"]), "outside") {
		t.Errorf("permission event = %v", perm)
	}
}

func TestCancelRoutes(t *testing.T) {
	routes := map[string]func(b *bridge, call *lsptest.Call){
		"cancelRequest": func(b *bridge, call *lsptest.Call) { _ = b.client.Cancel(call) },
		"claude.cancel": func(b *bridge, call *lsptest.Call) {
			var r map[string]bool
			if err := b.command("claude.cancel", map[string]string{"taskId": "c"}, &r); err != nil || !r["cancelled"] {
				b.t.Errorf("claude.cancel = %v, %v", r, err)
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
					if _, err := b.client.WaitFor("claude/event", 30*time.Second, func(m lsptest.Message) bool {
						return strings.Contains(string(m.Params), `"kind":"started"`)
					}); err != nil {
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
				evs := b.client.Events("c")
				var results int
				for _, e := range evs {
					if e["kind"] == "result" {
						results++
						if e["status"] != "cancelled" {
							t.Errorf("result event = %v", e)
						}
					}
				}
				if results != 1 {
					t.Errorf("%d result events, want exactly 1: %s", results, lsptest.Kinds(evs))
				}
				// The reply does not wait for the editor's answer to
				// window/workDoneProgress/create: cancelled at once, the task
				// may end before it, and its progress begins and ends after.
				if _, err := b.client.WaitFor("$/progress", 10*time.Second, func(m lsptest.Message) bool {
					var p struct {
						Token string            `json:"token"`
						Value map[string]string `json:"value"`
					}
					_ = json.Unmarshal(m.Params, &p)
					return p.Token == "claude-bridge/c" && p.Value["kind"] == "end" && p.Value["message"] == "Cancelled"
				}); err != nil {
					t.Errorf("progress end: %v (progress %v)", err, b.client.Progress("claude-bridge/c"))
				}
				assertNoProcesses(t, b.ws(0))
			})
		}
	}
}
