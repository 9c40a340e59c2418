package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeExe writes an executable file at p.
func fakeExe(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocateClaudeSearchOrder(t *testing.T) {
	home := t.TempDir()
	pathDir := t.TempDir()
	env := map[string]string{"HOME": home, "PATH": pathDir}

	// Nothing anywhere: the error leads with the fix and names where it looked.
	_, err := LocateClaude("", envOf(env))
	var nf *ClaudeNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want ClaudeNotFoundError", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "claude CLI not found: install it with `npm install -g @anthropic-ai/claude-code`") {
		t.Errorf("message does not lead with the fix: %s", msg)
	}
	for _, want := range []string{"PATH", "~/.local/bin", "~/.claude/local", "~/.npm-global/bin", "/usr/local/bin", "/opt/homebrew/bin"} {
		if !strings.Contains(msg, want) && (want == "/usr/local/bin" || want == "/opt/homebrew/bin") && isExecutable(filepath.Join(want, "claude")) {
			continue // this machine has one there
		}
		if !strings.Contains(msg, want) {
			t.Errorf("message does not name %s: %s", want, msg)
		}
	}

	// The npm prefix of ~/.npmrc (with ${HOME} expanded) comes before ~/.npm-global.
	npmPrefix := filepath.Join(home, "npm-prefix")
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte("; npm settings\nprefix = ${HOME}/npm-prefix\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeExe(t, filepath.Join(home, ".npm-global", "bin", "claude"))
	want := fakeExe(t, filepath.Join(npmPrefix, "bin", "claude"))
	loc, err := LocateClaude("", envOf(env))
	if err != nil || loc.Path != want || !strings.Contains(loc.FoundIn, "npm global prefix") || !strings.Contains(loc.FoundIn, ".npmrc") {
		t.Errorf("npmrc prefix: %+v, %v", loc, err)
	}
	// npm_config_prefix beats the npmrc.
	envPrefix := t.TempDir()
	want = fakeExe(t, filepath.Join(envPrefix, "bin", "claude"))
	env["npm_config_prefix"] = envPrefix
	if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != want || loc.FoundIn != "the npm global prefix's bin ($npm_config_prefix), not on PATH" {
		t.Errorf("npm_config_prefix: %+v, %v", loc, err)
	}
	// ~/.claude/local and then ~/.local/bin come before npm's prefix.
	want = fakeExe(t, filepath.Join(home, ".claude", "local", "claude"))
	if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != want || loc.FoundIn != "~/.claude/local, not on PATH" {
		t.Errorf("~/.claude/local: %+v, %v", loc, err)
	}
	want = fakeExe(t, filepath.Join(home, ".local", "bin", "claude"))
	if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != want || loc.FoundIn != "~/.local/bin, not on PATH" {
		t.Errorf("~/.local/bin: %+v, %v", loc, err)
	}
	// PATH (the PATH of the environment given, not the bridge's own) comes first.
	want = fakeExe(t, filepath.Join(pathDir, "claude"))
	if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != want || loc.FoundIn != "PATH" {
		t.Errorf("PATH: %+v, %v", loc, err)
	}
	// $CLAUDE_BRIDGE_CLAUDE beats PATH; claudePath beats everything.
	other := fakeExe(t, filepath.Join(t.TempDir(), "claude"))
	env["CLAUDE_BRIDGE_CLAUDE"] = other
	if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != other || loc.FoundIn != "$CLAUDE_BRIDGE_CLAUDE" {
		t.Errorf("$CLAUDE_BRIDGE_CLAUDE: %+v, %v", loc, err)
	}
	configured := fakeExe(t, filepath.Join(home, "bin", "my-claude"))
	if loc, err := LocateClaude("~/bin/my-claude", envOf(env)); err != nil || loc.Path != configured || loc.FoundIn != "claudePath" {
		t.Errorf("claudePath: %+v, %v", loc, err)
	}
	if p, err := FindClaude("~/bin/my-claude", envOf(env)); err != nil || p != configured {
		t.Errorf("FindClaude = %q, %v", p, err)
	}
}

func TestLocateClaudeConfiguredPathIsNotReplaced(t *testing.T) {
	pathDir := t.TempDir()
	fakeExe(t, filepath.Join(pathDir, "claude"))
	_, err := LocateClaude("/nonexistent/bin/claude", envOf(map[string]string{"HOME": t.TempDir(), "PATH": pathDir}))
	if err == nil || !strings.Contains(err.Error(), "claudePath /nonexistent/bin/claude") {
		t.Errorf("err = %v, want one naming the configured path", err)
	}
}

func TestLocateClaudeAsksNpmOnceWhenNothingElseFinds(t *testing.T) {
	home := t.TempDir()
	bin := t.TempDir()
	prefix := t.TempDir()
	count := filepath.Join(t.TempDir(), "count")
	// A stand-in npm that answers `npm prefix -g` and counts its runs.
	npm := "#!/bin/sh\necho run >> " + count + "\n[ \"$1 $2\" = \"prefix -g\" ] && echo " + prefix + "\n"
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(npm), 0o755); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"HOME": home, "PATH": bin})
	if _, err := LocateClaude("", env); err == nil {
		t.Fatal("found a claude that is not there")
	}
	want := fakeExe(t, filepath.Join(prefix, "bin", "claude"))
	loc, err := LocateClaude("", env)
	if err != nil || loc.Path != want || loc.FoundIn != "the npm global prefix's bin (`npm prefix -g`), not on PATH" {
		t.Errorf("npm prefix -g: %+v, %v", loc, err)
	}
	runs, _ := os.ReadFile(count)
	if n := strings.Count(string(runs), "run"); n != 1 {
		t.Errorf("npm ran %d times, want once", n)
	}
}

// writeModeFile writes a file of the given mode at p (the test helper; writeFile is review.go's atomic write).
func writeModeFile(t *testing.T, p, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLocateClaudeUnusable: a claude where the installers put it that
// cannot be run is named with what is wrong and the fix, not "install it"
// (issue 16); a claude found elsewhere still wins.
func TestLocateClaudeUnusable(t *testing.T) {
	for _, c := range []struct {
		name, want string
		make       func(home string)
	}{
		{"not executable", "claude CLI at ~/.local/bin/claude is not executable: run `chmod +x ~/.local/bin/claude`", func(home string) {
			writeModeFile(t, filepath.Join(home, ".local", "bin", "claude"), "#!/bin/sh\n", 0o644)
		}},
		{"a directory", "claude CLI at ~/.local/bin/claude is a directory, not the claude executable: set claudePath", func(home string) {
			if err := os.MkdirAll(filepath.Join(home, ".local", "bin", "claude"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a dangling link", "claude CLI at ~/.local/bin/claude is a symbolic link to /nonexistent/claude, which does not exist: reinstall claude", func(home string) {
			if err := os.MkdirAll(filepath.Join(home, ".local", "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/nonexistent/claude", filepath.Join(home, ".local", "bin", "claude")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			c.make(home)
			env := map[string]string{"HOME": home, "PATH": t.TempDir()}
			_, err := LocateClaude("", envOf(env))
			var u *ClaudeUnusableError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
			if ClaudeFix(err) != u.Fix || strings.Contains(ClaudeProblem(err), u.Fix) {
				t.Errorf("fix %q, problem %q", ClaudeFix(err), ClaudeProblem(err))
			}
			// A claude that runs, further down the list, is used.
			good := fakeExe(t, filepath.Join(home, ".npm-global", "bin", "claude"))
			if loc, err := LocateClaude("", envOf(env)); err != nil || loc.Path != good {
				t.Errorf("with a claude further on: %+v %v", loc, err)
			}
		})
	}
	// A configured path that is not executable says so.
	p := writeModeFile(t, filepath.Join(t.TempDir(), "claude"), "#!/bin/sh\n", 0o600)
	if _, err := LocateClaude(p, envOf(map[string]string{})); err == nil || !strings.Contains(err.Error(), "is not executable: run `chmod +x "+p+"`") {
		t.Errorf("configured: %v", err)
	}
}

// TestCheckClaude: a claude that fails is reported with its exit code and
// its stderr's first lines, a missing interpreter too; one that works gives
// its version. ClaudeStatus checks an executable once until it changes.
func TestCheckClaude(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	fails := writeModeFile(t, filepath.Join(dir, "fails"), "#!/bin/sh\necho 'boom: no config' >&2\necho 'second line' >&2\nexit 3\n", 0o755)
	_, err := CheckClaude(ctx, fails, nil)
	var f *ClaudeFailsError
	if !errors.As(err, &f) || f.Code != 3 || f.Stderr != "boom: no config / second line" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "claude CLI at "+fails+" does not run (`"+fails+" --version` exited with code 3: boom: no config / second line): reinstall it") {
		t.Errorf("message: %s", err)
	}
	shebang := writeModeFile(t, filepath.Join(dir, "shebang"), "#!/usr/bin/env no-such-interpreter-b16\n", 0o755)
	if _, err := CheckClaude(ctx, shebang, nil); !errors.As(err, &f) || f.Code != 127 || !strings.Contains(f.Stderr, "no-such-interpreter-b16") {
		t.Errorf("bad interpreter: %#v", err)
	}
	count := filepath.Join(dir, "count")
	works := writeModeFile(t, filepath.Join(dir, "claude"), "#!/bin/sh\necho x >> "+count+"\necho '2.1.332 (Claude Code)'\n", 0o755)
	if v, err := CheckClaude(ctx, works, nil); err != nil || v != "2.1.332 (Claude Code)" {
		t.Errorf("version %q %v", v, err)
	}
	m := NewManager(Config{ClaudePath: works})
	for range 3 {
		if _, v, err := m.ClaudeStatus(ctx); err != nil || v != "2.1.332 (Claude Code)" {
			t.Errorf("status %q %v", v, err)
		}
	}
	if data, _ := os.ReadFile(count); strings.Count(string(data), "x") != 2 {
		t.Errorf("ran %d times, want 2 (CheckClaude, then ClaudeStatus once)", strings.Count(string(data), "x"))
	}
}

// TestCheckClaudeThatHangs: a claude that does not answer --version is
// stopped with all it started, and says so.
func TestCheckClaudeThatHangs(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "child-alive")
	hangs := writeModeFile(t, filepath.Join(dir, "claude"), "#!/bin/sh\n(trap '' TERM; while :; do touch "+marker+"; sleep 0.05; done) &\nsleep 600\n", 0o755)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := CheckClaude(ctx, hangs, nil)
	var f *ClaudeFailsError
	if !errors.As(err, &f) || f.Err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	// What it started is gone: the marker stops being touched.
	_ = os.Remove(marker)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if _, err := os.Stat(marker); err != nil {
			return
		}
		_ = os.Remove(marker)
	}
	t.Error("a process the hanging claude started is still running")
}

// TestCheckClaudeGetsNoCredentials: `claude --version` runs without the
// variables that may hold a key (the auth manager's helper is the only way
// a key reaches claude).
func TestCheckClaudeGetsNoCredentials(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	claude := writeModeFile(t, filepath.Join(dir, "claude"), "#!/bin/sh\nenv > "+out+"\necho 2.1.332\n", 0o755)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "ANTHROPIC_API_KEY=sk-ant-secret-1", "CLAUDE_API_KEY=sk-ant-secret-2",
		"ANTHROPIC_AUTH_TOKEN=t", "MY_SERVICE_KEY=k", "GITHUB_TOKEN=g", "LANG=C.UTF-8"}
	if _, err := CheckClaude(t.Context(), claude, env); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	for _, bad := range []string{"sk-ant-secret", "ANTHROPIC_AUTH_TOKEN", "MY_SERVICE_KEY", "GITHUB_TOKEN"} {
		if strings.Contains(string(data), bad) {
			t.Errorf("%s reached claude --version:\n%s", bad, data)
		}
	}
	if !strings.Contains(string(data), "LANG=C.UTF-8") || !strings.Contains(string(data), "HOME="+dir) {
		t.Errorf("the rest of the environment is kept:\n%s", data)
	}
}
