package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/server"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
)

// TestAuthConfig: the editor's auth object, durations in seconds, becomes
// the auth manager's configuration over the bridge's own home, environment
// and default audit trail; a duration out of range is refused.
func TestAuthConfig(t *testing.T) {
	base := auth.Config{Home: "/home/u", Environ: []string{"ANTHROPIC_API_KEY=secret"}, AuditPath: "/var/log/cb/auth-audit.jsonl"}
	var c lspext.AuthConfiguration
	if err := lspext.Decode([]byte(`{"mode":"helper","helperPath":"~/h.sh","manageHelper":false,"keyFile":"/k","keyCommand":"pass show x",
		"keyCommandTimeoutSeconds":2.5,"refreshIntervalSeconds":60,"auditPath":"~/a.jsonl","auditMaxBytes":100,"settings":{"model":"opus"}}`), &c); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.AuthConfig(&c, base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != auth.ModeHelper || cfg.HelperPath != "~/h.sh" || *cfg.ManageHelper || cfg.KeyFile != "/k" || cfg.KeyCommand != "pass show x" ||
		cfg.KeyCommandTimeout != 2500*time.Millisecond || cfg.RefreshInterval != time.Minute || cfg.AuditPath != "~/a.jsonl" ||
		cfg.AuditMaxBytes != 100 || cfg.Settings["model"] != "opus" || cfg.Home != "/home/u" || len(cfg.Environ) != 1 {
		t.Errorf("config = %+v", cfg)
	}
	if cfg, err := server.AuthConfig(nil, base); err != nil || cfg.AuditPath != base.AuditPath || cfg.Mode != "" || cfg.Home != base.Home {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	for _, bad := range []lspext.AuthConfiguration{{RefreshIntervalSeconds: -1}, {KeyCommandTimeoutSeconds: 2e6}} {
		if _, err := server.AuthConfig(&bad, base); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// authStatus asks for claude.authStatus and decodes the reply strictly.
func (b *bridge) authStatus() lspext.AuthStatus {
	b.t.Helper()
	var st lspext.AuthStatus
	if err := b.command(lspext.CommandAuthStatus, nil, &st); err != nil {
		b.t.Fatal(err)
	}
	return st
}

// waitAuthOK waits for the claude/authChanged that reports a key: the
// auth manager's first check has found one.
func (b *bridge) waitAuthOK() {
	b.t.Helper()
	if _, err := b.client.WaitFor(lspext.MethodAuthChanged, 30*time.Second, func(m lsptest.Message) bool {
		return lsptest.Decode[lspext.AuthChangedParams](b.t, lspext.MethodAuthChanged, m.Params).Status == lspext.AuthOK
	}); err != nil {
		b.t.Fatal(err)
	}
}

// The auth manager's own status: the key from the key file, the helper the
// bridge wrote, the key file as the helper judges it.
func TestAuthStatusOfTheManager(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.waitAuthOK()
	st := b.authStatus()
	if st.Status != lspext.AuthOK || st.Mode != lspext.AuthModeHelper || st.Source != lspext.SourceKeyFile || !st.Managed ||
		!st.HelperExists || !st.HelperManagedContent || st.HelperMode != "0700" || st.Fingerprint == "" || st.LastRefresh == "" ||
		st.KeyFile == nil || !st.KeyFile.OK || st.KeyFile.Mode != "0600" || st.RuntimeKeyFile != "" {
		t.Errorf("status = %+v (key file %+v)", st, st.KeyFile)
	}
	if _, err := time.Parse(time.RFC3339Nano, st.LastRefresh); err != nil {
		t.Errorf("lastRefresh: %v", err)
	}
}

// Without an auth manager the reply says so, as a valid AuthStatus.
func TestAuthStatusWithoutAnAuthManager(t *testing.T) {
	b := startBridge(t, bridgeOpts{noAuth: true})
	st := b.authStatus()
	if st.Status != lspext.AuthInherit || st.Mode != lspext.AuthModeInherit || st.Source != lspext.SourceInherit || st.Message == "" || st.KeyFile != nil {
		t.Errorf("status = %+v", st)
	}
}

// TestRefusedAuthModeIsNoMode: auth settings refused at initialize for a
// mode that is none leave claude.authStatus without a mode (issue 12: it
// said "helper", a mode nobody asked for), with status "error" and why.
func TestRefusedAuthModeIsNoMode(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"auth": map[string]any{"mode": "bogus"}}})
	b.waitAuthChanges(1, lspext.AuthError)
	st := b.authStatus()
	if st.Status != lspext.AuthError || st.Mode != "" || st.Source != lspext.SourceNone || !strings.Contains(st.LastError, `auth.mode is "bogus"`) {
		t.Errorf("status = %+v", st)
	}
}

// Auth settings the manager refuses: the user is told once the editor has
// the initialize reply, claude.authStatus says why (a valid AuthStatus),
// a task fails saying why instead of running claude with other
// credentials; settings that work, sent later, bring the manager up.
func TestRefusedAuthSettingsThenGoodOnes(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"auth": map[string]any{"helperPath": "relative/helper.sh"}}})
	m, err := b.client.WaitFor("window/showMessage", 10*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), "authentication is not set up")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Params), "must be absolute or start with ~/") {
		t.Errorf("message = %s", m.Params)
	}
	st := b.authStatus()
	if st.Status != lspext.AuthError || st.Mode != lspext.AuthModeHelper || st.Source != lspext.SourceNone ||
		!strings.Contains(st.LastError, "auth.helperPath") || st.KeyFile != nil {
		t.Errorf("status = %+v", st)
	}
	res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "refused"}))
	if res.Status != "failed" || !strings.Contains(res.Result, "authentication is not set up") {
		t.Errorf("result = %+v", res)
	}
	if n := len(b.api.MessageRequests()); n != 0 {
		t.Errorf("%d API requests without the bridge's key", n)
	}

	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"auth": map[string]any{}}}}); err != nil {
		t.Fatal(err)
	}
	b.waitAuthOK()
	if st = b.authStatus(); st.Status != lspext.AuthOK || st.Source != lspext.SourceKeyFile {
		t.Fatalf("after good settings: %+v", st)
	}
	res = b.result(b.run(map[string]any{"prompt": "hi", "taskId": "good"}))
	if res.Status != "completed" {
		t.Errorf("result = %+v", res)
	}
}

// TestClaudeThatFailsIsReported: a claude that is found but does not run
// (`--version` exits 3 with a message) is reported in claude.authStatus with
// its exit code and its words, not as missing, and a task's failure quotes
// it; one that is not executable says chmod +x, at start-up too (issue 16).
func TestClaudeThatFailsIsReported(t *testing.T) {
	failing := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'claude: cannot read ~/.claude/settings.json' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, bridgeOpts{claudePath: failing})
	st := b.authStatus()
	want := "claude CLI at " + failing + " does not run (`" + failing + " --version` exited with code 3: claude: cannot read ~/.claude/settings.json)"
	if st.Claude == nil || st.Claude.Path != failing || !strings.HasPrefix(st.Claude.Problem, want) || st.Claude.Version != "" {
		t.Errorf("claude = %+v", st.Claude)
	}
	if res := b.result(b.run(map[string]any{"prompt": "hi"})); res.Status != "failed" || !strings.Contains(res.Result, "exited with code 3") ||
		!strings.Contains(res.Result, "cannot read ~/.claude/settings.json") {
		t.Errorf("result = %+v", res)
	}

	noexec := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b2 := startBridge(t, bridgeOpts{claudePath: noexec})
	m, err := b2.client.WaitFor("window/showMessage", 10*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), "is not executable")
	})
	if err != nil {
		t.Fatal(err)
	}
	var p protocol.ShowMessageParams
	if json.Unmarshal(m.Params, &p) != nil || !strings.HasPrefix(p.Message, "claude-bridge: claude CLI at "+noexec+" is not executable: run `chmod +x "+noexec+"`") {
		t.Errorf("message = %s", m.Params)
	}
	if st := b2.authStatus(); st.Claude == nil || !strings.Contains(st.Claude.Problem, "is not executable: run `chmod +x "+noexec+"`") {
		t.Errorf("claude = %+v", st.Claude)
	}
	res := b2.result(b2.run(map[string]any{"prompt": "hi"}))
	if res.Status != "failed" || !strings.Contains(res.Result, "chmod +x "+noexec) {
		t.Errorf("result = %+v", res)
	}
}
