package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// authChanges are the claude/authChanged notifications so far, decoded
// strictly.
func (b *bridge) authChanges() []lspext.AuthChangedParams {
	b.t.Helper()
	var out []lspext.AuthChangedParams
	for _, m := range b.client.Messages(lspext.MethodAuthChanged) {
		out = append(out, lsptest.Decode[lspext.AuthChangedParams](b.t, lspext.MethodAuthChanged, m.Params))
	}
	return out
}

// waitAuthChanges waits until n claude/authChanged have come, the last
// with status. (WaitFor calls its predicate with the client locked, over
// every message each time: messages are told apart by their Seq.)
func (b *bridge) waitAuthChanges(n int, status lspext.AuthState) {
	b.t.Helper()
	nth := nthMessage(n)
	if _, err := b.client.WaitFor(lspext.MethodAuthChanged, 30*time.Second, func(m lsptest.Message) bool {
		return nth(m) && lsptest.Decode[lspext.AuthChangedParams](b.t, lspext.MethodAuthChanged, m.Params).Status == status
	}); err != nil {
		b.t.Fatalf("claude/authChanged #%d with status %s: %v (so far: %+v)", n, status, err, b.authChanges())
	}
}

// nthMessage is a predicate for WaitFor true of the n-th message it is
// given that the predicate is called with (WaitFor goes through all
// messages each time, in order).
func nthMessage(n int) func(lsptest.Message) bool {
	seen := map[int]int{} // Seq → its number
	return func(m lsptest.Message) bool {
		if _, ok := seen[m.Seq]; !ok {
			seen[m.Seq] = len(seen) + 1
		}
		return seen[m.Seq] == n
	}
}

// waitMessage waits for a window/showMessage whose text holds want, past
// the first skip of them, and returns its params.
func (b *bridge) waitMessage(skip int, want string) string {
	b.t.Helper()
	nth := nthMessage(skip + 1)
	m, err := b.client.WaitFor("window/showMessage", 30*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), want) && nth(m)
	})
	if err != nil {
		b.t.Fatalf("no window/showMessage saying %q: %v", want, err)
	}
	return lsptest.Decode[protocol.ShowMessageParams](b.t, "window/showMessage", m.Params).Message
}

func (b *bridge) configure(settings map[string]any) {
	b.t.Helper()
	if err := b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": settings}}); err != nil {
		b.t.Fatal(err)
	}
}

// TestRefusedAuthSettingsAfterTheStartLeaveNoKey: auth settings refused by
// didChangeConfiguration behave as those refused at initialize (README
// "Authentication"): the user is told why, claude.authStatus says "error"
// and why, claude/authChanged says so, and a task fails saying why rather
// than run claude with the earlier key; settings that work bring the key
// back (issue 12: the earlier credentials stayed in use).
func TestRefusedAuthSettingsAfterTheStartLeaveNoKey(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("with the key")}})
	b.waitAuthChanges(1, lspext.AuthOK)
	if res := b.result(b.run(map[string]any{"prompt": "before", "taskId": "before"})); res.Status != lspext.StatusCompleted {
		t.Fatalf("before: %+v", res)
	}
	good := b.authChanges()[0]
	changes := 1
	for i, c := range []struct {
		auth any
		why  string
		mode lspext.AuthMode // what claude.authStatus says the settings ask for ("" none: issue 12 said "helper" for mode "bogus")
	}{
		{map[string]any{"helperPath": "relative/helper.sh"}, "auth.helperPath", lspext.AuthModeHelper},
		{map[string]any{"mode": "bogus"}, `auth.mode is "bogus", not one of "helper", "inherit"`, ""},
		{map[string]any{"mode": "inherit", "keyCommandTimeoutSeconds": "8"}, `auth.keyCommandTimeoutSeconds is "8", not a number`, lspext.AuthModeInherit},
		{map[string]any{"keyCommandTimeoutSeconds": "8"}, `auth.keyCommandTimeoutSeconds is "8", not a number`, lspext.AuthModeHelper},
		{"helper", `auth is "helper", not an object`, ""},
	} {
		requests := len(b.api.MessageRequests())
		b.configure(map[string]any{"auth": c.auth})
		msg := b.waitMessage(i, "auth settings refused")
		if !strings.Contains(msg, c.why) {
			t.Errorf("%v: message %s, want it to say %q", c.auth, msg, c.why)
		}
		changes++
		b.waitAuthChanges(changes, lspext.AuthError)
		if got := b.authChanges()[changes-1]; got != (lspext.AuthChangedParams{Status: lspext.AuthError, Source: lspext.SourceNone}) {
			t.Errorf("%v: authChanged %+v", c.auth, got)
		}
		st := b.authStatus()
		if st.Status != lspext.AuthError || st.Source != lspext.SourceNone || !strings.Contains(st.LastError, c.why) || st.Fingerprint != "" || st.Mode != c.mode {
			t.Errorf("%v: authStatus %+v", c.auth, st)
		}
		res := b.result(b.run(map[string]any{"prompt": "without a key", "taskId": fmt.Sprintf("refused-%d", i)}))
		if res.Status != lspext.StatusFailed || !strings.Contains(res.Result, "authentication is not set up") || !strings.Contains(res.Result, c.why) {
			t.Errorf("%v: task %+v", c.auth, res)
		}
		if n := len(b.api.MessageRequests()); n != requests {
			t.Errorf("%v: %d API requests with credentials the settings did not give", c.auth, n-requests)
		}
		b.configure(map[string]any{"auth": map[string]any{}})
		changes++
		b.waitAuthChanges(changes, lspext.AuthOK)
		if got := b.authChanges()[changes-1]; got != good {
			t.Errorf("back to good settings: authChanged %+v, want %+v", got, good)
		}
	}
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("with the key again")})
	if res := b.result(b.run(map[string]any{"prompt": "after", "taskId": "after"})); res.Status != lspext.StatusCompleted {
		t.Errorf("after: %+v", res)
	}
}

// TestAuthChangedFollowsEveryChange: claude/authChanged is sent on every
// change of what claude.authStatus says of the key, the mode's included:
// helper → inherit → helper gives three, each equal to the status then
// (issue 12: only the first came).
func TestAuthChangedFollowsEveryChange(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.waitAuthChanges(1, lspext.AuthOK)
	b.configure(map[string]any{"auth": map[string]any{"mode": "inherit"}})
	b.waitAuthChanges(2, lspext.AuthInherit)
	b.configure(map[string]any{"auth": map[string]any{"mode": "helper"}})
	b.waitAuthChanges(3, lspext.AuthOK)
	got := b.authChanges()
	if got[1] != (lspext.AuthChangedParams{Status: lspext.AuthInherit, Source: lspext.SourceInherit}) || got[2] != got[0] || got[0].Source != lspext.SourceKeyFile {
		t.Errorf("authChanged: %+v", got)
	}
	st := b.authStatus()
	if last := got[len(got)-1]; st.Status != last.Status || st.Source != last.Source || st.Fingerprint != last.Fingerprint {
		t.Errorf("authStatus %+v, last authChanged %+v", st, last)
	}
	// The same settings again change nothing and say nothing (no check
	// runs: the warm claudes stay, TestSameAuthSettingsKeepTheWarmClaude):
	// the next notification is the next change's.
	b.configure(map[string]any{"auth": map[string]any{"mode": "helper"}})
	b.configure(map[string]any{"auth": map[string]any{"mode": "inherit"}})
	b.waitAuthChanges(4, lspext.AuthInherit)
	if got := b.authChanges(); len(got) != 4 || got[3].Status != lspext.AuthInherit {
		t.Errorf("authChanged after the same settings, then inherit: %+v", got)
	}
	if st2 := b.authStatus(); st2.Mode != lspext.AuthModeInherit {
		t.Errorf("authStatus %+v", st2)
	}
}

// TestOwnHelpersStderrIsNotASource: a user's own key helper
// (manageHelper: false) that writes a line looking like the managed
// helper's source report does not choose the source: it is "helper", a
// KeySource (issue 12: its text reached authChanged.source).
func TestOwnHelpersStderrIsNotASource(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.waitAuthChanges(1, lspext.AuthOK)
	helper := filepath.Join(b.authHome, ".claude", "own_helper.sh")
	script := "#!/bin/sh\necho 'claude-bridge-source: 1password vault' >&2\necho '" + testKey + "'\n"
	if err := os.WriteFile(helper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	b.configure(map[string]any{"auth": map[string]any{"helperPath": helper, "manageHelper": false}})
	b.waitAuthChanges(2, lspext.AuthOK)
	if got := b.authChanges()[1]; got.Source != lspext.SourceHelper || got.Fingerprint != b.authChanges()[0].Fingerprint {
		t.Errorf("authChanged %+v, want source helper", got)
	}
	if st := b.authStatus(); st.Source != lspext.SourceHelper || st.Managed {
		t.Errorf("authStatus %+v", st)
	}
}

// TestWrongSettingRefusedAlone: a setting of the wrong type, out of range
// or not one of its values is refused alone, at initialize (which does not
// fail over it) and on a change: the editor is told which and why, the
// other settings apply (issue 12: initialize failed and the bridge refused
// every later request; a change dropped the valid settings with the bad).
func TestWrongSettingRefusedAlone(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		turns: []fakeapi.Turn{fakeapi.Text("one"), fakeapi.Text("two")},
		init:  map[string]any{"maxConcurrentTasks": "4", "model": "claude-chosen-model", "logLevel": "loud", "editorOwnSetting": true},
	})
	msg := b.waitMessage(0, "settings refused")
	for _, want := range []string{`initializationOptions: `, `maxConcurrentTasks is "4", not an integer`, `logLevel is "loud", not one of "debug", "info", "warn", "error"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %s lacks %s", msg, want)
		}
	}
	if strings.Contains(msg, "editorOwnSetting") || strings.Contains(msg, "model") {
		t.Errorf("message %s names a setting that was not refused", msg)
	}
	if res := b.result(b.run(map[string]any{"prompt": "one", "taskId": "one"})); res.Status != lspext.StatusCompleted {
		t.Fatalf("task after initialize: %+v", res)
	}
	if reqs := b.api.MessageRequests(); len(reqs) == 0 || reqs[len(reqs)-1].Model != "claude-chosen-model" {
		t.Errorf("the model setting did not apply: %v", reqs)
	}
	b.configure(map[string]any{"maxIdleProcesses": -1, "model": "claude-other-model", "permissionMode": nil})
	msg = b.waitMessage(1, "settings refused")
	for _, want := range []string{`settings.claudeBridge: `, `maxIdleProcesses is -1, less than the minimum 0`, `permissionMode is null`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %s lacks %s", msg, want)
		}
	}
	if res := b.result(b.run(map[string]any{"prompt": "two", "taskId": "two"})); res.Status != lspext.StatusCompleted {
		t.Fatalf("task after the change: %+v", res)
	}
	if reqs := b.api.MessageRequests(); reqs[len(reqs)-1].Model != "claude-other-model" {
		t.Errorf("the model setting sent with a refused one did not apply: %v", reqs[len(reqs)-1])
	}
}
