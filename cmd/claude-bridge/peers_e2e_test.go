package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// These tests hold the bridge to its promises against peers that
// misbehave in ways a first round of fixes missed (issue 11): an editor
// that floods it or repeats its replies, a claude that stops reading.
//
// Their fake claudes answer no initialize: a warm one (prewarm, issue 15)
// would never be ready and would stand beside the tasks' own processes, so
// they run with prewarm off; TestUnreadableOrphanEndsWithItsTask's claude
// answers it, as the real CLI does, and keeps a warm one beside its task.

// stuckClaude stands in for a claude whose turn never ends on its own: it
// says init, then answers interrupts (ending the turn) until stdin closes.
const stuckClaude = `read req
echo '{"type":"system","subtype":"init","session_id":"stuck-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
while read line; do
  case "$line" in *interrupt*)
    id=$(echo "$line" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
    echo '{"type":"control_response","response":{"subtype":"success","request_id":"'$id'"}}'
    echo '{"type":"result","subtype":"error_during_execution","is_error":true,"result":"","session_id":"stuck-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}';;
  esac
done
`

func executeCommand(cmd string, arg any) map[string]any {
	args := []any{}
	if arg != nil {
		args = append(args, arg)
	}
	return map[string]any{"command": cmd, "arguments": args}
}

// With more task requests in flight than the bridge serves at once, the
// editor can still cancel a task, list the tasks, ask the auth status and
// shut the bridge down: only task-starting requests count against the cap.
func TestQuickRequestsAreServedPastTheTaskCap(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, stuckClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "maxConcurrentTasks": 2, "followUpIdleSeconds": 0})
	const n = 300
	calls := make([]*lsptest.Call, n)
	for i := range calls {
		calls[i] = p.run(map[string]any{"prompt": "go", "taskId": fmt.Sprintf("m%d", i)})
	}
	// The requests past the cap are refused as busy: the cap is reached.
	busy := 0
	for _, c := range calls[256:] {
		m, err := c.Wait(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Error != nil && strings.Contains(m.Error.Message, "busy") {
			busy++
		}
	}
	if busy == 0 {
		t.Fatalf("no claude.run past the first 256 was refused: the cap was never reached")
	}
	eventually(t, 60*time.Second, "the first two tasks never started", func() bool {
		return len(claudesOf(p.cmd.Process.Pid)) == 2
	})

	var cancelled map[string]bool
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "m0"}), &cancelled, 20*time.Second); err != nil {
		t.Errorf("claude.cancel with %d tasks requested: %v", n, err)
	} else if !cancelled["cancelled"] {
		t.Errorf("claude.cancel of a running task: %v", cancelled)
	}
	if r := p.result(t, calls[0], 30*time.Second); r.Status != "cancelled" {
		t.Errorf("the cancelled task ended %+v", r)
	}
	var tasks []json.RawMessage
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.tasks", nil), &tasks, 20*time.Second); err != nil {
		t.Errorf("claude.tasks: %v", err)
	} else if len(tasks) < 256-busy {
		t.Errorf("claude.tasks lists %d tasks", len(tasks))
	}
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.authStatus", nil), nil, 20*time.Second); err != nil {
		t.Errorf("claude.authStatus: %v", err)
	}
	if err := p.client.Request("shutdown", nil, nil, 30*time.Second); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	_ = p.client.Notify("exit", nil)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the bridge did not exit after shutdown and exit")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit", code)
	}
}

// answerClaude stands in for a claude that answers each prompt at once
// and waits for the next.
const answerClaude = `read req
while read prompt; do
  echo '{"type":"system","subtype":"init","session_id":"quick-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
  echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"quick-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
done
`

// An editor that sends each reply to window/workDoneProgress/create three
// times, and replies to requests the bridge never sent: the bridge keeps
// serving (jsonrpc2 alone would block its read loop on the second copy),
// and still exits within 10 s of its stdin closing.
func TestRepeatedRepliesCannotWedgeTheBridge(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, answerClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 0})
	p.client.Repeat("window/workDoneProgress/create", 3)
	for i := 0; i < 10; i++ {
		for _, id := range []string{"424242", `"nope"`, "1e400"} {
			body := `{"jsonrpc":"2.0","id":` + id + `,"result":null}`
			if err := p.client.WriteRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)); err != nil {
				t.Fatal(err)
			}
		}
		if r := p.result(t, p.run(map[string]any{"prompt": "go", "taskId": fmt.Sprintf("r%d", i)}), 30*time.Second); r.Status != "completed" {
			t.Fatalf("task %d: %+v", i, r)
		}
		if err := p.client.Request("workspace/executeCommand", executeCommand("claude.tasks", nil), nil, 10*time.Second); err != nil {
			t.Fatalf("after task %d with its progress created thrice: %v", i, err)
		}
	}
	if n := len(p.client.Messages("window/workDoneProgress/create")); n != 10 {
		t.Errorf("%d progress tokens created for 10 tasks", n)
	}
	start := time.Now()
	_ = p.stdin.Close()
	select {
	case <-p.done:
		t.Logf("exited %s after stdin closed", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the bridge is still running 10 s after its stdin closed")
	}
}

// An editor that does not answer window/workDoneProgress/create: a quick
// task's reply does not wait for the answer (nor for the bridge to give
// up on it, which it would say with $/cancelRequest); once the editor
// answers, the token gets its begin and end.
func TestReplyDoesNotWaitForProgressCreate(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, answerClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}})
	release := make(chan struct{})
	defer close(release)
	answered := make(chan struct{})
	p.client.Handle("window/workDoneProgress/create", func(json.RawMessage) (any, error) {
		<-release
		defer close(answered)
		return nil, nil
	})
	call := p.run(map[string]any{"prompt": "go", "taskId": "q"})
	if r := p.result(t, call, 30*time.Second); r.Status != "completed" {
		t.Fatalf("result %+v", r)
	}
	reply, _ := call.Wait(0)
	for _, m := range p.client.Messages("$/cancelRequest") {
		if m.Seq < reply.Seq {
			t.Errorf("the bridge gave up on window/workDoneProgress/create (%s) before it replied: the reply waited for it", m.Params)
		}
	}
	release <- struct{}{}
	<-answered
	token := `"claude-bridge/q"`
	var kinds []string
	eventually(t, 10*time.Second, "no begin and end for the token once the editor answered", func() bool {
		kinds = kinds[:0]
		for _, m := range p.client.Messages("$/progress") {
			var pr struct {
				Token json.RawMessage `json:"token"`
				Value struct {
					Kind string `json:"kind"`
				} `json:"value"`
			}
			_ = json.Unmarshal(m.Params, &pr)
			if string(pr.Token) == token {
				kinds = append(kinds, pr.Value.Kind)
			}
		}
		return len(kinds) > 0 && kinds[len(kinds)-1] == "end"
	})
	if kinds[0] != "begin" {
		t.Errorf("progress of the token: %v", kinds)
	}
}

// askingClaude asks permission for a Bash command, then answers the
// prompt once it has the permission's answer; an interrupt ends the turn.
const askingClaude = `read req
echo '{"type":"system","subtype":"init","session_id":"ask-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"default","apiKeySource":"none","claude_code_version":"0.0.0"}'
read prompt
echo '{"type":"control_request","request_id":"perm-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"make deploy"},"tool_use_id":"tu-1"}}'
while read line; do
  case "$line" in
  *interrupt*)
    id=$(echo "$line" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
    echo '{"type":"control_response","response":{"subtype":"success","request_id":"'$id'"}}'
    echo '{"type":"result","subtype":"error_during_execution","is_error":true,"result":"","session_id":"ask-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}';;
  *control_response*perm-1*)
    echo '{"type":"result","subtype":"success","is_error":false,"result":"deployed","session_id":"ask-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}';;
  esac
done
`

// A permission question whose task is cancelled before anyone answers is
// withdrawn in the editor with $/cancelRequest (VS Code then closes it).
func TestQuestionOfACancelledTaskIsWithdrawn(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, askingClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}})
	release := make(chan struct{})
	defer close(release)
	p.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) {
		<-release // a person who is away
		return nil, nil
	})
	call := p.run(map[string]any{"prompt": "deploy", "taskId": "ask"})
	q, err := p.client.WaitFor("window/showMessageRequest", 30*time.Second, func(lsptest.Message) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	var cancelled map[string]bool
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "ask"}), &cancelled, 20*time.Second); err != nil || !cancelled["cancelled"] {
		t.Fatalf("claude.cancel: %v %v", cancelled, err)
	}
	if r := p.result(t, call, 30*time.Second); r.Status != "cancelled" {
		t.Errorf("result %+v", r)
	}
	if _, err := p.client.WaitFor("$/cancelRequest", 10*time.Second, func(m lsptest.Message) bool {
		var c struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(m.Params, &c)
		return string(c.ID) == string(q.ID)
	}); err != nil {
		t.Errorf("the question (id %s) of the cancelled task was not withdrawn: %v", q.ID, err)
	}
}

// writingClaude reports a Write to the file $CHANGED (its tool result
// names it as claude's does), then its result.
const writingClaude = `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"write-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
echo '{"type":"assistant","message":{"id":"m1","role":"assistant","content":[{"type":"tool_use","id":"tu1","name":"Write","input":{"file_path":"'$CHANGED'","content":"x"}}]}}'
echo '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"tu1","content":"ok","is_error":false}]},"tool_use_result":{"type":"create","filePath":"'$CHANGED'","content":"x"}}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"write-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
while read line; do :; done
`

// peakRSS is a process's peak resident memory in MiB (VmHWM).
func peakRSS(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb >> 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// A tool result naming a file the bridge must neither read whole nor block
// on (a device that never ends, a FIFO nobody writes, a file past the size
// it reads): the task ends as soon as claude's result comes, its reply
// names the file as edited, and the bridge's memory stays small.
func TestChangedFileThatCannotBeReadDoesNotHangOrFlood(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.log")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 3<<30); err != nil { // sparse: 3 GiB read as zeros
		t.Fatal(err)
	}
	zeroLink := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}
	for name, changed := range map[string]string{"device": "/dev/zero", "link to a device": zeroLink, "FIFO": fifo, "3 GiB": huge} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, keyA)
			w.claude = writeScript(t, writingClaude)
			p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 0}, "CHANGED="+changed)
			r := p.result(t, p.run(map[string]any{"prompt": "write", "taskId": "w"}), 30*time.Second)
			if r.Status != "completed" || len(r.EditedFiles) != 1 {
				t.Errorf("result %+v", r)
			}
			if err := p.client.Request("workspace/executeCommand", executeCommand("claude.tasks", nil), nil, 10*time.Second); err != nil {
				t.Error(err)
			}
			if mb := peakRSS(t, p.cmd.Process.Pid); mb > 400 {
				t.Errorf("the bridge's memory peaked at %d MiB", mb)
			}
		})
	}
}

// zombiesOf lists the bridge's children that have exited and that nobody
// reaped.
func zombiesOf(bridgePID int) []proc {
	var out []proc
	for _, p := range procs() {
		if p.ppid == bridgePID && p.zombie {
			out = append(out, p)
		}
	}
	return out
}

// orphaningClaude is a claude (run by a wrapper that does not exec it, as
// a claudePath script may) that leaves a job in its process group: both
// the claude under the wrapper and the job become orphans of the bridge
// when their parent goes.
const orphaningClaude = `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"orphan-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
sleep 300 &
echo '{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"working"}}}'
[ -n "$HOLD" ] && sleep 300
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"orphan-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
while read line; do :; done
`

// Orphans the bridge adopts are reaped, not left as zombies: a job left in
// claude's process group, and the claude under a claudePath wrapper that
// is killed mid-task (orphans of the bridge's own session used to stay
// zombies: 17 after 20 tasks).
func TestAdoptedOrphansAreReaped(t *testing.T) {
	w := newWorld(t, keyA)
	inner := writeScript(t, orphaningClaude)
	w.claude = writeScript(t, "/bin/sh "+inner+` "$@"`+"\n") // no exec: the wrapper is claude's parent
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 0})
	pid := p.cmd.Process.Pid
	for i := 0; i < 10; i++ {
		if r := p.result(t, p.run(map[string]any{"prompt": "go", "taskId": fmt.Sprintf("z%d", i)}), 30*time.Second); r.Status != "completed" {
			t.Fatalf("task %d: %+v", i, r)
		}
	}
	p2 := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 0}, "HOLD=1")
	pid2 := p2.cmd.Process.Pid
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("k%d", i)
		call := p2.run(map[string]any{"prompt": "go", "taskId": id})
		if _, err := p2.client.WaitFor("claude/event", 30*time.Second, func(m lsptest.Message) bool {
			return strings.Contains(string(m.Params), `"taskId":"`+id+`"`) && strings.Contains(string(m.Params), `"kind":"text"`)
		}); err != nil {
			t.Fatal(err)
		}
		wrappers := claudesOf(pid2)
		if len(wrappers) != 1 {
			t.Fatalf("claude processes: %s", describe(wrappers))
		}
		_ = syscall.Kill(wrappers[0].pid, syscall.SIGKILL)
		if r := p2.result(t, call, 30*time.Second); r.Status != "failed" {
			t.Errorf("task %s after its wrapper was killed: %+v", id, r)
		}
	}
	for _, b := range []int{pid, pid2} {
		eventually(t, 10*time.Second, fmt.Sprintf("zombies under the bridge %d: %s", b, describe(zombiesOf(b))), func() bool {
			return len(zombiesOf(b)) == 0 && len(taggedBy(b)) == 0
		})
	}
}

// reexecClaude leaves, in a session of its own, a program that keeps
// exec'ing itself (a wrapper chain): its environment reads empty for a
// moment at each exec.
const reexecClaude = `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"reexec-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
setsid "$REEXEC" &
sleep 0.05
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"reexec-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
while read line; do :; done
`

// A task's detached process caught in the middle of an exec at the task's
// end is killed all the same (6 tasks in 60 used to leave it alive).
func TestProcessInTheMiddleOfAnExecDoesNotOutliveItsTask(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, reexecClaude)
	reexec := filepath.Join(t.TempDir(), "reexec.sh")
	if err := os.WriteFile(reexec, []byte("#!/bin/bash\nexec \"$0\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 0}, "REEXEC="+reexec)
	running := func() []proc {
		var out []proc
		for _, q := range procs() {
			if !q.zombie && strings.Contains(q.cmdline, reexec) {
				out = append(out, q)
			}
		}
		return out
	}
	for i := 0; i < 30; i++ {
		if r := p.result(t, p.run(map[string]any{"prompt": "go", "taskId": fmt.Sprintf("e%d", i)}), 30*time.Second); r.Status != "completed" {
			t.Fatalf("task %d: %+v", i, r)
		}
		// The reply comes after the task's processes are killed; a killed
		// process may take a moment to be gone.
		eventually(t, 2*time.Second, fmt.Sprintf("task %d left its re-exec'ing process alive: %s", i, describe(running())), func() bool {
			return len(running()) == 0
		})
	}
}

// agentClaude starts an ssh-agent from its "Bash command", as an agent
// asked to use ssh would: ssh-agent makes itself non-dumpable (its
// environment, and so its tag, cannot be read by a bridge that is not
// root) and daemonizes into a session of its own (an orphan the bridge
// adopts). It writes the agent's pid to agent-<task>.pid. It answers
// initialize, as the real CLI does (a warm one is ready then).
const agentClaude = `read req
id=$(echo "$req" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
echo '{"type":"control_response","response":{"subtype":"success","request_id":"'$id'","response":{}}}'
n=0
while read prompt; do
  echo '{"type":"system","subtype":"init","session_id":"agent-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
  n=$((n+1))
  eval "$(ssh-agent -s)" >/dev/null
  echo "$SSH_AGENT_PID" > "$PWD/agent-$$-$n.pid"
  echo '{"type":"result","subtype":"success","is_error":false,"result":"started an agent","session_id":"agent-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
done
`

// asNobody makes the world's bridge run as the unprivileged user nobody
// when the tests run as root (CI does; a bridge running as root reads
// every process's environment, so it cannot show this), and as the
// current user otherwise.
func (w *world) asNobody(t *testing.T) {
	if os.Getuid() != 0 {
		return
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("setpriv (util-linux) is needed to run the bridge as an unprivileged user")
	}
	w.as = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	for _, dir := range []string{filepath.Dir(binary), filepath.Dir(w.claude), filepath.Dir(filepath.Dir(w.claude))} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{w.home, w.workspace, w.logDir} {
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := exec.Command("chown", "-R", "65534:65534", dir).Run(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAgents waits until the agent pids written in the workspace number n
// and returns them.
func waitAgents(t *testing.T, w *world, n int) []int {
	var pids []int
	eventually(t, 30*time.Second, fmt.Sprintf("%d ssh-agents never started", n), func() bool {
		pids = pids[:0]
		files, _ := filepath.Glob(filepath.Join(w.workspace, "agent-*.pid"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				pids = append(pids, pid)
			}
		}
		return len(pids) >= n
	})
	return pids
}

func alive(pid int) bool {
	p, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(p[strings.LastIndexByte(string(p), ')'):]), ") Z")
}

// A process the bridge cannot read (an ssh-agent: non-dumpable, in a
// session of its own, orphaned at once), started by a task of a bridge
// that runs as an ordinary user, ends with the task: when claude is
// stopped after it, and when claude is kept for a follow-up. A warm claude
// (prewarm) waits beside the task meanwhile: it starts nothing while it
// waits, so it does not keep the task's orphans from being the task's
// (counted busy from its start, it did: issue 15 × issue 11).
func TestUnreadableOrphanEndsWithItsTask(t *testing.T) {
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Fatal("ssh-agent (openssh-client) is needed for this test")
	}
	w := newWorld(t, keyA)
	w.claude = writeScript(t, agentClaude)
	w.asNobody(t)
	p := w.serve(map[string]any{"auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 300})
	pid := p.cmd.Process.Pid
	if os.Getuid() == 0 {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if !strings.Contains(string(st), "Uid:\t65534") {
			t.Fatalf("the bridge does not run as nobody: %s", st)
		}
	}
	eventually(t, 30*time.Second, "no warm claude", func() bool { return p.processCounts(t).Processes.Warm == 1 })
	// Kept for a follow-up: the agent goes at the end of the task, claude
	// stays. Another model: the task starts a claude of its own, and the
	// warm one waits beside it.
	if r := p.result(t, p.run(map[string]any{"prompt": "start an agent", "taskId": "a1", "model": "fake-other"}), 30*time.Second); r.Status != "completed" {
		t.Fatalf("a1: %+v", r)
	}
	first := waitAgents(t, w, 1)
	eventually(t, 10*time.Second, fmt.Sprintf("the ssh-agent %v of a task whose claude is kept outlived the task", first), func() bool { return !alive(first[0]) })
	if c := p.processCounts(t).Processes; c.Idle != 1 || c.Warm != 1 || len(claudesOf(pid)) != 2 {
		t.Errorf("after a task kept for a follow-up: %+v, claude processes %s", c, describe(claudesOf(pid)))
	}
	// A follow-up in the same claude starts another; then claude is stopped
	// (followUpIdleSeconds 0 applies to it at once).
	call := p.client.Start("workspace/executeCommand", executeCommand("claude.followUp", map[string]any{"taskId": "a1", "prompt": "again", "newTaskId": "a2"}))
	if r := p.result(t, call, 30*time.Second); r.Status != "completed" {
		t.Fatalf("a2: %+v", r)
	}
	_ = p.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"followUpIdleSeconds": 0, "auth": map[string]any{"mode": "inherit"}}}})
	p.onlyWarmLeft(t, w.workspace)
	agents := waitAgents(t, w, 2)
	for _, a := range agents {
		eventually(t, 10*time.Second, fmt.Sprintf("the ssh-agent %d outlived its task", a), func() bool { return !alive(a) })
	}
	if err := p.client.Request("shutdown", nil, nil, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = p.client.Notify("exit", nil)
	<-p.done
	for _, a := range agents {
		eventually(t, 5*time.Second, fmt.Sprintf("the ssh-agent %d outlived the bridge", a), func() bool { return !alive(a) })
	}
}

// Lowering followUpIdleSeconds applies to a claude already idle: it is
// stopped once it has been idle for the new time, not the old one.
func TestLowerIdleTimeAppliesToIdleClaude(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, answerClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "followUpIdleSeconds": 300})
	pid := p.cmd.Process.Pid
	if r := p.result(t, p.run(map[string]any{"prompt": "go", "taskId": "i"}), 30*time.Second); r.Status != "completed" {
		t.Fatalf("result %+v", r)
	}
	if c := p.processCounts(t); c.Processes.Idle != 1 || len(claudesOf(pid)) != 1 {
		t.Fatalf("after the task: %+v, claude processes %s", c.Processes, describe(claudesOf(pid)))
	}
	_ = p.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{
		"followUpIdleSeconds": 1, "auth": map[string]any{"mode": "inherit"}}}})
	eventually(t, 15*time.Second, "the idle claude still runs after followUpIdleSeconds went down to 1", func() bool {
		return len(claudesOf(pid)) == 0 && p.processCounts(t).Processes.Idle == 0
	})
}

// deafClaude reads nothing after the prompt, answers no interrupt and
// ignores SIGTERM.
const deafClaude = `trap '' TERM
read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"deaf-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
while true; do sleep 1; done
`

// A claude that ignores its stdin closing, the interrupt and SIGTERM is
// killed, and the cancelled task's reply comes, within the bound shutdown
// keeps (6 s; it used to take 12).
func TestCancelOfADeafClaudeIsBounded(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, deafClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}})
	call := p.run(map[string]any{"prompt": "go", "taskId": "d"})
	if _, err := p.client.WaitFor("claude/event", 30*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), `"kind":"started"`)
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var cancelled map[string]bool
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "d"}), &cancelled, 20*time.Second); err != nil || !cancelled["cancelled"] {
		t.Fatalf("claude.cancel: %v %v", cancelled, err)
	}
	if r := p.result(t, call, 30*time.Second); r.Status != "cancelled" {
		t.Errorf("result %+v", r)
	}
	took := time.Since(start)
	t.Logf("the cancelled task's reply came %s after the cancel", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("the reply came %s after the cancel; the bound is 6 s", took.Round(time.Millisecond))
	}
	if n := len(claudesOf(p.cmd.Process.Pid)); n != 0 {
		t.Errorf("%d claude processes left", n)
	}
}

// stuckReaderClaude asks permission for a Bash command with a 200 KB
// input, reads nothing more (the bridge's answer repeats the input and
// cannot be written whole), and prints its result 2 s later.
const stuckReaderClaude = `read req; read prompt
echo '{"type":"system","subtype":"init","session_id":"stuck-reader","cwd":"'"$PWD"'","model":"fake","permissionMode":"default","apiKeySource":"none","claude_code_version":"0.0.0"}'
big=$(head -c 200000 /dev/zero | tr '\0' x)
echo '{"type":"control_request","request_id":"perm-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"echo '$big'"},"tool_use_id":"tu-1"}}'
sleep 2
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"stuck-reader","num_turns":1,"duration_ms":5,"total_cost_usd":0}'
exec sleep 300
`

// A claude that stops reading its stdin while the bridge writes it a
// large permission answer cannot wedge the bridge: the task's reply comes,
// claude.tasks {processes:true} answers, that claude is not kept for a
// follow-up, and SIGTERM ends the bridge within 10 s (the writer held
// claude's stdin lock, parking the process waited for it under the pool's
// lock, and Shutdown waited for the pool's lock before its deadline).
func TestClaudeThatStopsReadingCannotWedgeTheBridge(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, stuckReaderClaude)
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}})
	pid := p.cmd.Process.Pid
	call := p.run(map[string]any{"prompt": "go", "taskId": "s", "permissionMode": "default"})
	if r := p.result(t, call, 30*time.Second); r.Status != "completed" {
		t.Errorf("result %+v", r)
	}
	if len(p.client.Messages("window/showMessageRequest")) != 1 {
		t.Errorf("the permission question was not asked")
	}
	if c := p.processCounts(t); c.Processes.Idle != 0 {
		t.Errorf("a claude that did not take its input was parked for a follow-up: %+v", c.Processes)
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the bridge is still running 10 s after SIGTERM")
	}
	eventually(t, 5*time.Second, "claude outlived the bridge: "+describe(taggedBy(pid)), func() bool { return len(taggedBy(pid)) == 0 })
}

// A claude that reads nothing, given a prompt larger than a pipe's buffer:
// the prompt's write does not hold the task, a cancel answers true and the
// task ends cancelled (it used to stay "starting" for good, holding the
// queue's only slot), and the next task runs.
func TestCancelWhileThePromptCannotBeWritten(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, "exec sleep 1000\n")
	p := w.serve(map[string]any{"prewarm": false, "auth": map[string]any{"mode": "inherit"}, "maxConcurrentTasks": 1})
	pid := p.cmd.Process.Pid
	call := p.run(map[string]any{"prompt": strings.Repeat("x", 200_000), "taskId": "big"})
	eventually(t, 30*time.Second, "claude never started", func() bool { return len(claudesOf(pid)) == 1 })
	next := p.run(map[string]any{"prompt": "small", "taskId": "next"})
	var cancelled map[string]bool
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "big"}), &cancelled, 20*time.Second); err != nil || !cancelled["cancelled"] {
		t.Fatalf("claude.cancel: %v %v", cancelled, err)
	}
	if r := p.result(t, call, 15*time.Second); r.Status != "cancelled" {
		t.Errorf("result %+v", r)
	}
	eventually(t, 30*time.Second, "the next task never started", func() bool {
		for _, task := range p.processCounts(t).Tasks {
			if task.TaskID == "next" && task.Status != lspext.StatusQueued {
				return true
			}
		}
		return false
	})
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "next"}), nil, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := p.result(t, next, 15*time.Second); r.Status != "cancelled" {
		t.Errorf("next: %+v", r)
	}
}

// A follow-up sent while claude runs a turn of its own (the real CLI
// 2.1.332 runs one when a Bash command it started with run_in_background
// finishes while it is idle, and queues a prompt sent meanwhile behind it)
// gets its own answer, not that turn's; that turn's text is told in the
// follow-up as a status event; and a follow-up of the follow-up continues
// the conversation (it used to be refused: "claude never started it").
func TestFollowUpDuringATurnOfClaudesOwn(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	auto := fakeapi.Text("AUTO: the background command printed background-finished")
	auto.Delay = 4 * time.Second // the follow-up arrives while this turn waits for the API
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": "sleep 2; echo background-finished", "description": "wait", "run_in_background": true}),
		fakeapi.Text("Started it in the background."),
		auto,
		fakeapi.Text("B: four"),
		fakeapi.Text("C: five"),
	})
	p := w.serve(nil) // the editor allows the Bash command
	a := p.result(t, p.run(map[string]any{"prompt": "run it in the background", "taskId": "a"}), 90*time.Second)
	if a.Status != "completed" || a.Result != "Started it in the background." {
		t.Fatalf("a: %+v", a)
	}
	eventually(t, 60*time.Second, "claude never ran its own turn after the background command", func() bool {
		return len(w.api.MessageRequests()) >= 3
	})
	followUp := func(of, id, prompt string) lspext.RunResult {
		call := p.client.Start("workspace/executeCommand", executeCommand("claude.followUp", map[string]any{"taskId": of, "prompt": prompt, "newTaskId": id}))
		return p.result(t, call, 90*time.Second)
	}
	b := followUp("a", "b", "what is 2+2?")
	if b.Status != "completed" || b.Result != "B: four" || b.SessionID != a.SessionID {
		t.Errorf("b: %+v (a's session %s)", b, a.SessionID)
	}
	told := false
	evs := p.client.Events(t, "b")
	for _, e := range lsptest.Of[*lspext.StatusEvent](evs) {
		told = told || strings.Contains(e.Message, "AUTO: the background command printed background-finished")
	}
	for _, e := range lsptest.Of[*lspext.TextEvent](evs) {
		if strings.Contains(e.Text, "AUTO") {
			t.Errorf("b's transcript has the other turn's text: %+v", e)
		}
	}
	if !told {
		t.Errorf("the turn claude ran on its own was not told: %s", lsptest.Kinds(evs))
	}
	if c := followUp("b", "c", "and 2+3?"); c.Status != "completed" || c.Result != "C: five" || c.SessionID != a.SessionID {
		t.Errorf("c: %+v", c)
	}
}
