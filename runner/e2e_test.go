package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// helperAuth gives claude a fixed key through an apiKeyHelper script (see
// runner.HelperAuth, in an internal test file).
type helperAuth = runner.HelperAuth

// recorder is an Observer that keeps every event and answers permission
// questions with a scripted decision.
type recorder struct {
	mu      sync.Mutex
	events  []runner.Event
	decide  func(runner.PermissionRequest) runner.Decision
	asked   []runner.PermissionRequest
	onEvent func(runner.Event)
}

func (r *recorder) Event(t *runner.Task, ev runner.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	f := r.onEvent
	r.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

func (r *recorder) AskPermission(ctx context.Context, t *runner.Task, req runner.PermissionRequest) (runner.Decision, string) {
	r.mu.Lock()
	r.asked = append(r.asked, req)
	d := r.decide
	r.mu.Unlock()
	if d == nil {
		return runner.Deny, "no"
	}
	return d(req), "scripted"
}

func (r *recorder) kinds() []runner.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runner.EventKind
	for _, e := range r.events {
		if e.Kind != runner.EventActivity {
			out = append(out, e.Kind)
		}
	}
	return out
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		if e.Kind == runner.EventText {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

type env struct {
	api       *fakeapi.Server
	workspace string
	mgr       *runner.Manager
}

func newEnv(t *testing.T, turns []fakeapi.Turn, tweak func(*runner.Config)) *env {
	t.Helper()
	claude := fakeapi.ClaudePath(t)
	api := fakeapi.Start(t, fakeapi.Config{Turns: turns, Keys: []string{"sk-test-good"}})
	home := t.TempDir()
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "main.go"), []byte("package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	helper := fakeapi.WriteKeyHelper(t, t.TempDir(), "sk-test-good")
	cfg := runner.Config{
		ClaudePath: claude,
		Env:        fakeapi.ClaudeEnv(home, api.URL()),
		Auth:       helperAuth{Helper: helper},
		StopGrace:  2 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	mgr := runner.NewManager(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := mgr.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if n := mgr.Live(); n != 0 {
			t.Errorf("%d claude processes still alive after shutdown", n)
		}
	})
	return &env{api: api, workspace: ws, mgr: mgr}
}

func (e *env) run(t *testing.T, prompt string, obs runner.Observer, mode string) runner.Outcome {
	t.Helper()
	task, err := e.mgr.NewTask(runner.Spec{Prompt: prompt, Workspace: e.workspace, Options: runner.Options{PermissionMode: mode}}, obs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.mgr.Run(ctx, task)
}

func editTurns(ws string) []fakeapi.Turn {
	return []fakeapi.Turn{
		fakeapi.ToolUse("Read", map[string]any{"file_path": ws + "/main.go"}),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": ws + "/main.go", "old_string": `println("hello")`, "new_string": `println("hello, bridge")`}),
		fakeapi.ToolUse("Write", map[string]any{"file_path": ws + "/NOTES.md", "content": "# notes\n"}),
		fakeapi.ToolUse("Bash", map[string]any{"command": "echo built", "description": "Pretend to build"}),
		fakeapi.Text("Edited main.go and wrote NOTES.md."),
	}
}

func TestTaskReadsEditsWritesAndRunsBash(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.api.SetTurns(editTurns(e.workspace))
	rec := &recorder{}
	out := e.run(t, "make main.go greet the bridge", rec, "acceptEdits")
	if out.Status != runner.StateCompleted || out.IsError {
		t.Fatalf("outcome = %+v", out)
	}
	b, _ := os.ReadFile(filepath.Join(e.workspace, "main.go"))
	if !strings.Contains(string(b), "hello, bridge") {
		t.Fatalf("main.go not edited: %q", b)
	}
	if got := rec.text(); got != "Edited main.go and wrote NOTES.md." {
		t.Errorf("joined text events = %q", got)
	}
	if out.SessionID == "" || out.NumTurns == 0 {
		t.Errorf("outcome lacks session or turns: %+v", out)
	}
	wantFiles := []string{filepath.Join(e.workspace, "main.go"), filepath.Join(e.workspace, "NOTES.md")}
	if strings.Join(out.EditedFiles, ",") != strings.Join(wantFiles, ",") {
		t.Errorf("edited files = %v, want %v", out.EditedFiles, wantFiles)
	}
	var summaries []string
	var change *runner.FileChange
	for _, ev := range rec.events {
		switch ev.Kind {
		case runner.EventToolUse:
			summaries = append(summaries, ev.ToolUse.Summary)
		case runner.EventToolResult:
			if ev.ToolResult.Name == "Edit" {
				change = ev.ToolResult.Change
			}
		}
	}
	want := []string{"Read main.go", "Edit main.go", "Write NOTES.md", "Bash: echo built"}
	if strings.Join(summaries, "|") != strings.Join(want, "|") {
		t.Errorf("tool summaries = %q, want %q", summaries, want)
	}
	if change == nil || change.Before == nil || !strings.Contains(*change.Before, `println("hello")`) {
		t.Errorf("Edit's file change = %+v", change)
	} else if after, err := change.After(context.Background()); err != nil || after == nil || !strings.Contains(*after, "hello, bridge") {
		t.Errorf("Edit's file change: after %v, %v", after, err)
	}
	kinds := rec.kinds()
	if kinds[0] != runner.EventQueued || kinds[1] != runner.EventStarted || kinds[len(kinds)-1] != runner.EventResult {
		t.Errorf("event order = %v", kinds)
	}
}
