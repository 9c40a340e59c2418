package auth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig is a helper-mode Config confined to a temporary home, with an
// environment that holds no keys, and an audit trail.
func testConfig(t *testing.T) Config {
	t.Helper()
	home := t.TempDir()
	return Config{
		Home:      home,
		Environ:   []string{"PATH=" + os.Getenv("PATH")},
		AuditPath: filepath.Join(home, "state", "auth-audit.jsonl"),
	}
}

func keyFilePath(cfg Config) string { return filepath.Join(cfg.Home, ".claude", "api_key") }
func helperPathOf(cfg Config) string {
	return filepath.Join(cfg.Home, ".claude", "auth_helper.sh")
}

// writeKey writes a key file the way a user would, with mode perm.
func writeKey(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// replaceKey rotates a key file the way tools do: a new file renamed over it.
func replaceKey(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	writeKey(t, tmp, content, 0o600)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// testHelper is a managed helper written for a test: the script, and its
// configuration for one Config in a private directory standing in for the
// bridge's runtime directory.
type testHelper struct {
	path   string
	config string // "" for a helper run without --config
}

// command is the helper's command line as claude gets it in apiKeyHelper,
// with args after the bridge's own.
func (h testHelper) command(args ...string) string {
	argv := []string{h.path}
	if h.config != "" {
		argv = append(argv, argConfig, h.config)
	}
	return commandLine(append(argv, args...))
}

// writeScript writes the managed helper at cfg's helper path and its
// configuration for cfg.
func writeScript(t *testing.T, cfg Config) testHelper { return writeScriptKey(t, cfg, "", "") }

// writeScriptKey is writeScript with key as the bridge's envVar
// (CLAUDE_API_KEY or ANTHROPIC_API_KEY) in a runtime key file, as the
// Manager hands it to the helper ("" for none).
func writeScriptKey(t *testing.T, cfg Config, envVar, key string) testHelper {
	t.Helper()
	r, err := resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ensureFile(r.helperPath, helperScript(), 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "runtime")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	keyPath := ""
	if envVar != "" {
		r.envKeySource = envVar
		keyPath = filepath.Join(dir, runtimeKeyName)
		writeKey(t, keyPath, key, 0o600)
	}
	conf := filepath.Join(dir, runtimeConfigName)
	writeKey(t, conf, string(helperConfig(r, keyPath)), 0o600)
	return testHelper{path: r.helperPath, config: conf}
}

// runSh runs the helper with args the way claude does: its command line
// run by `/bin/sh -c`, with env.
func runSh(t *testing.T, h testHelper, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCommand(t, h.command(args...), "", env)
}

// runCommand runs command with `/bin/sh -c` in dir ("" for the test's own),
// as claude runs its apiKeyHelper setting: no process group of its own, so
// whatever the command leaves behind is not killed for it.
func runCommand(t *testing.T, command, dir string, env []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = env
	cmd.Dir = dir
	// A process the command leaves behind may hold its output open: give
	// up on the output rather than wait for it.
	cmd.WaitDelay = 2 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within 20 s (a process it left holds its output?)", masked(command))
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", masked(command), err)
	}
	return o.String(), e.String(), code
}

// anyKey matches the test keys (all sk-...), for masked.
var anyKey = regexp.MustCompile(`sk-[A-Za-z0-9_\-]+`)

// masked is s with every key replaced by its fingerprint: what a test may
// print.
func masked(s string) string {
	return anyKey.ReplaceAllStringFunc(s, func(k string) string { return "<key " + Fingerprint(k) + ">" })
}

// note is one Notifier call.
type note struct {
	kind  string // "show" or "changed"
	level Level
	text  string
	// for "changed"
	status, source, fingerprint string
}

// recNotifier records Notifier calls and lets a test wait for one.
type recNotifier struct {
	mu    sync.Mutex
	notes []note
	ch    chan struct{}
}

func newRecNotifier() *recNotifier { return &recNotifier{ch: make(chan struct{}, 1000)} }

func (r *recNotifier) ShowMessage(level Level, text string) {
	r.mu.Lock()
	r.notes = append(r.notes, note{kind: "show", level: level, text: text})
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recNotifier) AuthChanged(status, source, fingerprint string) {
	r.mu.Lock()
	r.notes = append(r.notes, note{kind: "changed", status: status, source: source, fingerprint: fingerprint})
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recNotifier) all() []note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]note(nil), r.notes...)
}

func (r *recNotifier) shows() []note {
	var out []note
	for _, n := range r.all() {
		if n.kind == "show" {
			out = append(out, n)
		}
	}
	return out
}

// waitFor waits until some recorded note satisfies ok.
func (r *recNotifier) waitFor(t *testing.T, what string, ok func(note) bool) note {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, n := range r.all() {
			if ok(n) {
				return n
			}
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; notes: %+v", what, r.all())
		}
	}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", masked(s), masked(sub))
	}
}
