package auth

// Where a key can and cannot be (issue 9): the runtime key file, the helper's
// tools, its directory, a foreign helper, the key command's process group and
// the key file's encoding.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/claude-bridge/claude-bridge/runner/proctree"
)

// launchSettings reads the settings file of a launch.
func launchSettings(t *testing.T, l Launch) map[string]any {
	t.Helper()
	if len(l.Args) != 2 || l.Args[0] != "--settings" || l.Args[1] != l.SettingsFile {
		t.Fatalf("launch args %q", l.Args)
	}
	var s map[string]any
	b, err := os.ReadFile(l.SettingsFile)
	if err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("settings file %s: %v", l.SettingsFile, err)
	}
	return s
}

// helperCommandOf is the apiKeyHelper command line of a launch.
func helperCommandOf(t *testing.T, l Launch) string {
	t.Helper()
	c, _ := launchSettings(t, l)["apiKeyHelper"].(string)
	return c
}

// runtimeDirForTest is the Manager's runtime directory ("" before it has
// one).
func (m *Manager) runtimeDirForTest() string {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	if m.rt == nil {
		return ""
	}
	return m.rt.dir
}

func modeOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestRuntimeKeyFileLivesInAPrivateDirectoryAndGoesWithTheBridge(t *testing.T) {
	t.Run("XDG_RUNTIME_DIR", func(t *testing.T) {
		cfg := testConfig(t)
		xdg := filepath.Join(t.TempDir(), "run-user")
		if err := os.Mkdir(xdg, 0o700); err != nil {
			t.Fatal(err)
		}
		cfg.Environ = append(cfg.Environ, "XDG_RUNTIME_DIR="+xdg, envClaudeAPIKey+"="+keyEnv)
		m := startManager(t, cfg, nil, nil)
		rk := m.Status().RuntimeKeyFile
		if filepath.Dir(filepath.Dir(rk)) != filepath.Join(xdg, "claude-bridge") {
			t.Fatalf("runtime key file %s is not in $XDG_RUNTIME_DIR/claude-bridge/<bridge>/", rk)
		}
		if got, _ := os.ReadFile(rk); string(got) != keyEnv {
			t.Fatal("the runtime key file does not hold the bridge's key")
		}
		for path, want := range map[string]fs.FileMode{rk: 0o600, filepath.Dir(rk): fs.ModeDir | 0o700, filepath.Dir(filepath.Dir(rk)): fs.ModeDir | 0o700} {
			if got := modeOf(t, path); got != want {
				t.Errorf("%s: mode %v, want %v", path, got, want)
			}
		}
		if st := m.Status(); st.Status != "ok" || st.Source != SourceEnvClaudeAPIKey || st.Fingerprint != Fingerprint(keyEnv) {
			t.Fatalf("status %+v", st)
		}
		m.Close()
		if _, err := os.Stat(filepath.Dir(rk)); !os.IsNotExist(err) {
			t.Fatalf("the runtime directory outlives Close: %v", err)
		}
		if _, err := m.writeHelperConfig(m.config()); !errors.Is(err, ErrClosed) {
			t.Fatalf("a key file could be made after Close: %v", err)
		}
	})
	t.Run("state directory when XDG_RUNTIME_DIR is not private", func(t *testing.T) {
		cfg := testConfig(t)
		xdg := filepath.Join(t.TempDir(), "shared")
		os.Mkdir(xdg, 0o755)
		os.Chmod(xdg, 0o755)
		cfg.Environ = append(cfg.Environ, "XDG_RUNTIME_DIR="+xdg, envAnthropicAPIKey+"="+keyBrEnv)
		m := startManager(t, cfg, nil, nil)
		rk := m.Status().RuntimeKeyFile
		if want := filepath.Join(cfg.Home, ".local", "state", "claude-bridge", "run"); filepath.Dir(filepath.Dir(rk)) != want {
			t.Fatalf("runtime key file %s, want it under %s", rk, want)
		}
		var doc bytes.Buffer
		m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"})
		mustContain(t, doc.String(), "warn  XDG_RUNTIME_DIR is not usable: "+xdg+" has mode 0755, not 0700")
		mustContain(t, doc.String(), "info  ANTHROPIC_API_KEY is set in the bridge's environment: the helper offers it before any other source, read from a 0600 file in the bridge's private directory under ~/.local/state/claude-bridge/run")
	})
	t.Run("a base directory others can read is refused", func(t *testing.T) {
		cfg := testConfig(t)
		base := filepath.Join(cfg.Home, ".local", "state", "claude-bridge", "run")
		os.MkdirAll(base, 0o755)
		os.Chmod(base, 0o755)
		cfg.Environ = append(cfg.Environ, envClaudeAPIKey+"="+keyEnv)
		m := startManager(t, cfg, nil, nil)
		_, err := m.Launch("")
		if err == nil || !strings.Contains(err.Error(), "cannot write the key helper's configuration: "+base+" has mode 0755, not 0700; run chmod 700 "+base) {
			t.Fatalf("launch: %v", err)
		}
		if ents, _ := os.ReadDir(base); len(ents) != 0 {
			t.Fatalf("something was written into %s: %v", base, ents)
		}
	})
}

// TestRuntimeHolder is not a test: TestStaleRuntimeDirectoriesAreCleaned
// runs the test binary with AUTH_TEST_RUNTIME_BASE set to stand in for a
// bridge that holds a runtime directory. It prints the key file's path and
// holds the directory until its stdin closes.
func TestRuntimeHolder(t *testing.T) {
	base := os.Getenv("AUTH_TEST_RUNTIME_BASE")
	if base == "" {
		return
	}
	rt, err := openRuntime(base)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := rt.writeKey(keyEnv); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(rt.keyPath())
	bufio.NewReader(os.Stdin).ReadString('\n')
	rt.close()
	os.Exit(0)
}

func TestStaleRuntimeDirectoriesAreCleaned(t *testing.T) {
	cfg := testConfig(t)
	base, _ := runtimeBase(cfg.Environ, cfg.Home)
	// Two bridges hold runtime directories; one of them is killed and
	// leaves its directory, key and all.
	hold := func() (*exec.Cmd, string, func()) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRuntimeHolder$")
		cmd.Env = append(os.Environ(), "AUTH_TEST_RUNTIME_BASE="+base)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, base) {
			t.Fatalf("holder: %q %v", line, err)
		}
		return cmd, strings.TrimSpace(line), func() { stdin.Close() }
	}
	killed, killedKey, _ := hold()
	live, liveKey, release := hold()
	t.Cleanup(func() { release(); live.Wait() })
	killed.Process.Kill()
	killed.Wait()
	if _, err := os.Stat(killedKey); err != nil {
		t.Fatalf("a killed bridge's key file should still be there for this test to mean anything: %v", err)
	}
	// Leftovers of other kinds: a directory that lost its lock file, a
	// half-made one from long ago and one being made right now.
	noLock := filepath.Join(base, "123-nolock")
	oldNew := filepath.Join(base, runtimeNewPrefix+"456-old")
	freshNew := filepath.Join(base, runtimeNewPrefix+"789-fresh")
	for _, d := range []string{noLock, oldNew, freshNew} {
		os.MkdirAll(d, 0o700)
	}
	os.WriteFile(filepath.Join(oldNew, runtimeLockName), nil, 0o600)
	long := time.Now().Add(-time.Hour)
	os.Chtimes(oldNew, long, long)

	// The next bridge to start cleans up.
	startManager(t, cfg, nil, nil)
	for _, gone := range []string{filepath.Dir(killedKey), noLock, oldNew} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s survived the next start: %v", gone, err)
		}
	}
	for _, kept := range []string{liveKey, freshNew} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s of a running bridge was removed: %v", kept, err)
		}
	}
	// A bridge that exits normally removes its own.
	release()
	live.Wait()
	if _, err := os.Stat(filepath.Dir(liveKey)); !os.IsNotExist(err) {
		t.Errorf("a bridge that exited left %s: %v", filepath.Dir(liveKey), err)
	}
}

// Bridges started with other environments put their runtime directories
// elsewhere (XDG_RUNTIME_DIR or the state directory); every start, and
// doctor, cleans all the places.
func TestStaleRuntimeDirectoriesAreCleanedEverywhere(t *testing.T) {
	cfg := testConfig(t)
	xdg := filepath.Join(t.TempDir(), "xdg")
	os.Mkdir(xdg, 0o700)
	systemd := t.TempDir()
	realSystemd := systemdRuntimeDirs
	systemdRuntimeDirs = systemd
	t.Cleanup(func() { systemdRuntimeDirs = realSystemd })
	uidDir := filepath.Join(systemd, strconv.Itoa(os.Getuid()))
	os.Mkdir(uidDir, 0o700)
	state := stateRuntimeBase(cfg.Environ, cfg.Home)
	// A killed bridge's directory: a final name whose lock nobody holds.
	leave := func(base string) string {
		rt, err := openRuntime(base)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.writeKey(keyEnv); err != nil {
			t.Fatal(err)
		}
		liveRuntimes.forget(rt)
		rt.lock.Close() // what the kernel does when the bridge dies
		return rt.dir
	}
	check := func(what string, gone ...string) {
		t.Helper()
		for _, d := range gone {
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				t.Errorf("%s: %s survived: %v", what, d, err)
			}
		}
	}

	// A bridge without XDG_RUNTIME_DIR (ssh, cron) cleans the state
	// directory and systemd's /run/user/<uid>.
	a, b := leave(filepath.Join(uidDir, "claude-bridge")), leave(state)
	startManager(t, cfg, nil, nil)
	check("start without XDG_RUNTIME_DIR", a, b)

	// With XDG_RUNTIME_DIR set, both its directory and the state one.
	withXDG := cfg
	withXDG.Environ = append(slices.Clone(cfg.Environ), "XDG_RUNTIME_DIR="+xdg)
	a, b = leave(filepath.Join(xdg, "claude-bridge")), leave(state)
	startManager(t, withXDG, nil, nil)
	check("start with XDG_RUNTIME_DIR", a, b)

	// doctor too, and says so.
	a, b = leave(filepath.Join(xdg, "claude-bridge")), leave(state)
	m, err := New(withXDG, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var doc bytes.Buffer
	m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"})
	check("doctor", a, b)
	mustContain(t, doc.String(), "info  removed 2 runtime directories of claude-bridges that were killed, with what they held\n")
}

// XDG_RUNTIME_DIR may be a symbolic link to the user's private directory
// (some login managers and containers set it up so): the directory it
// names is used. A link to a directory that is not private is not.
func TestSymlinkedXDGRuntimeDir(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	if base, note := runtimeBase([]string{"XDG_RUNTIME_DIR=" + link}, cfg.Home); base != filepath.Join(real, "claude-bridge") || note != "" {
		t.Fatalf("base %q, note %q", base, note)
	}
	os.Chmod(real, 0o755)
	base, note := runtimeBase([]string{"XDG_RUNTIME_DIR=" + link}, cfg.Home)
	if base != stateRuntimeBase(nil, cfg.Home) || note != "XDG_RUNTIME_DIR is not usable: "+link+" links to "+real+" has mode 0755, not 0700" {
		t.Fatalf("base %q, note %q", base, note)
	}
}

func TestLaunchEnvironmentHoldsNoKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.Environ = append(cfg.Environ, envAnthropicAPIKey+"="+keyBrEnv, envOAuthToken+"=oauth-token-0123456789")
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	f := false
	// With the user's own helper the key file answers: the bridge learns
	// the key from the helper's output and keeps it in memory only.
	own := filepath.Join(cfg.Home, "bin", "helper.sh")
	writeKey(t, own, "#!/bin/sh\nexec /bin/cat "+shQuote(keyFilePath(cfg))+"\n", 0o700)
	cfg.ManageHelper, cfg.HelperPath = &f, own
	m := startManager(t, cfg, nil, nil)
	if m.Fingerprint() != Fingerprint(keyFileK) {
		t.Fatalf("fingerprint %s", m.Fingerprint())
	}
	l, err := m.Launch("")
	if err != nil {
		t.Fatal(err)
	}
	if c := helperCommandOf(t, l); c != own {
		t.Fatalf("a user's own helper gets %q, want its bare path", c)
	}
	// Any variable holding a key the bridge knows goes, wherever in its
	// value the key is (a header line, a bearer token), the key file's
	// key included.
	base := []string{"PATH=/usr/bin", "KEEP=1", "COPY_OF_THE_BRIDGES=" + keyBrEnv, "BEARER=Bearer " + keyBrEnv,
		"FROM_THE_KEY_FILE=" + keyFileK + "\n", "ANTHROPIC_CUSTOM_HEADERS=x-api-key: " + keyFileK, "MY_BEARER=Bearer " + keyFileK,
		"QUOTED=\"" + keyFileK + "\"", "OAUTH_COPY=oauth-token-0123456789", envOAuthToken + "=x", "SHORT=sk"}
	env := l.Env(base)
	if want := []string{"PATH=/usr/bin", "KEEP=1", "SHORT=sk", envTTL + "=240000"}; !slices.Equal(env, want) {
		t.Fatalf("env %q, want %q", masked(strings.Join(env, " ")), want)
	}
	st := m.Status()
	if st.RuntimeKeyFile != "" || !slices.ContainsFunc(st.Problems, func(p string) bool {
		return strings.Contains(p, "the bridge's ANTHROPIC_API_KEY is not passed to claude, not even to your own helper")
	}) {
		t.Fatalf("status %+v", st)
	}
}

// plantTools puts executables named like every tool a helper could use into
// dir; each one appends its name to marker and fails.
func plantTools(t *testing.T, dir, marker string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cat", "ls", "id", "wc", "tr", "timeout", "sh", "dash", "bash", "od", "head", "tail",
		"sed", "awk", "grep", "stat", "printf", "test", "[", "env", "sleep", "kill", "tee", "dd", "cut", "readlink", "mkdir", "rm", "pass", "gpg"} {
		script := "#!/bin/sh\necho " + shQuote(name) + " >> " + shQuote(marker) + "\nexit 97\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// A repository with its own tools and a PATH with relative entries: claude
// runs the helper in the workspace, where ./node_modules/.bin, "." and an
// empty entry all name the repository's files.
func TestHelperNeverRunsWorkspaceTools(t *testing.T) {
	workspace := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	plantTools(t, filepath.Join(workspace, "node_modules", ".bin"), marker)
	plantTools(t, workspace, marker)
	hostile := []string{"PATH=./node_modules/.bin:.::" + os.Getenv("PATH") + ":", "HOME=/nonexistent"}

	for _, c := range []struct {
		name, keyCommand, want string
		keyFile                bool
	}{
		{"key file", "", keyFileK, true},
		// The key command's own PATH lookups (cat, tr) must not find the
		// workspace's tools either: it runs from the home directory with
		// the relative entries gone.
		{"key command", "cat secrets/key | tr -d x", keyCmdK, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(marker)
			cfg := testConfig(t)
			cfg.KeyCommand = c.keyCommand
			writeKey(t, filepath.Join(cfg.Home, "secrets", "key"), keyCmdK, 0o600)
			if c.keyFile {
				writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
			}
			m, err := New(cfg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			l, err := m.Launch("")
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runCommand(t, helperCommandOf(t, l), workspace, l.Env(hostile))
			if code != 0 || out != c.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
			}
			if ran, err := os.ReadFile(marker); err == nil {
				t.Fatalf("the helper ran the workspace's own tools: %q", ran)
			}
		})
	}
}

func TestKeyCommandRunsFromHomeWithOnlyAbsolutePATHEntries(t *testing.T) {
	cfg := testConfig(t)
	report := filepath.Join(t.TempDir(), "report")
	cfg.KeyCommand = `printf '%s\n%s\n' "$(pwd)" "$PATH" > ` + shQuote(report) + `; printf '%s\n' ` + keyCmdK
	helper := writeScript(t, cfg)
	env := []string{"PATH=./node_modules/.bin:.::/usr/local/bin:relative/bin:/usr/bin:/bin:"}
	if out, errOut, code := runCommand(t, helper.command(), t.TempDir(), env); code != 0 || out != keyCmdK+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	got, _ := os.ReadFile(report)
	if want := cfg.Home + "\n/usr/local/bin:/usr/bin:/bin\n"; string(got) != want {
		t.Fatalf("the key command ran in (directory, PATH) %q, want %q", got, want)
	}
}

// alive reports whether pid is a running process (a zombie is not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

// A key command that ignores SIGTERM, with a child that does too and one
// that execs sleep with SIGTERM ignored: GNU timeout without -k would wait for
// it forever, one more process per refresh. The helper is run as claude runs
// it, without a process group of its own that anyone would kill.
func TestKeyCommandIgnoringSIGTERMLeavesNothing(t *testing.T) {
	cfg := testConfig(t)
	pids := filepath.Join(t.TempDir(), "pids")
	p := shQuote(pids)
	cfg.KeyCommand = `trap '' TERM; echo $$ >> ` + p + `
/bin/sh -c 'echo $$ >> ` + pids + `; exec /bin/sleep 1000' &
/bin/sh -c 'echo $$ >> ` + pids + `; while :; do /bin/sleep 1; done'`
	cfg.KeyCommandTimeout = time.Second
	helper := writeScript(t, cfg)
	t.Cleanup(func() {
		// Should the test fail, what it started does not outlive it.
		for _, pid := range readPids(pids) {
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	start := time.Now()
	out, errOut, code := runCommand(t, helper.command(), "", []string{"PATH=/usr/bin:/bin"})
	took := time.Since(start)
	// Nothing but the helper's own line: no "Killed" from a shell that
	// reaped the killed command (measured before the fix: it came first,
	// and reached the user's message).
	if code != 1 || out != "" || errOut != "auth.keyCommand timed out after 1s and ignored SIGTERM; it was killed\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	t.Logf("the helper returned %v after starting a key command with a 1 s limit that ignores SIGTERM", took.Round(10*time.Millisecond))
	all := readPids(pids)
	if len(all) != 3 {
		t.Fatalf("the key command's processes did not all start: pids %v", all)
	}
	// They were killed before the helper returned; only the reaping of
	// the orphans by init may lag.
	eventually(t, "every process of the key command to be gone", func() bool {
		return !slices.ContainsFunc(all, alive)
	})
}

// A key command that leaves a background child holding its output open
// ("sleep 40 & cat keysrc", a daemon started on the way): the helper
// returns as soon as the command itself has exited, and that child is
// killed with the command's process group. Measured before the fix: the
// helper waited for the child, far past the limit, and left it running.
func TestKeyCommandBackgroundChildDoesNotHoldTheHelper(t *testing.T) {
	for _, c := range []struct {
		name, command, want, errOut string
		limit                       time.Duration
	}{
		{"the command exits", "/bin/sleep 40 & echo $! >> PIDS; cat secrets/key", keyCmdK + "\n", "", 30 * time.Second},
		{"the command hangs too", "/bin/sleep 40 & echo $! >> PIDS; /bin/sleep 30 & echo $! >> PIDS; wait", "", "auth.keyCommand timed out after 1s\n", time.Second},
		// A child that leaves the process group (setsid; gpg-agent does)
		// is not the helper's to kill: it carries the tag of the claude
		// that ran the helper, and the bridge kills it (here: the test, as
		// the bridge does at the end of the turn). Before the fix the
		// helper waited for it, far past the limit, for its output to end.
		{"a child leaves the process group", "/usr/bin/setsid /bin/sleep 40 & echo $! >> PIDS; cat secrets/key", keyCmdK + "\n", "", 30 * time.Second},
		{"a child leaves the process group and the command hangs", "/usr/bin/setsid /bin/sleep 40 & echo $! >> PIDS; /bin/sleep 30 & echo $! >> PIDS; wait", "", "auth.keyCommand timed out after 1s\n", time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			pids := filepath.Join(t.TempDir(), "pids")
			writeKey(t, filepath.Join(cfg.Home, "secrets", "key"), keyCmdK, 0o600)
			cfg.KeyCommand = strings.ReplaceAll(c.command, "PIDS", shQuote(pids))
			cfg.KeyCommandTimeout = c.limit
			t.Cleanup(func() {
				for _, pid := range readPids(pids) {
					if alive(pid) {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			h := writeScript(t, cfg)
			tag := proctree.NewScope().NewTag()
			start := time.Now()
			out, errOut, code := runCommand(t, h.command(), "", []string{"PATH=/usr/bin:/bin", tag.Env()})
			took := time.Since(start)
			_, _ = proctree.Sweep(tag, 0) // what the bridge does once claude's turn, or its own helper run, is over
			if out != c.want || errOut != c.errOut || (code == 0) != (c.errOut == "") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
			}
			// Well inside the limit (or just past it), never the 40 s the
			// child would hold the output.
			if max := min(c.limit, 5*time.Second) + 3*time.Second; took > max {
				t.Fatalf("the helper took %v (limit %v)", took, c.limit)
			}
			t.Logf("the helper returned after %v", took.Round(10*time.Millisecond))
			all := readPids(pids)
			if len(all) == 0 {
				t.Fatal("the background children never started")
			}
			eventually(t, "the key command's background children to be gone", func() bool {
				return !slices.ContainsFunc(all, alive)
			})
		})
	}
}

// The bridge's own helper runs (its checks, doctor) do not wait for a child
// that left the key command's process group, and leave none behind.
func TestCheckKillsAKeyCommandChildThatLeftTheGroup(t *testing.T) {
	cfg := testConfig(t)
	pids := filepath.Join(t.TempDir(), "pids")
	writeKey(t, filepath.Join(cfg.Home, "secrets", "key"), keyCmdK, 0o600)
	cfg.KeyCommand = "/usr/bin/setsid /bin/sleep 40 & echo $! >> " + shQuote(pids) + "; cat secrets/key"
	cfg.KeyCommandTimeout = 30 * time.Second
	t.Cleanup(func() {
		for _, pid := range readPids(pids) {
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	m := startManager(t, cfg, newRecNotifier(), nil)
	start := time.Now()
	if err := m.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the check took %v: it waited for the child", took)
	}
	if m.Fingerprint() != Fingerprint(keyCmdK) {
		t.Fatalf("fingerprint %q", m.Fingerprint())
	}
	all := readPids(pids)
	if len(all) == 0 {
		t.Fatal("the child never started")
	}
	// Killed before Check returned; init may reap it a little later.
	eventually(t, "the child that left the group to be gone", func() bool {
		return !slices.ContainsFunc(all, alive)
	})
}

// utf32Text encodes s as UTF-32 in the given byte order, with or without a
// byte-order mark.
func utf32Text(s string, order binary.ByteOrder, bom bool) []byte {
	runes := []rune(s)
	if bom {
		runes = append([]rune{0xfeff}, runes...)
	}
	out := make([]byte, 4*len(runes))
	for i, r := range runes {
		order.PutUint32(out[4*i:], uint32(r))
	}
	return out
}

// utf16Text encodes s as UTF-16 in the given byte order, with or without a
// byte-order mark.
func utf16Text(s string, order binary.ByteOrder, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 2*len(units))
	for i, u := range units {
		order.PutUint16(out[2*i:], u)
	}
	return out
}

func TestHelperKeyFileArtefacts(t *testing.T) {
	cfg := testConfig(t)
	helper := writeScript(t, cfg)
	kf := keyFilePath(cfg)
	env := []string{"PATH=/usr/bin:/bin"}
	r, _ := resolve(cfg)

	for name, content := range map[string]string{
		"UTF-8 byte-order mark and CRLF": "\xef\xbb\xbf" + keyFileK + "\r\n",
		"surrounding whitespace":         " \t\n" + keyFileK + " \n\n",
		"CRLF lines around it":           "\r\n" + keyFileK + "\r\n\r\n",
		"byte-order mark and spaces":     "\xef\xbb\xbf  " + keyFileK + "  ",
	} {
		writeKey(t, kf, content, 0o600)
		if out, errOut, code := runSh(t, helper, env); code != 0 || out != keyFileK+"\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, masked(out), masked(errOut))
		}
		if ks := keyFileStatus(r); !ks.OK {
			t.Errorf("%s: keyFileStatus %+v", name, ks)
		}
	}

	const utf16Msg = "~/.claude/api_key is UTF-16 text; save it as UTF-8 or ASCII"
	for name, content := range map[string][]byte{
		"UTF-16LE with BOM (PowerShell's echo > file)": utf16Text(keyFileK+"\r\n", binary.LittleEndian, true),
		"UTF-16BE with BOM":                            utf16Text(keyFileK+"\r\n", binary.BigEndian, true),
		"UTF-16LE without BOM":                         utf16Text(keyFileK, binary.LittleEndian, false),
		"UTF-16BE without BOM":                         utf16Text(keyFileK+"\n", binary.BigEndian, false),
	} {
		writeKey(t, kf, string(content), 0o600)
		if out, errOut, code := runSh(t, helper, env); code != 1 || out != "" || errOut != utf16Msg+"\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", name, code, masked(out), masked(errOut), utf16Msg)
		}
		if ks := keyFileStatus(r); ks.OK || ks.Problem != utf16Msg {
			t.Errorf("%s: keyFileStatus %+v", name, ks)
		}
	}
	// UTF-32 (Notepad++'s and some editors' "UCS-4"), named as such, not as
	// UTF-16.
	const utf32Msg = "~/.claude/api_key is UTF-32 text; save it as UTF-8 or ASCII"
	for name, content := range map[string][]byte{
		"UTF-32LE with BOM":    utf32Text(keyFileK+"\r\n", binary.LittleEndian, true),
		"UTF-32BE with BOM":    utf32Text(keyFileK+"\n", binary.BigEndian, true),
		"UTF-32LE without BOM": utf32Text(keyFileK, binary.LittleEndian, false),
		"UTF-32BE without BOM": utf32Text(keyFileK, binary.BigEndian, false),
	} {
		writeKey(t, kf, string(content), 0o600)
		if out, errOut, code := runSh(t, helper, env); code != 1 || out != "" || errOut != utf32Msg+"\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", name, code, masked(out), masked(errOut), utf32Msg)
		}
		if ks := keyFileStatus(r); ks.OK || ks.Problem != utf32Msg {
			t.Errorf("%s: keyFileStatus %+v", name, ks)
		}
	}
	// A line copied from a .env file or a shell profile: refused, naming
	// the variable, never the key.
	for name, c := range map[string]struct{ content, variable string }{
		"NAME=key":             {"ANTHROPIC_API_KEY=" + keyFileK + "\n", "ANTHROPIC_API_KEY"},
		"export NAME=key CRLF": {"export CLAUDE_API_KEY=" + keyFileK + "\r\n", "CLAUDE_API_KEY"},
		"BOM and NAME=key":     {"\xef\xbb\xbfANTHROPIC_API_KEY=" + keyFileK, "ANTHROPIC_API_KEY"},
	} {
		want := "~/.claude/api_key holds a shell assignment (" + c.variable + "=...), not just the key; leave only the key itself (sk-ant-...) in it"
		writeKey(t, kf, c.content, 0o600)
		if out, errOut, code := runSh(t, helper, env); code != 1 || out != "" || errOut != want+"\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", name, code, masked(out), masked(errOut), want)
		}
		if ks := keyFileStatus(r); ks.OK || ks.Problem != want {
			t.Errorf("%s: keyFileStatus %+v", name, ks)
		}
	}
	writeKey(t, kf, "sk-ant-api03-\x00in-the-middle", 0o600)
	if _, errOut, code := runSh(t, helper, env); code != 1 || errOut != "~/.claude/api_key contains NUL bytes, which no API key has\n" {
		t.Errorf("NUL: exit %d, stderr %q", code, masked(errOut))
	}

	// doctor says the same, once for the file and once for the helper run.
	writeKey(t, kf, string(utf16Text(keyFileK+"\r\n", binary.LittleEndian, true)), 0o600)
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var doc bytes.Buffer
	if m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"}) {
		t.Fatalf("doctor passed a UTF-16 key file:\n%s", doc.String())
	}
	mustContain(t, doc.String(), "FAIL  key file "+utf16Msg+"\n")
	mustContain(t, doc.String(), "FAIL  helper run: "+utf16Msg+"\n")

	// The same rules for what the key command prints.
	for name, c := range map[string]struct {
		printf, out, errOut string
	}{
		"BOM and CRLF":    {`\357\273\277 ` + keyCmdK + `\r\n`, keyCmdK + "\n", ""},
		"UTF-16LE":        {string(bytes.ReplaceAll(utf16Text(keyCmdK, binary.LittleEndian, true), []byte{0}, []byte(`\000`))), "", "the output of auth.keyCommand is UTF-16 text; make it print UTF-8 or ASCII\n"},
		"UTF-16BE no BOM": {string(bytes.ReplaceAll(utf16Text(keyCmdK, binary.BigEndian, false), []byte{0}, []byte(`\000`))), "", "the output of auth.keyCommand is UTF-16 text; make it print UTF-8 or ASCII\n"},
		"UTF-32LE":        {string(bytes.ReplaceAll(utf32Text(keyCmdK, binary.LittleEndian, true), []byte{0}, []byte(`\000`))), "", "the output of auth.keyCommand is UTF-32 text; make it print UTF-8 or ASCII\n"},
		"an assignment":   {"ANTHROPIC_API_KEY=" + keyCmdK + `\n`, "", "the output of auth.keyCommand holds a shell assignment (ANTHROPIC_API_KEY=...), not just the key; leave only the key itself (sk-ant-...) in it\n"},
	} {
		kc := testConfig(t)
		kc.KeyCommand = "printf " + shQuote(c.printf)
		h := writeScript(t, kc)
		if out, errOut, code := runSh(t, h, env); out != c.out || errOut != c.errOut || (code == 0) != (c.errOut == "") {
			t.Errorf("key command %s: exit %d, stdout %q, stderr %q", name, code, masked(out), masked(errOut))
		}
	}
}

// A managed helper that someone replaced is never run: not by a claude the
// bridge starts, not by the bridge's own check.
func TestForeignHelperIsNeverRun(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	marker := filepath.Join(t.TempDir(), "foreign-ran")
	foreign := "#!/bin/sh\necho ran >> " + shQuote(marker) + "\necho sk-ant-api03-someone-elses\n"
	// Not started: no watcher races Launch to the restore.
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	helper := helperPathOf(cfg)
	managed := helperScript()

	plant := func(content string, mode os.FileMode) {
		os.MkdirAll(filepath.Dir(helper), 0o700)
		os.Remove(helper)
		if err := os.WriteFile(helper, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(helper, mode)
	}
	for name, setup := range map[string]func(){
		"replaced":                        func() { plant(foreign, 0o700) },
		"managed content, loose mode":     func() { plant(string(managed), 0o777) },
		"symbolic link to a foreign file": func() { plant(foreign, 0o700); os.Rename(helper, helper+".x"); os.Symlink(helper+".x", helper) },
	} {
		setup()
		l, err := m.Launch("")
		if err != nil {
			t.Fatalf("%s: launch: %v", name, err)
		}
		if got, _ := os.ReadFile(helper); !bytes.Equal(got, managed) || modeOf(t, helper) != 0o700 {
			t.Fatalf("%s: the helper was not rewritten before the launch", name)
		}
		if out, _, code := runCommand(t, helperCommandOf(t, l), "", nil); code != 0 || out != keyFileK+"\n" {
			t.Fatalf("%s: exit %d, stdout %q", name, code, masked(out))
		}
	}

	// When the bridge has given up restoring it (another program keeps
	// changing it), a launch is refused, and the check runs nothing.
	m.mu.Lock()
	m.helperConflict = "~/.claude/auth_helper.sh keeps being changed by another program"
	m.mu.Unlock()
	plant(foreign, 0o700)
	_, err = m.Launch("")
	if err == nil || !strings.Contains(err.Error(), "the key helper ~/.claude/auth_helper.sh is not the bridge's own script (its content differs), and the bridge no longer restores it: ~/.claude/auth_helper.sh keeps being changed by another program") {
		t.Fatalf("launch with a foreign helper: %v", err)
	}
	if err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "is not the bridge's own script") {
		t.Fatalf("check with a foreign helper: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the foreign helper ran")
	}
	if got, _ := os.ReadFile(helper); string(got) != foreign {
		t.Fatal("the bridge restored the helper after giving up")
	}
	// A helper that cannot be written is refused too.
	m.mu.Lock()
	m.helperConflict = ""
	m.mu.Unlock()
	os.Remove(helper)
	os.Mkdir(helper, 0o700) // a directory where the file should be: no rename can replace it
	if _, err := m.Launch(""); err == nil || !strings.Contains(err.Error(), "is not a regular file, and the bridge cannot write it: ") {
		t.Fatalf("launch with an unwritable helper: %v", err)
	}
}

func TestHelperDirectoryIsCheckedLikeSSH(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	// Not started: no background check reads lstatOwner while the test
	// replaces it.
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := filepath.Join(cfg.Home, ".claude")
	doctor := func() (bool, string) {
		var b bytes.Buffer
		ok := m.Doctor(context.Background(), &b, ClaudeInfo{Path: "claude"})
		return ok, b.String()
	}

	for _, mode := range []os.FileMode{0o700, 0o755, 0o750, 0o711} {
		os.Chmod(dir, mode)
		if _, err := m.Launch(""); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
	}
	if ok, out := doctor(); !ok || !strings.Contains(out, "ok    key helper directory ~/.claude: only you (or root) can write it") {
		t.Fatalf("doctor:\n%s", out)
	}
	// The helper's own directory gets no sticky-bit exception.
	for _, mode := range []os.FileMode{0o777, 0o770, 0o775, 0o722, os.ModeSticky | 0o777} {
		os.Chmod(dir, mode)
		want := fmt.Sprintf("~/.claude, the key helper's directory, has mode %s: others can replace the helper in it and take your key", octal(mode))
		_, err := m.Launch("")
		if err == nil || !strings.Contains(err.Error(), "the key helper ~/.claude/auth_helper.sh is not safe to run: "+want) || !strings.HasSuffix(err.Error(), "; run chmod go-w ~/.claude") {
			t.Fatalf("mode %o: launch: %v", mode, err)
		}
		if err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("mode %o: check: %v", mode, err)
		}
		ok, out := doctor()
		if ok || !strings.Contains(out, "FAIL  "+want) || !strings.Contains(out, "      fix: chmod go-w ~/.claude\n") {
			t.Fatalf("mode %o: doctor:\n%s", mode, out)
		}
		if st := m.Status(); !slices.ContainsFunc(st.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Fatalf("mode %o: status problems %q", mode, st.Problems)
		}
	}
	os.Chmod(dir, 0o700)

	// A parent up to the home directory counts too.
	os.Chmod(cfg.Home, 0o777)
	_, err = m.Launch("")
	os.Chmod(cfg.Home, 0o700)
	if err == nil || !strings.Contains(err.Error(), cfg.Home+", a parent of the key helper's directory, has mode 0777") {
		t.Fatalf("home 0777: %v", err)
	}

	// Owned by someone else (as only root could arrange for real).
	real := lstatOwner
	t.Cleanup(func() { lstatOwner = real })
	lstatOwner = func(p string) (int, fs.FileMode, error) {
		uid, mode, err := real(p)
		if p == dir {
			uid = 4242
		}
		return uid, mode, err
	}
	_, err = m.Launch("")
	me := os.Getuid()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("~/.claude, the key helper's directory, is owned by uid 4242, not by you (uid %d) or root", me)) ||
		!strings.HasSuffix(err.Error(), fmt.Sprintf("; run chown %d ~/.claude", me)) {
		t.Fatalf("foreign owner: %v", err)
	}
	lstatOwner = real

	// Outside the home directory a sticky parent (like /tmp) is fine, a
	// plain world-writable one is not.
	shared := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, os.ModeSticky|0o777)
	cfg.HelperPath = filepath.Join(shared, "mine", "helper.sh")
	if err := m.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Launch(""); err != nil {
		t.Fatalf("under a sticky directory: %v", err)
	}
	os.Chmod(shared, 0o777)
	if _, err := m.Launch(""); err == nil || !strings.Contains(err.Error(), shared+", a parent of the key helper's directory, has mode 0777") {
		t.Fatalf("under a world-writable directory: %v", err)
	}
}

// A user's own helper kept in dotfiles and linked into place
// (~/.claude/auth_helper.sh -> ../dotfiles/helper.sh): the directory of the
// path claude runs and that of every link target are checked, each up to
// the home directory. Measured before the fix: only the target's was, so
// ~/.claude at 0777 passed doctor with "all ok".
func TestOwnHelperThroughALinkIsCheckedAllTheWay(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	dotfiles := filepath.Join(cfg.Home, "dotfiles")
	target := filepath.Join(dotfiles, "helper.sh")
	writeKey(t, target, "#!/bin/sh\nexec /bin/cat "+shQuote(keyFilePath(cfg))+"\n", 0o700)
	// Two links: ~/.claude/auth_helper.sh -> ~/bin/helper -> ../dotfiles/helper.sh.
	bin := filepath.Join(cfg.Home, "bin")
	os.Mkdir(bin, 0o700)
	os.Symlink("../dotfiles/helper.sh", filepath.Join(bin, "helper"))
	os.Symlink(filepath.Join(bin, "helper"), helperPathOf(cfg))
	f := false
	cfg.ManageHelper, cfg.HelperPath = &f, helperPathOf(cfg)
	m, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Launch(""); err != nil {
		t.Fatalf("all private: %v", err)
	}
	var doc bytes.Buffer
	if !m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"}) {
		t.Fatalf("doctor:\n%s", doc.String())
	}
	mustContain(t, doc.String(), "ok    key helper directory ~/.claude: only you (or root) can write it and the directories above it, and those of its link targets (~/bin, ~/dotfiles)\n")

	for _, c := range []struct{ dir, want string }{
		{filepath.Join(cfg.Home, ".claude"), "~/.claude, the key helper's directory, has mode 0777: others can replace the helper in it and take your key"},
		{bin, "~/bin, the directory of ~/bin/helper (where the key helper ~/.claude/auth_helper.sh links), has mode 0777"},
		{dotfiles, "~/dotfiles, the directory of ~/dotfiles/helper.sh (where the key helper ~/.claude/auth_helper.sh links), has mode 0777"},
	} {
		os.Chmod(c.dir, 0o777)
		_, err := m.Launch("")
		var doc bytes.Buffer
		ok := m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"})
		os.Chmod(c.dir, 0o700)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s at 0777: launch %v", c.dir, err)
		}
		if ok || !strings.Contains(doc.String(), "FAIL  "+c.want) {
			t.Errorf("%s at 0777: doctor:\n%s", c.dir, doc.String())
		}
	}
}

func TestOwnHelperWritableByOthersIsRefused(t *testing.T) {
	cfg := testConfig(t)
	own := filepath.Join(cfg.Home, "bin", "my-helper.sh")
	writeKey(t, own, "#!/bin/sh\nprintf '%s\\n' "+keyCmdK+"\n", 0o775)
	f := false
	cfg.ManageHelper, cfg.HelperPath = &f, own
	m := startManager(t, cfg, nil, nil)
	want := "the key helper ~/bin/my-helper.sh has mode 0775: others could make it print their key or copy yours; run chmod go-w ~/bin/my-helper.sh"
	if _, err := m.Launch(""); err == nil || err.Error() != want {
		t.Fatalf("launch: %v", err)
	}
	var doc bytes.Buffer
	if m.Doctor(context.Background(), &doc, ClaudeInfo{Path: "claude"}) || !strings.Contains(doc.String(), "FAIL  the key helper ~/bin/my-helper.sh has mode 0775") ||
		!strings.Contains(doc.String(), "fix: chmod go-w ~/bin/my-helper.sh") {
		t.Fatalf("doctor:\n%s", doc.String())
	}
	os.Chmod(own, 0o755)
	if _, err := m.Launch(""); err != nil {
		t.Fatal(err)
	}
}

// The managed helper names no tool but by absolute path in a system
// directory, and none of a bridge's configuration: every bridge of this
// helper version writes the same bytes.
func TestManagedScriptIsTheSameForEveryConfiguration(t *testing.T) {
	script := string(helperScript())
	mustContain(t, script, "\nPATH="+helperPATH+"\nexport PATH\n")
	mustContain(t, script, "\tfor d in "+strings.Join(systemToolDirs, " ")+"; do\n")
	for _, word := range []string{"/home/", "api_key", "pass show", keyEnv} {
		if strings.Contains(script, word) {
			t.Errorf("the script holds %q", word)
		}
	}
	// Two bridges of the same user with different auth settings write the
	// same helper, and each one's configuration answers for it.
	a, b := testConfig(t), testConfig(t)
	b.Home = a.Home
	a.KeyFile = "~/.claude/key-a"
	b.KeyFile, b.KeyCommand, b.KeyCommandTimeout = "~/.claude/key-b", "printf '%s\\n' "+keyCmdK, 3*time.Second
	ha := writeScript(t, a)
	sa, _ := os.ReadFile(ha.path)
	hb := writeScript(t, b)
	sb, _ := os.ReadFile(hb.path)
	if !bytes.Equal(sa, sb) || string(sa) != script || ha.path != hb.path {
		t.Fatal("two configurations wrote different helpers")
	}
	writeKey(t, filepath.Join(a.Home, ".claude", "key-a"), keyFileK, 0o600)
	if out, errOut, code := runSh(t, ha, nil); code != 0 || out != keyFileK+"\n" {
		t.Fatalf("a: exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	if out, errOut, code := runSh(t, hb, []string{"PATH=/usr/bin:/bin"}); code != 0 || out != keyCmdK+"\n" {
		t.Fatalf("b: exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	// Without GNU timeout (none in the system directories) the key command
	// runs without a limit, and still works: the helper looks for its
	// tools each time, so a copy whose directory list names none finds none.
	noTimeout := strings.Replace(script, "system_tool timeout\n", "system_tool no-such-timeout\n", 1)
	path := filepath.Join(t.TempDir(), "helper.sh")
	if err := os.WriteFile(path, []byte(noTimeout), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runSh(t, testHelper{path, hb.config}, nil); code != 0 || out != keyCmdK+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
}
