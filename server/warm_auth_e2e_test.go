package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// Warm claudes and the key source: a warm claude holds the key its helper
// gave as it started, so none may serve a task once the key source has
// changed (the wrong account would be billed).

// requestsSince checks that the API requests after the first n all
// carried key and were answered 200, and that there was one at least.
func (b *bridge) requestsSince(n int, key, what string) {
	b.t.Helper()
	reqs := b.api.MessageRequests()[n:]
	if len(reqs) == 0 {
		b.t.Fatalf("%s: no request reached the API", what)
	}
	for _, r := range reqs {
		if r.Key != key || r.Status != 200 {
			b.t.Errorf("%s: a request carried the key %s and was answered %d; want %s, 200", what, fakeapi.KeyFingerprint(r.Key), r.Status, fakeapi.KeyFingerprint(key))
		}
	}
}

// twoKeys are two keys, and the auth.keyCommand that prints each.
func twoKeys(t *testing.T) ([]string, func(i int) string) {
	keys := []string{"sk-server-key-zero-000000", "sk-server-key-one-111111"}
	dir := t.TempDir()
	for i, k := range keys {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), []byte(k+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return keys, func(i int) string { return "cat '" + filepath.Join(dir, fmt.Sprint(i)) + "'" }
}

// An auth setting changed and a run right behind it (the two messages back
// to back): the run's requests carry the key the new settings give, not
// the key of the warm claude launched with the old ones; and back again.
// Measured before the fix: the old key, in both rounds.
func TestRunRightAfterAnAuthChangeUsesTheNewKey(t *testing.T) {
	keys, keyCommand := twoKeys(t)
	b := startBridge(t, bridgeOpts{noKey: true, init: map[string]any{"prewarm": true, "followUpIdleSeconds": 0, "auth": map[string]any{"keyCommand": keyCommand(0)}}})
	b.api.SetKeys(keys...)
	for round, k := range []int{1, 0} {
		b.warmIn(b.ws(0))
		n := len(b.api.MessageRequests())
		b.configure(map[string]any{"prewarm": true, "followUpIdleSeconds": 0, "auth": map[string]any{"keyCommand": keyCommand(k)}})
		res := b.result(b.run(map[string]any{"prompt": "which key?", "taskId": fmt.Sprintf("r%d", round)}))
		if res.Status != "completed" {
			t.Fatalf("round %d: %+v", round, res)
		}
		b.requestsSince(n, keys[k], fmt.Sprintf("round %d (switched to key %d)", round, k))
	}
}

// The key file rotated and a run at once, before the auth manager has
// noticed (its watcher waits out a debounce): the run does not take the
// warm claude, whose helper gave it the old key; its requests carry the
// new key, and none is answered 401 (measured before the fix: a 401, then
// claude ran its helper again and retried).
func TestRunRightAfterTheKeyFileRotatesUsesTheNewKey(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"prewarm": true, "followUpIdleSeconds": 0}})
	const rotated = "sk-server-test-key-rotated"
	b.warmIn(b.ws(0))
	b.api.SetKeys(rotated) // the old key is revoked
	n := len(b.api.MessageRequests())
	keyFile := filepath.Join(b.authHome, ".claude", "api_key")
	if err := os.WriteFile(keyFile+".new", []byte(rotated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keyFile+".new", keyFile); err != nil {
		t.Fatal(err)
	}
	res := b.result(b.run(map[string]any{"prompt": "with the new key", "taskId": "rot"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	b.requestsSince(n, rotated, "after the key file was rotated")
}

// A conversation's parked claude holds the key its helper gave as it
// started, as a warm one does: a follow-up right after an auth change
// continues the conversation in a claude started with the new settings,
// and its requests carry the new key (measured before the fix: the parked
// claude sent them with the old one).
func TestFollowUpRightAfterAnAuthChangeUsesTheNewKey(t *testing.T) {
	keys, keyCommand := twoKeys(t)
	b := startBridge(t, bridgeOpts{noKey: true, init: map[string]any{"followUpIdleSeconds": 300, "auth": map[string]any{"keyCommand": keyCommand(0)}}})
	b.api.SetKeys(keys...)
	res := b.result(b.run(map[string]any{"prompt": "first", "taskId": "c1"}))
	if res.Status != "completed" {
		t.Fatalf("first: %+v", res)
	}
	n := len(b.api.MessageRequests())
	b.configure(map[string]any{"followUpIdleSeconds": 300, "auth": map[string]any{"keyCommand": keyCommand(1)}})
	fu := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandFollowUp, "arguments": []any{map[string]any{"taskId": "c1", "prompt": "again"}}}))
	if fu.Status != "completed" || fu.SessionID != res.SessionID {
		t.Fatalf("follow-up = %+v, want the conversation %s continued", fu, res.SessionID)
	}
	b.requestsSince(n, keys[1], "the follow-up right after the auth change")
}
