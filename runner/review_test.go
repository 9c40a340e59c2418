package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
)

// TestHooksOnlyWithReview: claude is asked to call the review setting's
// hooks only for a task with review on; a task with review off (or none
// given) starts a claude without them.
func TestHooksOnlyWithReview(t *testing.T) {
	dir := t.TempDir()
	// A claude that records its initialize request, then answers one turn.
	fake := filepath.Join(dir, "claude")
	script := "#!/bin/sh\nIFS= read -r init || exit 1\nprintf '%s\\n' \"$init\" >> " + dir + "/inits\nIFS= read -r _user || exit 1\n" +
		`printf '{"type":"system","subtype":"init","session_id":"s","cwd":"%s","model":"m","permissionMode":"default","tools":[]}\n' "$PWD"` + "\n" +
		`printf '{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"s","num_turns":1,"duration_ms":1,"total_cost_usd":0}\n'` + "\n" +
		"exec cat >/dev/null\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := runner.NewManager(runner.Config{ClaudePath: fake, StopGrace: 500 * time.Millisecond})
	ws := t.TempDir()
	for _, review := range []string{"off", "afterTurn", ""} {
		task, err := m.NewTask(runner.Spec{Prompt: "hi", Workspace: ws, Review: review}, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out := m.Run(ctx, task)
		cancel()
		if out.Status != runner.StateCompleted {
			t.Fatalf("review %q: %+v", review, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.Shutdown(ctx)
	b, err := os.ReadFile(filepath.Join(dir, "inits"))
	if err != nil {
		t.Fatal(err)
	}
	inits := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(inits) != 3 {
		t.Fatalf("%d claudes started, want 3: %q", len(inits), inits)
	}
	for i, want := range []bool{false, true, false} {
		if got := strings.Contains(inits[i], `"PreToolUse"`); got != want {
			t.Errorf("claude %d: hooks registered %v, want %v: %s", i+1, got, want, inits[i])
		}
	}
}

// TestWarmClaudeServesOnlyItsReviewHooks: the review hooks are registered
// with a claude's initialize, once per claude, so a warm claude serves only
// the tasks whose review wants the hooks it was started with
// (Config.Defaults.ReviewHooks). With hooks in the defaults: a task with
// review afterTurn runs on the warm claude; one with review off starts a
// claude of its own, without hooks, and the warm one stays for the next
// task with review on (beforeWrite: the same hooks); once the defaults
// change to no hooks the warm claude is replaced by one without, which a
// task with no review then takes.
func TestWarmClaudeServesOnlyItsReviewHooks(t *testing.T) {
	dir := t.TempDir()
	inits := filepath.Join(dir, "inits")
	// A claude that records its pid and initialize request, answers it (a
	// warm claude is ready then), and answers each prompt with its pid.
	fake := filepath.Join(dir, "claude")
	script := "#!/bin/sh\nIFS= read -r init || exit 1\nprintf '%s %s\\n' $$ \"$init\" >> '" + inits + "'\n" +
		`id=$(printf '%s' "$init" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')` + "\n" +
		`printf '{"type":"control_response","response":{"subtype":"success","request_id":"%s","response":{}}}\n' "$id"` + "\n" +
		"while IFS= read -r line; do\n" +
		"  case \"$line\" in *'\"type\":\"user\"'*) ;; *) continue ;; esac\n" +
		`  printf '{"type":"system","subtype":"init","session_id":"s%s","cwd":"%s","model":"m","permissionMode":"default","tools":[]}\n' $$ "$PWD"` + "\n" +
		`  printf '{"type":"result","subtype":"success","is_error":false,"result":"%s","session_id":"s%s","num_turns":1,"duration_ms":1,"total_cost_usd":0}\n' $$ $$` + "\n" +
		"done\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	type start struct {
		pid   string
		hooks bool
	}
	starts := func() []start {
		b, _ := os.ReadFile(inits)
		var out []start
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			pid, init, ok := strings.Cut(l, " ")
			if !ok {
				continue
			}
			out = append(out, start{pid, strings.Contains(init, `"PreToolUse"`)})
		}
		return out
	}
	// No follow-ups kept: a finished task's claude exits. Three slots: a
	// warm claude, a task's, and the last task's while it exits (a task
	// short of a slot would kill the warm claude).
	cfg := runner.Config{ClaudePath: fake, StopGrace: 500 * time.Millisecond, FollowUpIdle: -1, MaxConcurrent: 3,
		Prewarm: true, Defaults: runner.Options{ReviewHooks: true}}
	m := runner.NewManager(cfg)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	}()
	ws := t.TempDir()
	m.SetFolders([]string{ws})
	// warm waits for the n-th claude to be the ready warm one.
	warm := func(n int) start {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if s := starts(); len(s) == n && m.Stats().Warm == 1 {
				return s[n-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no warm claude as claude number %d: started %+v, stats %+v", n, starts(), m.Stats())
			}
		}
	}
	// run runs a task with review and returns the pid of the claude that
	// answered it.
	run := func(review string) string {
		t.Helper()
		task, err := m.NewTask(runner.Spec{Prompt: "hi", Workspace: ws, Review: review}, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out := m.Run(ctx, task)
		if out.Status != runner.StateCompleted {
			t.Fatalf("review %q: %+v", review, out)
		}
		return out.Result
	}

	w1 := warm(1)
	if !w1.hooks {
		t.Fatalf("the warm claude was started without the hooks of the defaults")
	}
	if got := run(runner.ReviewAfterTurn); got != w1.pid {
		t.Errorf("the afterTurn task ran on claude %s, want the warm one %s (started %+v)", got, w1.pid, starts())
	}
	w2 := warm(2) // the next warm claude, once the task took the first
	if got := run(runner.ReviewOff); got == w2.pid || got == w1.pid {
		t.Errorf("the task with review off ran on a warm claude with hooks (%s; started %+v)", got, starts())
	} else if s := starts(); len(s) != 3 || s[2].pid != got || s[2].hooks {
		t.Errorf("the task with review off should have started a claude of its own without hooks: ran on %s, started %+v", got, s)
	}
	if got := run(runner.ReviewBeforeWrite); got != w2.pid {
		t.Errorf("the beforeWrite task ran on claude %s, want the warm one %s, which stayed (started %+v)", got, w2.pid, starts())
	}
	w3 := warm(4)
	if !w3.hooks {
		t.Fatalf("the warm claude after the beforeWrite task has no hooks: %+v", starts())
	}
	cfg.Defaults.ReviewHooks = false
	m.Reconfigure(cfg)
	w4 := warm(5) // the one with hooks replaced
	if w4.hooks {
		t.Errorf("the warm claude started after the defaults dropped the hooks has them: %+v", starts())
	}
	if got := run(""); got != w4.pid {
		t.Errorf("the task without review ran on claude %s, want the warm one without hooks %s (started %+v)", got, w4.pid, starts())
	}
}
