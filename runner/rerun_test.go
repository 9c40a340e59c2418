package runner_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// rotatingAuth stops the task at its first 401 and then says the key has
// changed, the helper printing the key the API takes now: the task is run
// again, claude started anew.
type rotatingAuth struct {
	helperAuth
	t      *testing.T
	dir    string
	newKey string
	once   sync.Once
}

func (r *rotatingAuth) On401(context.Context, string) auth.Decision {
	return auth.Decision{Abort: true, Err: errors.New("the key was refused")}
}

func (r *rotatingAuth) Rotated(context.Context, string, time.Duration) bool {
	rotated := false
	r.once.Do(func() {
		fakeapi.WriteKeyHelper(r.t, r.dir, r.newKey)
		rotated = true
	})
	return rotated
}

// TestATaskRunAgainStartsOnce: a task run again after an authentication
// failure (the key changed) reports one started event, though claude
// starts twice (issue 12: two started events, undocumented), then its
// status, and completes.
func TestATaskRunAgainStartsOnce(t *testing.T) {
	const keyA, keyB = "sk-test-key-a", "sk-test-key-b"
	dir := t.TempDir()
	a := &rotatingAuth{helperAuth: helperAuth{Helper: fakeapi.WriteKeyHelper(t, dir, keyA)}, t: t, dir: dir, newKey: keyB}
	e := newEnv(t, nil, func(c *runner.Config) { c.Auth = a })
	e.api.SetKeys(keyB)
	e.api.SetTurns([]fakeapi.Turn{fakeapi.Text("done")})
	rec := &recorder{}
	out := e.run(t, "hi", rec, "acceptEdits")
	if out.Status != runner.StateCompleted {
		t.Fatalf("outcome = %+v (events %v)", out, rec.kinds())
	}
	started, again := 0, false
	for _, ev := range rec.events {
		switch {
		case ev.Kind == runner.EventStarted:
			started++
		case ev.Kind == runner.EventStatus && ev.Message == "The API key changed; running the task again (attempt 2 of 3)":
			again = true
		}
	}
	if started != 1 || !again {
		t.Errorf("%d started events, run again %v: %v", started, again, rec.kinds())
	}
}
