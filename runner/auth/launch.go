package auth

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Launch is what one claude process needs from the auth manager.
type Launch struct {
	// Args go on claude's command line, before the prompt: in helper mode
	// "--settings" and a JSON object holding apiKeyHelper and the user's
	// auth.settings; in inherit mode only the user's settings, if any.
	// They never contain a key.
	Args []string
	// Env turns the environment the runner built for claude into the one
	// to use. In helper mode it removes ANTHROPIC_API_KEY and
	// ANTHROPIC_AUTH_TOKEN (they would beat the helper), sets
	// CLAUDE_CODE_API_KEY_HELPER_TTL_MS, passes the bridge's own
	// ANTHROPIC_API_KEY as CLAUDE_BRIDGE_ANTHROPIC_API_KEY for the helper,
	// and passes CLAUDE_API_KEY only when the bridge itself has it. In
	// inherit mode it returns a copy of base. base is not modified.
	Env func(base []string) []string
	// HelperPath is the helper claude will run ("" in inherit mode).
	HelperPath string
	// TTLMs is the CLAUDE_CODE_API_KEY_HELPER_TTL_MS value (0 in inherit mode).
	TTLMs int64
}

// Launch returns the decoration for one claude process. Call it for every
// process, so a Reconfigure applies to the next one. In helper mode it
// restores a missing managed helper, and fails when the helper cannot be
// there (claude would only say the helper failed).
func (m *Manager) Launch() (Launch, error) {
	m.mu.Lock()
	cfg, closed, helperErr := m.cfg, m.closed, m.helperErr
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
	st := statFile(cfg.helperPath)
	if (!st.Exists || !st.Regular) && cfg.manage {
		// Deleted moments ago and the watcher has not caught up: put it
		// back now rather than fail the task.
		m.ensureHelper(cfg, true)
		st = statFile(cfg.helperPath)
		m.mu.Lock()
		helperErr = m.helperErr
		if m.helperConflict != "" {
			helperErr = m.helperConflict
		}
		m.mu.Unlock()
	}
	if !st.Exists || !st.Regular {
		why := "does not exist"
		if st.Exists {
			why = "is not a regular file"
		}
		if helperErr != "" {
			why += " (" + helperErr + ")"
		} else if !cfg.manage {
			why += " (auth.manageHelper is false: create it, or set auth.manageHelper to true)"
		}
		return Launch{}, fmt.Errorf("the Claude API key helper %s %s", cfg.display(cfg.helperPath), why)
	}
	settings := make(map[string]any, len(cfg.settings)+1)
	for k, v := range cfg.settings {
		settings[k] = v
	}
	settings["apiKeyHelper"] = helperCommand(cfg)
	js, err := json.Marshal(settings)
	if err != nil {
		return Launch{}, fmt.Errorf("auth.settings: %w", err)
	}
	return Launch{
		Args:       []string{"--settings", string(js)},
		Env:        func(base []string) []string { return launchEnv(cfg, base) },
		HelperPath: cfg.helperPath,
		TTLMs:      cfg.ttlMs(),
	}, nil
}

// helperCommand is the apiKeyHelper value. claude hands it to /bin/sh -c as
// a command line (measured: a helper without the exec bit fails with
// "/bin/sh: 1: <path>: Permission denied"), so a path with spaces or quotes
// must be quoted for sh.
func helperCommand(cfg resolved) string {
	if isShellSafe(cfg.helperPath) {
		return cfg.helperPath
	}
	return shQuote(cfg.helperPath)
}

// launchEnv is Launch.Env in helper mode.
func launchEnv(cfg resolved, base []string) []string {
	out := make([]string, 0, len(base)+3)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case envAnthropicAPIKey, envAnthropicToken, envClaudeAPIKey, envBridgeAnthropic, envTTL, envReport:
			continue
		}
		out = append(out, kv)
	}
	out = append(out, envTTL+"="+strconv.FormatInt(cfg.ttlMs(), 10))
	if v := envValue(cfg.environ, envClaudeAPIKey); v != "" {
		out = append(out, envClaudeAPIKey+"="+v)
	}
	if v := envValue(cfg.environ, envAnthropicAPIKey); v != "" {
		out = append(out, envBridgeAnthropic+"="+v)
	}
	return out
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
