package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Modes of Config.Mode.
const (
	// ModeHelper: the bridge supplies the key through the helper script.
	ModeHelper = "helper"
	// ModeInherit: the bridge leaves claude's authentication alone (the
	// user's own claude login or environment).
	ModeInherit = "inherit"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultHelperPath        = "~/.claude/auth_helper.sh"
	DefaultKeyFile           = "~/.claude/api_key"
	DefaultKeyCommandTimeout = 8 * time.Second
	DefaultRefreshInterval   = 240 * time.Second
	DefaultAuditMaxBytes     = 1 << 20
)

// Config is the `auth` section of the bridge's configuration. The zero value
// is valid: helper mode with every default. The editor spells it as
// lspext.AuthConfiguration, durations in seconds; the server converts it
// (server.AuthConfig) and fills in Home and Environ, which never come from
// the editor. Encoded as JSON (a log line) it leaves them out: Environ
// holds the bridge's keys.
type Config struct {
	// Mode is ModeHelper (default) or ModeInherit.
	Mode string
	// HelperPath is where the helper script lives; "~/" is expanded.
	HelperPath string
	// ManageHelper (default true) lets the bridge write and restore the
	// helper. With false, HelperPath is the user's own script, used as is.
	ManageHelper *bool
	// KeyFile is the key file the helper reads (default ~/.claude/api_key).
	KeyFile string
	// KeyCommand is a shell command printing a key, tried after the key file.
	KeyCommand string
	// KeyCommandTimeout bounds KeyCommand (default 8 s, inside the 10 s the
	// bridge allows a whole helper run).
	KeyCommandTimeout time.Duration
	// RefreshInterval is how often the bridge checks the helper, and the TTL
	// claude is given for a key (default 240 s).
	RefreshInterval time.Duration
	// AuditPath is the JSON-lines audit trail; empty disables it. The caller
	// chooses the default (beside the bridge log).
	AuditPath string
	// AuditMaxBytes is the size at which the audit trail is rotated to
	// AuditPath+".1" (default 1 MiB).
	AuditMaxBytes int64
	// Settings are extra claude settings passed with --settings.
	Settings map[string]any
	// Home is the user's home directory for "~" (default os.UserHomeDir).
	Home string `json:"-"`
	// Environ is the bridge's own environment (default os.Environ()). It is
	// where the bridge's CLAUDE_API_KEY and ANTHROPIC_API_KEY come from.
	Environ []string `json:"-"`
}

// resolved is a Config after defaults and "~" expansion: what the Manager
// actually works with.
type resolved struct {
	mode          string
	helperPath    string // absolute, cleaned
	manage        bool
	keyFile       string // absolute, cleaned
	keyCommand    string
	keyCmdTimeout time.Duration
	refresh       time.Duration
	auditPath     string
	auditMax      int64
	settings      map[string]any
	home          string
	environ       []string
	// envKeySource is the variable of the bridge's own environment whose
	// key the managed helper offers first (SourceEnvClaudeAPIKey or
	// SourceEnvAnthropicAPIKey), "" when the bridge has neither.
	envKeySource string
	tools        helperTools
	warnings     []string // configuration oddities worth a log line and a doctor line
}

func resolve(c Config) (resolved, error) {
	r := resolved{
		mode:          c.Mode,
		manage:        c.ManageHelper == nil || *c.ManageHelper,
		keyCommand:    strings.TrimSpace(c.KeyCommand),
		keyCmdTimeout: c.KeyCommandTimeout,
		refresh:       c.RefreshInterval,
		auditMax:      c.AuditMaxBytes,
		home:          c.Home,
		environ:       c.Environ,
	}
	if r.mode == "" {
		r.mode = ModeHelper
	}
	if r.mode != ModeHelper && r.mode != ModeInherit {
		return r, fmt.Errorf("auth.mode %q is not one of %q or %q", c.Mode, ModeHelper, ModeInherit)
	}
	if r.home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return r, fmt.Errorf("auth: cannot find the home directory for ~: %w", err)
		}
		r.home = h
	}
	if !filepath.IsAbs(r.home) {
		return r, fmt.Errorf("auth: home directory %q is not absolute", r.home)
	}
	r.home = filepath.Clean(r.home)
	if r.environ == nil {
		r.environ = os.Environ()
	}
	if r.keyCmdTimeout <= 0 {
		r.keyCmdTimeout = DefaultKeyCommandTimeout
	}
	if r.refresh <= 0 {
		r.refresh = DefaultRefreshInterval
	}
	if r.refresh < 100*time.Millisecond {
		return r, fmt.Errorf("auth.refreshIntervalSeconds %v is too small (at least 0.1)", r.refresh.Seconds())
	}
	if r.auditMax <= 0 {
		r.auditMax = DefaultAuditMaxBytes
	}
	var err error
	if r.helperPath, err = expandPath("auth.helperPath", c.HelperPath, DefaultHelperPath, r.home); err != nil {
		return r, err
	}
	if r.keyFile, err = expandPath("auth.keyFile", c.KeyFile, DefaultKeyFile, r.home); err != nil {
		return r, err
	}
	if c.AuditPath != "" {
		if r.auditPath, err = expandPath("auth.auditPath", c.AuditPath, "", r.home); err != nil {
			return r, err
		}
	}
	if r.keyFile == r.helperPath {
		return r, errors.New("auth.keyFile and auth.helperPath are the same file")
	}
	// The helper's configuration holds one value per line.
	for name, p := range map[string]string{"auth.keyFile": r.keyFile, "auth.helperPath": r.helperPath, "the home directory": r.home} {
		if strings.ContainsAny(p, "\n\r") {
			return r, fmt.Errorf("%s %q contains a line break", name, p)
		}
	}
	// Copy the settings so a caller mutating its map later cannot change
	// what a launch passes.
	r.settings = make(map[string]any, len(c.Settings))
	for k, v := range c.Settings {
		r.settings[k] = v
	}
	if _, err := json.Marshal(r.settings); err != nil {
		return r, fmt.Errorf("auth.settings cannot be encoded as JSON: %w", err)
	}
	if err := settingsEnvProblem(r.settings, r.environ); err != nil {
		return r, err
	}
	if h, ok := r.settings["apiKeyHelper"]; ok && r.mode == ModeHelper {
		r.warnings = append(r.warnings, fmt.Sprintf("auth.settings.apiKeyHelper (%v) is ignored in helper mode: the bridge's helper %s is used; set auth.helperPath with auth.manageHelper false to use your own", h, r.display(r.helperPath)))
	}
	r.tools = systemTools()
	switch {
	case envValue(r.environ, envClaudeAPIKey) != "":
		r.envKeySource = SourceEnvClaudeAPIKey
	case envValue(r.environ, envAnthropicAPIKey) != "":
		r.envKeySource = SourceEnvAnthropicAPIKey
	}
	if r.mode == ModeHelper {
		for _, v := range []string{envAnthropicToken, envOAuthToken} {
			if envValue(r.environ, v) != "" {
				r.warnings = append(r.warnings, v+" is set in the bridge's environment but is not passed to claude in helper mode (it would override the key helper, and every command claude runs would inherit it); set auth.mode to \"inherit\" to use it")
			}
		}
		if !r.manage && r.envKeySource != "" {
			r.warnings = append(r.warnings, fmt.Sprintf("the bridge's %s is not passed to claude, not even to your own helper %s (auth.manageHelper is false): claude's environment never holds a key; have your helper read the key from a file, or set auth.manageHelper to true", r.envKeySource, r.display(r.helperPath)))
		}
	}
	return r, nil
}

// expandPath applies the default, expands a leading "~/" and requires an
// absolute result: a relative path would depend on the bridge's working
// directory, which the editor chooses.
func expandPath(name, p, def, home string) (string, error) {
	if p == "" {
		p = def
	}
	if p == "~" {
		return "", fmt.Errorf("%s %q names the home directory, not a file", name, p)
	}
	if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s %q must be absolute or start with ~/", name, p)
	}
	return filepath.Clean(p), nil
}

// display shortens a path under the home directory to "~/..." for messages,
// as the user would type it.
func (r resolved) display(p string) string {
	if rel, err := filepath.Rel(r.home, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return "~/" + rel
	}
	return p
}

// shellWord is p as the user could paste it into a shell: the "~/" form when
// that needs no quoting, else the absolute path, quoted when necessary.
func (r resolved) shellWord(p string) string {
	if d := r.display(p); d != p && isShellSafe(d[2:]) {
		return d
	}
	if isShellSafe(p) {
		return p
	}
	return shQuote(p)
}

// ttlMs is the key lifetime given to claude: the refresh interval, so claude
// asks the helper again about when the bridge itself checks it.
func (r resolved) ttlMs() int64 { return r.refresh.Milliseconds() }

// envValue returns the last value of name in env, the one a process sees.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
