package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	keyEnv   = "sk-ant-api03-from-CLAUDE_API_KEY-aaaa"
	keyBrEnv = "sk-ant-api03-from-bridge-ANTHROPIC-bbbb"
	keyFileK = "sk-ant-api03-from-key-file-cccc"
	keyCmdK  = "sk-ant-api03-from-key-command-dddd"
)

func TestHelperSourcesInOrder(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeyCommand = "printf '%s\\n' " + keyCmdK
	kf := keyFilePath(cfg)
	base := []string{"PATH=" + os.Getenv("PATH"), envReport + "=1"}

	cases := []struct {
		name    string
		helper  testHelper
		env     []string
		keyFile bool
		want    string
		source  string
	}{
		{"the bridge's CLAUDE_API_KEY first", writeScriptKey(t, cfg, envClaudeAPIKey, keyEnv+"\n"), nil, true, keyEnv, SourceEnvClaudeAPIKey},
		{"the bridge's ANTHROPIC_API_KEY", writeScriptKey(t, cfg, envAnthropicAPIKey, keyBrEnv), nil, true, keyBrEnv, SourceEnvAnthropicAPIKey},
		{"key file without a bridge key", writeScript(t, cfg), nil, true, keyFileK, SourceKeyFile},
		// The helper reads no key from the environment it runs in: claude's
		// environment never holds one, and one that got there anyway is not
		// what the bridge chose.
		{"keys in claude's environment are ignored", writeScript(t, cfg), []string{envClaudeAPIKey + "=" + keyEnv, envBridgeAnthropic + "=" + keyBrEnv}, true, keyFileK, SourceKeyFile},
		{"key command last", writeScript(t, cfg), nil, false, keyCmdK, SourceKeyCommand},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(kf)
			if c.keyFile {
				writeKey(t, kf, keyFileK+"\n", 0o600)
			}
			out, errOut, code := runSh(t, c.helper, append(append([]string(nil), base...), c.env...))
			if code != 0 || out != c.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, masked(out), masked(errOut), masked(c.want))
			}
			if errOut != sourcePrefix+c.source+"\n" {
				t.Fatalf("stderr %q, want the source line for %s", masked(errOut), c.source)
			}
		})
	}

	// Without the report variable (as claude runs it) stderr stays empty.
	writeKey(t, kf, keyFileK, 0o600)
	out, errOut, code := runSh(t, writeScript(t, cfg), []string{"PATH=" + os.Getenv("PATH")})
	if code != 0 || out != keyFileK+"\n" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
}

// The runtime key file and the configuration are judged like a key file,
// and a missing one (its bridge has exited) is an error, not a reason to
// fall through to another source.
func TestHelperRuntimeFileProblems(t *testing.T) {
	cfg := testConfig(t)
	h := writeScriptKey(t, cfg, envClaudeAPIKey, keyEnv)
	writeKey(t, keyFilePath(cfg), keyFileK, 0o600)
	rk := filepath.Join(filepath.Dir(h.config), runtimeKeyName)
	env := []string{"PATH=/usr/bin:/bin"}

	os.Chmod(rk, 0o644)
	if out, errOut, code := runSh(t, h, env); code != 1 || out != "" || errOut != "the runtime file "+rk+" has mode 0644; run chmod 600 '"+rk+"'\n" {
		t.Fatalf("loose mode: exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	os.Remove(rk)
	_, errOut, code := runSh(t, h, env)
	if code != 1 || errOut != "the bridge's CLAUDE_API_KEY is no longer in its runtime file "+rk+": the claude-bridge that started this claude has exited; run the task again\n" {
		t.Fatalf("missing: exit %d, stderr %q", code, masked(errOut))
	}
	// A configuration someone else could have written is never read.
	os.Chmod(h.config, 0o620)
	if _, errOut, code := runSh(t, h, env); code != 1 || errOut != "the key helper's configuration "+h.config+" has mode 0620; run chmod 600 '"+h.config+"'\n" {
		t.Fatalf("loose configuration: exit %d, stderr %q", code, masked(errOut))
	}
	os.Chmod(h.config, 0o600)
	os.WriteFile(h.config, []byte("key_file=/etc/passwd\n"), 0o600)
	if _, errOut, code := runSh(t, h, env); code != 1 || !strings.HasSuffix(errOut, "is not a configuration it understands; run the task again\n") {
		t.Fatalf("foreign configuration: exit %d, stderr %q", code, masked(errOut))
	}
	os.Remove(h.config)
	if _, errOut, code := runSh(t, h, env); code != 1 || errOut != "the claude-bridge that started this claude has exited (its configuration "+h.config+" is gone); run the task again\n" {
		t.Fatalf("configuration gone: exit %d, stderr %q", code, masked(errOut))
	}
	// Arguments of another helper version, or none, fail closed: never a
	// key from a default source.
	bare := testHelper{path: h.path}
	for _, bad := range [][]string{
		nil,
		{argConfig},
		{"--env-key-file", rk, "--env-key-source", envClaudeAPIKey},
	} {
		if out, errOut, code := runSh(t, bare, env, bad...); code != 1 || out != "" || !strings.HasPrefix(errOut, "key helper") {
			t.Fatalf("args %q: exit %d, stdout %q, stderr %q", bad, code, masked(out), masked(errOut))
		}
	}
}

func TestHelperKeyFileModeRefused(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeyCommand = "echo " + keyCmdK // must not be used as a fallback for a bad file
	helper := writeScript(t, cfg)
	kf := keyFilePath(cfg)
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
		writeKey(t, kf, keyFileK, perm)
		out, errOut, code := runSh(t, helper, nil)
		want := "~/.claude/api_key has mode " + octal(perm) + "; run chmod 600 ~/.claude/api_key\n"
		if code != 1 || out != "" || errOut != want {
			t.Fatalf("mode %v: exit %d, stdout %q, stderr %q; want %q", perm, code, masked(out), masked(errOut), want)
		}
	}
	for _, perm := range []os.FileMode{0o600, 0o400, 0o700} {
		writeKey(t, kf, keyFileK, perm)
		if out, errOut, code := runSh(t, helper, nil); code != 0 || out != keyFileK+"\n" {
			t.Fatalf("mode %v: exit %d, stdout %q, stderr %q", perm, code, masked(out), masked(errOut))
		}
	}
	// The Go-side judgement used by Status and doctor agrees.
	writeKey(t, kf, keyFileK, 0o644)
	r, _ := resolve(cfg)
	ks := keyFileStatus(r)
	if ks.OK || ks.Problem != "~/.claude/api_key has mode 0644; run chmod 600 ~/.claude/api_key" || ks.Mode != "0644" {
		t.Fatalf("keyFileStatus = %+v", ks)
	}
}

func TestHelperKeyFileNotOwnedRefused(t *testing.T) {
	cfg := testConfig(t)
	helper := writeScript(t, cfg)
	kf := keyFilePath(cfg)
	writeKey(t, kf, keyFileK, 0o600)
	if os.Getuid() != 0 {
		t.Skip("needs root to give the key file to another user")
	}
	// As root, "not owned by the user" is simulated by giving it to nobody.
	if err := os.Chown(kf, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runSh(t, helper, nil)
	want := "~/.claude/api_key is owned by uid 65534, not by you (uid 0); run chown 0 ~/.claude/api_key\n"
	if code != 1 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, masked(out), masked(errOut), want)
	}
	r, _ := resolve(cfg)
	if ks := keyFileStatus(r); ks.OK || ks.OwnerUID != 65534 || !strings.Contains(ks.Problem, "owned by uid 65534") {
		t.Fatalf("keyFileStatus = %+v", ks)
	}
}

func TestHelperKeyCommand(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.KeyCommand = "sleep 30; echo " + keyCmdK
		cfg.KeyCommandTimeout = time.Second
		helper := writeScript(t, cfg)
		start := time.Now()
		out, errOut, code := runSh(t, helper, []string{"PATH=" + os.Getenv("PATH")})
		if code != 1 || out != "" || errOut != "auth.keyCommand timed out after 1s\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("failure passes its stderr on", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.KeyCommand = "echo 'gpg: decryption failed' >&2; exit 3"
		helper := writeScript(t, cfg)
		_, errOut, code := runSh(t, helper, []string{"PATH=" + os.Getenv("PATH")})
		if code != 1 || errOut != "gpg: decryption failed\nauth.keyCommand failed (exit status 3)\n" {
			t.Fatalf("exit %d, stderr %q", code, masked(errOut))
		}
	})
	t.Run("prints nothing", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.KeyCommand = "true"
		helper := writeScript(t, cfg)
		if _, errOut, code := runSh(t, helper, nil); code != 1 || errOut != "auth.keyCommand printed nothing\n" {
			t.Fatalf("exit %d, stderr %q", code, masked(errOut))
		}
	})
}

func TestHelperRejectsWhatIsNotOneToken(t *testing.T) {
	cfg := testConfig(t)
	helper := writeScript(t, cfg)
	kf := keyFilePath(cfg)
	notKeys := map[string]string{
		"two words":       "sk-ant-first sk-ant-second\n",
		"two lines":       "sk-ant-first\nsk-ant-second\n",
		"tab inside":      "sk-ant\tsecond",
		"non-ASCII":       "sk-ant-k\u00e9y",
		"control char":    "sk-ant-\x01key",
		"too long":        strings.Repeat("k", maxKeyLen+1),
		"far too long":    strings.Repeat("k", 3*maxKeyLen),
		"only whitespace": " \n\t\n",
	}
	for name, content := range notKeys {
		writeKey(t, kf, content, 0o600)
		out, errOut, code := runSh(t, helper, nil)
		if name == "only whitespace" {
			// An empty file is no key: the helper moves on and ends with
			// the "no key" message, noting the empty file.
			mustContain(t, errOut, "no API key available")
			mustContain(t, errOut, "(~/.claude/api_key is empty)")
		}
		if code != 1 || out != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", name, code, masked(out), masked(errOut))
		}
		for _, word := range strings.Fields(content) {
			if len(word) > 5 && strings.Contains(errOut, word) {
				t.Fatalf("%s: the message quotes the rejected text: %q", name, masked(errOut))
			}
		}
	}
	// Surrounding whitespace, CRLF included, is trimmed.
	writeKey(t, kf, " \t"+keyFileK+" \t\r\n\n", 0o600)
	if out, errOut, code := runSh(t, helper, nil); code != 0 || out != keyFileK+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	// Exactly the maximum is accepted.
	long := strings.Repeat("k", maxKeyLen)
	writeKey(t, kf, long, 0o600)
	if out, _, code := runSh(t, helper, nil); code != 0 || out != long+"\n" {
		t.Fatalf("a %d-character key: exit %d", maxKeyLen, code)
	}
	// The same rule for a key command printing two lines.
	cfg2 := testConfig(t)
	cfg2.KeyCommand = "printf 'a\\nb\\n'"
	h2 := writeScript(t, cfg2)
	if _, errOut, code := runSh(t, h2, []string{"PATH=" + os.Getenv("PATH")}); code != 1 || !strings.Contains(errOut, "the output of auth.keyCommand is not one API key") {
		t.Fatalf("exit %d, stderr %q", code, masked(errOut))
	}
}

func TestHelperNoKey(t *testing.T) {
	cfg := testConfig(t)
	helper := writeScript(t, cfg)
	out, errOut, code := runSh(t, helper, []string{"PATH=" + os.Getenv("PATH")})
	want := "no API key available: set CLAUDE_API_KEY, write ~/.claude/api_key (chmod 600), or configure auth.keyCommand\n"
	if code != 1 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	// Even with no PATH at all (claude passes its env, which could be bare).
	if _, errOut, code := runSh(t, helper, []string{}); code != 1 || errOut != want {
		t.Fatalf("empty env: exit %d, stderr %q", code, masked(errOut))
	}
}

func TestHelperSymlinks(t *testing.T) {
	cfg := testConfig(t)
	helper := writeScript(t, cfg)
	kf := keyFilePath(cfg)
	target := filepath.Join(cfg.Home, "secrets", "anthropic")
	writeKey(t, target, keyFileK, 0o600)
	if err := os.Symlink(target, kf); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runSh(t, helper, nil); code != 0 || out != keyFileK+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	// The target's mode is what counts.
	os.Chmod(target, 0o644)
	if _, errOut, code := runSh(t, helper, nil); code != 1 || !strings.Contains(errOut, "has mode 0644") {
		t.Fatalf("exit %d, stderr %q", code, masked(errOut))
	}
	os.Remove(target)
	if _, errOut, code := runSh(t, helper, nil); code != 1 || !strings.Contains(errOut, "symbolic link to a file that does not exist") {
		t.Fatalf("exit %d, stderr %q", code, masked(errOut))
	}
}

func TestHelperNeverContainsKeyAndQuotesSafely(t *testing.T) {
	cfg := testConfig(t)
	// Keys present everywhere the bridge could see them...
	cfg.Environ = append(cfg.Environ, envClaudeAPIKey+"="+keyEnv, envAnthropicAPIKey+"="+keyBrEnv)
	// ...and paths and a command that would break naive quoting.
	marker := filepath.Join(cfg.Home, "pwned")
	odd := filepath.Join(cfg.Home, "it's a $(touch "+marker+") `dir`", "key file")
	cfg.KeyFile = odd
	cfg.HelperPath = filepath.Join(cfg.Home, "h'x $HOME", "helper.sh")
	cfg.KeyCommand = `printf '%s\n' "it's-the-command"`
	writeKey(t, odd, keyFileK, 0o600)
	helper := writeScript(t, cfg)
	script, err := os.ReadFile(helper.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{keyEnv, keyBrEnv, keyFileK} {
		if strings.Contains(string(script), k) {
			t.Fatalf("the script contains a key")
		}
	}
	out, errOut, code := runSh(t, helper, []string{"PATH=" + os.Getenv("PATH")})
	if code != 0 || out != keyFileK+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(out), masked(errOut))
	}
	// claude runs the apiKeyHelper setting as a command line: the quoted
	// paths must survive that too, the configuration's included.
	r, _ := resolve(cfg)
	odd2 := filepath.Join(cfg.Home, "run dir's $(touch "+marker+")")
	os.Mkdir(odd2, 0o700)
	rk := filepath.Join(odd2, "key")
	writeKey(t, rk, keyEnv, 0o600)
	r.envKeySource = SourceEnvClaudeAPIKey
	oddConf := filepath.Join(odd2, "helper.conf")
	writeKey(t, oddConf, string(helperConfig(r, rk)), 0o600)
	if got, errOut, code := runSh(t, testHelper{helper.path, oddConf}, []string{"PATH=" + os.Getenv("PATH")}); code != 0 || got != keyEnv+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, masked(got), masked(errOut))
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a path was executed as a command")
	}
	os.Remove(odd)
	// Without the file the quoted key command answers.
	if out, _, code := runSh(t, helper, nil); code != 0 || out != "it's-the-command\n" {
		t.Fatalf("exit %d, stdout %q", code, masked(out))
	}
	os.Chmod(filepath.Dir(odd), 0o700)
	writeKey(t, odd, keyFileK, 0o644)
	_, errOut, _ = runSh(t, helper, nil)
	// The fix names the file so that it can be pasted into a shell.
	if !strings.Contains(errOut, "run chmod 600 '"+odd[:len(cfg.Home)]) {
		t.Fatalf("stderr %q", masked(errOut))
	}
}

func TestParseKey(t *testing.T) {
	if k, err := parseKey([]byte("sk-abc \r\n\n")); err != nil || k != "sk-abc" {
		t.Fatalf("%q %v", k, err)
	}
	for _, bad := range []string{"", "\n", "a b", "a\nb", "a\x00", "\u00e9", strings.Repeat("x", maxKeyLen+1)} {
		if _, err := parseKey([]byte(bad)); err == nil {
			t.Fatalf("parseKey(%q) accepted it", bad)
		} else if len(bad) > 3 && strings.Contains(err.Error(), bad) {
			t.Fatalf("the error quotes the output")
		}
	}
	// echo -n sk-test | sha256sum: f3abf2a6cc4f...
	if got := Fingerprint("sk-test"); got != "f3abf2a6" {
		t.Fatalf("Fingerprint = %q", masked(got))
	}
	if got := redact("key sk-ant-api03-abcdefghijklmnop and secret-value", "secret-value"); got != "key [redacted] and [redacted]" {
		t.Fatalf("redact: %q", masked(got))
	}
}
