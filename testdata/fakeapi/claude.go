package fakeapi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ClaudePath is the claude CLI the tests run: $CLAUDE_BRIDGE_TEST_CLAUDE, else
// <module root>/.tools/node_modules/.bin/claude (installed by `make tools`).
// If it is missing the test fails: the suites must not pass without it.
func ClaudePath(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CLAUDE_BRIDGE_TEST_CLAUDE")
	if path == "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatalf("claude CLI not installed: run `make tools` (%v)", err)
		}
		path = filepath.Join(root, ".tools", "node_modules", ".bin", "claude")
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		t.Fatalf("claude CLI not installed: run `make tools` (no executable at %s)", path)
	}
	return path
}

// ModuleRoot is the directory holding go.mod, found by walking up from the
// working directory (a test's working directory is its package folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ClaudeEnv is a minimal environment for a claude process that talks to
// baseURL: PATH, HOME=home, LANG=C.UTF-8, ANTHROPIC_BASE_URL, and the
// switches that keep the CLI off the network (no telemetry, no updater, no
// nonessential traffic). It has no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN:
// the key comes from an apiKeyHelper.
func ClaudeEnv(home, baseURL string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{
		"PATH=" + path,
		"HOME=" + home,
		"LANG=C.UTF-8",
		"ANTHROPIC_BASE_URL=" + baseURL,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
	}
}

// WriteKeyHelper writes dir/api-key-helper.sh, a 0700 shell script that
// prints key, and returns its path, for tests that give claude a key with
// --settings '{"apiKeyHelper":"<path>"}'. Writing it again with another key
// replaces the script atomically (claude rereads it only after its TTL or a
// 401).
func WriteKeyHelper(t testing.TB, dir, key string) string {
	t.Helper()
	if key == "" || strings.ContainsAny(key, "\x00\n\r") {
		t.Fatalf("fakeapi.WriteKeyHelper: the key (fingerprint %s) must be one non-empty line", KeyFingerprint(key))
	}
	path := filepath.Join(dir, "api-key-helper.sh")
	script := "#!/bin/sh\nprintf '%s\\n' " + shellQuote(key) + "\n"
	tmp, err := os.CreateTemp(dir, ".api-key-helper-*")
	if err != nil {
		t.Fatalf("fakeapi.WriteKeyHelper: %v", err)
	}
	_, werr := tmp.WriteString(script)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o700)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		t.Fatalf("fakeapi.WriteKeyHelper: %v", werr)
	}
	return path
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
