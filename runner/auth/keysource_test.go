package auth

import (
	"os"
	"path/filepath"
	"testing"
)

// KeySourceGeneration changes the moment the key file is rotated (before
// the watcher's debounce and the check that follows it change
// Fingerprint), when it is re-pointed through a link, when the helper is
// rewritten and with each Reconfigure; reading the key (a check) leaves it
// as it is.
func TestKeySourceGenerationFollowsTheKeySource(t *testing.T) {
	cfg := testConfig(t)
	writeKey(t, keyFilePath(cfg), keyFileK+"\n", 0o600)
	m := startManager(t, cfg, nil, nil)
	g0 := m.KeySourceGeneration()
	if err := m.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g := m.KeySourceGeneration(); g != g0 {
		t.Fatalf("a check changed the generation: %q → %q", g0, g)
	}
	fp := m.Fingerprint()
	// Rotated: replaced by rename, as a tool rotating keys does.
	tmp := keyFilePath(cfg) + ".new"
	writeKey(t, tmp, keyCmdK+"\n", 0o600)
	if err := os.Rename(tmp, keyFilePath(cfg)); err != nil {
		t.Fatal(err)
	}
	g1 := m.KeySourceGeneration()
	if g1 == g0 {
		t.Fatal("the key file was rotated and the generation did not change")
	}
	if m.Fingerprint() != fp {
		t.Log("the manager noticed the rotation already (the test wanted to be faster than its debounce)")
	}
	// Through a link re-pointed at another file.
	other := filepath.Join(t.TempDir(), "other_key")
	writeKey(t, other, keyFileK+"\n", 0o600)
	if err := os.Remove(keyFilePath(cfg)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, keyFilePath(cfg)); err != nil {
		t.Fatal(err)
	}
	g2 := m.KeySourceGeneration()
	if g2 == g1 {
		t.Fatal("the key file became a link to another file and the generation did not change")
	}
	writeKey(t, other, keyCmdK+"\n", 0o600)
	g3 := m.KeySourceGeneration()
	if g3 == g2 {
		t.Fatal("the link's target was rewritten and the generation did not change")
	}
	if err := m.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if g := m.KeySourceGeneration(); g == g3 {
		t.Fatal("new settings and the same generation")
	}
}
