package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
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

// These tests hold the bridge to what the README promises about
// processes: none of a task outlives it, nor the bridge, however either
// ends; and the bridge exits within 10 s whatever the editor does.

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid int
	zombie    bool
	cmdline   string
	tag       string // CLAUDE_BRIDGE_SCOPE
}

func procs() []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat)[i+2:])
		p := proc{pid: pid, zombie: f[0] == "Z"}
		p.ppid, _ = strconv.Atoi(f[1])
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "CLAUDE_BRIDGE_SCOPE="); ok {
				p.tag = v
			}
		}
		out = append(out, p)
	}
	return out
}

// taggedBy lists the live processes carrying the tag of the bridge with
// that pid (its scope token starts with the pid).
func taggedBy(bridgePID int) []proc {
	var out []proc
	for _, p := range procs() {
		if !p.zombie && strings.HasPrefix(p.tag, strconv.Itoa(bridgePID)+".") {
			out = append(out, p)
		}
	}
	return out
}

// claudesOf lists the bridge's claude processes: its live children other
// than the watchdog.
func claudesOf(bridgePID int) []proc {
	var out []proc
	for _, p := range procs() {
		if p.ppid == bridgePID && !p.zombie && !strings.Contains(p.cmdline, "__watchdog") {
			out = append(out, p)
		}
	}
	return out
}

// eventually polls cond until it holds, for at most d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

func describe(ps []proc) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "[%d<%d %s] ", p.pid, p.ppid, p.cmdline)
	}
	return b.String()
}

// writeScript writes an executable shell script.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// quickClaude stands in for claude where speed matters: it starts a
// process in a session of its own (as claude's Bash tool does), streams a
// little text, answers, and then serves interrupts until stdin closes.
const quickClaude = `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"fake-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
setsid sleep 300 &
echo '{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"almost "}}}'
sleep 0.0$(( $$ % 4 ))
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"fake-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0.001}'
while read line; do
  case "$line" in *interrupt*)
    id=$(echo "$line" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
    echo '{"type":"control_response","response":{"subtype":"success","request_id":"'$id'"}}';;
  esac
done
`

// cancelStorm runs n tasks and cancels each at a random moment: at once,
// when claude has started, on its last text (right at its result), after a
// random pause, or not at all. Every task gets one outcome that agrees
// with what claude.cancel answered, and no process of any task is left.
func cancelStorm(t *testing.T, p *bridgeProc, w *world, n int, maxWait time.Duration) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	counts := map[string]int{}
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("storm-%d", i)
		when := i % 5
		pause := time.Duration(rng.Intn(300)) * time.Millisecond
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			call := p.run(map[string]any{"prompt": "go", "taskId": id})
			switch when {
			case 1:
				_, _, _ = lsptest.WaitEvent[*lspext.StartedEvent](t, p.client, id, maxWait)
			case 2:
				_, _, _ = lsptest.WaitEvent[*lspext.TextEvent](t, p.client, id, maxWait)
			case 3:
				time.Sleep(pause)
			}
			accepted := false
			if when != 4 {
				var r lspext.CancelResult
				if err := p.client.Request("workspace/executeCommand", map[string]any{"command": "claude.cancel", "arguments": []any{map[string]string{"taskId": id}}}, &r, maxWait); err != nil {
					t.Errorf("%s: cancel: %v", id, err)
				}
				accepted = r.Cancelled
			}
			res := p.result(t, call, maxWait)
			results := lsptest.Of[*lspext.ResultEvent](p.client.Events(t, id))
			if len(results) != 1 || results[0].Status != res.Status {
				t.Errorf("%s: result events %+v, reply %s; want exactly one, the same", id, results, res.Status)
			}
			if accepted != (res.Status == "cancelled") {
				t.Errorf("%s: claude.cancel said cancelled=%v, the task ended %s", id, accepted, res.Status)
			}
			if res.Status != "cancelled" && res.Status != "completed" {
				t.Errorf("%s: %+v", id, res)
			}
			mu.Lock()
			counts[fmt.Sprintf("%d:%s", when, res.Status)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("outcomes by cancel moment (0 at once, 1 started, 2 at the result, 3 random, 4 none): %v", counts)
	p.onlyWarmLeft(t, w.workspace)
}

// onlyWarmLeft waits until no process of any task is left: what the
// bridge still runs is its warm claudes (prewarm), waiting, each a single
// process, and nothing else carries its tag or works in dir.
func (p *bridgeProc) onlyWarmLeft(t *testing.T, dir string) {
	t.Helper()
	pid := p.cmd.Process.Pid
	eventually(t, 10*time.Second, "processes of the tasks still alive", func() bool {
		c := p.processCounts(t).Processes
		return c.Running == 0 && c.Idle == 0 && c.Live == c.Warm &&
			len(taggedBy(pid)) == c.Warm && len(processesIn(dir)) == c.Warm && len(claudesOf(pid)) == c.Warm
	})
}

func TestHundredTasksCancelledAtRandomLeaveNoProcess(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, quickClaude)
	// prewarm false: the stand-in never answers initialize, so a warm one
	// of it would never be ready (the real-CLI sample below has them).
	p := w.serve(map[string]any{"followUpIdleSeconds": 0, "maxConcurrentTasks": 4, "auth": map[string]any{"mode": "inherit"}, "prewarm": false})
	cancelStorm(t, p, w, 100, 30*time.Second)
}

// The same with the real CLI, for a sample, warm claudes taken and
// replaced among the cancels.
func TestRealClaudeTasksCancelledAtRandomLeaveNoProcess(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	turn := fakeapi.Text("one two three four five six")
	turn.ChunkDelay = 20 * time.Millisecond
	w.api.SetDefault(&turn)
	p := w.serve(map[string]any{"followUpIdleSeconds": 0, "maxConcurrentTasks": 3})
	cancelStorm(t, p, w, 10, 90*time.Second)
}

// bashSleep is a turn whose Bash command runs for minutes.
func bashSleep() fakeapi.Turn {
	return fakeapi.ToolUse("Bash", map[string]any{"command": "echo waiting && sleep 313 && echo done", "description": "wait"})
}

// waitForSleep313 waits until the agent's `sleep 313` runs and returns it:
// the one this bridge's task started (by its tag), not another test's on
// the same machine.
func waitForSleep313(t *testing.T, p *bridgeProc) proc {
	t.Helper()
	var found proc
	mine := strconv.Itoa(p.cmd.Process.Pid) + "."
	eventually(t, 60*time.Second, "no `sleep 313` started by the agent with this bridge's tag", func() bool {
		if evs := p.client.Events(t, "k"); lsptest.Last[*lspext.ResultEvent](evs) != nil {
			t.Fatalf("the task ended before its command ran: %+v (events %s)", lsptest.Last[*lspext.ResultEvent](evs), lsptest.Kinds(evs))
		}
		for _, pr := range procs() {
			if strings.HasPrefix(pr.cmdline, "sleep 313") && !pr.zombie && strings.HasPrefix(pr.tag, mine) {
				found = pr
				return true
			}
		}
		return false
	})
	return found
}

// SIGKILL of the bridge while the agent's Bash command runs: claude dies
// with it (Pdeathsig), and the watchdog kills the Bash command, which
// runs in a session of its own, and the warm claude waiting beside it.
func TestBridgeKilledWithBashChildRunning(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{bashSleep()})
	p := w.serve(nil) // the editor allows the Bash command
	p.run(map[string]any{"prompt": "sleep", "taskId": "k"})
	sleep := waitForSleep313(t, p)
	if sleep.tag == "" {
		t.Errorf("the agent's command carries no tag: %+v", sleep)
	}
	pid := p.cmd.Process.Pid
	if len(taggedBy(pid)) < 2 {
		t.Fatalf("expected claude and the command tagged: %s", describe(taggedBy(pid)))
	}
	// The task took the warm claude; the next one waits, tagged too.
	eventually(t, 30*time.Second, "no warm claude beside the task", func() bool {
		return p.processCounts(t).Processes.Warm == 1 && len(claudesOf(pid)) == 2
	})
	start := time.Now()
	_ = p.cmd.Process.Kill()
	<-p.done
	eventually(t, 10*time.Second, "processes of the killed bridge survive it: "+describe(taggedBy(pid)), func() bool {
		return len(taggedBy(pid)) == 0 && len(processesIn(w.workspace)) == 0
	})
	t.Logf("everything gone %s after the SIGKILL", time.Since(start).Round(time.Millisecond))
}

// SIGKILL of claude while its Bash command runs: the task fails saying
// so, and the command goes with its claude.
func TestClaudeKilledWithBashChildRunning(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{bashSleep()})
	p := w.serve(nil) // the editor allows the Bash command
	call := p.run(map[string]any{"prompt": "sleep", "taskId": "k"})
	sleep := waitForSleep313(t, p)
	pid := p.cmd.Process.Pid
	// The task's claude is the one the command runs under (a warm one may
	// wait beside it).
	var task *proc
	all := procs()
	for _, c := range claudesOf(pid) {
		for q := sleep.ppid; q > 1 && task == nil; q = parentOf(all, q) {
			if q == c.pid {
				task = &c
			}
		}
	}
	if task == nil {
		t.Fatalf("no claude above the agent's command: %s", describe(claudesOf(pid)))
	}
	_ = syscall.Kill(task.pid, syscall.SIGKILL)
	res := p.result(t, call, 30*time.Second)
	if res.Status != "failed" || !strings.Contains(res.Result, "killed") {
		t.Errorf("result = %+v", res)
	}
	p.onlyWarmLeft(t, w.workspace)
}

func parentOf(all []proc, pid int) int {
	for _, p := range all {
		if p.pid == pid {
			return p.ppid
		}
	}
	return 0
}

// rawBridge is a bridge whose stdout the test reads only when it wants:
// an editor that stops reading.
type rawBridge struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
}

func (w *world) serveRaw(t *testing.T) *rawBridge {
	cmd := exec.Command(binary, "serve", "--log-level", "debug")
	cmd.Env = w.env()
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &rawBridge{cmd: cmd, in: in, out: bufio.NewReader(out), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(b.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-b.done })
	return b
}

func (b *rawBridge) send(t *testing.T, msg any) {
	body, _ := json.Marshal(msg)
	if _, err := fmt.Fprintf(b.in, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		t.Fatal(err)
	}
}

// An editor that stops reading the bridge's output while a task floods
// it, then sends SIGTERM or closes stdin: the bridge is gone within 10 s,
// and so is claude.
func TestStuckEditorCannotHoldTheBridge(t *testing.T) {
	for _, how := range []string{"SIGTERM", "stdin closed"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t, keyA)
			// A claude that prints stream events as fast as it can.
			w.claude = writeScript(t, `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"flood","cwd":"/x","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
exec yes '{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"flood flood flood flood flood flood flood flood"}}}'
`)
			b := w.serveRaw(t)
			b.send(t, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
				"processId": nil, "rootUri": "file://" + w.workspace, "capabilities": map[string]any{},
				"initializationOptions": map[string]any{"auth": map[string]any{"mode": "inherit"}}}})
			b.send(t, map[string]any{"jsonrpc": "2.0", "method": "initialized", "params": map[string]any{}})
			b.send(t, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": map[string]any{
				"command": "claude.run", "arguments": []any{map[string]any{"prompt": "flood"}}}})
			// From here on nothing reads the bridge's stdout. Wait until
			// claude is blocked writing: the bridge has stopped reading it,
			// because its own output is stuck.
			pid := b.cmd.Process.Pid
			eventually(t, 60*time.Second, "claude never blocked on its output", func() bool {
				for _, c := range claudesOf(pid) {
					wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", c.pid))
					if strings.Contains(string(wchan), "pipe") {
						return true
					}
				}
				return false
			})
			start := time.Now()
			if how == "SIGTERM" {
				_ = b.cmd.Process.Signal(syscall.SIGTERM)
			} else {
				_ = b.in.Close()
			}
			select {
			case <-b.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("the bridge is still running 10 s after %s with a stuck editor", how)
			}
			t.Logf("exited %s after %s", time.Since(start).Round(time.Millisecond), how)
			eventually(t, 5*time.Second, "claude outlived the bridge: "+describe(taggedBy(pid)), func() bool {
				return len(taggedBy(pid)) == 0
			})
		})
	}
}

// Bad headers of every kind, each followed by a valid request: each
// valid request is answered (the stream resynchronises), through the
// binary.
func TestBadHeadersThenValidFrames(t *testing.T) {
	w := newWorld(t, keyA)
	p := w.serve(map[string]any{"auth": map[string]any{"mode": "inherit"}})
	bad := []string{
		"Content-Length: abc\r\n\r\n{}",
		"Content-Length: -5\r\n\r\n{}",
		"Content-Length:\r\n\r\n{}",
		"Content-Length: 400\r\n\r\n{\"jsonrpc\":\"2.0\"}", // runs into the next frame
		"X-Header: " + strings.Repeat("x", 100000) + "\r\n\r\n",
		// Garbage without a line break, the valid frame right after it:
		// its header ends the over-long line and must be found there.
		strings.Repeat("g", 9000),
		strings.Repeat("g", 20000),
	}
	for i, b := range bad {
		if err := p.client.WriteRaw(b); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("after-%d", i)
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"method":"workspace/executeCommand","params":{"command":"claude.tasks","arguments":[]}}`, id)
		if err := p.client.WriteRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.WaitFor("", 10*time.Second, func(m lsptest.Message) bool {
			return string(m.ID) == `"`+id+`"` && m.Error == nil
		}); err != nil {
			t.Errorf("no reply to the request after bad frame %d (%q…): %v", i, b[:min(len(b), 30)], err)
		}
	}
}

func (p *bridgeProc) processCounts(t *testing.T) lspext.TasksResult {
	t.Helper()
	var r lspext.TasksResult
	if err := p.client.Request("workspace/executeCommand", map[string]any{"command": "claude.tasks", "arguments": []any{map[string]bool{"processes": true}}}, &r, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	return r
}

// The idle budget: with maxConcurrentTasks 2, six quick tasks never have
// more than two claude processes alive at once; idle and warm ones are
// counted in claude.tasks; a smaller budget stops the lowest ranked at
// once; a follow-up of an evicted conversation resumes it.
func TestIdleProcessBudget(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	p := w.serve(map[string]any{"maxConcurrentTasks": 2, "followUpIdleSeconds": 300})
	pid := p.cmd.Process.Pid
	most := 0
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			most = max(most, len(claudesOf(pid)))
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	var sessions []string
	for round := 0; round < 3; round++ {
		a := p.run(map[string]any{"prompt": "quick", "taskId": fmt.Sprintf("b%d-a", round)})
		b := p.run(map[string]any{"prompt": "quick", "taskId": fmt.Sprintf("b%d-b", round)})
		for _, c := range []*lsptest.Call{a, b} {
			r := p.result(t, c, 90*time.Second)
			if r.Status != "completed" {
				t.Fatalf("result = %+v", r)
			}
			sessions = append(sessions, r.SessionID)
		}
	}
	close(stop)
	<-sampled
	if most > 2 {
		t.Errorf("%d claude processes alive at once with maxConcurrentTasks 2", most)
	}
	// The budget of 2 holds the last conversation's process and the warm
	// claude, which outranks the one before (prewarm is on by default).
	eventually(t, 30*time.Second, fmt.Sprintf("after six tasks: %+v, claude processes %s", p.processCounts(t).Processes, describe(claudesOf(pid))), func() bool {
		c := p.processCounts(t)
		return c.Processes.Idle == 1 && c.Processes.Warm == 1 && c.Processes.MaxIdle == 2 && c.Processes.Running == 0 && len(c.Tasks) == 6 && len(claudesOf(pid)) == 2
	})

	_ = p.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"maxIdleProcesses": 1}}})
	eventually(t, 15*time.Second, "the idle budget of 1 was not applied", func() bool {
		return p.processCounts(t).Processes.Idle == 1 && len(claudesOf(pid)) == 1
	})

	// The first conversation's process is long gone: its follow-up resumes.
	call := p.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{map[string]any{"taskId": "b0-a", "prompt": "more"}}})
	r := p.result(t, call, 90*time.Second)
	if r.Status != "completed" || r.SessionID != sessions[0] {
		t.Errorf("follow-up = %+v, want session %s", r, sessions[0])
	}
	eventually(t, 15*time.Second, "more than one claude process after the follow-up with an idle budget of 1", func() bool {
		return len(claudesOf(pid)) == 1
	})
}
