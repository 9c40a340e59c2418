package runner

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// claudeExe is the claude executable's file name.
var claudeExe = func() string {
	if runtime.GOOS == "windows" {
		return "claude.exe"
	}
	return "claude"
}()

// isExecutable reports whether p is a file the bridge may run.
func isExecutable(p string) bool {
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return false
	}
	return runtime.GOOS == "windows" || st.Mode()&0o111 != 0
}

// lookPath finds name in the folders of pathList (a PATH value), as
// exec.LookPath does for the bridge's own PATH; the environment a task gets
// may carry another PATH.
func lookPath(name, pathList string) (string, error) {
	if runtime.GOOS == "windows" {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// npmBin is the folder where `npm install -g` puts executables under a
// global prefix: prefix/bin, or the prefix itself on Windows.
func npmBin(prefix string) string {
	if runtime.GOOS == "windows" {
		return prefix
	}
	return filepath.Join(prefix, "bin")
}

// npmPrefixFromConfig reads npm's global prefix the way npm does, from the
// places that cost nothing to read: the npm_config_prefix variable (any
// case), then the user's npmrc ($NPM_CONFIG_USERCONFIG, else ~/.npmrc).
// It returns the prefix and where it came from, or "" when neither sets
// it (npm's default is then the folder node is installed in).
func npmPrefixFromConfig(env func(string) string) (prefix, from string) {
	for _, k := range []string{"npm_config_prefix", "NPM_CONFIG_PREFIX"} {
		if v := strings.TrimSpace(env(k)); v != "" {
			return ExpandHome(v, env("HOME")), "$" + k
		}
	}
	rc := env("NPM_CONFIG_USERCONFIG")
	if rc == "" {
		rc = env("npm_config_userconfig")
	}
	if rc == "" && env("HOME") != "" {
		rc = filepath.Join(env("HOME"), ".npmrc")
	}
	if rc == "" {
		return "", ""
	}
	if v := npmrcPrefix(rc, env); v != "" {
		return v, "prefix in " + rc
	}
	return "", ""
}

// npmrcPrefix is the `prefix` setting of an npmrc file (ini lines
// `key = value`, `;` and `#` comments, ${VAR} expanded, ~/ expanded), or "".
func npmrcPrefix(path string, env func(string) string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	prefix := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "prefix" {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		v = os.Expand(v, env)
		prefix = ExpandHome(v, env("HOME"))
	}
	return prefix
}

// npmPrefixTimeout bounds `npm prefix -g` (npm starts node: about half a
// second on a warm machine).
const npmPrefixTimeout = 3 * time.Second

// npmPrefixes caches what `npm prefix -g` said, per npm executable and
// HOME: it runs once per process, not at every task start.
var npmPrefixes struct {
	mu    sync.Mutex // guards byKey
	byKey map[string]string
}

// npmPrefixFromNpm asks npm for its global prefix, once per npm and HOME,
// waiting at most npmPrefixTimeout; "" when npm is not on the PATH given
// or does not answer.
func npmPrefixFromNpm(env func(string) string) string {
	npm, err := lookPath("npm", env("PATH"))
	if err != nil {
		return ""
	}
	key := npm + "\x00" + env("HOME")
	npmPrefixes.mu.Lock()
	defer npmPrefixes.mu.Unlock()
	if v, ok := npmPrefixes.byKey[key]; ok {
		return v
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmPrefixTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "prefix", "-g")
	cmd.Env = []string{"HOME=" + env("HOME"), "PATH=" + env("PATH")}
	out, err := cmd.Output()
	prefix := ""
	if err == nil {
		prefix = strings.TrimSpace(string(out))
	}
	if npmPrefixes.byKey == nil {
		npmPrefixes.byKey = map[string]string{}
	}
	npmPrefixes.byKey[key] = prefix
	return prefix
}

// ClaudeLocation resolves the claude executable with the current
// configuration and says where it was found (see LocateClaude).
func (m *Manager) ClaudeLocation() (ClaudeLocation, error) {
	c := m.cfg()
	return LocateClaude(c.ClaudePath, envLookup(c.Env))
}
