package auth

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Launch is what one claude process needs from the auth manager.
type Launch struct {
	// Args go on claude's command line, before the prompt: in helper mode
	// "--settings" and a JSON object holding apiKeyHelper and the user's
	// auth.settings; in inherit mode only the user's settings, if any.
	// They never contain a key: apiKeyHelper is the helper's path, followed,
	// when the bridge has a key in its own environment, by the path of the
	// bridge's runtime key file.
	Args []string
	// Env turns the environment the runner built for claude into the one
	// to use. In helper mode it removes every variable that carries a
	// credential (CLAUDE_API_KEY, ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN,
	// CLAUDE_CODE_OAUTH_TOKEN, CLAUDE_BRIDGE_ANTHROPIC_API_KEY) and any other
	// whose value is one of the bridge's keys, and sets
	// CLAUDE_CODE_API_KEY_HELPER_TTL_MS: claude passes its environment to
	// every command, hook and MCP server it starts. In inherit mode it
	// returns a copy of base. base is not modified.
	Env func(base []string) []string
	// HelperPath is the helper claude will run ("" in inherit mode).
	HelperPath string
	// TTLMs is the CLAUDE_CODE_API_KEY_HELPER_TTL_MS value (0 in inherit mode).
	TTLMs int64
}

// Launch returns the decoration for one claude process. Call it for every
// process, so a Reconfigure applies to the next one. In helper mode it
// refuses, with the reason and the fix, unless the helper is one claude may
// run (helperReady): a managed helper that differs from the bridge's own
// script is rewritten first, never run.
func (m *Manager) Launch() (Launch, error) {
	m.mu.Lock()
	cfg, closed, fp := m.cfg, m.closed, m.last.fingerprint
	m.mu.Unlock()
	if closed {
		return Launch{}, ErrClosed
	}
	if cfg.mode == ModeInherit {
		l := Launch{Env: func(base []string) []string { return append([]string(nil), base...) }}
		if len(cfg.settings) > 0 {
			js, err := json.Marshal(cfg.settings)
			if err != nil {
				return Launch{}, fmt.Errorf("auth.settings: %w", err)
			}
			l.Args = []string{"--settings", string(js)}
		}
		return l, nil
	}
	argv, err := m.helperReady(cfg)
	if err != nil {
		return Launch{}, err
	}
	settings := make(map[string]any, len(cfg.settings)+1)
	for k, v := range cfg.settings {
		settings[k] = v
	}
	settings["apiKeyHelper"] = commandLine(argv)
	js, err := json.Marshal(settings)
	if err != nil {
		return Launch{}, fmt.Errorf("auth.settings: %w", err)
	}
	return Launch{
		Args: []string{"--settings", string(js)},
		Env: func(base []string) []string {
			env, removed := launchEnv(cfg, base, fp)
			if len(removed) > 0 {
				m.log.Debug("removed from claude's environment", zap.Strings("variables", removed))
			}
			return env
		},
		HelperPath: cfg.helperPath,
		TTLMs:      cfg.ttlMs(),
	}, nil
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
//   - a helper in a directory that others can write (helperDirProblem);
//   - a bridge key that cannot be put into the runtime key file.
func (m *Manager) helperReady(cfg resolved) ([]string, error) {
	shown := cfg.display(cfg.helperPath)
	file := cfg.helperPath
	if cfg.manage {
		if err := m.verifyManaged(cfg); err != nil {
			return nil, err
		}
	} else {
		if err := ownHelperProblem(cfg); err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(file); err == nil {
			file = real
		}
	}
	if p := helperDirProblem(cfg, file); p != nil {
		return nil, fmt.Errorf("the key helper %s is not safe to run: %w", shown, p)
	}
	keyPath := ""
	if cfg.manage && cfg.envKeySource != "" {
		p, err := m.ensureEnvKey(cfg)
		if err != nil {
			return nil, fmt.Errorf("cannot hand the bridge's %s to the key helper: %v", cfg.envKeySource, err)
		}
		keyPath = p
	}
	return helperArgv(cfg, keyPath), nil
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

// ensureEnvKey puts the key of the bridge's cfg.envKeySource variable into
// this bridge's runtime key file (creating the runtime directory the first
// time) and returns the file's path.
func (m *Manager) ensureEnvKey(cfg resolved) (string, error) {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	if m.rtClosed {
		return "", ErrClosed
	}
	if m.rt == nil {
		base, _ := runtimeBase(cfg.environ, cfg.home)
		rt, err := openRuntime(base)
		if err != nil {
			return "", err
		}
		m.rt = rt
		m.log.Info("runtime directory for the bridge's key", zap.String("dir", rt.dir))
	}
	if err := m.rt.writeKey(envValue(cfg.environ, cfg.envKeySource)); err != nil {
		return "", err
	}
	return m.rt.keyPath(), nil
}

// closeRuntime removes the runtime directory, key and all; no key file is
// made after it.
func (m *Manager) closeRuntime() {
	m.rtMu.Lock()
	defer m.rtMu.Unlock()
	m.rtClosed = true
	if m.rt != nil {
		m.rt.close()
		m.rt = nil
	}
}

// helperArgv is the helper's path and arguments: keyPath is the runtime key
// file, "" for none.
func helperArgv(cfg resolved, keyPath string) []string {
	argv := []string{cfg.helperPath}
	if keyPath != "" {
		argv = append(argv, argEnvKeyFile, keyPath, argEnvKeySource, cfg.envKeySource)
	}
	return argv
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
// carries a credential (keyVariables), every variable whose value holds one
// of the keys the bridge's own environment has, and every variable whose
// value is the key with fingerprint fp (the key the helper yielded at the
// last check, "" for none), sets the helper TTL, and returns the names it
// dropped.
func launchEnv(cfg resolved, base []string, fp string) (env, removed []string) {
	var secrets []string
	for _, k := range keyVariables {
		if v := strings.TrimSpace(envValue(cfg.environ, k)); len(v) >= 8 {
			secrets = append(secrets, v)
		}
	}
	env = make([]string, 0, len(base)+1)
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == envTTL || k == envReport:
			continue
		case slices.Contains(keyVariables, k),
			fp != "" && Fingerprint(strings.TrimSpace(v)) == fp,
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
