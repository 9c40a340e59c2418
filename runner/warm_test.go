package runner

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/auth"
)

// A key helper changed moments ago is not run by a warm claude; one left
// alone for helperQuiet is, and its state is kept for the check after
// claude ran it.
func TestVetHelperWaitsForAQuietHelper(t *testing.T) {
	helper := filepath.Join(t.TempDir(), "auth_helper.sh")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\necho key\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	w := &warmer{}
	wp := &warmProc{}
	err := w.vetHelper(wp, auth.Launch{HelperPath: helper})
	var flux *errHelperInFlux
	if !errors.As(err, &flux) || flux.until.Before(time.Now()) || time.Until(flux.until) > helperQuiet {
		t.Fatalf("vetHelper on a helper written just now = %v", err)
	}
	old := time.Now().Add(-2 * helperQuiet)
	if err := os.Chtimes(helper, old, old); err != nil {
		t.Fatal(err)
	}
	if err := w.vetHelper(wp, auth.Launch{HelperPath: helper}); err != nil {
		t.Fatalf("vetHelper on a quiet helper = %v", err)
	}
	if wp.helperPath != helper || wp.helper == "" {
		t.Fatalf("state not kept: %+v", wp)
	}
	// Replaced by another file with the same content and an old time: the
	// state differs all the same (its inode).
	tmp := helper + ".new"
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\necho key\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, helper); err != nil {
		t.Fatal(err)
	}
	if st, _ := helperState(helper); st == wp.helper {
		t.Error("a replaced helper has the state of the one it replaced")
	}
	if err := w.vetHelper(&warmProc{}, auth.Launch{}); err != nil {
		t.Errorf("no helper (inherit mode): %v", err)
	}
}

// The snapshot changes with what claude reads as it starts (CLAUDE.md here
// and above, the settings, the memory index, a commit), and not with other
// files of the folder.
func TestSnapshotChangesWithWhatClaudeReads(t *testing.T) {
	root := t.TempDir()
	folder := filepath.Join(root, "proj")
	home := filepath.Join(root, "home")
	for _, d := range []string{filepath.Join(folder, ".git", "logs"), filepath.Join(folder, ".claude"), filepath.Join(home, ".claude")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(folder, ".git", "HEAD"), "ref: refs/heads/main\n")
	base := takeSnapshot(folder, home)
	write(filepath.Join(folder, "main.go"), "package main\n")
	if takeSnapshot(folder, home) != base {
		t.Error("a source file changed the snapshot")
	}
	for _, p := range []string{
		filepath.Join(folder, "CLAUDE.md"),
		filepath.Join(root, "CLAUDE.md"),
		filepath.Join(folder, ".claude", "settings.local.json"),
		filepath.Join(home, ".claude", "CLAUDE.md"),
		filepath.Join(home, ".claude", "projects", projectSlug(folder), "memory", "MEMORY.md"),
		filepath.Join(folder, ".git", "logs", "HEAD"),
		filepath.Join(folder, ".git", "index"),
	} {
		before := takeSnapshot(folder, home)
		write(p, "changed "+p)
		if takeSnapshot(folder, home) == before {
			t.Errorf("writing %s left the snapshot as it was", p)
		}
	}
}

// The names claude 2.1.332 gave these folders' directories under
// ~/.claude/projects (measured).
func TestProjectSlug(t *testing.T) {
	for folder, want := range map[string]string{
		"/tmp/warmprobe4072989100/ws": "-tmp-warmprobe4072989100-ws",
		"/tmp/slugt/my proj.v2_x":     "-tmp-slugt-my-proj-v2-x",
	} {
		if got := projectSlug(folder); got != want {
			t.Errorf("projectSlug(%q) = %q, claude names it %q", folder, got, want)
		}
	}
}

// The bridge's own write of its helper (its first start on a HOME, a new
// helper version) is no reason to wait: the first warm claude on a fresh
// HOME starts at once (measured before the fix: 5 s later, the quiet
// period), and so does one of a bridge restarted moments later on the same
// HOME. A user's own helper changed moments ago still waits.
func TestVetHelperTrustsTheBridgesOwnScript(t *testing.T) {
	home := t.TempDir()
	start := func(cfg auth.Config) *auth.Manager {
		t.Helper()
		cfg.Home, cfg.Environ, cfg.AuditPath = home, []string{"PATH=/usr/bin:/bin", "CLAUDE_API_KEY=sk-test-own-write"}, filepath.Join(home, "audit.jsonl")
		m, err := auth.New(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	w := &warmer{}
	for _, what := range []string{"a fresh HOME", "a second bridge moments later"} {
		l, err := start(auth.Config{}).Launch(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, mod := helperState(l.HelperPath); time.Since(mod) > helperQuiet {
			t.Fatalf("%s: the helper was not written just now (%s): the test proves nothing", what, mod)
		}
		wp := &warmProc{}
		if err := w.vetHelper(wp, l); err != nil {
			t.Fatalf("%s: vetHelper on the helper the bridge wrote just now = %v", what, err)
		}
		if st, _ := helperState(l.HelperPath); wp.helper != st {
			t.Errorf("%s: state kept %q, want %q", what, wp.helper, st)
		}
	}
	own := filepath.Join(home, "own_helper.sh")
	if err := os.WriteFile(own, []byte("#!/bin/sh\necho sk-test-own-write\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	manage := false
	l, err := start(auth.Config{HelperPath: own, ManageHelper: &manage}).Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var flux *errHelperInFlux
	if err := w.vetHelper(&warmProc{}, l); !errors.As(err, &flux) || l.HelperVerified {
		t.Errorf("vetHelper on the user's own helper written moments ago = %v (verified %v), want the quiet period", err, l.HelperVerified)
	}
}
