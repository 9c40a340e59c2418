package auth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// startManager starts a Manager with short timers and stops it at the end.
func startManager(t *testing.T, cfg Config, n Notifier, log *zap.Logger) *Manager {
	t.Helper()
	m, err := New(cfg, log, n)
	if err != nil {
		t.Fatal(err)
	}
	m.debounce = 30 * time.Millisecond
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// readAudit returns the audit trail's records, failing on a malformed line.
func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("malformed audit line %q: %v", sc.Text(), err)
		}
		if _, err := time.Parse(time.RFC3339Nano, rec["time"].(string)); err != nil {
			t.Fatalf("bad time in %q", sc.Text())
		}
		recs = append(recs, rec)
	}
	return recs
}

func auditEvents(t *testing.T, path string) []string {
	var evs []string
	for _, r := range readAudit(t, path) {
		evs = append(evs, r["event"].(string))
	}
	return evs
}

func TestStartWritesHelperAndReportsKey(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK+"\n", 0o600)
	n := newRecNotifier()
	m := startManager(t, cfg, n, nil)

	fi, err := os.Stat(helperPathOf(cfg))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("helper: %v %v", fi, err)
	}
	st := m.Status()
	if st.Status != "ok" || st.Source != SourceKeyFile || st.Fingerprint != Fingerprint(keyFileK) ||
		!st.HelperManagedContent || !st.Managed || st.HelperMode != "0700" || st.TTLMs != 240000 ||
		!st.KeyFile.OK || st.KeyFile.Mode != "0600" || st.LastRefresh == nil || !st.LastRefreshOK {
		t.Fatalf("status %+v", st)
	}
	if m.Fingerprint() != Fingerprint(keyFileK) || m.Explain() != "" {
		t.Fatalf("fingerprint %q explain %q", m.Fingerprint(), m.Explain())
	}
	n.waitFor(t, "authChanged ok", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.source == SourceKeyFile && x.fingerprint == Fingerprint(keyFileK)
	})
	if evs := auditEvents(t, cfg.AuditPath); !slices.Equal(evs[:2], []string{EventHelperWritten, EventRefreshOK}) {
		t.Fatalf("audit events %v", evs)
	}
	// A second bridge with the same configuration leaves the file alone.
	ino := inode(t, helperPathOf(cfg))
	m2 := startManager(t, cfg, nil, nil)
	if inode(t, helperPathOf(cfg)) != ino || m2.Status().Status != "ok" {
		t.Fatal("a second bridge rewrote an identical helper")
	}
}

func TestHelperRestoredByWatcher(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	m := startManager(t, cfg, nil, nil)
	helper := helperPathOf(cfg)
	want, _ := os.ReadFile(helper)
	if l, err := m.Launch(""); err != nil || l.HelperRewritten {
		t.Fatalf("before any restore: HelperRewritten %v, %v", l.HelperRewritten, err)
	}
	restored := func() bool {
		got, err := os.ReadFile(helper)
		fi, _ := os.Stat(helper)
		return err == nil && bytes.Equal(got, want) && fi.Mode().Perm() == 0o700
	}

	os.Remove(helper)
	eventually(t, "restore after delete", restored)

	// An edit in place, and a replacement by rename, as editors do.
	os.WriteFile(helper, []byte("#!/bin/sh\necho sk-ant-someone-elses-key\n"), 0o700)
	eventually(t, "restore after edit", func() bool {
		got, _ := os.ReadFile(helper)
		return bytes.Equal(got, want)
	})
	tmp := helper + ".swp"
	os.WriteFile(tmp, []byte("#!/bin/sh\nexit 1\n"), 0o755)
	os.Rename(tmp, helper)
	eventually(t, "restore after rename", restored)
	os.Chmod(helper, 0o777)
	eventually(t, "restore after chmod", restored)

	// Even the whole directory going away.
	os.RemoveAll(filepath.Dir(helper))
	eventually(t, "restore after rm -rf", restored)

	eventually(t, "audited", func() bool {
		n := 0
		for _, e := range auditEvents(t, cfg.AuditPath) {
			if e == EventHelperRestored {
				n++
			}
		}
		return n >= 4
	})
	// Launch does not wait for the watcher: a helper deleted just now is
	// back before claude starts.
	os.Remove(helper)
	l, err := m.Launch("")
	if err != nil || !restored() {
		t.Fatalf("launch right after a delete: %v", err)
	}
	// The launch says another program rewrote the helper: no warm claude
	// is started on it (runner's warmer).
	if !l.HelperRewritten {
		t.Error("Launch.HelperRewritten is false after restores")
	}
	if m.Status().HelperManagedContent != true {
		t.Fatal("status says the content is not managed")
	}
}

// Bridges of one helper version write the same helper whatever their
// settings, so only another program or another bridge version fights over
// it; the bridge gives up after restoreLimit restores and says which.
func TestRestoreGivesUpOnAFight(t *testing.T) {
	v2 := "#!/bin/sh\n# Claude API key helper, generated by claude-bridge (helper version 2).\n#\n# ...\n"
	for _, c := range []struct{ name, foreign, want string }{
		{"another program", "#!/bin/sh\n# my own helper\necho x\n",
			"~/.claude/auth_helper.sh keeps being changed by another program; the bridge stopped restoring it, and a claude already running runs whatever is there at its next key refresh: find what rewrites it, or set auth.helperPath to a file of the bridge's own"},
		{"another bridge version", v2,
			"~/.claude/auth_helper.sh keeps being replaced by the key helper of another claude-bridge version (helper version 2; this bridge's is version " + strconv.Itoa(helperVersion) + "); the bridge stopped restoring it: run one claude-bridge version at a time, or give each version its own auth.helperPath"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			n := newRecNotifier()
			m := startManager(t, cfg, n, nil)
			m.mu.Lock()
			m.restoreLimit = 3
			m.mu.Unlock()
			helper := helperPathOf(cfg)
			foreign := []byte(c.foreign)
			for i := 0; i < 3; i++ {
				os.WriteFile(helper, foreign, 0o700)
				eventually(t, "restore", func() bool {
					got, _ := os.ReadFile(helper)
					return !bytes.Equal(got, foreign)
				})
			}
			n.waitFor(t, "a warning about the fight", func(x note) bool {
				return x.kind == "show" && x.level == LevelWarning && x.text == "claude-bridge: "+c.want
			})
			os.WriteFile(helper, foreign, 0o700)
			time.Sleep(300 * time.Millisecond)
			if got, _ := os.ReadFile(helper); !bytes.Equal(got, foreign) {
				t.Fatal("kept restoring after giving up")
			}
			if st := m.Status(); st.HelperManagedContent || !slices.Contains(st.Problems, c.want) {
				t.Fatalf("status %+v", st)
			}
			if _, err := m.Launch(""); err == nil || !strings.HasSuffix(err.Error(), "and the bridge no longer restores it: "+c.want) {
				t.Fatalf("launch: %v", err)
			}
		})
	}
}

// auth.settings.env reaches claude's environment and that of everything it
// starts: a key there is refused, with the fix, and a Reconfigure with one
// keeps the old settings.
func TestSettingsEnvWithAKeyIsRefused(t *testing.T) {
	for _, c := range []struct {
		env  map[string]any
		want string
	}{
		{map[string]any{"ANTHROPIC_API_KEY": keyFileK}, "auth.settings.env.ANTHROPIC_API_KEY is refused: it would put an API key into the environment of claude and of every command it runs, and past the bridge's key helper; write the key into ~/.claude/api_key (chmod 600), use auth.keyCommand, or start the bridge with CLAUDE_API_KEY"},
		{map[string]any{"ANTHROPIC_AUTH_TOKEN": "tok"}, "auth.settings.env.ANTHROPIC_AUTH_TOKEN is refused"},
		{map[string]any{"CLAUDE_API_KEY": ""}, "auth.settings.env.CLAUDE_API_KEY is refused"},
		{map[string]any{"ANTHROPIC_CUSTOM_HEADERS": "x-api-key: " + keyFileK}, "auth.settings.env.ANTHROPIC_CUSTOM_HEADERS is refused: its value holds an API key"},
		{map[string]any{"MY_TOKEN": "Bearer " + keyEnv}, "auth.settings.env.MY_TOKEN is refused: its value holds an API key"},
	} {
		cfg := testConfig(t)
		cfg.Settings = map[string]any{"env": c.env}
		_, err := New(cfg, nil, nil)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), keyFileK) {
			t.Errorf("%v: %v", masked(fmt.Sprint(c.env)), err)
		}
	}
	// A Reconfigure with a key in the env block keeps what was there.
	cfg := testConfig(t)
	cfg.Settings = map[string]any{"env": map[string]any{"MY_SETTING": "1"}}
	m := startManager(t, cfg, nil, nil)
	bad := cfg
	bad.Settings = map[string]any{"env": map[string]any{"ANTHROPIC_API_KEY": keyFileK}}
	if err := m.Reconfigure(bad); err == nil {
		t.Fatal("Reconfigure took a key in auth.settings.env")
	}
	l, err := m.Launch("")
	if err != nil {
		t.Fatal(err)
	}
	if env := launchSettings(t, l)["env"].(map[string]any); env["MY_SETTING"] != "1" || env[envAnthropicAPIKey] != "" {
		t.Fatalf("env %v", env)
	}
}

func TestManageHelperFalse(t *testing.T) {
	cfg := testConfig(t)
	own := filepath.Join(cfg.Home, "bin", "my-helper.sh")
	script := []byte("#!/bin/sh\nprintf '%s\\n' " + keyCmdK + "\n")
	writeKey(t, own, string(script), 0o755)
	f := false
	cfg.ManageHelper = &f
	cfg.HelperPath = own
	m := startManager(t, cfg, nil, nil)

	st := m.Status()
	if st.Status != "ok" || st.Source != SourceHelper || st.Fingerprint != Fingerprint(keyCmdK) || st.Managed || st.HelperManagedContent {
		t.Fatalf("status %+v", st)
	}
	l, err := m.Launch("")
	if err != nil || helperCommandOf(t, l) != own {
		t.Fatalf("launch %+v %v", l, err)
	}
	// Edits are the user's business: never restored.
	edited := []byte("#!/bin/sh\necho edited\n")
	os.WriteFile(own, edited, 0o755)
	time.Sleep(200 * time.Millisecond)
	if got, _ := os.ReadFile(own); !bytes.Equal(got, edited) {
		t.Fatal("the user's helper was rewritten")
	}
	if _, err := os.Stat(helperPathOf(cfg)); err == nil {
		t.Fatal("the default helper was written")
	}
	// claude runs the helper as a command: without the exec bit it fails,
	// and the check says so.
	os.Chmod(own, 0o644)
	if err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "is not executable") {
		t.Fatalf("check: %v", err)
	}
	var doc bytes.Buffer
	if m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"}) || !strings.Contains(doc.String(), "fix: chmod 700 ~/bin/my-helper.sh") {
		t.Fatalf("doctor:\n%s", doc.String())
	}
	// A missing own helper is an error, not something to create.
	os.Remove(own)
	if err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "auth.manageHelper is false") {
		t.Fatalf("check: %v", err)
	}
	if _, err := m.Launch(""); err == nil {
		t.Fatal("launch with a missing helper succeeded")
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(own); err == nil {
		t.Fatal("the user's helper was created")
	}
}

func TestKeyFileChangesAreNoticed(t *testing.T) {
	cfg := testConfig(t)
	n := newRecNotifier()
	m := startManager(t, cfg, n, nil)
	kf := keyFilePath(cfg)

	// No key yet: one error message with the helper's reason.
	n.waitFor(t, "no key", func(x note) bool {
		return x.kind == "show" && x.level == LevelError && strings.Contains(x.text, "no API key available")
	})
	mustContain(t, m.Explain(), "no API key available: set CLAUDE_API_KEY")

	replaceKey(t, kf, keyFileK+"\n")
	n.waitFor(t, "key file created", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.source == SourceKeyFile && x.fingerprint == Fingerprint(keyFileK)
	})
	n.waitFor(t, "recovery message", func(x note) bool { return x.kind == "show" && x.level == LevelInfo })

	os.Chmod(kf, 0o644)
	n.waitFor(t, "bad mode", func(x note) bool {
		return x.kind == "changed" && x.status == "error" && x.source == SourceNone
	})
	msg := n.waitFor(t, "bad mode message", func(x note) bool {
		return x.kind == "show" && strings.Contains(x.text, "~/.claude/api_key has mode 0644; run chmod 600 ~/.claude/api_key")
	})
	if msg.level != LevelError {
		t.Fatalf("level %v", msg.level)
	}
	// The same failure again is not shown again.
	before := len(n.shows())
	m.Check(context.Background())
	m.Check(context.Background())
	if len(n.shows()) != before {
		t.Fatalf("a repeated failure was shown again: %+v", n.shows())
	}
	if m.Explain() != "~/.claude/api_key has mode 0644; run chmod 600 ~/.claude/api_key" {
		t.Fatalf("explain %q", m.Explain())
	}

	os.Chmod(kf, 0o600)
	replaceKey(t, kf, keyFileK+"-rotated")
	n.waitFor(t, "rotated", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.fingerprint == Fingerprint(keyFileK+"-rotated")
	})
	os.Remove(kf)
	n.waitFor(t, "removed", func(x note) bool {
		return x.kind == "changed" && x.status == "error" && strings.Contains(m.Status().LastError, "no API key available")
	})
	if !slices.Contains(auditEvents(t, cfg.AuditPath), EventKeySourceChanged) {
		t.Fatal("no key_source_changed in the audit trail")
	}
}

// ~/.claude/api_key a link to a file kept elsewhere: rotating that file
// (or pointing the link at another) is noticed at once, not at the next
// refresh (an hour here). Measured before the fix: only the refresh did.
func TestLinkedKeyFileRotationIsNoticed(t *testing.T) {
	cfg := testConfig(t)
	cfg.RefreshInterval = time.Hour
	secrets := filepath.Join(cfg.Home, "secrets")
	target := filepath.Join(secrets, "anthropic")
	writeKey(t, target, keyFileK, 0o600)
	os.MkdirAll(filepath.Dir(keyFilePath(cfg)), 0o700)
	if err := os.Symlink(target, keyFilePath(cfg)); err != nil {
		t.Fatal(err)
	}
	n := newRecNotifier()
	startManager(t, cfg, n, nil)
	n.waitFor(t, "the first key", func(x note) bool { return x.kind == "changed" && x.fingerprint == Fingerprint(keyFileK) })

	replaceKey(t, target, keyFileK+"-rotated")
	n.waitFor(t, "the rotated target", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.fingerprint == Fingerprint(keyFileK+"-rotated")
	})
	// The link pointed at another directory: the watch follows it.
	other := filepath.Join(cfg.Home, "vault", "key")
	writeKey(t, other, keyFileK+"-vault", 0o600)
	os.Remove(keyFilePath(cfg))
	os.Symlink(other, keyFilePath(cfg))
	n.waitFor(t, "the new link target", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.fingerprint == Fingerprint(keyFileK+"-vault")
	})
	replaceKey(t, other, keyFileK+"-vault-rotated")
	n.waitFor(t, "the new target rotated", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.fingerprint == Fingerprint(keyFileK+"-vault-rotated")
	})
}

func TestRefreshLoopRuns(t *testing.T) {
	cfg := testConfig(t)
	cfg.RefreshInterval = 100 * time.Millisecond
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	m := startManager(t, cfg, nil, nil)
	first := m.Status().LastRefresh
	eventually(t, "a periodic refresh", func() bool {
		st := m.Status()
		return st.LastRefresh.After(*first) && st.Status == "ok"
	})
	if l, _ := m.Launch(""); l.TTLMs != 100 {
		t.Fatalf("ttl %d", l.TTLMs)
	}
}

func TestLaunchHelperMode(t *testing.T) {
	cfg := testConfig(t)
	cfg.Environ = append(cfg.Environ, envAnthropicAPIKey+"="+keyBrEnv, envAnthropicToken+"=tok-bridge")
	cfg.Settings = map[string]any{"model": "sonnet", "apiKeyHelper": "/somewhere/else.sh", "permissions": map[string]any{"deny": []any{"WebFetch"}},
		"env": map[string]any{"MY_SETTING": "mine", "HTTPS_PROXY": "http://proxy.example:3128"}}
	m := startManager(t, cfg, nil, nil)
	l, err := m.Launch("")
	if err != nil {
		t.Fatal(err)
	}
	// claude's command line carries a file's path, not settings.
	if len(l.Args) != 2 || l.Args[0] != "--settings" || l.Args[1] != l.SettingsFile || !strings.HasPrefix(l.SettingsFile, m.runtimeDirForTest()+"/") {
		t.Fatalf("args %q", masked(strings.Join(l.Args, " ")))
	}
	if got := modeOf(t, l.SettingsFile); got != 0o600 {
		t.Fatalf("settings file mode %v", got)
	}
	settings := launchSettings(t, l)
	// The bridge's ANTHROPIC_API_KEY reaches the helper through the
	// bridge's helper configuration, never as itself.
	rk := m.Status().RuntimeKeyFile
	conf := filepath.Join(filepath.Dir(rk), runtimeConfigName)
	wantHelper := helperPathOf(cfg) + " " + argConfig + " " + conf
	if rk == "" || settings["apiKeyHelper"] != wantHelper || settings["model"] != "sonnet" || settings["permissions"] == nil {
		t.Fatalf("settings %v, runtime key file %q", settings, rk)
	}
	if b, _ := os.ReadFile(conf); !strings.Contains(string(b), "env_key_file="+rk+"\nenv_key_source="+envAnthropicAPIKey+"\n") || strings.Contains(string(b), keyBrEnv) {
		t.Fatalf("helper configuration %q", masked(string(b)))
	}
	if b, _ := os.ReadFile(l.SettingsFile); strings.Contains(string(b), keyBrEnv) || strings.Contains(string(b), "tok-bridge") {
		t.Fatal("the settings file holds a key")
	}
	// The pinned env block: the bridge's values, the user's own
	// auth.settings.env over them, credentials cleared.
	env := settings["env"].(map[string]any)
	for k, want := range map[string]string{"ANTHROPIC_BASE_URL": defaultBaseURL, "HTTPS_PROXY": "http://proxy.example:3128", "MY_SETTING": "mine",
		"https_proxy": "", envAnthropicAPIKey: "", envAnthropicToken: "", "NODE_TLS_REJECT_UNAUTHORIZED": "", "CLAUDE_CODE_USE_BEDROCK": ""} {
		if got, ok := env[k]; !ok || got != want {
			t.Errorf("env[%s] = %v (set %v), want %q", k, got, ok, want)
		}
	}
	if l.HelperPath != helperPathOf(cfg) || l.TTLMs != 240000 {
		t.Fatalf("launch %+v", l)
	}

	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cfg.Home, envAnthropicAPIKey + "=sk-ant-from-the-runner",
		envAnthropicToken + "=tok", envClaudeAPIKey + "=not-the-bridges", envOAuthToken + "=oauth", envBridgeAnthropic + "=" + keyBrEnv,
		envTTL + "=1", "OTHER=kept", "MY_COPY=" + keyBrEnv, "OTHER2=kept too"}
	baseCopy := slices.Clone(base)
	claudeEnv := l.Env(base)
	if !slices.Equal(base, baseCopy) {
		t.Fatal("Env modified its argument")
	}
	want := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cfg.Home, "OTHER=kept", "OTHER2=kept too", envTTL + "=240000"}
	if !slices.Equal(claudeEnv, want) {
		t.Fatalf("env %q, want %q", masked(strings.Join(claudeEnv, " ")), want)
	}
	// The helper, run as claude runs it (sh -c, claude's environment),
	// answers with the bridge's ANTHROPIC_API_KEY.
	if out, errOut, code := runCommand(t, settings["apiKeyHelper"].(string), t.TempDir(), claudeEnv); code != 0 || out != keyBrEnv+"\n" {
		t.Fatalf("helper under the launch env: %d %q %q", code, masked(out), masked(errOut))
	}
	if st := m.Status(); st.Source != SourceEnvAnthropicAPIKey || len(st.Problems) != 2 {
		t.Fatalf("status %+v", st) // two warnings: settings.apiKeyHelper and ANTHROPIC_AUTH_TOKEN
	}

	// CLAUDE_API_KEY comes before ANTHROPIC_API_KEY.
	cfg.Environ = append(cfg.Environ, envClaudeAPIKey+"="+keyEnv)
	if err := m.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	l, _ = m.Launch("")
	settings = launchSettings(t, l)
	if b, _ := os.ReadFile(conf); !strings.Contains(string(b), "env_key_source="+envClaudeAPIKey+"\n") {
		t.Fatalf("helper configuration %q", masked(string(b)))
	}
	if out, _, _ := runCommand(t, settings["apiKeyHelper"].(string), "", l.Env(base)); out != keyEnv+"\n" {
		t.Fatalf("helper chose %q", masked(out))
	}
	// Without a key in the bridge's environment, the copy is removed.
	cfg.Environ = []string{"PATH=" + os.Getenv("PATH")}
	if err := m.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rk); !os.IsNotExist(err) {
		t.Fatalf("runtime key file after the key went: %v", err)
	}
	l, _ = m.Launch("")
	if b, _ := os.ReadFile(conf); strings.Contains(string(b), "env_key_file") {
		t.Fatalf("helper configuration %q", masked(string(b)))
	}
}

func TestInheritMode(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mode = ModeInherit
	cfg.Environ = append(cfg.Environ, envAnthropicAPIKey+"="+keyBrEnv, "ANTHROPIC_BASE_URL=http://gateway.example", "ANTHROPIC_CUSTOM_HEADERS=x-api-key: "+keyBrEnv)
	m := startManager(t, cfg, nil, nil)
	l, err := m.Launch("")
	if err != nil || l.HelperPath != "" {
		t.Fatalf("launch %+v %v", l, err)
	}
	// Routing is pinned, credentials are claude's own business, and a
	// value holding a key is not written into the settings file.
	settings := launchSettings(t, l)
	env := settings["env"].(map[string]any)
	if env["ANTHROPIC_BASE_URL"] != "http://gateway.example" || env["HTTP_PROXY"] != "" || settings["apiKeyHelper"] != nil {
		t.Fatalf("settings %v", settings)
	}
	for _, k := range []string{envAnthropicAPIKey, envAnthropicToken, "ANTHROPIC_CUSTOM_HEADERS"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is pinned in inherit mode", k)
		}
	}
	if b, _ := os.ReadFile(l.SettingsFile); strings.Contains(string(b), keyBrEnv) {
		t.Fatal("the settings file holds a key")
	}
	base := []string{"A=1", envAnthropicAPIKey + "=user", envAnthropicToken + "=tok"}
	if env := l.Env(base); !slices.Equal(env, base) {
		t.Fatalf("env changed: %q", env)
	}
	if _, err := os.Stat(helperPathOf(cfg)); err == nil {
		t.Fatal("a helper was written in inherit mode")
	}
	if st := m.Status(); st.Status != "inherit" || st.Mode != ModeInherit {
		t.Fatalf("status %+v", st)
	}
	if m.CheckInit("ANTHROPIC_API_KEY") != "" || m.Fingerprint() != "" || m.Explain() != "" || m.Check(context.Background()) != nil {
		t.Fatal("inherit mode reports auth problems")
	}
	if d := m.On401(context.Background(), "t1"); d.Abort {
		t.Fatal("inherit mode aborts")
	}
	// User settings still reach claude.
	cfg.Settings = map[string]any{"model": "haiku"}
	m.Reconfigure(cfg)
	if l, _ := m.Launch(""); launchSettings(t, l)["model"] != "haiku" {
		t.Fatalf("args %q", l.Args)
	}
	// Switching to helper mode at run time writes the helper.
	cfg.Mode = ModeHelper
	if err := m.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if st := m.Status(); st.Status != "ok" || st.Source != SourceEnvAnthropicAPIKey || !st.HelperManagedContent {
		t.Fatalf("status after switching to helper mode %+v", st)
	}
}

func TestCheckInit(t *testing.T) {
	m, err := New(testConfig(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.CheckInit("apiKeyHelper"); w != "" {
		t.Fatal(w)
	}
	mustContain(t, m.CheckInit("ANTHROPIC_API_KEY"), "instead of the bridge's key helper")
	mustContain(t, m.CheckInit("none"), "no API key source")
	mustContain(t, m.CheckInit("/login managed key"), "instead of the bridge's key helper")
}

func TestOn401(t *testing.T) {
	cfg := testConfig(t)
	kf := keyFilePath(cfg)
	writeKey(t, kf, keyFileK, 0o600)
	m := startManager(t, cfg, nil, nil)
	ctx := context.Background()

	d := m.On401(ctx, "t1")
	if d.Abort || d.Count != 1 || d.Source != SourceKeyFile || d.Message != "Authentication failed; refreshed key from ~/.claude/api_key (fingerprint "+Fingerprint(keyFileK)+")" {
		t.Fatalf("first 401: %+v", d)
	}
	if d = m.On401(ctx, "t1"); d.Abort || d.Count != 2 || d.Message != "Authentication failed; refreshed key from ~/.claude/api_key" {
		t.Fatalf("second 401: %+v", d)
	}
	// Another task counts on its own.
	if d := m.On401(ctx, "t2"); d.Count != 1 {
		t.Fatalf("t2: %+v", d)
	}
	d = m.On401(ctx, "t1")
	if !d.Abort || d.Err == nil || d.Count != 3 {
		t.Fatalf("third 401: %+v", d)
	}
	mustContain(t, d.Err.Error(), "fingerprint "+Fingerprint(keyFileK))
	mustContain(t, d.Err.Error(), "from ~/.claude/api_key")
	mustContain(t, d.Err.Error(), "write a valid key into ~/.claude/api_key")
	if strings.Contains(d.Err.Error(), keyFileK) {
		t.Fatal("the error holds the key")
	}

	// A rotated key starts the count again.
	m.ForgetTask("t1")
	m.On401(ctx, "t1")
	m.On401(ctx, "t1")
	replaceKey(t, kf, keyFileK+"-new")
	if d := m.On401(ctx, "t1"); d.Abort || d.Count != 1 || d.Fingerprint != Fingerprint(keyFileK+"-new") {
		t.Fatalf("after rotation: %+v", d)
	}
	// So does a request that got through.
	m.On401(ctx, "t1")
	m.OnTaskSuccess("t1")
	if d := m.On401(ctx, "t1"); d.Count != 1 {
		t.Fatalf("after success: %+v", d)
	}

	// No key at all: the helper's reason, and the same limit.
	os.Remove(kf)
	m.ForgetTask("t3")
	d = m.On401(ctx, "t3")
	if d.Abort || d.Source != SourceNone || !strings.Contains(d.Message, "no API key available") {
		t.Fatalf("no key: %+v", d)
	}
	m.On401(ctx, "t3")
	if d = m.On401(ctx, "t3"); !d.Abort || !strings.Contains(d.Err.Error(), "no API key available") {
		t.Fatalf("no key, third: %+v", d)
	}

	evs := auditEvents(t, cfg.AuditPath)
	for _, e := range []string{EventAuth401, EventTaskAuthRetry, EventTaskAuthFailed} {
		if !slices.Contains(evs, e) {
			t.Fatalf("audit lacks %s: %v", e, evs)
		}
	}
	for _, r := range readAudit(t, cfg.AuditPath) {
		if r["event"] == EventTaskAuthFailed && (r["taskId"] == nil || r["error"] == nil) {
			t.Fatalf("task_auth_failed without task or error: %v", r)
		}
	}
}

func TestRotated(t *testing.T) {
	cfg := testConfig(t)
	kf := keyFilePath(cfg)
	writeKey(t, kf, keyFileK, 0o600)
	m := startManager(t, cfg, nil, nil)
	start := m.Fingerprint()
	if m.Rotated(context.Background(), start, 0) {
		t.Fatal("rotated without a change")
	}
	replaceKey(t, kf, keyFileK+"2")
	if !m.Rotated(context.Background(), start, 0) {
		t.Fatal("rotation not seen")
	}
}

func TestAuditTrail(t *testing.T) {
	dir := t.TempDir()
	a := &auditLog{}
	path := filepath.Join(dir, "logs", "audit.jsonl")
	a.setPath(path, 2000)
	for i := 0; i < 60; i++ {
		d := int64(i)
		if err := a.write(auditRecord{Event: EventRefreshOK, Source: SourceKeyFile, Fingerprint: "0123abcd", DurationMs: &d,
			Error: "helper said sk-ant-api03-THIS-IS-A-KEY-0000"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || fi.Size() > 2000 {
			t.Fatalf("%s: mode %v size %d", p, fi.Mode().Perm(), fi.Size())
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte("THIS-IS-A-KEY")) {
			t.Fatal("key text in the audit trail")
		}
		readAudit(t, p)
	}
	if _, err := os.Stat(path + ".2"); err == nil {
		t.Fatal("more than one old file kept")
	}
	// A trail created by hand with a loose mode is tightened.
	os.Chmod(path, 0o644)
	a.write(auditRecord{Event: EventAuth401})
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestAuditConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	// Two auditLogs stand for two bridge processes sharing the file.
	logs := []*auditLog{{}, {}}
	for _, a := range logs {
		a.setPath(path, 1<<20)
	}
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				logs[g%2].write(auditRecord{Event: EventRefreshOK, TaskID: strings.Repeat("x", 100)})
			}
			done <- struct{}{}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	if n := len(readAudit(t, path)); n != 400 {
		t.Fatalf("%d lines, want 400", n)
	}
}

// TestOnlyFingerprintsEverywhere drives every path that reports on a key and
// looks for the key in everything the bridge emits.
func TestOnlyFingerprintsEverywhere(t *testing.T) {
	cfg := testConfig(t)
	kf := keyFilePath(cfg)
	const secret = "sk-ant-api03-TOPSECRET-value-1234567890"
	cfg.Environ = append(cfg.Environ, envAnthropicAPIKey+"=sk-ant-api03-BRIDGE-SECRET-0987654321")
	writeKey(t, kf, secret, 0o600)
	core, logs := observer.New(zapcore.DebugLevel)
	n := newRecNotifier()
	m := startManager(t, cfg, n, zap.New(core))
	ctx := context.Background()
	m.On401(ctx, "t")
	cfg.Environ = []string{"PATH=" + os.Getenv("PATH")}
	m.Reconfigure(cfg)
	os.Chmod(kf, 0o644)
	m.Check(ctx)
	os.Chmod(kf, 0o600)
	m.Check(ctx)
	var doctor bytes.Buffer
	m.Doctor(ctx, &doctor, ClaudeInfo{Path: "/usr/bin/claude", Version: "2.1.332"})
	// A user's helper that leaks the key into its error output.
	leaky := filepath.Join(cfg.Home, "leaky.sh")
	writeKey(t, leaky, "#!/bin/sh\necho \"bad key: $(cat "+kf+")\" >&2\nexit 2\n", 0o700)
	f := false
	cfg.ManageHelper, cfg.HelperPath = &f, leaky
	m.Reconfigure(cfg)
	if err := m.Check(ctx); err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("check: %v", err)
	}

	var all bytes.Buffer
	for _, e := range logs.All() {
		all.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(k + "=" + toString(v))
		}
	}
	for _, x := range n.all() {
		all.WriteString(x.text + x.source + x.fingerprint)
	}
	st, _ := json.Marshal(m.Status())
	all.Write(st)
	all.Write(doctor.Bytes())
	audit, _ := os.ReadFile(cfg.AuditPath)
	all.Write(audit)
	cj, _ := json.Marshal(cfg)
	all.Write(cj)
	for _, leak := range []string{"TOPSECRET", "BRIDGE-SECRET"} {
		if i := strings.Index(all.String(), leak); i >= 0 {
			t.Fatalf("key text %q found in output: ...%s...", leak, all.String()[max(0, i-200):i+40])
		}
	}
	if !strings.Contains(all.String(), Fingerprint(secret)) {
		t.Fatal("the fingerprint is not reported anywhere")
	}
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDoctor(t *testing.T) {
	cfg := testConfig(t)
	kf := keyFilePath(cfg)
	writeKey(t, kf, keyFileK, 0o600)
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if ok := m.Doctor(context.Background(), &out, ClaudeInfo{Path: "/x/claude", Version: "2.1.332 (Claude Code)"}); !ok {
		t.Fatalf("doctor failed:\n%s", out.String())
	}
	for _, want := range []string{
		"ok    claude CLI: /x/claude (2.1.332 (Claude Code))",
		"ok    auth mode: helper",
		"ok    key helper ~/.claude/auth_helper.sh: mode 0700, managed by the bridge, written now",
		"ok    key file ~/.claude/api_key: owner ",
		"mode 0600",
		"CLAUDE_CODE_API_KEY_HELPER_TTL_MS=240000",
		"ok    helper run: a key from ~/.claude/api_key, fingerprint " + Fingerprint(keyFileK),
	} {
		mustContain(t, out.String(), want)
	}

	os.Chmod(kf, 0o644)
	os.WriteFile(filepath.Join(cfg.Home, ".claude", "settings.json"), []byte(`{"env":{"ANTHROPIC_API_KEY":"x"}}`), 0o600)
	out.Reset()
	if ok := m.Doctor(context.Background(), &out, ClaudeInfo{Err: os.ErrNotExist}); ok {
		t.Fatalf("doctor passed:\n%s", out.String())
	}
	for _, want := range []string{
		"FAIL  claude CLI: file does not exist",
		"fix: install it with `npm install -g @anthropic-ai/claude-code`",
		"up to date",
		"warn  ~/.claude/settings.json sets ANTHROPIC_API_KEY in its env block; the bridge's --settings sets it to empty for claude, so the key helper is used",
		"FAIL  key file ~/.claude/api_key has mode 0644; run chmod 600 ~/.claude/api_key",
		"      fix: chmod 600 ~/.claude/api_key",
		"FAIL  helper run: ~/.claude/api_key has mode 0644",
	} {
		mustContain(t, out.String(), want)
	}
}

func TestHelperRunTimeoutKillsEverything(t *testing.T) {
	cfg := testConfig(t)
	own := filepath.Join(cfg.Home, "slow.sh")
	pidFile := filepath.Join(cfg.Home, "child.pid")
	writeKey(t, own, "#!/bin/sh\nsleep 30 &\necho $! > "+pidFile+"\nwait\n", 0o700)
	f := false
	cfg.ManageHelper, cfg.HelperPath = &f, own
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.helperTimeout = 300 * time.Millisecond
	start := time.Now()
	err = m.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not finish within") {
		t.Fatalf("check: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	pid, _ := os.ReadFile(pidFile)
	eventually(t, "the helper's child is gone", func() bool {
		stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
		return err != nil || strings.Contains(string(stat), ") Z ")
	})
}

// TestConfig: a Config as the server makes it from the editor's settings
// (server.AuthConfig, tested there) resolves with "~" expanded and the
// defaults filled in; encoded for a log line it leaves out the environment
// and the home directory.
func TestConfig(t *testing.T) {
	f := false
	c := Config{Mode: ModeHelper, HelperPath: "~/h.sh", ManageHelper: &f, KeyFile: "/k", KeyCommand: "pass show x",
		KeyCommandTimeout: 2500 * time.Millisecond, RefreshInterval: time.Minute, AuditPath: "~/a.jsonl", AuditMaxBytes: 100,
		Settings: map[string]any{"model": "opus"}}
	c.Home, c.Environ = "/home/u", []string{"ANTHROPIC_API_KEY=secret"}
	r, err := resolve(c)
	if err != nil || r.helperPath != "/home/u/h.sh" || r.auditPath != "/home/u/a.jsonl" || r.keyFile != "/k" || r.manage || r.ttlMs() != 60000 {
		t.Fatalf("%+v %v", r, err)
	}
	if js, _ := json.Marshal(c); strings.Contains(string(js), "secret") || strings.Contains(string(js), "/home/u") {
		t.Fatalf("marshalled config leaks its environment: %s", js)
	}
	d, _ := resolve(Config{Home: "/h"})
	if d.mode != ModeHelper || d.helperPath != "/h/.claude/auth_helper.sh" || d.keyFile != "/h/.claude/api_key" || !d.manage ||
		d.refresh != 240*time.Second || d.keyCmdTimeout != 8*time.Second || d.auditMax != 1<<20 || d.auditPath != "" {
		t.Fatalf("defaults %+v", d)
	}
	for _, bad := range []Config{{Mode: "apikey"}, {HelperPath: "rel/h.sh"}, {KeyFile: "~"}, {RefreshInterval: time.Millisecond},
		{KeyFile: "/same", HelperPath: "/same"}, {Settings: map[string]any{"f": func() {}}}} {
		bad.Home = "/h"
		if _, err := New(bad, nil, nil); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
}

func TestCloseLeavesNothingRunning(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		cfg := testConfig(t)
		cfg.RefreshInterval = 100 * time.Millisecond
		m, err := New(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Start(context.Background()); err == nil {
			t.Fatal("started twice")
		}
		os.Remove(helperPathOf(cfg)) // leave the worker something to do
		time.Sleep(120 * time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
		if _, err := m.Launch(""); err != ErrClosed {
			t.Fatalf("launch after close: %v", err)
		}
		if err := m.Reconfigure(cfg); err != ErrClosed {
			t.Fatalf("reconfigure after close: %v", err)
		}
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
