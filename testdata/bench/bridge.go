package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// benchKey is the made-up API key the stand-in accepts.
const benchKey = "sk-ant-bench-claude-bridge-0000000000000000"

const mainGo = "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"

// world is a temp HOME (with the key file the bridge's auth manager reads),
// a workspace and the environment a bridge runs in.
type world struct {
	home      string
	workspace string
	logDir    string
	env       []string
}

// newWorld makes dir/home, dir/workspace and dir/logs; claude is what the
// bridge runs as claude, apiURL the stand-in's URL ("" for none).
func newWorld(dir, claude, apiURL string) (*world, error) {
	w := &world{home: filepath.Join(dir, "home"), workspace: filepath.Join(dir, "workspace"), logDir: filepath.Join(dir, "logs")}
	for _, d := range []string{filepath.Join(w.home, ".claude"), w.workspace, w.logDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// The bridge resolves symlinks in its workspace paths; keep ours canonical.
	if ws, err := filepath.EvalSymlinks(w.workspace); err == nil {
		w.workspace = ws
	}
	if err := os.WriteFile(filepath.Join(w.home, ".claude", "api_key"), []byte(benchKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := w.resetWorkspace(); err != nil {
		return nil, err
	}
	w.env = append(fakeapi.ClaudeEnv(w.home, apiURL), "CLAUDE_BRIDGE_CLAUDE="+claude, "XDG_STATE_HOME="+w.logDir)
	return w, nil
}

func (w *world) resetWorkspace() error {
	return os.WriteFile(filepath.Join(w.workspace, "main.go"), []byte(mainGo), 0o644)
}

// bridgeProc is a running `claude-bridge serve` with an editor attached.
type bridgeProc struct {
	cmd    *exec.Cmd
	client *lsptest.Client
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBridge starts the bridge and initializes it like an editor would. It
// returns the time from just before the process was started to the arrival
// of the initialize reply.
func startBridge(binary string, w *world, initOpts map[string]any) (*bridgeProc, time.Duration, error) {
	return startBridgeArgs(binary, w, initOpts)
}

// startBridgeArgs is startBridge with more arguments for `serve`.
func startBridgeArgs(binary string, w *world, initOpts map[string]any, args ...string) (*bridgeProc, time.Duration, error) {
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = w.env
	cmd.Dir = w.workspace
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	p := &bridgeProc{cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	params := map[string]any{
		"processId": os.Getpid(),
		"rootUri":   "file://" + w.workspace,
		"workspaceFolders": []map[string]string{
			{"uri": "file://" + w.workspace, "name": filepath.Base(w.workspace)},
		},
		"capabilities":          map[string]any{"window": map[string]any{"workDoneProgress": true}},
		"initializationOptions": initOpts,
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	p.client = lsptest.New(stdout, stdin)
	p.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) {
		return map[string]string{"title": "Allow"}, nil
	})
	go func() { p.err = cmd.Wait(); close(p.done) }()
	call := p.client.Start("initialize", params)
	m, err := call.Wait(15 * time.Second)
	if err != nil {
		p.kill()
		return nil, 0, fmt.Errorf("initialize: %v (stderr: %s)", err, p.stderr.String())
	}
	d := m.At.Sub(t0)
	if m.Error != nil {
		p.kill()
		return nil, 0, fmt.Errorf("initialize: error %d %s", m.Error.Code, m.Error.Message)
	}
	if err := p.client.Notify("initialized", map[string]any{}); err != nil {
		p.kill()
		return nil, 0, err
	}
	return p, d, nil
}

func (p *bridgeProc) pid() int { return p.cmd.Process.Pid }

// vmHWM is the bridge's peak resident set size in kB, from /proc.
func (p *bridgeProc) vmHWM() (int, error) {
	return procStatusKB(p.pid(), "VmHWM")
}

func procStatusKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.Atoi(f[0])
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// stop shuts the bridge down the LSP way (shutdown, exit) and waits for it.
func (p *bridgeProc) stop() error {
	if err := p.client.Request("shutdown", nil, nil, 20*time.Second); err != nil {
		p.kill()
		return fmt.Errorf("shutdown: %v", err)
	}
	_ = p.client.Notify("exit", nil)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
		return fmt.Errorf("the bridge did not exit after shutdown and exit")
	}
	if p.err != nil {
		return fmt.Errorf("the bridge exited: %v (stderr: %s)", p.err, p.stderr.String())
	}
	return nil
}

func (p *bridgeProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// runTask sends claude.run, with token as its workDoneToken unless "",
// and waits for its reply.
func (p *bridgeProc) runTask(taskID, prompt, token string, timeout time.Duration) (lsptest.Message, error) {
	params := map[string]any{
		"command":   "claude.run",
		"arguments": []any{map[string]any{"prompt": prompt, "taskId": taskID}},
	}
	if token != "" {
		params["workDoneToken"] = token
	}
	call := p.client.Start("workspace/executeCommand", params)
	m, err := call.Wait(timeout)
	if err != nil {
		return m, err
	}
	if m.Error != nil {
		return m, fmt.Errorf("claude.run: error %d %s", m.Error.Code, m.Error.Message)
	}
	return m, nil
}

// taskReply is the part of claude.run's reply the bench checks.
type taskReply struct {
	Status string `json:"status"`
	Result string `json:"result"`
}

// event is a claude/event as the editor received it.
type event struct {
	TaskID    string `json:"taskId"`
	Seq       int    `json:"seq"`
	Kind      string `json:"kind"`
	Text      string `json:"text"`
	IsError   bool   `json:"isError"`
	Automatic bool   `json:"automatic"`
	Name      string `json:"name"`
	At        time.Time
}

// taskEvents returns the claude/events of a task in arrival order, and
// checks that seq counts from 1 with no gaps.
func taskEvents(c *lsptest.Client, taskID string) ([]event, error) {
	var out []event
	needle := []byte(`"taskId":"` + taskID + `"`)
	for _, m := range c.Messages("claude/event") {
		if !bytes.Contains(m.Params, needle) {
			continue
		}
		var e event
		if err := json.Unmarshal(m.Params, &e); err != nil {
			return nil, err
		}
		if e.TaskID != taskID {
			continue
		}
		e.At = m.At
		if e.Seq != len(out)+1 {
			return nil, fmt.Errorf("task %s: event seq %d after %d events", taskID, e.Seq, len(out))
		}
		out = append(out, e)
	}
	return out, nil
}
