package main_test

// The key never leaves the helper (issue 9): for every key source, an agent
// running `env` through Bash finds no key in its environment, and the key is
// nowhere it could travel from there. Real claude CLI, real bridge, the
// fakeapi stand-in accepting only the key under test.

import (
	"bytes"
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// procSample is what one look at a process found.
type procSample struct {
	pid     int
	cmdline string // NULs as spaces
	leak    string // "environ" or "cmdline" when the key was there
}

// sampleTree reads the environment and command line of every process below
// root, and says where it found key. A child root has forked and not yet
// exec'd is left out: until its execve it is a copy of root, environment
// and command line included (what /proc shows of it is the bridge's own,
// not what the child will run with); it is seen again once it runs its
// program. Root (the bridge) never runs itself with its own arguments (its
// watchdog has arguments of its own).
func sampleTree(root int, key string) []procSample {
	var out []procSample
	rootCmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", root))
	for _, pid := range fakeapi.Descendants(root) {
		s := procSample{pid: pid}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue // gone already
		}
		if len(rootCmd) > 0 && bytes.Equal(cmd, rootCmd) {
			// A child the bridge forked, not yet replaced by the program it
			// execs: still the bridge's own memory, environment included
			// (the window lasts milliseconds on a busy machine). The bridge
			// never forks without exec'ing, and what it execs has another
			// command line.
			continue
		}
		s.cmdline = strings.ReplaceAll(string(cmd), "\x00", " ")
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		switch {
		case bytes.Contains(env, []byte(key)):
			s.leak = "environ"
		case bytes.Contains(cmd, []byte(key)):
			s.leak = "cmdline"
		}
		out = append(out, s)
	}
	return out
}

// treeWatch samples the bridge's process tree until stopped, for the
// processes that live too briefly to be caught by an event (the helper).
type treeWatch struct {
	stop, done chan struct{}
	mu         sync.Mutex
	seen       map[int]string // pid -> cmdline
	leaks      map[string]bool
}

func watchTree(root int, key string) *treeWatch {
	w := &treeWatch{stop: make(chan struct{}), done: make(chan struct{}), seen: map[int]string{}, leaks: map[string]bool{}}
	go func() {
		defer close(w.done)
		for {
			for _, s := range sampleTree(root, key) {
				w.mu.Lock()
				w.seen[s.pid] = s.cmdline
				if s.leak != "" {
					w.leaks[fmt.Sprintf("the %s of pid %d (%s)", s.leak, s.pid, firstWord(s.cmdline))] = true
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *treeWatch) finish() {
	close(w.stop)
	<-w.done
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// filesHolding lists the files under dir holding key, except those in skip.
func filesHolding(dir, key string, skip ...string) []string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		for _, s := range skip {
			if p == s {
				return nil
			}
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// filesContaining lists the files under dir holding text.
func filesContaining(dir, text string) []string { return filesHolding(dir, text) }

// fp is what a test prints of a key.
func fp(key string) string { return "key " + fakeapi.KeyFingerprint(key) }

func TestTheKeyNeverLeavesTheHelper(t *testing.T) {
	sources := []struct {
		name string
		key  string
		// setup gives the bridge its key; it returns the bridge's extra
		// environment, its auth settings and the user's own files that
		// rightly hold the key.
		setup func(w *world, key string) (env []string, auth map[string]any, own []string)
	}{
		{"env CLAUDE_API_KEY", "sk-ant-api03-e2e-from-CLAUDE_API_KEY-0123456789", func(w *world, key string) ([]string, map[string]any, []string) {
			return []string{"CLAUDE_API_KEY=" + key}, nil, nil
		}},
		{"env ANTHROPIC_API_KEY", "sk-ant-api03-e2e-from-ANTHROPIC_API_KEY-0123456789", func(w *world, key string) ([]string, map[string]any, []string) {
			return []string{"ANTHROPIC_API_KEY=" + key}, nil, nil
		}},
		{"key file", "sk-ant-api03-e2e-from-the-key-file-0123456789", func(w *world, key string) ([]string, map[string]any, []string) {
			w.writeKey(key, 0o600)
			return nil, nil, []string{filepath.Join(w.home, ".claude", "api_key")}
		}},
		{"keyCommand", "sk-ant-api03-e2e-from-the-key-command-0123456789", func(w *world, key string) ([]string, map[string]any, []string) {
			// A path relative to the home directory, where the key
			// command runs.
			secret := filepath.Join(w.home, "secrets", "anthropic")
			os.MkdirAll(filepath.Dir(secret), 0o700)
			if err := os.WriteFile(secret, []byte(key+"\n"), 0o600); err != nil {
				w.t.Fatal(err)
			}
			return nil, map[string]any{"keyCommand": "cat secrets/anthropic"}, []string{secret}
		}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			key := src.key
			w := newWorld(t, key)
			env, auth, own := src.setup(w, key)
			gate := newEnvGate(t)
			w.api.SetTurns([]fakeapi.Turn{gate.turn(), fakeapi.Text("done")})
			opts := map[string]any{"allowedTools": []string{"Bash"}}
			if auth != nil {
				opts["auth"] = auth
			}
			p := w.serve(opts, env...)
			bridge := p.cmd.Process.Pid
			watch := watchTree(bridge, key)
			call := p.run(map[string]any{"prompt": "show me your environment", "taskId": "env"})

			gateFile := gate.wait(t, p, "env")
			snapshot := sampleTree(bridge, key)
			var runtimeKey string
			if env != nil {
				// The bridge's private copy, while it runs.
				runtimeKey = runtimeKeyFile(t, w)
			}
			fmt.Fprintln(gateFile, "go")
			gateFile.Close()
			res := p.result(t, call, 90*time.Second)
			watch.finish()

			// It authenticated, with this key and only this key.
			if res.Status != "completed" || res.Result != "done" {
				t.Fatalf("task: status %s, result %q", res.Status, masked(res.Result, key))
			}
			reqs := w.api.MessageRequests()
			if len(reqs) < 2 {
				t.Fatalf("%d requests: the tool result never went back", len(reqs))
			}
			for _, r := range reqs {
				if r.Key != key || r.Status != 200 {
					t.Errorf("request (turn %d) carried %s, status %d; want %s", r.Turn, fp(r.Key), r.Status, fp(key))
				}
			}

			// Not in any process of claude's tree while the command ran,
			// nor in any seen during the whole task (the helper's runs
			// included).
			sawCommand := false
			for _, s := range snapshot {
				sawCommand = sawCommand || strings.Contains(s.cmdline, gate.path)
				if s.leak != "" {
					t.Errorf("%s is in the %s of pid %d (%s) while the Bash command runs", fp(key), s.leak, s.pid, firstWord(s.cmdline))
				}
			}
			if !sawCommand {
				t.Errorf("the snapshot missed the Bash command: %d processes", len(snapshot))
			}
			for l := range watch.leaks {
				t.Errorf("%s was in %s", fp(key), l)
			}
			t.Logf("%s: %d processes below the bridge sampled while the Bash command ran, %d over the task", src.name, len(snapshot), len(watch.seen))

			// Not in what the Bash command printed, as the API got it: the
			// environment did reach the request (so the test can fail).
			sawEnv := false
			for _, r := range w.api.Requests() {
				if bytes.Contains(r.Body, []byte(key)) {
					t.Errorf("the body of request %s holds the key", r)
				}
				sawEnv = sawEnv || bytes.Contains(r.Body, []byte("ANTHROPIC_BASE_URL="))
			}
			if !sawEnv {
				t.Error("no request carries the env output: the test proves nothing")
			}
			// Not in anything the editor got.
			sawEnv = false
			for _, m := range p.client.Messages("") {
				raw, _ := json.Marshal(m)
				if bytes.Contains(raw, []byte(key)) {
					t.Errorf("a %s message to the editor holds the key", m.Method)
				}
				sawEnv = sawEnv || (m.Method == "claude/event" && bytes.Contains(raw, []byte("ANTHROPIC_BASE_URL=")))
			}
			if !sawEnv {
				t.Error("no claude/event carries the env output: the test proves nothing")
			}

			// Shut down, then look at every file: claude's transcripts and
			// its other state under HOME, the bridge's log, audit trail and
			// runtime directory.
			_ = p.client.Request("shutdown", nil, nil, 20*time.Second)
			_ = p.client.Notify("exit", nil)
			<-p.done
			if transcripts := filesContaining(filepath.Join(w.home, ".claude", "projects"), "ANTHROPIC_BASE_URL="); len(transcripts) == 0 {
				t.Error("no transcript under ~/.claude/projects holds the env output: the test proves nothing")
			}
			for _, f := range filesHolding(w.home, key, own...) {
				t.Errorf("%s holds the key", f)
			}
			for _, f := range filesHolding(w.logDir, key) {
				t.Errorf("%s holds the key", f)
			}
			for _, f := range filesHolding(w.workspace, key) {
				t.Errorf("%s holds the key", f)
			}
			if runtimeKey != "" {
				if _, err := os.Stat(filepath.Dir(runtimeKey)); !os.IsNotExist(err) {
					t.Errorf("the runtime directory outlives the bridge: %v", err)
				}
			}
			if strings.Contains(p.stderr.String(), key) {
				t.Error("the bridge's stderr holds the key")
			}
		})
	}
}

// envGate is a FIFO that an agent's `env` command waits on until the test
// has looked at every process: the look happens while the command runs, by
// event rather than by a sleep.
type envGate struct{ path string }

func newEnvGate(t *testing.T) envGate {
	t.Helper()
	g := envGate{filepath.Join(t.TempDir(), "gate")}
	if err := syscall.Mkfifo(g.path, 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// turn is the agent's Bash command: print the environment, then wait.
func (g envGate) turn() fakeapi.Turn {
	return fakeapi.ToolUse("Bash", map[string]any{"command": "env; read -r go < " + g.path + "; echo released-$go", "description": "print the environment"})
}

// wait returns once the command runs (opening the FIFO for writing returns
// when the command has opened it for reading); write a line to the file and
// close it to let the command go on.
func (g envGate) wait(t *testing.T, p *bridgeProc, taskID string) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(g.path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		return f
	case <-time.After(90 * time.Second):
		t.Fatalf("the Bash command never ran; events: %s", lsptest.Kinds(p.client.Events(t, taskID)))
		return nil
	}
}

// runtimeKeyFile finds the running bridge's runtime key file (XDG_STATE_HOME
// is w.logDir and there is no XDG_RUNTIME_DIR) and checks its modes.
func runtimeKeyFile(t *testing.T, w *world) string {
	t.Helper()
	base := filepath.Join(w.logDir, "claude-bridge", "run")
	matches, _ := filepath.Glob(filepath.Join(base, "*", "key"))
	if len(matches) != 1 {
		t.Fatalf("runtime key files under %s: %q", base, matches)
	}
	for p, want := range map[string]os.FileMode{matches[0]: 0o600, filepath.Dir(matches[0]): os.ModeDir | 0o700, base: os.ModeDir | 0o700} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v, want mode %v", p, err, want)
		}
	}
	return matches[0]
}

// masked replaces key in s by its fingerprint.
func masked(s, key string) string { return strings.ReplaceAll(s, key, "<"+fp(key)+">") }

// plantRepoTools gives the workspace executables named like every tool a
// helper could use, in node_modules/.bin and at its top; each appends its
// name and arguments to marker.
func plantRepoTools(t *testing.T, workspace, marker string) {
	t.Helper()
	for _, dir := range []string{filepath.Join(workspace, "node_modules", ".bin"), workspace} {
		os.MkdirAll(dir, 0o755)
		for _, name := range []string{"cat", "ls", "id", "wc", "tr", "timeout", "sh", "od", "head", "sed", "awk", "grep", "stat", "printf", "test", "env", "sleep", "tee", "dd", "cut", "readlink"} {
			script := "#!/bin/sh\necho \"" + name + " $*\" >> '" + marker + "'\nexit 97\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A repository with its own node_modules/.bin/cat and friends, and a bridge
// started with PATH=./node_modules/.bin:.::$PATH: claude runs the helper in
// the workspace, and the helper runs none of them.
func TestHostilePATHToolsAreNeverRun(t *testing.T) {
	for _, c := range []struct {
		name  string
		auth  map[string]any
		setup func(w *world)
	}{
		{"key file", nil, func(w *world) { w.writeKey(keyA, 0o600) }},
		{"keyCommand", map[string]any{"keyCommand": "cat secrets/anthropic | tr -d ' '"}, func(w *world) {
			os.MkdirAll(filepath.Join(w.home, "secrets"), 0o700)
			os.WriteFile(filepath.Join(w.home, "secrets", "anthropic"), []byte(keyA+"\n"), 0o600)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, keyA)
			c.setup(w)
			marker := filepath.Join(t.TempDir(), "repo-tool-ran")
			plantRepoTools(t, w.workspace, marker)
			w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("hi")})
			opts := map[string]any{}
			if c.auth != nil {
				opts["auth"] = c.auth
			}
			p := w.serve(opts, "PATH=./node_modules/.bin:.::"+os.Getenv("PATH"))
			res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "hi"}), 90*time.Second)
			if res.Status != "completed" || res.Result != "hi" {
				t.Fatalf("task: status %s, result %q", res.Status, masked(res.Result, keyA))
			}
			if r := w.api.MessageRequests(); len(r) == 0 || r[0].Key != keyA {
				t.Fatalf("requests %v", r)
			}
			if ran, err := os.ReadFile(marker); err == nil {
				t.Fatalf("the repository's own tools ran: %q", masked(string(ran), keyA))
			}
		})
	}
}

// claude is never started with a foreign script at the helper path: one
// planted just before a task is rewritten before claude starts, and when the
// bridge has given up restoring it (another program keeps changing it), the
// task is refused.
func TestForeignHelperIsNeverRunByClaude(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("with the bridge's helper")})
	p := w.serve(nil)
	helper := filepath.Join(w.home, ".claude", "auth_helper.sh")
	managed := waitFile(t, helper)
	marker := filepath.Join(t.TempDir(), "foreign-ran")
	// It notes who ran it: the program above the `sh -c` that runs it.
	foreign := []byte("#!/bin/sh\n{ gp=$(cut -d' ' -f4 /proc/$PPID/stat); tr '\\000' ' ' < /proc/$gp/cmdline | cut -c1-100; echo; } >> '" + marker + "'\nprintf '%s\\n' " + keyB + "\n")
	plant := func() {
		tmp := helper + ".planted"
		if err := os.WriteFile(tmp, foreign, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, helper); err != nil {
			t.Fatal(err)
		}
	}

	// Planted right before the task.
	plant()
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "planted"}), 90*time.Second)
	if res.Status != "completed" {
		t.Fatalf("task: %s %q", res.Status, res.Result)
	}
	for _, r := range w.api.MessageRequests() {
		if r.Key != keyA {
			t.Fatalf("a request carried %s, not the key file's", fp(r.Key))
		}
	}

	// The bridge restores the helper ten times, then gives up.
	for i := 0; ; i++ {
		plant()
		if !waitRestored(p, helper, managed) {
			t.Logf("the bridge stopped restoring the helper after %d restores (one before the first task)", i+1)
			break
		}
		if i > 20 {
			t.Fatal("the bridge restores the helper forever")
		}
	}
	before := len(w.api.Requests())
	res = p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "refused"}), 90*time.Second)
	if res.Status != "failed" || !strings.Contains(res.Result, "the key helper ~/.claude/auth_helper.sh is not the bridge's own script (its content differs), and the bridge no longer restores it") {
		t.Fatalf("task with a foreign helper the bridge gave up on: %s %q", res.Status, res.Result)
	}
	if n := len(w.api.Requests()); n != before {
		t.Errorf("a claude ran anyway: %d more requests", n-before)
	}
	_ = p.client.Request("shutdown", nil, nil, 20*time.Second)
	_ = p.client.Notify("exit", nil)
	<-p.done
	if ran, err := os.ReadFile(marker); err == nil {
		t.Fatalf("the foreign helper ran, started by:\n%s", ran)
	}
}

// waitFile waits for the bridge's background start to write path.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRestored reports whether the bridge puts the managed helper back: it
// waits for the file to change back, or for the bridge's warning that it
// stopped restoring it.
func waitRestored(p *bridgeProc, helper string, managed []byte) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(helper); err == nil && bytes.Equal(b, managed) {
			return true
		}
		for _, m := range p.client.Messages("window/showMessage") {
			if strings.Contains(string(m.Params), "keeps being changed by another program") {
				return false
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// The helper's directory is checked like ~/.ssh: doctor fails with the fix,
// and no task starts claude until it is fixed.
func TestHelperDirectoryOthersCanWrite(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("fixed")})
	dir := filepath.Join(w.home, ".claude")
	doctor := func() (int, string) {
		cmd := exec.Command(binary, "doctor")
		cmd.Env = w.env()
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	for _, mode := range []os.FileMode{0o777, 0o770} {
		os.Chmod(dir, mode)
		code, out := doctor()
		want := fmt.Sprintf("FAIL  ~/.claude, the key helper's directory, has mode %04o: others can replace the helper in it and take your key\n      fix: chmod go-w ~/.claude\n", mode)
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("doctor with ~/.claude at %04o: exit %d\n%s", mode, code, out)
		}
	}
	p := w.serve(nil)
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "unsafe"}), 90*time.Second)
	if res.Status != "failed" || !strings.Contains(res.Result, "the key helper ~/.claude/auth_helper.sh is not safe to run: ~/.claude, the key helper's directory, has mode 0770") ||
		!strings.Contains(res.Result, "run chmod go-w ~/.claude") {
		t.Fatalf("task: %s %q", res.Status, res.Result)
	}
	if n := len(w.api.Requests()); n != 0 {
		t.Fatalf("claude ran: %d requests", n)
	}
	if st := p.authStatus(t); st.Status != lspext.AuthError {
		t.Errorf("auth status %v", st)
	}
	os.Chmod(dir, 0o755)
	res = p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "safe"}), 90*time.Second)
	if res.Status != "completed" || res.Result != "fixed" {
		t.Fatalf("after chmod go-w: %s %q", res.Status, res.Result)
	}
	if code, out := doctor(); code != 0 || !strings.Contains(out, "ok    key helper directory ~/.claude: only you (or root) can write it") {
		t.Fatalf("doctor after the fix: exit %d\n%s", code, out)
	}
}

func utf16LE(s string, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xfeff}, u...)
	}
	b := make([]byte, 2*len(u))
	for i, x := range u {
		binenc.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// Key files as editors and shells leave them.
func TestKeyFileArtefacts(t *testing.T) {
	w := newWorld(t, keyA)
	kf := filepath.Join(w.home, ".claude", "api_key")
	write := func(b []byte) {
		os.MkdirAll(filepath.Dir(kf), 0o700)
		if err := os.WriteFile(kf, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	doctor := func() (int, string) {
		cmd := exec.Command(binary, "doctor")
		cmd.Env = w.env()
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	// PowerShell's `echo KEY > file` (UTF-16LE with a BOM) and the same
	// without a BOM.
	for _, bom := range []bool{true, false} {
		write(utf16LE(keyA+"\r\n", bom))
		code, out := doctor()
		const msg = "~/.claude/api_key is UTF-16 text; save it as UTF-8 or ASCII"
		if code != 1 || !strings.Contains(out, "FAIL  key file "+msg+"\n") || !strings.Contains(out, "FAIL  helper run: "+msg+"\n") {
			t.Fatalf("doctor with a UTF-16 key file (BOM %v): exit %d\n%s", bom, code, masked(out, keyA))
		}
	}
	// Notepad's UTF-8 BOM, CRLF and stray spaces: the key works.
	write([]byte("\xef\xbb\xbf " + keyA + " \r\n"))
	if code, out := doctor(); code != 0 || !strings.Contains(out, "helper run: a key from ~/.claude/api_key, fingerprint "+fakeapi.KeyFingerprint(keyA)) {
		t.Fatalf("doctor with a BOM and CRLF: exit %d\n%s", code, masked(out, keyA))
	}
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("ok")})
	p := w.serve(nil)
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "bom"}), 90*time.Second)
	if res.Status != "completed" || w.api.MessageRequests()[0].Key != keyA {
		t.Fatalf("task with a BOM and CRLF key file: %s %q", res.Status, res.Result)
	}
}

// A bridge killed with SIGKILL cannot remove its runtime key file; the next
// bridge to start does.
func TestKilledBridgesRuntimeKeyIsRemovedAtTheNextStart(t *testing.T) {
	w := newWorld(t, keyA)
	p := w.serve(nil, "CLAUDE_API_KEY="+keyA)
	if st := p.authStatus(t); st.Status != lspext.AuthOK || st.Source != lspext.SourceClaudeAPIKey {
		t.Fatalf("auth status %v", st)
	}
	rk := runtimeKeyFile(t, w)
	p.cmd.Process.Kill()
	<-p.done
	if _, err := os.Stat(rk); err != nil {
		t.Fatalf("the killed bridge's key file is gone already (%v): the test proves nothing", err)
	}
	p2 := w.serve(nil)
	p2.authStatus(t) // answers once the auth manager has started
	if _, err := os.Stat(filepath.Dir(rk)); !os.IsNotExist(err) {
		t.Fatalf("the killed bridge's runtime directory survived the next start: %v", err)
	}
}
