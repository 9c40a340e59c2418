package runner

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// HelperAuth (tests only, here and in runner_test) gives claude a fixed
// key through an apiKeyHelper script, the way runner/auth does, without
// the rest of the auth manager; it is neutral otherwise.
type HelperAuth struct{ Helper string }

func (h HelperAuth) Launch(string) (auth.Launch, error) {
	b, _ := json.Marshal(map[string]string{"apiKeyHelper": h.Helper})
	return auth.Launch{Args: []string{"--settings", string(b)}}, nil
}
func (HelperAuth) CheckInit(string) string                             { return "" }
func (HelperAuth) On401(context.Context, string) auth.Decision         { return auth.Decision{} }
func (HelperAuth) OnTaskSuccess(string)                                {}
func (HelperAuth) ForgetTask(string)                                   {}
func (HelperAuth) Fingerprint() string                                 { return "" }
func (HelperAuth) KeySourceGeneration() string                         { return "" }
func (HelperAuth) Rotated(context.Context, string, time.Duration) bool { return false }
func (HelperAuth) Explain() string                                     { return "" }
func (HelperAuth) ClaudeEnv(base []string) []string                    { return base }

// waitFor polls cond every 10 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

// No warm claude starts while a task's claude starts, whatever claude it
// is (here a cold one, other options than the warm claudes'), nor does a
// warm claude still starting stay beside it: starting claude takes most
// of a second of CPU, and two at once on two cores made a run right after
// a configuration change take 2.99 s where 1.51 s without prewarm. Once
// the task's claude waits for the API, the warm claude starts. The plans
// are made here by hand, at the moments that matter (the warmer's loop is
// not started).
func TestNoWarmClaudeStartsWhileATasksClaudeStarts(t *testing.T) {
	api := fakeapi.Start(t, fakeapi.Config{Keys: []string{"sk-test-hold"}})
	slow := fakeapi.Text("slowly")
	slow.Delay = 20 * time.Second
	api.SetTurns([]fakeapi.Turn{slow})
	ws := t.TempDir()
	m := NewManager(Config{
		ClaudePath: fakeapi.ClaudePath(t), Env: fakeapi.ClaudeEnv(t.TempDir(), api.URL()),
		Auth: HelperAuth{fakeapi.WriteKeyHelper(t, t.TempDir(), "sk-test-hold")}, Prewarm: true, MaxConcurrent: 3,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	m.warm.folders = []string{ws}
	m.warm.plan() // a warm claude starts
	if len(m.pool.warmList()) != 1 {
		t.Fatal("no warm claude reserved at the first plan")
	}
	task, err := m.NewTask(Spec{Prompt: "take your time", Workspace: ws, Options: Options{Model: "claude-other-model"}}, &collect{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Outcome, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- m.Run(ctx, task) }() // ends when the task is cancelled
	// The task starts claude of its own: the warm claude, still starting
	// (its claude has not answered initialize), goes.
	waitFor(t, 30*time.Second, "the task's claude did not start", func() bool { return m.Stats().Busy == 1 && m.warmHeld() })
	waitFor(t, 30*time.Second, "the warm claude still starting stayed beside the task's", func() bool { return len(m.pool.warmList()) == 0 })
	m.warm.plan()
	if n := len(m.pool.warmList()); n != 0 && m.warmHeld() {
		t.Fatalf("%d warm claude(s) started while the task's claude started", n)
	}
	// Its request out, the task's claude waits for the API.
	if _, err := api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the task's claude waits for the API, and still holds warm claudes back", func() bool { return !m.warmHeld() })
	m.warm.plan()
	if len(m.pool.warmList()) != 1 {
		t.Fatal("no warm claude started once the task's claude waited for the API")
	}
	cancel()
	if out := <-done; out.Status != StateCancelled {
		t.Errorf("outcome = %+v", out)
	}
}

// warmHeld reports whether a task holds warm claudes back (warmer.hold).
func (m *Manager) warmHeld() bool {
	m.warm.mu.Lock()
	defer m.warm.mu.Unlock()
	return len(m.warm.starting) > 0
}
