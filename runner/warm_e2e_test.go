package runner_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// A warm claude that has waited Config.WarmRecycle is replaced by a new
// one (what it read as it started may be stale): not before, the old one
// goes, the slots are never passed, and a task with the default options
// then runs on the new one (it starts no claude of its own).
func TestWarmClaudeIsRecycledAfterWarmRecycle(t *testing.T) {
	starts := filepath.Join(t.TempDir(), "starts")
	real := fakeapi.ClaudePath(t)
	wrapper := filepath.Join(t.TempDir(), "claude")
	// A claude that records each start (its pid and the time) and then is
	// the real CLI.
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho $$ $(date +%s.%N) >> '"+starts+"'\nexec '"+real+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const recycle = 3 * time.Second
	e := newEnv(t, []fakeapi.Turn{fakeapi.Text("on the new one")}, func(c *runner.Config) {
		c.ClaudePath = wrapper
		c.Prewarm = true
		c.WarmRecycle = recycle
		c.MaxConcurrent = 2
		c.Log = zaptest.NewLogger(t, zaptest.Level(zap.DebugLevel))
	})
	type start struct {
		pid int
		at  time.Time
	}
	started := func() []start {
		b, _ := os.ReadFile(starts)
		var out []start
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 {
				continue
			}
			pid, _ := strconv.Atoi(f[0])
			secs, _ := strconv.ParseFloat(f[1], 64)
			out = append(out, start{pid, time.Unix(0, int64(secs*1e9))})
		}
		return out
	}
	most := 0
	wait := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
			most = max(most, e.mgr.Stats().Live)
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %s (claude starts %v, stats %+v)", d, what, started(), e.mgr.Stats())
			}
		}
	}
	asked := time.Now()
	e.mgr.SetFolders([]string{e.workspace})
	// On a busy machine a claude may take longer than WarmRecycle to be
	// ready: the one seen ready is the last one started.
	var ready []start
	wait("no warm claude", 30*time.Second, func() bool {
		ready = started()
		return e.mgr.Stats().Warm == 1 && len(ready) > 0
	})
	if first := started()[0]; first.at.Sub(asked) < 0 {
		t.Fatalf("a claude started before it was asked for: %v", first)
	}
	old := ready[len(ready)-1]
	wait("the warm claude was not replaced", recycle+30*time.Second, func() bool {
		s := started()
		return len(s) > len(ready) && e.mgr.Stats().Warm == 1
	})
	// Each warm claude is started after the one before has waited
	// WarmRecycle (counted from before its launch): the i-th replacement
	// starts at least i WarmRecycles after the first was asked for.
	for i, s := range started()[1:] {
		if earliest := asked.Add(time.Duration(i+1) * recycle); s.at.Before(earliest) {
			t.Errorf("replacement %d started %s after the first warm claude was asked for, before %s", i+1, s.at.Sub(asked), earliest.Sub(asked))
		}
	}
	wait("the replaced warm claude is still alive", 10*time.Second, func() bool { return syscall.Kill(old.pid, 0) != nil })
	if most > 2 {
		t.Errorf("%d claude processes alive at once with 2 slots", most)
	}
	rec := &recorder{}
	out := e.run(t, "hello", rec, "")
	if out.Status != runner.StateCompleted || out.Result != "on the new one" {
		t.Fatalf("outcome = %+v", out)
	}
	for _, ev := range rec.events {
		if ev.Kind == runner.EventActivity && ev.Message == "Starting claude" {
			t.Errorf("the task started a claude of its own (claude starts %v)", started())
		}
	}
}

// A warm claude that answered initialize and then hangs (alive, sleeping,
// reading nothing: what the check before it is taken cannot see) is taken
// and shows no sign of life after the prompt: within keptAnswerWait the
// task kills it and starts claude of its own, which completes the task;
// the prompt reaches the API once. The hung claude is a script that
// answers initialize and sleeps (the real CLI does not hang on cue); the
// claude started after it is the real one.
func TestHungWarmClaudeFallsBackToAColdStart(t *testing.T) {
	real := fakeapi.ClaudePath(t)
	dir := t.TempDir()
	once := filepath.Join(dir, "hung-once")
	wrapper := filepath.Join(dir, "claude")
	script := "#!/bin/sh\nif mkdir '" + once + "' 2>/dev/null; then\n" +
		"  read -r line\n" +
		`  echo '{"type":"control_response","response":{"subtype":"success","request_id":"bridge-init","response":{}}}'` + "\n" +
		"  echo $$ > '" + once + "/pid'\n" +
		"  exec sleep 600\n" +
		"fi\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, []fakeapi.Turn{fakeapi.Text("from the claude started in its place")}, func(c *runner.Config) {
		c.ClaudePath = wrapper
		c.Prewarm = true
		c.FollowUpIdle = -1
	})
	e.mgr.SetFolders([]string{e.workspace})
	var hung int
	deadline := time.Now().Add(30 * time.Second)
	for e.mgr.Stats().Warm != 1 || hung == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the hung warm claude never was ready (stats %+v)", e.mgr.Stats())
		}
		b, _ := os.ReadFile(filepath.Join(once, "pid"))
		hung, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(20 * time.Millisecond)
	}
	rec := &recorder{}
	out := e.run(t, "are you there?", rec, "")
	if out.Status != runner.StateCompleted || out.Result != "from the claude started in its place" {
		t.Fatalf("outcome = %+v", out)
	}
	if reqs := e.api.MessageRequests(); len(reqs) != 1 || !strings.Contains(reqs[0].UserText(), "are you there?") {
		t.Errorf("the API got %d requests (%v), want the prompt once", len(reqs), reqs)
	}
	if syscall.Kill(hung, 0) == nil {
		t.Errorf("the hung warm claude %d is still alive", hung)
	}
}
