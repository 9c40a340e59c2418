package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// binary is the claude-bridge built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "claude-bridge-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "claude-bridge")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building claude-bridge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	keyA = "sk-ant-test-key-aaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "sk-ant-test-key-bbbbbbbbbbbbbbbbbbbbbbbb"
)

// world is a temp HOME, a workspace and an API stand-in for one bridge.
type world struct {
	t         *testing.T
	home      string
	workspace string
	logDir    string
	api       *fakeapi.Server
	claude    string
	as        []string // a command that runs the bridge as another user (setpriv ...), or nil
}

func newWorld(t *testing.T, keys ...string) *world {
	t.Helper()
	w := &world{t: t, home: t.TempDir(), workspace: t.TempDir(), logDir: t.TempDir(), claude: fakeapi.ClaudePath(t)}
	w.api = fakeapi.Start(t, fakeapi.Config{Keys: keys})
	if err := os.WriteFile(filepath.Join(w.workspace, "main.go"), []byte("package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) writeKey(key string, mode os.FileMode) {
	w.t.Helper()
	dir := filepath.Join(w.home, ".claude")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		w.t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".api_key.tmp")
	if err := os.WriteFile(tmp, []byte(key+"\n"), mode); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "api_key")); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) env(extra ...string) []string {
	env := fakeapi.ClaudeEnv(w.home, w.api.URL())
	env = append(env, "CLAUDE_BRIDGE_CLAUDE="+w.claude, "XDG_STATE_HOME="+w.logDir)
	return append(env, extra...)
}

// bridgeProc is a running claude-bridge serve with an editor attached.
type bridgeProc struct {
	cmd    *exec.Cmd
	client *lsptest.Client
	stdin  interface{ Close() error }
	stderr *bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, once done
}

func (w *world) serve(initOpts map[string]any, extraEnv ...string) *bridgeProc {
	w.t.Helper()
	argv := append(append([]string(nil), w.as...), binary, "serve", "--log-level", "debug")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = w.env(extraEnv...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	p := &bridgeProc{cmd: cmd, stdin: stdin, stderr: &stderr, done: make(chan struct{})}
	p.client = lsptest.New(stdout, stdin)
	go func() { p.err = cmd.Wait(); close(p.done) }()
	w.t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.client.Request("shutdown", nil, nil, 20*time.Second)
		_ = p.client.Notify("exit", nil)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			w.t.Error("bridge did not exit")
		}
	})
	p.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) { return &protocol.MessageActionItem{Title: "Allow"}, nil })
	params := map[string]any{
		"processId": os.Getpid(), "rootUri": "file://" + w.workspace,
		"capabilities":          map[string]any{"window": map[string]any{"workDoneProgress": true}},
		"initializationOptions": initOpts,
	}
	if err := p.client.Request("initialize", params, nil, 15*time.Second); err != nil {
		w.t.Fatalf("initialize: %v (stderr: %s)", err, stderr.String())
	}
	_ = p.client.Notify("initialized", map[string]any{})
	return p
}

func (p *bridgeProc) run(args map[string]any) *lsptest.Call {
	return p.client.Start("workspace/executeCommand", map[string]any{"command": "claude.run", "arguments": []any{args}})
}

// result waits for a claude.run / claude.followUp reply, decoded strictly.
func (p *bridgeProc) result(t *testing.T, call *lsptest.Call, timeout time.Duration) lspext.RunResult {
	t.Helper()
	m, err := call.Wait(timeout)
	if err != nil {
		t.Fatal(err)
	}
	if m.Error != nil {
		t.Fatalf("error reply: %d %s", m.Error.Code, m.Error.Message)
	}
	return lsptest.Decode[lspext.RunResult](t, "claude.run reply", m.Result)
}

func (p *bridgeProc) authStatus(t *testing.T) lspext.AuthStatus {
	t.Helper()
	var st lspext.AuthStatus
	if err := p.client.Request("workspace/executeCommand", map[string]any{"command": "claude.authStatus", "arguments": []any{}}, &st, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	return st
}

// processesIn lists "pid cmdline" of processes working in dir.
func processesIn(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || cwd != dir {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return out
}

// noKeyIn fails if any file under dir holds key.
func noKeyIn(t *testing.T, dir, key string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("%s holds the API key (fingerprint %s)", p, fakeapi.KeyFingerprint(key))
		}
		return nil
	})
}

func slowText(s string, d time.Duration) fakeapi.Turn {
	t := fakeapi.Text(s)
	t.Delay = d
	return t
}

// An editor that stops the bridge with SIGTERM gets no claude left behind.
func TestSIGTERMStopsTasksAndExits(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{slowText("never", 60*time.Second)})
	p := w.serve(nil)
	p.run(map[string]any{"prompt": "slow", "taskId": "term"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(processesIn(w.workspace)) == 0 {
		t.Fatal("no claude running: the test would prove nothing")
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the bridge did not exit within 10 s of SIGTERM")
	}
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	assertGone(t, w.workspace)
}

func TestServeAcceptsTheFlagsLSPClientsAdd(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--stdio", "--clientProcessId=42", "--log-file", "-")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	// stdin is empty: the bridge sees the editor gone at once and exits 1
	// (no shutdown), not 2 (usage).
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit = %v\n%s", err, out)
	}
}
