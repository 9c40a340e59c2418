package runner_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// countingAuth is helperAuth that records the task's 401 bookkeeping
// calls; at a 401 it makes the helper print the key the API accepts now.
type countingAuth struct {
	helperAuth
	t      *testing.T
	dir    string
	newKey string
	mu     sync.Mutex
	calls  []string
}

func (c *countingAuth) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *countingAuth) On401(_ context.Context, taskID string) auth.Decision {
	c.note("401 " + taskID)
	fakeapi.WriteKeyHelper(c.t, c.dir, c.newKey)
	return auth.Decision{Message: "Authentication failed; refreshed key"}
}
func (c *countingAuth) OnTaskSuccess(taskID string) { c.note("success " + taskID) }
func (c *countingAuth) ForgetTask(taskID string)    { c.note("forget " + taskID) }

// The API stops taking the key claude has, and the helper still prints it:
// claude's next request gets a 401, and so does its retry with the key the
// helper gives (claude 2.1.332 reports only that second 401, as api_retry;
// a fresh key at the first retry goes unreported). The auth manager hears
// of the 401 and refreshes the key; the retry after it gets through. It
// then hears of the success (so that a later 401 does not count as in a row
// with this one), and forgets the task when it ends; the 401 shows as a
// status event.
func TestA401ThenSuccessReachesTheAuthManagerInOrder(t *testing.T) {
	const keyA, keyB = "sk-test-key-a", "sk-test-key-b"
	dir := t.TempDir()
	a := &countingAuth{helperAuth: helperAuth{Helper: fakeapi.WriteKeyHelper(t, dir, keyA)}, t: t, dir: dir, newKey: keyB}
	e := newEnv(t, nil, func(c *runner.Config) { c.Auth = a })
	e.api.SetKeys(keyA)
	first := fakeapi.ToolUse("Read", map[string]any{"file_path": e.workspace + "/main.go"})
	first.Delay = time.Second
	e.api.SetTurns([]fakeapi.Turn{first, fakeapi.Text("done")})
	go func() { // ends when the first request has arrived, or after 30 s
		if _, err := e.api.WaitRequests(1, 30*time.Second); err == nil {
			e.api.SetKeys(keyB)
		}
	}()
	rec := &recorder{}
	out := e.run(t, "read main.go", rec, "acceptEdits")
	if out.Status != runner.StateCompleted {
		t.Fatalf("outcome = %+v", out)
	}
	var statuses []int
	for _, r := range e.api.MessageRequests() {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) < 4 || statuses[0] != 200 || statuses[1] != 401 || statuses[len(statuses)-1] != 200 {
		t.Fatalf("request statuses = %v, want 200, then 401s, then 200", statuses)
	}
	id := "t1"
	for _, ev := range rec.events {
		if ev.Kind == runner.EventResult {
			id = ev.Outcome.TaskID
		}
	}
	a.mu.Lock()
	calls := strings.Join(a.calls, ", ")
	a.mu.Unlock()
	if want := "401 " + id + ", success " + id + ", forget " + id; !strings.HasPrefix(calls, "401 "+id) || !strings.HasSuffix(calls, want) || strings.Count(calls, "success") != 1 {
		t.Errorf("auth manager calls: %s; want %s", calls, want)
	}
	var refreshed bool
	for _, ev := range rec.events {
		refreshed = refreshed || (ev.Kind == runner.EventStatus && strings.Contains(ev.Message, "refreshed key"))
	}
	if !refreshed {
		t.Errorf("no status event for the 401: %v", rec.kinds())
	}
}
