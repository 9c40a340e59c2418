package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
