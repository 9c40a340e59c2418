package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A repository's .claude/settings.json (and .claude/settings.local.json)
// can set environment variables for claude in its "env" block, and claude
// run with -p applies them without asking. Some of them decide where claude
// sends its requests, with the key, and whether it checks who answers. The
// bridge passes its own value for each of them in the "env" block of its
// --settings, which claude ranks above the project's files (measured), so
// that a repository cannot choose them.
//
// Measured with claude 2.1.332 -p, the key from an apiKeyHelper, a
// project's settings.json setting one variable (see the tests of
// TestProjectCannotRouteTheKey and the README): these sent the key to a
// server of the project's choice, or changed what claude sends with it:
//   - ANTHROPIC_BASE_URL;
//   - HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and their lower-case spellings
//     (a plain-HTTP base URL went through the proxy with the key in clear;
//     the default https://api.anthropic.com got a CONNECT), and NO_PROXY,
//     no_proxy, which take requests around a proxy the user relies on;
//   - NODE_TLS_REJECT_UNAUTHORIZED=0 and NODE_EXTRA_CA_CERTS: a server
//     with a certificate nobody trusts got the request and the key;
//   - CLAUDE_CODE_USE_BEDROCK, _VERTEX, _FOUNDRY, _MANTLE,
//     _ANTHROPIC_AWS and _ANTHROPIC_GOOGLE_CLOUD with the provider's base
//     URL (ANTHROPIC_BEDROCK_BASE_URL and so on) and its SKIP_*_AUTH
//     variable: the key went to that URL;
//   - ANTHROPIC_CUSTOM_HEADERS (any header, x-api-key and Authorization
//     included), ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN, which replace
//     the helper's key with the project's.
//
// Measured without effect from a project's file: CLAUDE_CODE_API_BASE_URL,
// ANTHROPIC_API_HOST, ANTHROPIC_UNIX_SOCKET, CLAUDE_CODE_HTTP_PROXY,
// CLAUDE_CODE_HTTPS_PROXY, CLAUDE_CODE_PROXY_URL, SSL_CERT_FILE,
// SSL_CERT_DIR, NODE_USE_SYSTEM_CA, CLAUDE_CODE_CERT_STORE,
// CLAUDE_CODE_OAUTH_TOKEN (with a helper), ANTHROPIC_BETAS and a project's
// apiKeyHelper (the bridge's --settings wins).
//
// A pinned variable is set to "" when the user has no value for it: claude
// treats "" as unset (measured for each of the above), except
// ANTHROPIC_BASE_URL, pinned to its documented default, so that tools a
// project runs see a usable URL rather than an empty one.

// routingVariables are pinned in every mode.
var routingVariables = []string{
	"ANTHROPIC_BASE_URL",
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
	"NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS",
	"ANTHROPIC_CUSTOM_HEADERS",
	"CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY", "CLAUDE_CODE_USE_MANTLE",
	"CLAUDE_CODE_USE_ANTHROPIC_AWS", "CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD", "CLAUDE_CODE_USE_GATEWAY",
	"ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL", "ANTHROPIC_FOUNDRY_BASE_URL", "ANTHROPIC_FOUNDRY_RESOURCE",
	"ANTHROPIC_BEDROCK_MANTLE_BASE_URL", "ANTHROPIC_AWS_BASE_URL", "ANTHROPIC_GOOGLE_CLOUD_BASE_URL",
	"CLAUDE_CODE_SKIP_BEDROCK_AUTH", "CLAUDE_CODE_SKIP_VERTEX_AUTH", "CLAUDE_CODE_SKIP_FOUNDRY_AUTH",
	"CLAUDE_CODE_SKIP_MANTLE_AUTH", "CLAUDE_CODE_SKIP_ANTHROPIC_AWS_AUTH", "CLAUDE_CODE_SKIP_ANTHROPIC_GOOGLE_CLOUD_AUTH",
}

// credentialVariables are pinned to "" in helper mode, where the helper's
// key is the only one claude may use. In inherit mode claude's own
// credentials are its business, and a value from the bridge's environment
// would have to be written into the settings file.
var credentialVariables = []string{envAnthropicAPIKey, envAnthropicToken, envOAuthToken}

// defaultBaseURL is claude's documented default for ANTHROPIC_BASE_URL.
const defaultBaseURL = "https://api.anthropic.com"

// bashFuncPrefix starts the name of a variable that bash (bash as /bin/sh
// included) turns into a shell function in every bash that inherits it.
const bashFuncPrefix = "BASH_FUNC_"

// pinnedEnv is the "env" block of the bridge's --settings: for each routing
// variable (and in helper mode each credential variable) the value claude
// would use without a project's files: the user's own claude settings
// (~/.claude/settings.json, which claude ranks above the environment)
// else claude's environment (env: what Launch.Env makes of the bridge's),
// else "" (ANTHROPIC_BASE_URL: its default). A value holding a key is never
// written into a file: the variable is left unpinned (in helper mode
// launchEnv has removed such a variable from claude's environment already,
// so its pin is "").
func pinnedEnv(r resolved, env []string, secrets []string) map[string]string {
	user := userSettingsEnv(r)
	pins := make(map[string]string, len(routingVariables)+len(credentialVariables))
	names := routingVariables
	if r.mode == ModeHelper {
		names = append(slices.Clone(names), credentialVariables...)
	}
	for _, name := range names {
		v, ok := user[name]
		if !ok {
			v = envValue(env, name)
		}
		if r.mode == ModeHelper && slices.Contains(credentialVariables, name) {
			v = ""
		}
		if v == "" && name == "ANTHROPIC_BASE_URL" {
			v = defaultBaseURL
		}
		if holdsKey(v, secrets) {
			continue
		}
		pins[name] = v
	}
	return pins
}

// holdsKey reports whether v holds one of secrets or anything key-shaped.
func holdsKey(v string, secrets []string) bool {
	return keyShaped.MatchString(v) || slices.ContainsFunc(secrets, func(s string) bool { return len(s) >= 8 && strings.Contains(v, s) })
}

// claudeConfigDir is where claude keeps its user settings:
// $CLAUDE_CONFIG_DIR, else ~/.claude.
func claudeConfigDir(r resolved) string {
	if d := envValue(r.environ, "CLAUDE_CONFIG_DIR"); filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(r.home, ".claude")
}

// userSettingsEnv is the "env" block of the user's own claude settings
// (string values only, as claude takes them), empty when there is none.
func userSettingsEnv(r resolved) map[string]string {
	env, _ := settingsFileEnv(filepath.Join(claudeConfigDir(r), "settings.json"))
	return env
}

// settingsFileEnv reads the "env" block of a claude settings file; ok is
// false when the file does not exist or is not JSON.
func settingsFileEnv(path string) (env map[string]string, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var s struct {
		Env map[string]any `json:"env"`
	}
	if json.Unmarshal(data, &s) != nil {
		return nil, false
	}
	env = make(map[string]string, len(s.Env))
	for k, v := range s.Env {
		switch v := v.(type) {
		case string:
			env[k] = v
		case nil:
		default:
			// claude turns numbers and booleans into strings.
			b, _ := json.Marshal(v)
			env[k] = string(b)
		}
	}
	return env, true
}

// projectSettingsFiles are a workspace's own claude settings files, which
// whoever wrote the repository chose.
func projectSettingsFiles(workspace string) []string {
	return []string{
		filepath.Join(workspace, ".claude", "settings.json"),
		filepath.Join(workspace, ".claude", "settings.local.json"),
	}
}

// projectOverride is what one of a workspace's settings files tried to set
// that the bridge pins.
type projectOverride struct {
	file  string
	names []string // sorted
}

// projectOverrides reads the workspace's settings files and returns, for
// each, the pinned variables it sets to something other than the pin, and
// the BASH_FUNC_ variables it sets at all; bashFuncs lists the latter, which
// the bridge pins to "" for this launch: bash would turn them into
// functions in every bash below claude (the key command's included).
func projectOverrides(workspace string, pins map[string]string) (overrides []projectOverride, bashFuncs []string) {
	if workspace == "" {
		return nil, nil
	}
	for _, f := range projectSettingsFiles(workspace) {
		env, ok := settingsFileEnv(f)
		if !ok {
			continue
		}
		var names []string
		for k, v := range env {
			if strings.HasPrefix(k, bashFuncPrefix) {
				names = append(names, k)
				if !slices.Contains(bashFuncs, k) {
					bashFuncs = append(bashFuncs, k)
				}
				continue
			}
			if pin, pinned := pins[k]; pinned && v != pin {
				names = append(names, k)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			overrides = append(overrides, projectOverride{file: f, names: names})
		}
	}
	sort.Strings(bashFuncs)
	return overrides, bashFuncs
}

// overrideMessage tells the user what a repository tried, naming variables,
// never their values.
func overrideMessage(o projectOverride) string {
	var pinned, funcs []string
	for _, n := range o.names {
		if strings.HasPrefix(n, bashFuncPrefix) {
			funcs = append(funcs, n)
		} else {
			pinned = append(pinned, n)
		}
	}
	var parts []string
	if len(pinned) > 0 {
		parts = append(parts, fmt.Sprintf("%s, which decide where claude sends your API key; the bridge keeps your own values for them", strings.Join(pinned, ", ")))
	}
	if len(funcs) > 0 {
		parts = append(parts, fmt.Sprintf("%s, which would define shell functions in the commands claude runs (your key command among them); the bridge clears them", strings.Join(funcs, ", ")))
	}
	return fmt.Sprintf("%s sets %s", o.file, strings.Join(parts, "; and "))
}

// settingsEnvProblem refuses an auth.settings "env" block that would hand a
// key to claude: a key variable, or a value holding a key. claude puts its
// settings' env into its own environment and that of every command, hook and
// MCP server it starts.
func settingsEnvProblem(settings map[string]any, environ []string) error {
	raw, ok := settings["env"]
	if !ok {
		return nil
	}
	env, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("auth.settings.env must be an object of strings")
	}
	var secrets []string
	for _, k := range keyVariables {
		if v := strings.TrimSpace(envValue(environ, k)); v != "" {
			secrets = append(secrets, v)
		}
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	const fix = "write the key into ~/.claude/api_key (chmod 600), use auth.keyCommand, or start the bridge with CLAUDE_API_KEY"
	for _, k := range names {
		s, _ := env[k].(string)
		switch {
		case slices.Contains(keyVariables, k):
			return fmt.Errorf("auth.settings.env.%s is refused: it would put an API key into the environment of claude and of every command it runs, and past the bridge's key helper; %s", k, fix)
		case holdsKey(s, secrets):
			return fmt.Errorf("auth.settings.env.%s is refused: its value holds an API key, which would be in the environment of claude and of every command it runs; %s", k, fix)
		}
	}
	return nil
}
