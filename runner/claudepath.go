package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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

// ClaudeFailsError says that claude was found but does not run: `claude
// --version` failed. Its message leads with what is wrong, then claude's own
// words (its stderr's first lines), then the fix.
type ClaudeFailsError struct {
	Path   string // the executable
	Shown  string // as a person reads it (~ for the home folder)
	Code   int    // its exit code; -1 when it could not be started or did not answer
	Stderr string // the first lines it wrote to stderr
	Err    error  // why it could not be started, or the timeout
}

func (e *ClaudeFailsError) Error() string {
	return e.Problem() + ": reinstall it (`npm install -g @anthropic-ai/claude-code`), or set claudePath to a claude that works"
}

// Problem is the error without its fix.
func (e *ClaudeFailsError) Problem() string {
	var what string
	switch {
	case e.Code >= 0:
		what = fmt.Sprintf("`%s --version` exited with code %d", e.Shown, e.Code)
	case e.Err != nil:
		what = fmt.Sprintf("`%s --version` could not run: %v", e.Shown, e.Err)
	}
	if e.Stderr != "" {
		what += ": " + e.Stderr
	}
	return fmt.Sprintf("claude CLI at %s does not run (%s)", e.Shown, what)
}

// versionTimeout bounds `claude --version` (measured on 2.1.332: under 0.1 s).
const versionTimeout = 10 * time.Second

// stderrLines is how many of a failing claude's stderr lines an error quotes.
const stderrLines = 3

// CheckClaude runs `path --version` with env (nil: the bridge's own) and
// returns the version it printed, or a ClaudeFailsError.
func CheckClaude(ctx context.Context, path string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = versionEnv(env)
	ownGroup(cmd)
	cmd.WaitDelay = time.Second // what it started may hold its output open
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return strings.TrimSpace(stdout.String()), nil
	}
	home := envLookup(env)("HOME")
	fe := &ClaudeFailsError{Path: path, Shown: tildePath(path, home), Code: -1, Stderr: firstLines(stderr.String(), stderrLines)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		fe.Err = fmt.Errorf("no answer within %s", versionTimeout)
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		fe.Code = ee.ExitCode()
	default:
		fe.Err = err
	}
	return "", fe
}

// versionEnv is the environment `claude --version` runs with: env (nil:
// the bridge's own) without the variables that may hold a credential
// (ANTHROPIC_*, CLAUDE_API_KEY, names with KEY, TOKEN, SECRET, PASSWORD or
// CREDENTIAL): printing a version needs none, and a key must never reach a
// process the auth manager did not prepare (the helper is its only way in).
func versionEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		if strings.HasPrefix(u, "ANTHROPIC_") || u == "CLAUDE_API_KEY" || strings.Contains(u, "KEY") || strings.Contains(u, "TOKEN") ||
			strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD") || strings.Contains(u, "CREDENTIAL") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// firstLines is the first n non-empty lines of s, joined by " / ".
func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, " / ")
}

// claudeChecks keeps what CheckClaude said per executable, until the file
// changes (its size or modification time): editors ask for the status
// often, and a claude does not change between two asks.
type claudeChecks struct {
	mu    sync.Mutex // guards byKey
	byKey map[string]claudeCheck
}

type claudeCheck struct {
	version string
	err     error
}

// ClaudeStatus finds claude with the current configuration and checks that
// it runs: where it is, its version, or why it cannot be used (not found,
// not executable, fails). The check runs once per executable and version of
// the file, with the environment a launch gives claude (claudeEnv).
func (m *Manager) ClaudeStatus(ctx context.Context) (ClaudeLocation, string, error) {
	c := m.cfg()
	loc, err := LocateClaude(c.ClaudePath, envLookup(c.Env))
	if err != nil {
		return loc, "", err
	}
	st, err := os.Stat(loc.Path)
	if err != nil {
		return loc, "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", loc.Path, st.Size(), st.ModTime().UnixNano())
	m.checks.mu.Lock()
	defer m.checks.mu.Unlock()
	if r, ok := m.checks.byKey[key]; ok {
		return loc, r.version, r.err
	}
	v, err := CheckClaude(ctx, loc.Path, claudeEnv(c))
	if m.checks.byKey == nil {
		m.checks.byKey = map[string]claudeCheck{}
	}
	m.checks.byKey[key] = claudeCheck{v, err}
	return loc, v, err
}

// claudeEnv is the environment c's launches give claude, for a run of
// claude outside a task: c.Env (nil: the bridge's own) less what the auth
// manager keeps from claude (a variable holding a key it knows, whatever
// its name). CheckClaude then leaves out the variables named like a
// credential as well.
func claudeEnv(c Config) []string {
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	if c.Auth != nil {
		return c.Auth.ClaudeEnv(env)
	}
	return env
}

// ClaudeProblem is what is wrong, without the fix, for an error of
// LocateClaude, CheckClaude or ClaudeStatus (ClaudeFix says what to do).
func ClaudeProblem(err error) string {
	var p interface{ Problem() string }
	if errors.As(err, &p) {
		return p.Problem()
	}
	return err.Error()
}

// ClaudeFix is what to do about an error of LocateClaude, CheckClaude or
// ClaudeStatus, for a person: install it when it was not found, else the
// fix the error carries.
func ClaudeFix(err error) string {
	var u *ClaudeUnusableError
	var f *ClaudeFailsError
	switch {
	case errors.As(err, &u):
		return u.Fix
	case errors.As(err, &f):
		return "run `" + f.Shown + " --version` in a terminal to see what is wrong; reinstall it (`npm install -g @anthropic-ai/claude-code`), or set claudePath to a claude that works"
	}
	return InstallHint
}
