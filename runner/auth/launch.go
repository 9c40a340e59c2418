package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Launch is what one claude process needs from the auth manager.
type Launch struct {
	// Args go on claude's command line, before the prompt: "--settings"
	// and the path of a JSON file (mode 0600) in the bridge's private
	// runtime directory, so that claude's command line carries no
	// settings. The file holds the user's auth.settings, the "env" values
	// the bridge pins (pinnedEnv: a repository's .claude/settings.json
	// cannot choose where requests and their key go) and, in helper mode,
	// apiKeyHelper: the helper's path followed by the path of the bridge's
	// helper configuration. Never a key.
	Args []string
	// SettingsFile is that file (Args[1]).
	SettingsFile string
	// Env turns the environment the runner built for claude into the one
	// to use. In helper mode it removes every variable that carries a
	// credential (CLAUDE_API_KEY, ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN,
	// CLAUDE_CODE_OAUTH_TOKEN, CLAUDE_BRIDGE_ANTHROPIC_API_KEY) and any other
	// whose value holds one of the keys the bridge knows (those of its own
	// environment and the one the helper last yielded, wherever in the value
	// it is), and sets CLAUDE_CODE_API_KEY_HELPER_TTL_MS: claude passes its
	// environment to every command, hook and MCP server it starts. In
	// inherit mode it returns a copy of base. base is not modified.
	Env func(base []string) []string
	// HelperPath is the helper claude will run ("" in inherit mode).
	HelperPath string
	// HelperRewritten: another program has rewritten the helper since the
	// auth settings were applied (the bridge restored it at least once).
	// The helper claude runs a moment after it starts may then be that
	// program's: the runner starts no claude nobody asked for (a warm one).
	HelperRewritten bool
	// HelperVerified: the helper is, byte for byte, the bridge's own
	// script (managed mode), and did not change while that was checked. A
	// recent modification was then the bridge's own write (its first start
	// on a HOME, a new helper version) or another bridge's of this version:
	// what claude runs a moment later is the bridge's script unless it
	// changes again, which the runner sees (its FileStamp) once claude has
	// run it. Another program's script is never verified: Launch restores
	// it first (HelperRewritten).
	HelperVerified bool
	// TTLMs is the CLAUDE_CODE_API_KEY_HELPER_TTL_MS value (0 in inherit mode).
	TTLMs int64
}

// Launch returns the decoration for one claude process working in
// workspace. Call it for every process, so a Reconfigure applies to the
// next one. In helper mode it refuses, with the reason and the fix, unless
// the helper is one claude may run (helperReady): a managed helper that
// differs from the bridge's own script is rewritten first, never run. When
// the workspace's own claude settings try to set a variable the bridge
// pins, the user is told once (Notifier.ShowMessage), naming the file and
// the variables.
func (m *Manager) Launch(workspace string) (Launch, error) {
	m.mu.Lock()
	cfg, closed, lastKey := m.cfg, m.closed, m.lastKey
	m.mu.Unlock()
	if closed {
		return Launch{}, ErrClosed
	}
	settings := maps.Clone(cfg.settings)
	if settings == nil {
		settings = map[string]any{}
	}
	l := Launch{}
	secrets := cfg.secrets(lastKey)
	if cfg.mode == ModeHelper {
		argv, err := m.helperReady(cfg)
		if err != nil {
			return Launch{}, err
		}
		// After helperReady, which may have restored the helper just now.
		m.mu.Lock()
		rewritten := m.rewritten
		m.mu.Unlock()
		settings["apiKeyHelper"] = commandLine(argv)
		l.HelperPath, l.TTLMs, l.HelperRewritten = cfg.helperPath, cfg.ttlMs(), rewritten
		l.HelperVerified = cfg.manage && helperVerified(cfg)
		l.Env = func(base []string) []string {
			env, removed := launchEnv(cfg, base, secrets)
			if len(removed) > 0 {
				m.log.Debug("removed from claude's environment", zap.Strings("variables", removed))
			}
			return env
		}
	} else {
		l.Env = func(base []string) []string { return slices.Clone(base) }
	}
	// The pins are what claude would see without a project's files: the
	// bridge's environment as claude gets it.
	claudeEnv := cfg.environ
	if cfg.mode == ModeHelper {
		claudeEnv, _ = launchEnv(cfg, cfg.environ, secrets)
	}
	pins := pinnedEnv(cfg, claudeEnv, secrets)
	overrides, bashFuncs := projectOverrides(workspace, pins)
	env := make(map[string]any, len(pins)+len(bashFuncs))
	for k, v := range pins {
		env[k] = v
	}
	for _, f := range bashFuncs {
		env[f] = ""
	}
	// The user's own auth.settings.env comes last: it is the user's
	// choice, and settingsEnvProblem has kept keys out of it.
	if user, ok := settings["env"].(map[string]any); ok {
		maps.Copy(env, user)
	}
	settings["env"] = env
	js, err := json.Marshal(settings)
	if err != nil {
		return Launch{}, fmt.Errorf("auth.settings: %w", err)
	}
	rt, err := m.runtime(cfg)
	if err != nil {
		return Launch{}, fmt.Errorf("cannot write claude's settings file: %w", err)
	}
	// One file per distinct content: a claude already running keeps the
	// file it was started with.
	sum := sha256.Sum256(js)
	path, err := rt.writeFile("settings-"+hex.EncodeToString(sum[:8])+".json", js)
	if err != nil {
		return Launch{}, fmt.Errorf("cannot write claude's settings file: %w", err)
	}
	l.Args, l.SettingsFile = []string{"--settings", path}, path
	m.warnOverrides(overrides)
	return l, nil
}

// helperVerified reports whether the managed helper is the bridge's own
// script and its FileStamp was the same before and after that check.
func helperVerified(cfg resolved) bool {
	before := FileStamp(cfg.helperPath)
	return before != "-" && managedHelperProblem(cfg) == "" && FileStamp(cfg.helperPath) == before
}

// warnOverrides tells the user, once per file and set of variables, what
// a workspace's settings tried to set that the bridge pins.
func (m *Manager) warnOverrides(overrides []projectOverride) {
	for _, o := range overrides {
		id := o.file + "\x00" + strings.Join(o.names, ",")
		m.mu.Lock()
		seen := m.warned[id]
		m.warned[id] = true
		m.mu.Unlock()
		if seen {
			continue
		}
		msg := overrideMessage(o)
		m.log.Warn(msg)
		m.notify.ShowMessage(LevelWarning, "claude-bridge: "+msg)
	}
}

// ClaudeEnv is the environment a launch gives claude when the runner's is
// base (what Launch.Env returns), for the bridge's own runs of claude
// (doctor's claude --version).
func (m *Manager) ClaudeEnv(base []string) []string {
	m.mu.Lock()
	cfg, lastKey := m.cfg, m.lastKey
	m.mu.Unlock()
	if cfg.mode != ModeHelper {
		return slices.Clone(base)
	}
	env, _ := launchEnv(cfg, base, cfg.secrets(lastKey))
	return env
}

// secrets are the keys the bridge knows: those of its own environment and
// lastKey, the one the helper last yielded ("" for none).
func (r resolved) secrets(lastKey string) []string {
	var out []string
	for _, k := range keyVariables {
		if v := strings.TrimSpace(envValue(r.environ, k)); len(v) >= 8 {
			out = append(out, v)
		}
	}
	if len(lastKey) >= 8 {
		out = append(out, lastKey)
	}
	return out
}

// helperReady makes sure the helper is one claude may run, and returns its
// argv: the helper's path and its arguments (commandLine makes the
// apiKeyHelper setting of it). Launch and the bridge's own checks call
// it before every run. It refuses (with the reason and the fix):
//   - a managed helper that is not exactly the bridge's own script, mode
//     0700, after trying to rewrite it (it cannot be rewritten when its
//     directory is not writable, or when the restore loop gave up because
//     another program keeps changing it);
//   - a user's own helper that is missing, not executable, or writable by
//     others;
//   - a helper that others could replace through a directory they can
//     write (helperPathProblem);
//   - a managed helper whose configuration, or the bridge's key, cannot be
//     written into the runtime directory.
func (m *Manager) helperReady(cfg resolved) ([]string, error) {
	shown := cfg.display(cfg.helperPath)
	if cfg.manage {
		if err := m.verifyManaged(cfg); err != nil {
			return nil, err
		}
	} else if err := ownHelperProblem(cfg); err != nil {
		return nil, err
	}
	if p := helperPathProblem(cfg, cfg.helperPath); p != nil {
		return nil, fmt.Errorf("the key helper %s is not safe to run: %w", shown, p)
	}
	if !cfg.manage {
		return []string{cfg.helperPath}, nil
	}
	conf, err := m.writeHelperConfig(cfg)
	if err != nil {
		return nil, err
	}
	return []string{cfg.helperPath, argConfig, conf}, nil
}

// verifyManaged makes the file at the helper path the managed helper, or
// says why it is not.
func (m *Manager) verifyManaged(cfg resolved) error {
	if managedHelperProblem(cfg) == "" {
		return nil
	}
	// Changed or deleted moments ago and the watcher has not caught up:
	// put it back now rather than fail the task, or run a foreign script.
	m.ensureHelper(cfg, true)
	why := managedHelperProblem(cfg)
	if why == "" {
		return nil
	}
	m.mu.Lock()
	helperErr, conflict := m.helperErr, m.helperConflict
	m.mu.Unlock()
	shown := cfg.display(cfg.helperPath)
	switch {
	case conflict != "":
		return fmt.Errorf("the key helper %s %s, and the bridge no longer restores it: %s", shown, why, conflict)
	case helperErr != "":
		return fmt.Errorf("the key helper %s %s, and the bridge cannot write it: %s", shown, why, helperErr)
	}
	return fmt.Errorf("the key helper %s %s", shown, why)
}

// runtime returns this bridge's runtime directory, making it the first
// time.
func (m *Manager) runtime(cfg resolved) (*runtimeDir, error) {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	return m.runtimeLocked(cfg)
}

func (m *Manager) runtimeLocked(cfg resolved) (*runtimeDir, error) {
	if m.rtClosed {
		return nil, ErrClosed
	}
	if m.rt == nil {
		base, _ := runtimeBase(cfg.environ, cfg.home)
		rt, err := openRuntime(base)
		if err != nil {
			return nil, err
		}
		m.rt = rt
		m.log.Info("runtime directory", zap.String("dir", rt.dir))
	}
	return m.rt, nil
}

// writeHelperConfig writes the managed helper's configuration for cfg into
// the runtime directory, and with it the key of the bridge's
// cfg.envKeySource variable (or removes a stale one), and returns the
// configuration's path.
func (m *Manager) writeHelperConfig(cfg resolved) (string, error) {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	rt, err := m.runtimeLocked(cfg)
	if err != nil {
		return "", fmt.Errorf("cannot write the key helper's configuration: %w", err)
	}
	keyPath := ""
	if cfg.envKeySource != "" {
		if err := rt.writeKey(envValue(cfg.environ, cfg.envKeySource)); err != nil {
			return "", fmt.Errorf("cannot hand the bridge's %s to the key helper: %w", cfg.envKeySource, err)
		}
		keyPath = rt.keyPath()
	} else {
		rt.removeKey()
	}
	p, err := rt.writeFile(runtimeConfigName, helperConfig(cfg, keyPath))
	if err != nil {
		return "", fmt.Errorf("cannot write the key helper's configuration: %w", err)
	}
	return p, nil
}

// closeRuntime removes the runtime directory, key and all; no file is made
// in one after it.
func (m *Manager) closeRuntime() {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	m.rtClosed = true
	if m.rt != nil {
		m.rt.close()
		m.rt = nil
	}
}

// commandLine is the apiKeyHelper value for argv. claude hands it to
// /bin/sh -c as a command line (measured: a helper without the exec bit fails
// with "/bin/sh: 1: <path>: Permission denied"; arguments after the path
// reach the helper as sh splits them), so each word is quoted for sh when it
// needs it.
func commandLine(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = shQuoteIfNeeded(a)
	}
	return strings.Join(words, " ")
}

// launchEnv is Launch.Env in helper mode. It drops every variable that
// carries a credential (keyVariables) and every variable whose value holds
// one of secrets anywhere in it (a header line "x-api-key: <key>", a
// "Bearer <key>"), sets the helper TTL, and returns the names it dropped.
func launchEnv(cfg resolved, base []string, secrets []string) (env, removed []string) {
	env = make([]string, 0, len(base)+1)
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == envTTL || k == envReport:
			continue
		case slices.Contains(keyVariables, k),
			slices.ContainsFunc(secrets, func(s string) bool { return strings.Contains(v, s) }):
			removed = append(removed, k)
			continue
		}
		env = append(env, kv)
	}
	env = append(env, envTTL+"="+strconv.FormatInt(cfg.ttlMs(), 10))
	return env, removed
}

// CheckInit looks at the apiKeySource of claude's init message and returns a
// warning for the user when, in helper mode, claude is not using the helper
// (a key in claude's settings `env` or environment won), or "" when all is
// as it should be.
func (m *Manager) CheckInit(apiKeySource string) (warning string) {
	cfg := m.config()
	if cfg.mode != ModeHelper || apiKeySource == "apiKeyHelper" {
		return ""
	}
	switch apiKeySource {
	case envAnthropicAPIKey, envAnthropicToken:
		return fmt.Sprintf("claude is using %s instead of the bridge's key helper %s: it comes from an `env` entry in a claude settings file (~/.claude/settings.json, .claude/settings.json or .claude/settings.local.json) or from the environment; remove it there, or set auth.mode to \"inherit\" to let claude authenticate on its own", apiKeySource, cfg.display(cfg.helperPath))
	case "", "none":
		return fmt.Sprintf("claude reports no API key source (apiKeySource %q): the bridge's key helper %s was not applied; run claude-bridge doctor", apiKeySource, cfg.display(cfg.helperPath))
	}
	return fmt.Sprintf("claude is using %q instead of the bridge's key helper %s; remove that credential from claude's configuration, or set auth.mode to \"inherit\"", apiKeySource, cfg.display(cfg.helperPath))
}
