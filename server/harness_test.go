package server_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

const testKey = "sk-server-test-key"

// keyAuth hands claude a fixed key through an apiKeyHelper script. The
// real auth manager is tested in runner/auth and end to end through the
// binary in cmd/claude-bridge. fp, if set, is its Fingerprint: the real
// one's is "" while the helper yields no key.
type keyAuth struct {
	helper string
	fp     func() string
}

func (k keyAuth) Launch() (runner.Launch, error) {
	b, _ := json.Marshal(map[string]string{"apiKeyHelper": k.helper})
	return runner.Launch{Args: []string{"--settings", string(b)}}, nil
}
func (keyAuth) CheckInit(string) string                           { return "" }
func (keyAuth) On401(context.Context, string) runner.AuthDecision { return runner.AuthDecision{} }
func (keyAuth) TaskEnded(string)                                  {}
func (k keyAuth) Fingerprint() string {
	if k.fp != nil {
		return k.fp()
	}
	return ""
}
func (keyAuth) Rotated(context.Context, string) bool { return false }
func (keyAuth) Explain() string                      { return "" }
func (keyAuth) Status() any                          { return map[string]string{"status": "ok", "mode": "test"} }
func (keyAuth) Reconfigure(json.RawMessage) error    { return nil }
func (keyAuth) Close() error                         { return nil }

// bridge is a server under test with an editor client attached.
type bridge struct {
	t       *testing.T
	api     *fakeapi.Server
	client  *lsptest.Client
	folders []string
	exit    chan int // receives the exit code once; exited is closed then
	exited  chan struct{}
	stdin   io.WriteCloser
}

type bridgeOpts struct {
	turns   []fakeapi.Turn
	folders int
	// init is initializationOptions. Unless it sets prewarm, the bridge
	// starts no warm claude: the tests of a task's own process (its
	// cleanup, its start) count claude processes in the workspace, and
	// warm_e2e_test.go tests warm claudes.
	init        map[string]any
	claudePath  string        // "" = the real CLI
	helper      string        // the apiKeyHelper; "" = one that prints testKey
	fingerprint func() string // the auth manager's Fingerprint; nil: ""
	noProgress  bool
	// initialize, if set, changes initialize's params (built for folders)
	// before they are sent.
	initialize func(params map[string]any, folders []string)
}

func startBridge(t *testing.T, o bridgeOpts) *bridge {
	t.Helper()
	claude := o.claudePath
	if claude == "" {
		claude = fakeapi.ClaudePath(t)
	}
	api := fakeapi.Start(t, fakeapi.Config{Turns: o.turns, Keys: []string{testKey}})
	home := t.TempDir()
	helper := o.helper
	if helper == "" {
		helper = fakeapi.WriteKeyHelper(t, t.TempDir(), testKey)
	}
	if o.folders == 0 {
		o.folders = 1
	}
	var folders []string
	var wf []map[string]string
	for i := 0; i < o.folders; i++ {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		folders = append(folders, dir)
		wf = append(wf, map[string]string{"uri": "file://" + dir, "name": filepath.Base(dir)})
	}
	srv := server.New(server.Options{
		Log:     zaptest.NewLogger(t),
		Version: "test",
		Runner:  runner.Config{ClaudePath: claude, Env: fakeapi.ClaudeEnv(home, api.URL()), StopGrace: 2 * time.Second},
		NewAuth: func(context.Context, json.RawMessage, server.AuthNotifier) (server.AuthService, error) {
			return &keyAuth{helper: helper, fp: o.fingerprint}, nil
		},
	})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	b := &bridge{t: t, api: api, folders: folders, exit: make(chan int, 1), exited: make(chan struct{}), stdin: inW}
	go func() {
		code := srv.Serve(context.Background(), inR, outW)
		outW.Close()
		b.exit <- code
		close(b.exited)
	}()
	b.client = lsptest.New(outR, inW)
	caps := map[string]any{
		"window":    map[string]any{"workDoneProgress": !o.noProgress},
		"workspace": map[string]any{"applyEdit": true, "workspaceEdit": map[string]any{"documentChanges": true}},
	}
	init := map[string]any{"prewarm": false}
	for k, v := range o.init {
		init[k] = v
	}
	params := map[string]any{"processId": nil, "rootUri": "file://" + folders[0], "workspaceFolders": wf, "capabilities": caps, "initializationOptions": init}
	if o.initialize != nil {
		o.initialize(params, folders)
	}
	var res map[string]any
	if err := b.client.Request("initialize", params, &res, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = b.client.Notify("initialized", map[string]any{})
	t.Cleanup(func() {
		select {
		case <-b.exited:
			return
		default:
		}
		_ = b.client.Request("shutdown", nil, nil, 20*time.Second)
		_ = b.client.Notify("exit", nil)
		select {
		case <-b.exited:
		case <-time.After(15 * time.Second):
			t.Error("bridge did not exit after shutdown and exit")
		}
	})
	return b
}

// run starts claude.run with args and returns the call.
func (b *bridge) run(args map[string]any) *lsptest.Call {
	return b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.run", "arguments": []any{args}})
}

// result waits for a claude.run / claude.followUp reply.
func (b *bridge) result(call *lsptest.Call) server.RunResult {
	b.t.Helper()
	m, err := call.Wait(90 * time.Second)
	if err != nil {
		b.t.Fatal(err)
	}
	if m.Error != nil {
		b.t.Fatalf("command failed: %d %s", m.Error.Code, m.Error.Message)
	}
	var r server.RunResult
	if err := json.Unmarshal(m.Result, &r); err != nil {
		b.t.Fatal(err)
	}
	return r
}

func (b *bridge) command(cmd string, arg any, out any) error {
	return b.client.Request("workspace/executeCommand", map[string]any{"command": cmd, "arguments": []any{arg}}, out, 30*time.Second)
}

// ws returns workspace folder i.
func (b *bridge) ws(i int) string { return b.folders[i] }
