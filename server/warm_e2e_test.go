package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// Warm claudes (prewarm, runner/warm.go) with the real claude CLI.

// claudePIDs lists the claude processes the bridge (this test process)
// started that work in dir. What claude starts is left out: its tools,
// and the forks it makes to run them, which show claude's own command line
// until they exec; so is what else the bridge runs there, by its command
// line (claude's has --output-format stream-json): the git of a folder's
// snapshot (review on, runner/checkpoint), or a child not yet exec'd.
func claudePIDs(t *testing.T, dir string) []int {
	t.Helper()
	var out []int
	for _, p := range claudeProcessesIn(t, dir) {
		pid, cmd, _ := strings.Cut(p, ": ")
		n, err := strconv.Atoi(pid)
		if err == nil && parentPID(n) == os.Getpid() && strings.Contains(cmd, "stream-json") {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// parentPID is pid's parent, from /proc (0 if it is gone).
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func (b *bridge) processes() lspext.ProcessCounts {
	b.t.Helper()
	var r lspext.TasksResult
	if err := b.command(lspext.CommandTasks, map[string]any{"processes": true}, &r); err != nil {
		b.t.Fatal(err)
	}
	return r.Processes
}

// until polls cond (every 20 ms) until it holds, for at most d.
func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

// warmIn waits until folder dir has its warm claude ready and returns its pid.
func (b *bridge) warmIn(dir string) int {
	b.t.Helper()
	var pid int
	until(b.t, 30*time.Second, "no warm claude ready in "+dir, func() bool {
		pids := claudePIDs(b.t, dir)
		if len(pids) != 1 || b.processes().Warm == 0 {
			return false
		}
		pid = pids[0]
		return true
	})
	return pid
}

// watchPIDs records every claude process seen in dirs until the returned
// function is called, and returns them.
func watchPIDs(t *testing.T, dirs ...string) func() map[int]bool {
	var mu sync.Mutex
	seen := map[int]bool{}
	stop := make(chan struct{})
	done := make(chan struct{})
	look := func() {
		for _, d := range dirs {
			for _, pid := range claudePIDs(t, d) {
				mu.Lock()
				seen[pid] = true
				mu.Unlock()
			}
		}
	}
	go func() { // ends when stop is closed
		defer close(done)
		for {
			look()
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() map[int]bool {
		close(stop)
		<-done
		look()
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && !strings.HasPrefix(s[i+1:], " Z")
}

// A run with the configured options takes the warm claude: with one slot
// (maxConcurrentTasks 1) no other claude can start, and none does; the
// stand-in gets the prompt; the task's started event and its result carry
// the conversation's session id, and a follow-up continues it in the same
// process.
func TestRunTakesTheWarmClaude(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "maxConcurrentTasks": 1}})
	warm := b.warmIn(b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("warm hello")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "say hello", "taskId": "w1"}))
	pids := seen()
	if res.Status != "completed" || res.Result != "warm hello" {
		t.Fatalf("result = %+v", res)
	}
	if len(pids) != 1 || !pids[warm] {
		t.Errorf("claude processes during the task: %v, want only the warm one (%d)", pids, warm)
	}
	if !alive(warm) {
		t.Errorf("the warm claude %d, which ran the task, is gone: it should wait for a follow-up", warm)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].UserText(), "say hello") {
		t.Fatalf("the stand-in got %d requests (%v)", len(reqs), reqs)
	}
	started := lsptest.Of[*lspext.StartedEvent](b.client.Events(t, "w1"))
	if len(started) != 1 {
		t.Errorf("%d started events", len(started))
	}
	for _, e := range started {
		if e.SessionID != res.SessionID || res.SessionID == "" {
			t.Errorf("started event session %q, result session %q", e.SessionID, res.SessionID)
		}
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("again")})
	call := b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandFollowUp, "arguments": []any{map[string]any{"taskId": "w1", "prompt": "and again"}}})
	fu := b.result(call)
	if fu.Status != "completed" || fu.SessionID != res.SessionID {
		t.Errorf("follow-up = %+v, want session %s", fu, res.SessionID)
	}
	if pids := claudePIDs(t, b.ws(0)); len(pids) != 1 || pids[0] != warm {
		t.Errorf("claude processes after the follow-up: %v, want the one process %d", pids, warm)
	}
}

// A run with another model starts a claude of its own, and the warm one
// stays (no other is started in its place).
func TestRunWithOtherOptionsStartsColdAndWarmStays(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true}})
	warm := b.warmIn(b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("cold hello")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "say hello", "taskId": "c1", "model": "claude-other-model"}))
	if res.Status != "completed" || res.Result != "cold hello" {
		t.Fatalf("result = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) != 1 || reqs[0].Model != "claude-other-model" {
		t.Fatalf("requests = %v, want one with the task's model", reqs)
	}
	// Parked for a follow-up, the task's process stays too.
	until(t, 10*time.Second, "the warm claude and the task's idle one", func() bool {
		p := b.processes()
		return p.Warm == 1 && p.Idle == 1 && len(claudePIDs(t, b.ws(0))) == 2
	})
	pids := seen()
	if !alive(warm) || len(pids) != 2 || !pids[warm] {
		t.Errorf("claude processes seen: %v; the warm one (%d) should have stayed, beside the task's own", pids, warm)
	}
}

// A warm claude killed while it waits is replaced; a task right after the
// kill (before any replacement) still succeeds, and so does one on the
// replacement.
func TestWarmClaudeKilledIsReplaced(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "followUpIdleSeconds": 0}})
	warm := b.warmIn(b.ws(0))
	if err := syscall.Kill(warm, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("first")})
	res := b.result(b.run(map[string]any{"prompt": "right after the kill", "taskId": "k1"}))
	if res.Status != "completed" || res.Result != "first" {
		t.Fatalf("task right after the warm claude was killed: %+v", res)
	}
	next := b.warmIn(b.ws(0))
	if next == warm {
		t.Fatalf("the warm claude %d was not replaced", warm)
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("second")})
	res = b.result(b.run(map[string]any{"prompt": "on the replacement", "taskId": "k2"}))
	if res.Status != "completed" || res.Result != "second" {
		t.Fatalf("task on the replacement: %+v", res)
	}
}

// prewarm false starts no claude ahead of need; turning it on starts one,
// and off again stops it.
func TestPrewarmFalseStartsNone(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": false}})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "hello", "taskId": "p1"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if p := b.processes(); p.Warm != 0 || p.Live != 1 || p.Idle != 1 {
		t.Errorf("processes = %+v, want the task's idle one only", p)
	}
	if pids := seen(); len(pids) != 1 {
		t.Errorf("claude processes seen: %v, want the task's only", pids)
	}
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"prewarm": true}}}); err != nil {
		t.Fatal(err)
	}
	until(t, 30*time.Second, "no warm claude after prewarm was turned on", func() bool { return b.processes().Warm == 1 })
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"prewarm": false}}}); err != nil {
		t.Fatal(err)
	}
	until(t, 10*time.Second, "the warm claude stayed after prewarm was turned off", func() bool {
		p := b.processes()
		return p.Warm == 0 && p.Live == 1 && len(claudePIDs(t, b.ws(0))) == 1
	})
}

// With three folders, two get a warm claude (the cap across folders), the
// first two in the editor's order; a task in the third moves it to the
// front; a smaller idle budget stops warm claudes before the idle ones;
// live processes never pass the slots.
func TestWarmBudgetWithSeveralFolders(t *testing.T) {
	b := startBridge(t, bridgeOpts{folders: 3, init: map[string]any{"prewarm": true, "maxConcurrentTasks": 3}})
	most := 0
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // ends when stop is closed
		defer close(sampled)
		for {
			n := 0
			for i := 0; i < 3; i++ {
				n += len(claudePIDs(t, b.ws(i)))
			}
			most = max(most, n)
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	counts := func() [3]int {
		var c [3]int
		for i := range c {
			c[i] = len(claudePIDs(t, b.ws(i)))
		}
		return c
	}
	until(t, 30*time.Second, "warm claudes in the first two folders", func() bool {
		return b.processes().Warm == 2 && counts() == [3]int{1, 1, 0}
	})
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("third")})
	res := b.result(b.run(map[string]any{"prompt": "in the third folder", "taskId": "f3", "workspaceFolder": "file://" + b.ws(2)}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	// The third folder is now first: it gets a warm claude beside its idle
	// one, the first keeps its own, the second's goes.
	until(t, 30*time.Second, fmt.Sprintf("warm claudes follow the last task (processes %v)", counts()), func() bool {
		p := b.processes()
		return p.Warm == 2 && p.Idle == 1 && counts() == [3]int{1, 0, 2}
	})
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"maxIdleProcesses": 1}}}); err != nil {
		t.Fatal(err)
	}
	until(t, 10*time.Second, fmt.Sprintf("an idle budget of 1 keeps the idle process, no warm one (processes %v)", counts()), func() bool {
		p := b.processes()
		return p.Warm == 0 && p.Idle == 1 && p.Live == 1 && counts() == [3]int{0, 0, 1}
	})
	close(stop)
	<-sampled
	if most > 3 {
		t.Errorf("%d claude processes alive at once with maxConcurrentTasks 3", most)
	}
}

// Shutdown stops the warm claudes with every other; so does an exit
// without shutdown.
func TestShutdownLeavesNoWarmClaude(t *testing.T) {
	for _, how := range []string{"shutdown", "exit"} {
		t.Run(how, func(t *testing.T) {
			b := startBridge(t, bridgeOpts{folders: 2, init: map[string]any{"prewarm": true}})
			b.warmIn(b.ws(0))
			b.warmIn(b.ws(1))
			if how == "shutdown" {
				if err := b.client.Request("shutdown", nil, nil, 20*time.Second); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 2; i++ {
					if pids := claudePIDs(t, b.ws(i)); len(pids) != 0 {
						t.Errorf("claude processes after the shutdown reply: %v", pids)
					}
				}
			}
			_ = b.client.Notify("exit", nil)
			select {
			case <-b.exited:
			case <-time.After(15 * time.Second):
				t.Fatal("the bridge did not exit")
			}
			assertNoProcesses(t, b.ws(0))
			assertNoProcesses(t, b.ws(1))
		})
	}
}

// A warm claude started while the key helper found no key is not used
// once the key works (it was stopped when its helper failed, or is
// replaced when the auth manager's fingerprint changes; claude would send
// its first request without a key): the task gets a claude whose key
// works, and the stand-in never sees a request without the key.
func TestWarmClaudeWithFailedKeyHelperIsNotUsed(t *testing.T) {
	calls := filepath.Join(t.TempDir(), "calls")
	// With no key file the helper falls through to the key command, which
	// records the run and finds no key. The auth manager runs it once as it
	// starts (refreshed only every 240 s): a second run is a claude's.
	keyCommand := "echo x >> '" + calls + "'; echo 'no key yet' >&2; exit 3"
	b := startBridge(t, bridgeOpts{noKey: true, init: map[string]any{"prewarm": true, "auth": map[string]any{"keyCommand": keyCommand}}})
	until(t, 30*time.Second, "no warm claude ran the key helper", func() bool {
		c, _ := os.ReadFile(calls)
		return strings.Count(string(c), "x") >= 2 && len(claudePIDs(t, b.ws(0))) > 0
	})
	writeKeyFile(t, b.authHome)
	b.waitAuthOK()
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("keyed")})
	res := b.result(b.run(map[string]any{"prompt": "hello", "taskId": "a1"}))
	if res.Status != "completed" || res.Result != "keyed" {
		t.Fatalf("result = %+v", res)
	}
	for _, r := range b.api.MessageRequests() {
		if r.Status != 200 {
			t.Errorf("a request was answered %d (key %s): the task used a claude whose helper had failed", r.Status, fakeapi.KeyFingerprint(r.Key))
		}
	}
}

// Once a task has taken the warm claude, the next one starts while the
// task's claude waits for the API: a second task in the folder runs on it
// (with two slots, the two claudes are all there can be: a claude started
// for the second task would have to kill the warm one first).
func TestNextWarmClaudeStartsWhileTheTaskWaits(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "maxConcurrentTasks": 2}})
	first := b.warmIn(b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{slowTurn(20 * time.Second)})
	call := b.run(map[string]any{"prompt": "take your time", "taskId": "slow"})
	var next int
	until(t, 30*time.Second, "no next warm claude while the task waits for the API", func() bool {
		p := b.processes()
		if p.Warm != 1 || p.Running != 1 {
			return false
		}
		for _, pid := range claudePIDs(t, b.ws(0)) {
			if pid != first {
				next = pid
			}
		}
		return next != 0
	})
	var tasks []lspext.TaskInfo
	if err := b.command(lspext.CommandTasks, nil, &tasks); err != nil || len(tasks) != 1 || tasks[0].Status != "running" {
		t.Fatalf("the task should still be running: %+v, %v", tasks, err)
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("second")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "meanwhile", "taskId": "second"}))
	if res.Status != "completed" || res.Result != "second" {
		t.Fatalf("second task: %+v", res)
	}
	if pids := seen(); len(pids) != 2 || !pids[next] || !pids[first] || !alive(next) {
		t.Errorf("claude processes during the second task: %v; it should have run on the warm one (%d), beside the first task's (%d)", pids, next, first)
	}
	if err := b.client.Cancel(call); err != nil {
		t.Fatal(err)
	}
	if r := b.result(call); r.Status != "cancelled" {
		t.Errorf("first task: %+v", r)
	}
}

// A warm claude reads CLAUDE.md when it starts: one edited afterwards
// reaches the next task all the same (the warm claude is not used, or was
// replaced).
func TestTaskSeesCLAUDEmdEditedAfterTheWarmStart(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true}})
	b.warmIn(b.ws(0))
	if err := os.WriteFile(filepath.Join(b.ws(0), "CLAUDE.md"), []byte("Always answer in haiku (marker 7f3a).\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("ok")})
	res := b.result(b.run(map[string]any{"prompt": "hello", "taskId": "md"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].UserText(), "marker 7f3a") {
		t.Errorf("the task's request does not carry the CLAUDE.md written before it: %q", reqs[0].UserText())
	}
}

// A folder the editor adds gets a warm claude; one it removes loses its.
func TestAddedFolderGetsAWarmClaude(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true}})
	b.warmIn(b.ws(0))
	added := t.TempDir()
	change := func(event map[string]any) {
		t.Helper()
		if err := b.client.Notify("workspace/didChangeWorkspaceFolders", map[string]any{"event": event}); err != nil {
			t.Fatal(err)
		}
	}
	folder := []map[string]string{{"uri": "file://" + added, "name": "added"}}
	change(map[string]any{"added": folder, "removed": []any{}})
	until(t, 30*time.Second, "no warm claude ready in the added folder", func() bool {
		p := b.processes()
		return p.Warm == 2 && p.Live == 2 && len(claudePIDs(t, added)) == 1 && len(claudePIDs(t, b.ws(0))) == 1
	})
	change(map[string]any{"added": []any{}, "removed": folder})
	until(t, 10*time.Second, "the removed folder's warm claude stayed", func() bool {
		p := b.processes()
		return len(claudePIDs(t, added)) == 0 && p.Warm == 1 && p.Live == 1
	})
}

// Changing the configured model replaces the warm claude (it was started
// with the old one), and a run that names no model takes the new one and
// asks the API with the new model.
func TestModelChangeReplacesTheWarmClaude(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "maxConcurrentTasks": 1}})
	old := b.warmIn(b.ws(0))
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"model": "claude-configured-model"}}}); err != nil {
		t.Fatal(err)
	}
	var next int
	until(t, 30*time.Second, "the warm claude started with the old model stayed", func() bool {
		pids := claudePIDs(t, b.ws(0))
		if len(pids) != 1 || pids[0] == old || b.processes().Warm != 1 {
			return false
		}
		next = pids[0]
		return true
	})
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("configured")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "hello", "taskId": "m1"}))
	if res.Status != "completed" || res.Result != "configured" {
		t.Fatalf("result = %+v", res)
	}
	if pids := seen(); len(pids) != 1 || !pids[next] {
		t.Errorf("claude processes during the task: %v, want only the new warm one (%d)", pids, next)
	}
	if reqs := b.api.MessageRequests(); len(reqs) != 1 || reqs[0].Model != "claude-configured-model" {
		t.Errorf("requests = %v, want one with the configured model", reqs)
	}
}

// The configured review decides the hooks a warm claude is started with
// (they are registered with its initialize, once): with review beforeWrite
// a run that names no review takes the warm claude and its Edit is held
// for review all the same; a change of review to off replaces the warm
// claude, and the next run takes the new one and writes without a review.
func TestWarmClaudeFollowsTheReviewSetting(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		initialize: declaring(map[string]any{"reviewEdit": true}),
		init:       map[string]any{"prewarm": true, "review": "beforeWrite", "maxConcurrentTasks": 1, "followUpIdleSeconds": 0},
	})
	path := filepath.Join(b.ws(0), "a.txt")
	if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
		t.Fatal(err)
	}
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept}
	})
	warm := b.warmIn(b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{twoHunkEdit(path), fakeapi.Text("edited")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "wr1"}))
	pids := seen()
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if !pids[warm] {
		t.Errorf("claude processes during the task: %v, want the warm one (%d) among them", pids, warm)
	}
	// With one slot, a claude of the task's own would have had to kill the
	// warm one first: the warm one ran the task.
	if len(pids) != 1 {
		t.Errorf("claude processes during the task: %v, want only the warm one (%d)", pids, warm)
	}
	select {
	case p := <-asked:
		if p.TaskID != "wr1" || p.Tool != "Edit" {
			t.Errorf("claude/reviewEdit %+v", p)
		}
	default:
		t.Fatal("the Edit of the task on the warm claude was not held for review: its claude has no review hooks")
	}
	if got := readFile(t, path); got != "line1\nLINE2\nline3\nline4\nLINE5\nline6\n" {
		t.Errorf("disk %q after the accepted review", got)
	}

	next := b.warmIn(b.ws(0)) // started once the task took the first
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"review": "off"}}}); err != nil {
		t.Fatal(err)
	}
	var third int
	until(t, 30*time.Second, "the warm claude started with review hooks stayed after review was turned off", func() bool {
		pids := claudePIDs(t, b.ws(0))
		if len(pids) != 1 || pids[0] == next || b.processes().Warm != 1 {
			return false
		}
		third = pids[0]
		return true
	})
	b.api.SetTurns([]fakeapi.Turn{edit(path, "line1", "FIRST"), fakeapi.Text("edited again")})
	seen = watchPIDs(t, b.ws(0))
	res = b.result(b.run(map[string]any{"prompt": "edit a.txt again", "taskId": "wr2"}))
	pids = seen()
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if len(pids) != 1 || !pids[third] {
		t.Errorf("claude processes during the task: %v, want only the new warm one (%d)", pids, third)
	}
	select {
	case p := <-asked:
		t.Errorf("review off, and claude/reviewEdit came: %+v", p)
	default:
	}
	if got := readFile(t, path); !strings.HasPrefix(got, "FIRST\nLINE2") {
		t.Errorf("disk %q after the unreviewed edit", got)
	}
}

// With the default settings a user who runs one task after another keeps
// getting a warm claude: past the fourth task, when the parked processes
// would fill the idle budget (maxIdleProcesses = maxConcurrentTasks = 4),
// the warm claude takes the place of the least recently used one (measured
// before the fix: from the fifth task on, none was ready). The budgets hold
// throughout: never more than 4 claude processes, nor more than 4 idle
// and warm ones; at the end the last three conversations are parked.
func TestDefaultSettingsKeepAWarmClaudeTaskAfterTask(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "followUpIdleSeconds": 300}})
	var sessions []string
	for i := 0; i < 7; i++ {
		until(t, 30*time.Second, fmt.Sprintf("no warm claude ready before task %d (processes %+v)", i, b.processes()), func() bool {
			p := b.processes()
			if p.Live > p.Slots || p.Idle+p.Warm > p.MaxIdle {
				t.Fatalf("budgets passed: %+v", p)
			}
			return p.Warm == 1
		})
		b.api.SetTurns([]fakeapi.Turn{fakeapi.Text(fmt.Sprintf("answer %d", i))})
		res := b.result(b.run(map[string]any{"prompt": fmt.Sprintf("task %d", i), "taskId": fmt.Sprintf("s%d", i)}))
		if res.Status != "completed" || res.Result != fmt.Sprintf("answer %d", i) {
			t.Fatalf("task %d: %+v", i, res)
		}
		sessions = append(sessions, res.SessionID)
	}
	until(t, 30*time.Second, fmt.Sprintf("the steady state: one warm claude and three parked (processes %+v)", b.processes()), func() bool {
		p := b.processes()
		return p.Warm == 1 && p.Idle == 3 && p.Live == 4 && len(claudePIDs(t, b.ws(0))) == 4
	})
	// The last task's conversation is still parked: its follow-up takes no
	// new process.
	before := claudePIDs(t, b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("more")})
	fu := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandFollowUp, "arguments": []any{map[string]any{"taskId": "s6", "prompt": "more"}}}))
	if fu.Status != "completed" || fu.SessionID != sessions[6] {
		t.Errorf("follow-up = %+v, want session %s", fu, sessions[6])
	}
	if after := claudePIDs(t, b.ws(0)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("claude processes %v after the follow-up, %v before: the parked one should have taken it", after, before)
	}
}

// A warm claude that is alive but stopped (SIGSTOP: it would not read the
// prompt) is not taken: the task starts claude itself and completes, and
// the stopped one is killed and replaced (measured before the fix: the
// task failed after 66 s, "claude printed nothing for 1m0s").
func TestStoppedWarmClaudeIsNotTaken(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "followUpIdleSeconds": 0}})
	warm := b.warmIn(b.ws(0))
	if err := syscall.Kill(warm, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(warm, syscall.SIGCONT) })
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("cold")})
	res := b.result(b.run(map[string]any{"prompt": "past the stopped one", "taskId": "st"}))
	if res.Status != "completed" || res.Result != "cold" {
		t.Fatalf("result = %+v", res)
	}
	until(t, 10*time.Second, "the stopped warm claude is still there", func() bool { return !alive(warm) })
	if next := b.warmIn(b.ws(0)); next == warm {
		t.Fatal("not replaced")
	}
}

// The same for a claude parked for a follow-up: stopped (SIGSTOP), it is
// not taken; the follow-up continues the conversation in a claude started
// anew (--resume) and completes (before the fix it hung: a parked claude
// has no silence check).
func TestFollowUpPastAStoppedParkedClaude(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"followUpIdleSeconds": 300}})
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("first")})
	res := b.result(b.run(map[string]any{"prompt": "first", "taskId": "p1"}))
	if res.Status != "completed" {
		t.Fatalf("first: %+v", res)
	}
	pids := claudePIDs(t, b.ws(0))
	if len(pids) != 1 {
		t.Fatalf("claude processes after the task: %v, want the parked one", pids)
	}
	parked := pids[0]
	if err := syscall.Kill(parked, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(parked, syscall.SIGCONT) })
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("first"), fakeapi.Text("again")})
	call := b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandFollowUp, "arguments": []any{map[string]any{"taskId": "p1", "prompt": "again"}}})
	fu := b.result(call)
	if fu.Status != "completed" || fu.Result != "again" || fu.SessionID != res.SessionID {
		t.Fatalf("follow-up = %+v, want the conversation %s continued", fu, res.SessionID)
	}
	until(t, 15*time.Second, "the stopped parked claude is still there", func() bool { return !alive(parked) })
}

// A fresh bridge starts one claude for its first warm claude, not two: the
// warmer reads the auth manager's key-source generation as the bridge
// starts, while the manager writes its key helper; read then, it changed
// a moment later and the claude being launched was thrown away for a second
// one (seen in 2 of 3 starts, on the CLI and in this test).
func TestTheFirstWarmClaudeIsStartedOnce(t *testing.T) {
	starts := filepath.Join(t.TempDir(), "starts")
	wrapper := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho $$ >> '"+starts+"'\nexec '"+fakeapi.ClaudePath(t)+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, bridgeOpts{claudePath: wrapper, init: map[string]any{"prewarm": true}})
	until(t, 30*time.Second, "no warm claude ready", func() bool { return b.processes().Warm == 1 })
	data, _ := os.ReadFile(starts)
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Errorf("%d claude processes started for the first warm claude, want 1", n)
	}
	res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "w"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	data, _ = os.ReadFile(starts)
	if n := strings.Count(string(data), "\n"); n > 2 {
		t.Errorf("%d claude processes started by the end of the first task (the warm one, then the next warm one), want at most 2", n)
	}
}

// A settings change that sends the auth settings again as they are (the
// VS Code extension sends the whole section with any change) keeps the
// warm claude: the next task runs on it. Auth settings that differ still
// replace it. Measured before: every such change replaced the warm claude.
func TestSameAuthSettingsKeepTheWarmClaude(t *testing.T) {
	auth := map[string]any{"refreshIntervalSeconds": 240}
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "followUpIdleSeconds": 0, "auth": auth}})
	old := b.warmIn(b.ws(0))
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"logLevel": "debug", "auth": auth}}}); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("same")})
	seen := watchPIDs(t, b.ws(0))
	res := b.result(b.run(map[string]any{"prompt": "hello", "taskId": "a1"}))
	if res.Status != "completed" || res.Result != "same" {
		t.Fatalf("result = %+v", res)
	}
	pids := seen()
	next := b.warmIn(b.ws(0))
	delete(pids, next)
	if len(pids) != 1 || !pids[old] {
		t.Errorf("claude processes during the task: %v besides the next warm one (%d), want only the warm one (%d)", pids, next, old)
	}
	if reqs := b.api.MessageRequests(); len(reqs) != 1 {
		t.Fatalf("requests = %v", reqs)
	}

	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"auth": map[string]any{"refreshIntervalSeconds": 120}}}}); err != nil {
		t.Fatal(err)
	}
	until(t, 30*time.Second, "the warm claude started under the old auth settings stayed", func() bool {
		pids := claudePIDs(t, b.ws(0))
		return len(pids) == 1 && pids[0] != next && b.processes().Warm == 1
	})
}
