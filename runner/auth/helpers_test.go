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

// writeScript renders the managed helper for cfg at its helper path.
func writeScript(t *testing.T, cfg Config) string {
	t.Helper()
	r, err := resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ensureFile(r.helperPath, helperScript(r), 0o700); err != nil {
		t.Fatal(err)
	}
	return r.helperPath
}

// runSh runs the helper at path with args the way claude does: as the
// command line of `/bin/sh -c`, with env.
func runSh(t *testing.T, path string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	command := shQuote(path)
	for _, a := range args {
		command += " " + shQuote(a)
	}
	return runCommand(t, command, "", env)
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
