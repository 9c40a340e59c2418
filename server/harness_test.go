package server_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/server"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

const testKey = "sk-server-test-key"

// writeKeyFile gives the auth manager of a bridge with home as its home
// directory the key testKey, in the default key file (~/.claude/api_key,
// 0600): the bridge's own key helper hands it to claude. The auth manager
// is tested on its own in runner/auth, and end to end through the binary
// in cmd/claude-bridge.
func writeKeyFile(t *testing.T, home string) {
	t.Helper()
	dir := filepath.Join(home, ".claude")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api_key"), []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// bridge is a server under test with an editor client attached.
type bridge struct {
	t       *testing.T
	home    string // claude's HOME
	api     *fakeapi.Server
	client  *lsptest.Client
	folders []string
	// authHome is the auth manager's home directory (its key file is
	// ~/.claude/api_key there).
	authHome string
	exit     chan int // receives the exit code once; exited is closed then
	exited   chan struct{}
	stdin    io.WriteCloser
}

type bridgeOpts struct {
	turns   []fakeapi.Turn
	folders int
	// init is initializationOptions. Unless it sets prewarm, the bridge
	// starts no warm claude: the tests of a task's own process (its
	// cleanup, its start) count claude processes in the workspace, and
	// warm_e2e_test.go tests warm claudes.
	init       map[string]any
	claudePath string // "" = the real CLI
	noProgress bool
	noAuth     bool     // no auth manager (Options.Auth nil): claude's own authentication
	noKey      bool     // no key file: the auth manager finds no key until the test writes it (writeKeyFile(t, b.authHome))
	claudeEnv  []string // more of claude's environment (CLAUDE_CODE_ENABLE_TODO_TOOLS=1)
	// initialize, if set, changes initialize's params (built for folders)
	// before they are sent.
	initialize func(params map[string]any, folders []string)
	// conversations are the stand-in's scripts by prompt (tasks running
	// at once); stateDir the bridge's state directory ("" a new one) and
	// folderDirs its folders ("" new ones): a second bridge of the same
	// user.
	conversations []fakeapi.Conversation
	stateDir      string
	folderDirs    []string
}

func startBridge(t *testing.T, o bridgeOpts) *bridge {
	t.Helper()
	claude := o.claudePath
	if claude == "" {
		claude = fakeapi.ClaudePath(t)
	}
	api := fakeapi.Start(t, fakeapi.Config{Turns: o.turns, Keys: []string{testKey}, Conversations: o.conversations})
	home := t.TempDir()
	authHome := t.TempDir()
	if !o.noKey {
		writeKeyFile(t, authHome)
	}
	if o.folders == 0 {
		o.folders = 1
	}
	var folders []string
	var wf []map[string]string
	for i := 0; i < o.folders; i++ {
		dir := t.TempDir()
		if i < len(o.folderDirs) {
			dir = o.folderDirs[i]
		} else if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		folders = append(folders, dir)
		wf = append(wf, map[string]string{"uri": "file://" + dir, "name": filepath.Base(dir)})
	}
	opts := server.Options{
		Log:      zaptest.NewLogger(t),
		Version:  "test",
		Runner:   runner.Config{ClaudePath: claude, Env: append(fakeapi.ClaudeEnv(home, api.URL()), o.claudeEnv...), StopGrace: 2 * time.Second},
		Auth:     &auth.Config{Home: authHome, AuditPath: filepath.Join(authHome, "auth-audit.jsonl")},
		StateDir: o.stateDir,
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if o.noAuth {
		opts.Auth = nil
	}
	srv := server.New(opts)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	b := &bridge{t: t, home: home, api: api, folders: folders, authHome: authHome, exit: make(chan int, 1), exited: make(chan struct{}), stdin: inW}
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
	var res protocol.InitializeResult
	if err := b.client.Request("initialize", params, &res, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if c := res.Capabilities.ExecuteCommandProvider; c == nil || strings.Join(c.Commands, " ") != strings.Join(lspext.Commands, " ") {
		t.Fatalf("initialize: executeCommandProvider = %+v, want the commands %v", c, lspext.Commands)
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
func (b *bridge) result(call *lsptest.Call) lspext.RunResult {
	b.t.Helper()
	m, err := call.Wait(90 * time.Second)
	if err != nil {
		b.t.Fatal(err)
	}
	if m.Error != nil {
		b.t.Fatalf("command failed: %d %s", m.Error.Code, m.Error.Message)
	}
	var r lspext.RunResult
	if err := lspext.Decode(m.Result, &r); err != nil {
		b.t.Fatalf("reply %s: %v", m.Result, err)
	}
	return r
}

// command sends workspace/executeCommand with arg as arguments[0] and
// decodes the reply strictly into out (an lspext type; nil: not decoded).
// A nil arg sends no arguments.
func (b *bridge) command(cmd string, arg any, out any) error {
	args := []any{}
	if arg != nil {
		args = append(args, arg)
	}
	return b.client.Request("workspace/executeCommand", map[string]any{"command": cmd, "arguments": args}, out, 30*time.Second)
}

// ws returns workspace folder i.
func (b *bridge) ws(i int) string { return b.folders[i] }
