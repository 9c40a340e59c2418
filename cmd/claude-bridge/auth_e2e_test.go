package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

func TestManagedHelperFeedsClaudeAndTheKeyStaysSecret(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{
		slowText("thinking slowly", 1500*time.Millisecond),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": w.workspace + "/main.go", "old_string": `println("hello")`, "new_string": `println("hi")`}),
		fakeapi.Text("done"),
	})
	p := w.serve(nil)
	call := p.run(map[string]any{"prompt": "edit", "taskId": "k"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	procs := processesIn(w.workspace)
	if len(procs) == 0 {
		t.Fatal("no claude process found while the task runs")
	}
	for _, pr := range procs {
		if strings.Contains(pr, keyA) {
			t.Errorf("the key is in a command line: pid %s", strings.Fields(pr)[0])
		}
		if strings.Contains(pr, "--permission-prompt-tool") { // claude itself
			// claude's command line names a settings file, and carries
			// no settings itself.
			settings := settingsFileOf(t, pr)
			if !strings.HasPrefix(settings["apiKeyHelper"].(string), filepath.Join(w.home, ".claude", "auth_helper.sh")+" --config ") {
				t.Errorf("claude runs without the helper: %v", settings)
			}
			if strings.Contains(pr, "{") {
				t.Errorf("claude's command line carries settings: %s", pr)
			}
		}
	}
	res := p.result(t, call, 60*time.Second)
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	for _, r := range w.api.MessageRequests() {
		if r.Key != keyA {
			t.Errorf("request %d carried key %s, want the key file's", r.Turn, fakeapi.KeyFingerprint(r.Key))
		}
	}
	if started := lsptest.Last[*lspext.StartedEvent](p.client.Events(t, "k")); started == nil || started.APIKeySource != "apiKeyHelper" {
		t.Errorf("apiKeySource = %+v", started)
	}
	helper := filepath.Join(w.home, ".claude", "auth_helper.sh")
	st, err := os.Stat(helper)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("helper %s: %v, mode %v", helper, err, st.Mode())
	}
	if b, _ := os.ReadFile(helper); strings.Contains(string(b), keyA) {
		t.Error("the key is written into the helper script")
	}
	status := p.authStatus(t)
	if status.Status != lspext.AuthOK || status.Fingerprint != fakeapi.KeyFingerprint(keyA) {
		t.Errorf("auth status = %+v", status)
	}
	// Shut down so that logs are flushed, then look for the key everywhere.
	_ = p.client.Request("shutdown", nil, nil, 20*time.Second)
	_ = p.client.Notify("exit", nil)
	<-p.done
	noKeyIn(t, w.logDir, keyA)
	if strings.Contains(p.stderr.String(), keyA) {
		t.Error("the key is on the bridge's stderr")
	}
	audit := filepath.Join(w.logDir, "claude-bridge", "auth-audit.jsonl")
	ast, err := os.Stat(audit)
	if err != nil || ast.Mode().Perm() != 0o600 {
		t.Fatalf("audit trail %s: %v", audit, err)
	}
	events := auditEvents(t, audit)
	if !strings.Contains(strings.Join(events, ","), "helper_written") {
		t.Errorf("audit events = %v", events)
	}
}

// The bridge's own ANTHROPIC_API_KEY reaches claude only through the
// helper: left in claude's environment it would silently win over the
// helper, and the bridge could no longer refresh or audit it.
func TestBridgeAnthropicKeyGoesThroughTheHelper(t *testing.T) {
	w := newWorld(t, keyA)
	w.api.SetTurns([]fakeapi.Turn{slowText("via the helper", 1500*time.Millisecond)})
	p := w.serve(nil, "ANTHROPIC_API_KEY="+keyA, "ANTHROPIC_AUTH_TOKEN=sk-ant-token-should-vanish")
	call := p.run(map[string]any{"prompt": "hi", "taskId": "env"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pr := range processesIn(w.workspace) {
		pid := strings.Fields(pr)[0]
		env, err := os.ReadFile(filepath.Join("/proc", pid, "environ"))
		if err != nil {
			continue
		}
		found = true
		for _, kv := range strings.Split(string(env), "\x00") {
			if strings.HasPrefix(kv, "ANTHROPIC_API_KEY=") || strings.HasPrefix(kv, "ANTHROPIC_AUTH_TOKEN=") {
				t.Errorf("claude's environment has %s", strings.SplitN(kv, "=", 2)[0])
			}
		}
	}
	if !found {
		t.Fatal("no claude process to inspect")
	}
	res := p.result(t, call, 60*time.Second)
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if started := lsptest.Last[*lspext.StartedEvent](p.client.Events(t, "env")); started == nil || started.APIKeySource != "apiKeyHelper" {
		t.Errorf("apiKeySource = %+v, want apiKeyHelper", started)
	}
	if r := w.api.MessageRequests()[0]; r.Key != keyA {
		t.Errorf("request carried %s", fakeapi.KeyFingerprint(r.Key))
	}
}

// settingsFileOf reads the file named by --settings in a "pid cmdline"
// line of processesIn.
func settingsFileOf(t *testing.T, proc string) map[string]any {
	t.Helper()
	f := strings.Fields(proc)
	for i, a := range f {
		if a == "--settings" && i+1 < len(f) {
			b, err := os.ReadFile(f[i+1])
			if err != nil {
				t.Fatalf("--settings %s: %v", f[i+1], err)
			}
			var s map[string]any
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("--settings %s: %v", f[i+1], err)
			}
			return s
		}
	}
	t.Fatalf("no --settings in %s", proc)
	return nil
}

func auditEvents(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Errorf("audit line is not JSON: %v", err)
		}
		out = append(out, e.Event)
	}
	return out
}

func TestKeyRotatedDuringALongTask(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	turns := []fakeapi.Turn{}
	for i := 0; i < 4; i++ {
		step := fakeapi.ToolUse("Bash", map[string]any{"command": "echo step"})
		step.Delay = 700 * time.Millisecond
		turns = append(turns, step)
	}
	turns = append(turns, fakeapi.Text("long task done"))
	w.api.SetTurns(turns)
	// A 1 s refresh interval is also claude's helper TTL: it asks the
	// helper again before its next request once that has passed.
	p := w.serve(map[string]any{"auth": map[string]any{"refreshIntervalSeconds": 1}})
	call := p.run(map[string]any{"prompt": "long", "taskId": "rot"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	w.writeKey(keyB, 0o600)
	w.api.SetKeys(keyB)
	res := p.result(t, call, 90*time.Second)
	if res.Status != "completed" || res.Result != "long task done" {
		t.Fatalf("result = %+v", res)
	}
	reqs := w.api.MessageRequests()
	if last := reqs[len(reqs)-1]; last.Key != keyB || last.Status != 200 {
		t.Errorf("last request: key %s status %d, want the new key", fakeapi.KeyFingerprint(last.Key), last.Status)
	}
	if _, err := p.client.WaitFor("claude/authChanged", 10*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), fakeapi.KeyFingerprint(keyB))
	}); err != nil {
		t.Errorf("no claude/authChanged with the new fingerprint: %v", err)
	}
}

// The key changes while a warm claude waits (it ran the helper, and holds
// the old key): once the bridge has noticed (claude/authChanged), the warm
// claude is replaced, and the next task's requests all carry the new key,
// with no 401 on the way.
func TestKeyChangeReplacesTheWarmClaude(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("with the new key")})
	p := w.serve(nil)
	pid := p.cmd.Process.Pid
	var old int
	eventually(t, 30*time.Second, "no warm claude", func() bool {
		c := claudesOf(pid)
		if p.processCounts(t).Processes.Warm != 1 || len(c) != 1 {
			return false
		}
		old = c[0].pid
		return true
	})
	w.writeKey(keyB, 0o600)
	w.api.SetKeys(keyB)
	if _, err := p.client.WaitFor(lspext.MethodAuthChanged, 30*time.Second, func(m lsptest.Message) bool {
		return lsptest.Decode[lspext.AuthChangedParams](t, lspext.MethodAuthChanged, m.Params).Fingerprint == fakeapi.KeyFingerprint(keyB)
	}); err != nil {
		t.Fatalf("no claude/authChanged with the new fingerprint: %v", err)
	}
	eventually(t, 30*time.Second, "the warm claude with the old key was not replaced", func() bool {
		c := claudesOf(pid)
		return p.processCounts(t).Processes.Warm == 1 && len(c) == 1 && c[0].pid != old
	})
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "nk"}), 60*time.Second)
	if res.Status != "completed" || res.Result != "with the new key" {
		t.Fatalf("result = %+v", res)
	}
	for _, r := range w.api.MessageRequests() {
		if r.Key != keyB || r.Status != 200 {
			t.Errorf("a request carried key %s (status %d), not the new one", fakeapi.KeyFingerprint(r.Key), r.Status)
		}
	}
}

// The key rotates in the middle of a turn, while claude holds the old one
// (its helper's TTL is minutes): its next request of the turn gets a 401,
// it asks the helper again and goes on, after exactly one 401. (Between
// turns there is none: a follow-up after a rotation goes to a claude
// started with the new key, see server/warm_auth_e2e_test.go.)
func TestStaleKeyRecoversAfterOne401(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	read := fakeapi.ToolUse("Read", map[string]any{"file_path": filepath.Join(w.workspace, "main.go")})
	read.Delay = 1500 * time.Millisecond
	w.api.SetTurns([]fakeapi.Turn{read, fakeapi.Text("second step")})
	p := w.serve(nil)
	call := p.client.Start("workspace/executeCommand", map[string]any{"command": "claude.run", "arguments": []any{map[string]any{"prompt": "two steps", "taskId": "st"}}})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// While the API takes its time over the first request, the key rotates.
	w.writeKey(keyB, 0o600)
	w.api.SetKeys(keyB)
	res := p.result(t, call, 60*time.Second)
	if res.Status != "completed" || res.Result != "second step" {
		t.Fatalf("after rotation = %+v", res)
	}
	var statuses []int
	for _, r := range w.api.MessageRequests() {
		statuses = append(statuses, r.Status)
	}
	n401 := 0
	for _, s := range statuses {
		if s == 401 {
			n401++
		}
	}
	if n401 != 1 || statuses[len(statuses)-1] != 200 {
		t.Errorf("request statuses = %v, want exactly one 401 then success", statuses)
	}
}

func TestRevokedKeyFailsFast(t *testing.T) {
	w := newWorld(t, keyB) // the API accepts only keyB; the user's file has keyA
	w.writeKey(keyA, 0o600)
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("never")})
	p := w.serve(nil)
	start := time.Now()
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "rev"}), 120*time.Second)
	took := time.Since(start)
	t.Logf("a revoked key failed the task after %s (claude alone retries for about 3 minutes)", took.Round(100*time.Millisecond))
	if res.Status != "failed" {
		t.Fatalf("result = %+v", res)
	}
	if took > 60*time.Second {
		t.Errorf("took %s to give up", took)
	}
	if !strings.Contains(res.Result, "api_key") {
		t.Errorf("the failure does not name the key source: %q", res.Result)
	}
	if strings.Contains(res.Result, keyA) {
		t.Error("the result holds the key")
	}
	refreshed := false
	evs := p.client.Events(t, "rev")
	for _, e := range lsptest.Of[*lspext.StatusEvent](evs) {
		refreshed = refreshed || strings.Contains(e.Message, "Authentication failed")
	}
	if !refreshed {
		t.Errorf("no progress/status says the key was refreshed after a 401: %s", lsptest.Kinds(evs))
	}
	p.onlyWarmLeft(t, w.workspace)
}

// A task failing on a bad key file recovers once the user fixes the file:
// claude asks the helper again, or the bridge runs the task again because
// the key changed.
func TestFixingTheKeyDuringATaskRecoversIt(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o644) // refused by the helper until fixed
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("recovered")})
	p := w.serve(nil)
	call := p.run(map[string]any{"prompt": "hi", "taskId": "fix"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(w.home, ".claude", "api_key"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := p.result(t, call, 90*time.Second)
	if res.Status != "completed" || res.Result != "recovered" {
		t.Fatalf("result = %+v", res)
	}
}

func TestBadKeyFileModeIsRefusedAndExplained(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o644)
	w.api.SetTurns([]fakeapi.Turn{fakeapi.Text("never")})
	p := w.serve(nil)
	st := p.authStatus(t)
	blob, _ := json.Marshal(st)
	if st.Status != lspext.AuthError || !strings.Contains(string(blob), "chmod 600") {
		t.Errorf("auth status = %s", blob)
	}
	res := p.result(t, p.run(map[string]any{"prompt": "hi", "taskId": "mode"}), 90*time.Second)
	if res.Status != "failed" || !strings.Contains(res.Result, "chmod 600") {
		t.Errorf("result = %+v", res)
	}
	if len(w.api.MessageRequests()) > 0 && w.api.MessageRequests()[0].Key == keyA {
		t.Error("claude used a key from a world-readable file")
	}
	cmd := exec.Command(binary, "doctor")
	cmd.Env = w.env()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("doctor exited 0 with a 0644 key file:\n%s", out)
	}
	if !strings.Contains(string(out), "chmod 600") {
		t.Errorf("doctor does not print the fix:\n%s", out)
	}
}

func TestManagedHelperIsRestored(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	p := w.serve(nil)
	helper := filepath.Join(w.home, ".claude", "auth_helper.sh")
	// The auth manager starts in the background after initialize.
	var want []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if want, err = os.ReadFile(helper); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	waitContent := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(helper); err == nil && string(b) == string(want) {
				if st, _ := os.Stat(helper); st.Mode().Perm() == 0o700 {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("helper not restored after it was %s", what)
	}
	if err := os.Remove(helper); err != nil {
		t.Fatal(err)
	}
	waitContent("deleted")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\necho sk-ant-evil\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitContent("edited")
	_ = p
	_ = p.client.Request("shutdown", nil, nil, 20*time.Second)
	_ = p.client.Notify("exit", nil)
	<-p.done
	events := strings.Join(auditEvents(t, filepath.Join(w.logDir, "claude-bridge", "auth-audit.jsonl")), ",")
	if strings.Count(events, "helper_restored") < 2 {
		t.Errorf("audit events = %s", events)
	}
}

func TestInheritModeLeavesTheEnvironmentAlone(t *testing.T) {
	w := newWorld(t, keyA)
	w.api.SetTurns([]fakeapi.Turn{slowText("inherited", 1500*time.Millisecond)})
	p := w.serve(map[string]any{"auth": map[string]any{"mode": "inherit"}}, "ANTHROPIC_API_KEY="+keyA)
	call := p.run(map[string]any{"prompt": "hi", "taskId": "inh"})
	if _, err := w.api.WaitRequests(1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pr := range processesIn(w.workspace) {
		if strings.Contains(pr, "apiKeyHelper") {
			t.Errorf("inherit mode passed a helper: %s", pr)
		}
	}
	res := p.result(t, call, 60*time.Second)
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if started := lsptest.Last[*lspext.StartedEvent](p.client.Events(t, "inh")); started == nil || started.APIKeySource != "ANTHROPIC_API_KEY" {
		t.Errorf("apiKeySource = %+v, want claude's own ANTHROPIC_API_KEY", started)
	}
	if _, err := os.Stat(filepath.Join(w.home, ".claude", "auth_helper.sh")); err == nil {
		t.Error("inherit mode wrote a helper")
	}
	if st := p.authStatus(t); st.Mode != lspext.AuthModeInherit || st.Status != lspext.AuthInherit {
		t.Errorf("auth status = %+v", st)
	}
}

func assertGone(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for len(processesIn(dir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes left: %v", processesIn(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
