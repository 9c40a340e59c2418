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

// A claude that starts and never prints a line is stopped after
// StartTimeout, and the task fails saying so, with no process left.
func TestSilentClaudeIsStopped(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nsleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := runner.NewManager(runner.Config{ClaudePath: fake, StartTimeout: 500 * time.Millisecond, StopGrace: 500 * time.Millisecond})
	task, err := m.NewTask(runner.Spec{Prompt: "hi", Workspace: t.TempDir()}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := m.Run(ctx, task)
	if out.Status != runner.StateFailed || !strings.Contains(out.Result, "printed nothing") {
		t.Fatalf("outcome = %+v", out)
	}
	if n := m.Live(); n != 0 {
		t.Errorf("%d claude processes left", n)
	}
}
