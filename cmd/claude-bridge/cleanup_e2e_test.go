package main_test

// The bridge's runtime directory (a key from its environment, the helper's
// configuration, claude's settings) goes with the bridge however it ends,
// and what killed bridges left goes at the next start wherever it is;
// doctor runs claude as a task would and refuses what a task would.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// runtimeDirs lists the runtime directories under the world's state
// directory (XDG_STATE_HOME is w.logDir).
func runtimeDirs(w *world) []string {
	dirs, _ := filepath.Glob(filepath.Join(w.logDir, "claude-bridge", "run", "*"))
	return dirs
}

// Measured before the fix: SIGHUP (a terminal or ssh session closing) and
// SIGQUIT left the runtime key file on disk. Now SIGHUP stops the bridge
// like SIGTERM, and SIGQUIT and SIGABRT remove the directory before Go's
// goroutine dump; in every case nothing of the task is left running.
func TestServeRemovesItsRuntimeDirectoryOnSignals(t *testing.T) {
	for _, c := range []struct {
		name string
		sig  syscall.Signal
		code int
		dump bool
	}{
		{"SIGHUP", syscall.SIGHUP, 1, false},
		{"SIGQUIT", syscall.SIGQUIT, 2, true},
		{"SIGABRT", syscall.SIGABRT, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, keyA)
			w.api.SetTurns([]fakeapi.Turn{bashSleep()})
			p := w.serve(nil, "CLAUDE_API_KEY="+keyA)
			p.run(map[string]any{"prompt": "sleep", "taskId": "k"})
			waitForSleep313(t, p)
			key := runtimeKeyFile(t, w)
			_ = p.cmd.Process.Signal(c.sig)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				t.Fatalf("the bridge did not exit within 15 s of %v", c.sig)
			}
			if code := p.cmd.ProcessState.ExitCode(); code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			if _, err := os.Stat(filepath.Dir(key)); !os.IsNotExist(err) {
				t.Errorf("the runtime directory outlives %v: %v", c.sig, err)
			}
			if c.dump && (!strings.Contains(p.stderr.String(), "goroutine ") || !strings.Contains(p.stderr.String(), c.name+": ")) {
				t.Errorf("no goroutine dump on stderr: %.300s", p.stderr.String())
			}
			eventually(t, 10*time.Second, "the task's processes to be gone: "+describe(taggedBy(p.cmd.Process.Pid)), func() bool {
				return len(taggedBy(p.cmd.Process.Pid)) == 0 && len(processesIn(w.workspace)) == 0
			})
		})
	}
}

// `claude-bridge run` in a terminal that closes (SIGHUP) stops its task and
// removes its runtime directory, as on Ctrl-C.
func TestRunRemovesItsRuntimeDirectoryOnSIGHUP(t *testing.T) {
	w := newWorld(t, keyA)
	w.api.SetTurns([]fakeapi.Turn{bashSleep()})
	cmd := exec.Command(binary, "run", "--workspace", w.workspace, "--allowed-tools", "Bash", "sleep")
	cmd.Env = w.env("CLAUDE_API_KEY=" + keyA)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually(t, 60*time.Second, "the agent's `sleep 313`", func() bool {
		for _, p := range procs() {
			if strings.HasPrefix(p.cmdline, "sleep 313") && !p.zombie {
				return true
			}
		}
		return false
	})
	key := runtimeKeyFile(t, w)
	_ = cmd.Process.Signal(syscall.SIGHUP)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not exit after SIGHUP:\n%s", errb.String())
	}
	if _, err := os.Stat(filepath.Dir(key)); !os.IsNotExist(err) {
		t.Errorf("the runtime directory outlives SIGHUP: %v", err)
	}
	assertGone(t, w.workspace)
}

// A bridge killed outright leaves its runtime directory in the place its
// environment chose. Measured before the fix: the next bridge cleaned only
// its own place, so one started with XDG_RUNTIME_DIR never removed what one
// started without it left. Now a start, and doctor, clean both.
func TestKilledBridgesDirectoryIsCleanedFromEitherPlace(t *testing.T) {
	w := newWorld(t, keyA)
	xdg := filepath.Join(t.TempDir(), "xdg")
	os.Mkdir(xdg, 0o700)
	kill := func(env ...string) string {
		p := w.serve(nil, append([]string{"CLAUDE_API_KEY=" + keyA}, env...)...)
		if st := p.authStatus(t); st.Status != lspext.AuthOK {
			t.Fatalf("auth status %v", st)
		}
		rk := p.authStatus(t).RuntimeKeyFile
		p.cmd.Process.Kill()
		<-p.done
		if _, err := os.Stat(rk); err != nil {
			t.Fatalf("the killed bridge's key file is gone already (%v): the test proves nothing", err)
		}
		return filepath.Dir(rk)
	}
	// Killed without XDG_RUNTIME_DIR (state directory); the next bridge has it.
	left := kill()
	p := w.serve(nil, "XDG_RUNTIME_DIR="+xdg)
	p.authStatus(t)
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("a bridge with XDG_RUNTIME_DIR left %s: %v", left, err)
	}
	// And doctor, with either environment.
	left = kill()
	doctor := exec.Command(binary, "doctor")
	doctor.Env = w.env("XDG_RUNTIME_DIR=" + xdg)
	out, _ := doctor.CombinedOutput()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("doctor with XDG_RUNTIME_DIR left %s: %v\n%s", left, err, out)
	}
	if !strings.Contains(string(out), "info  removed 1 runtime directories of claude-bridges that were killed") {
		t.Errorf("doctor:\n%s", out)
	}
	left = kill("XDG_RUNTIME_DIR=" + xdg)
	doctor = exec.Command(binary, "doctor")
	doctor.Env = w.env("XDG_RUNTIME_DIR=" + xdg)
	doctor.Run()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("doctor left %s: %v", left, err)
	}
}

// doctor runs `claude --version` with the environment a task gives claude.
// Measured before the fix: the bridge's whole environment, CLAUDE_API_KEY
// included.
func TestDoctorRunsClaudeWithoutTheKey(t *testing.T) {
	w := newWorld(t, keyA)
	dir := t.TempDir()
	dump := filepath.Join(dir, "claude-env")
	fake := filepath.Join(dir, "claude")
	os.WriteFile(fake, []byte("#!/bin/sh\nenv > '"+dump+"'\necho '2.1.332 (Claude Code)'\n"), 0o755)
	cmd := exec.Command(binary, "doctor", "--claude", fake)
	cmd.Env = w.env("CLAUDE_API_KEY="+keyA, "ANTHROPIC_API_KEY="+keyB, "MY_HEADER=x-api-key: "+keyA)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, masked(string(out), keyA))
	}
	env, err := os.ReadFile(dump)
	if err != nil || !strings.Contains(string(env), "HOME="+w.home) {
		t.Fatalf("claude --version did not run: %v", err)
	}
	for _, k := range []string{keyA, keyB} {
		if strings.Contains(string(env), k) {
			t.Errorf("claude --version got %s in its environment", fp(k))
		}
	}
	if !strings.Contains(string(out), "ok    claude CLI: "+fake+" (2.1.332 (Claude Code))") {
		t.Errorf("doctor:\n%s", masked(string(out), keyA))
	}
}

// claude.authStatus runs `claude --version` (issue 16) with the environment
// a task gives claude, as doctor does: a key the bridge knows stays out
// of it, whatever the variable that holds it is called.
func TestAuthStatusRunsClaudeWithoutTheKey(t *testing.T) {
	w := newWorld(t, keyA)
	dir := t.TempDir()
	dump := filepath.Join(dir, "claude-env")
	w.claude = filepath.Join(dir, "claude")
	// Only `claude --version` records its environment, whole (a warm claude
	// the bridge starts runs this script too, and must not truncate the
	// record while the test reads it).
	os.WriteFile(w.claude, []byte("#!/bin/sh\nif [ \"$1\" = --version ]; then env > '"+dump+".tmp' && mv '"+dump+".tmp' '"+dump+"'; fi\necho '2.1.332 (Claude Code)'\n"), 0o755)
	p := w.serve(nil, "CLAUDE_API_KEY="+keyA, "MY_HEADER=x-api-key: "+keyA)
	st := p.authStatus(t)
	if st.Claude == nil || st.Claude.Version != "2.1.332 (Claude Code)" || st.Claude.Path != w.claude {
		t.Fatalf("claude in the auth status: %+v", st.Claude)
	}
	env, err := os.ReadFile(dump)
	if err != nil || !strings.Contains(string(env), "HOME="+w.home) {
		t.Fatalf("claude --version did not run: %v", err)
	}
	// MY_HEADER's name says nothing of a credential: only the auth
	// manager's look at values keeps it out (measured before: it reached
	// claude --version).
	if strings.Contains(string(env), keyA) {
		t.Errorf("claude --version got %s in its environment", fp(keyA))
	}
}

// doctor and tasks refuse a key in auth.settings.env, which claude would
// put into its own environment and every command's. Measured before the
// fix: the key was on claude's command line and in every child's
// environment.
func TestKeyInSettingsEnvIsRefused(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	auth := fmt.Sprintf(`{"settings":{"env":{"ANTHROPIC_API_KEY":%q}}}`, keyB)
	cmd := exec.Command(binary, "doctor", "--auth", auth)
	cmd.Env = w.env()
	out, _ := cmd.CombinedOutput()
	want := "FAIL  auth settings: auth.settings.env.ANTHROPIC_API_KEY is refused: it would put an API key into the environment of claude and of every command it runs, and past the bridge's key helper; write the key into ~/.claude/api_key (chmod 600), use auth.keyCommand, or start the bridge with CLAUDE_API_KEY\n"
	if cmd.ProcessState.ExitCode() != 1 || string(out) != want {
		t.Fatalf("doctor: exit %d\n%s", cmd.ProcessState.ExitCode(), masked(string(out), keyB))
	}
	p := w.serve(map[string]any{"auth": map[string]any{"settings": map[string]any{"env": map[string]any{"ANTHROPIC_API_KEY": keyB}}}})
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "s"}), 60*time.Second)
	if res.Status != "failed" || !strings.Contains(res.Result, "auth.settings.env.ANTHROPIC_API_KEY is refused") || strings.Contains(res.Result, keyB) {
		t.Fatalf("task: %s %q", res.Status, masked(res.Result, keyB))
	}
	if n := len(w.api.Requests()); n != 0 {
		t.Fatalf("claude ran: %d requests", n)
	}
}

// auth.manageHelper false with the helper kept in dotfiles and linked into
// ~/.claude. Measured before the fix: with ~/.claude at 0777 doctor said
// all was well (only the link target's directory was checked).
func TestDoctorChecksEveryDirectoryOfALinkedHelper(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	dotfiles := filepath.Join(w.home, "dotfiles")
	os.Mkdir(dotfiles, 0o700)
	os.WriteFile(filepath.Join(dotfiles, "helper.sh"), []byte("#!/bin/sh\ncat \"$HOME/.claude/api_key\"\n"), 0o700)
	os.Symlink("../dotfiles/helper.sh", filepath.Join(w.home, ".claude", "auth_helper.sh"))
	doctor := func() (int, string) {
		cmd := exec.Command(binary, "doctor", "--auth", `{"manageHelper":false}`)
		cmd.Env = w.env()
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := doctor(); code != 0 || !strings.Contains(out, "and those of its link targets (~/dotfiles)") {
		t.Fatalf("doctor, all private: exit %d\n%s", code, masked(out, keyA))
	}
	os.Chmod(filepath.Join(w.home, ".claude"), 0o777)
	code, out := doctor()
	if code != 1 || !strings.Contains(out, "FAIL  ~/.claude, the key helper's directory, has mode 0777: others can replace the helper in it and take your key\n      fix: chmod go-w ~/.claude\n") {
		t.Fatalf("doctor with ~/.claude at 0777: exit %d\n%s", code, masked(out, keyA))
	}
}
