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
