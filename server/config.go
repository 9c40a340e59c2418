package server

import (
	"encoding/json"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Settings is the resolved configuration: lspext.Configuration's defaults
// with what the editor sent over them.
type Settings struct {
	ClaudePath          string
	Model               string
	PermissionMode      lspext.PermissionMode
	AllowedTools        []string
	DisallowedTools     []string
	MaxConcurrentTasks  int
	FollowUpIdleSeconds int
	MaxIdleProcesses    int // -1: as many as MaxConcurrentTasks
	Prewarm             bool
	LogLevel            lspext.LogLevel
	Review              lspext.ReviewMode
	Auth                *lspext.AuthConfiguration // nil: every default
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{PermissionMode: lspext.ModeAcceptEdits, MaxConcurrentTasks: 4, FollowUpIdleSeconds: 300, MaxIdleProcesses: -1, Prewarm: true, LogLevel: lspext.LogInfo,
		Review: lspext.ReviewOff}
}

// defaultOptions are the options of a task that names none: claude's
// command line as the settings shape it, and the review hooks of the
// configured review. Warm claudes are started with them
// (runner.Config.Defaults), so that such a task takes one; a task whose
// own review needs other hooks starts a claude of its own.
func (s Settings) defaultOptions() runner.Options {
	return runner.Options{Model: s.Model, PermissionMode: string(s.PermissionMode), AllowedTools: s.AllowedTools, DisallowedTools: s.DisallowedTools,
		ReviewHooks: runner.HooksFor(string(s.Review))}
}

// Merge applies the fields c sets onto s. Their values were checked when
// c was decoded (decodeConfig: types, ranges, enumerations).
func (s Settings) Merge(c lspext.Configuration) Settings {
	if c.ClaudePath != nil {
		s.ClaudePath = *c.ClaudePath
	}
	if c.Model != nil {
		s.Model = *c.Model
	}
	if c.PermissionMode != nil {
		s.PermissionMode = *c.PermissionMode
	}
	if c.AllowedTools != nil {
		s.AllowedTools = c.AllowedTools
	}
	if c.DisallowedTools != nil {
		s.DisallowedTools = c.DisallowedTools
	}
	if c.MaxConcurrentTasks != nil {
		s.MaxConcurrentTasks = *c.MaxConcurrentTasks
	}
	if c.MaxIdleProcesses != nil {
		s.MaxIdleProcesses = *c.MaxIdleProcesses
	}
	if c.Prewarm != nil {
		s.Prewarm = *c.Prewarm
	}
	if c.FollowUpIdleSeconds != nil {
		s.FollowUpIdleSeconds = *c.FollowUpIdleSeconds
	}
	if c.Review != nil {
		s.Review = *c.Review
		if s.Review == "" {
			s.Review = lspext.ReviewOff
		}
	}
	if c.LogLevel != nil {
		s.LogLevel = *c.LogLevel
	}
	if c.Auth != nil {
		s.Auth = c.Auth
	}
	return s
}

// configUpdate is a configuration object as decoded: the settings that
// decoded, and what the editor should hear about the rest.
type configUpdate struct {
	cfg lspext.Configuration
	// refused says, one setting each, why settings were refused (they
	// keep their current values); "" when none was.
	refused string
	// authRefused is why the `auth` setting was refused (nil: it was not,
	// or it was not sent): the bridge is then without a key.
	authRefused error
	// unknown are the settings the bridge does not know, for the log.
	unknown []string
}

// decodeConfig reads the configuration object (initializationOptions, or
// settings.claudeBridge, named where) one setting at a time
// (lspext.DecodeEach): a setting of the wrong type, out of range or null
// is refused alone and the others apply; one the bridge does not know is
// ignored, for an editor's settings section may hold the editor's own and
// a newer editor may send settings this bridge does not know yet. Absent
// or null is no change. Nothing here fails initialize: a bridge that
// refused initialize over a setting would answer nothing after it.
func decodeConfig(where string, raw json.RawMessage) configUpdate {
	var u configUpdate
	if len(raw) == 0 || string(raw) == "null" {
		return u
	}
	refused, unknown, err := lspext.DecodeEach(raw, &u.cfg)
	u.unknown = unknown
	if err != nil {
		u.refused = err.(*lspext.DecodeError).In(where) + "; every setting keeps its value"
		return u
	}
	var why []string
	for _, e := range refused {
		if e.Path == "auth" || strings.HasPrefix(e.Path, "auth.") {
			u.authRefused = &refusedAuth{e, askedAuthMode(raw)} // told by the auth manager, with what follows
			continue
		}
		why = append(why, e.In(""))
	}
	if len(why) > 0 {
		u.refused = where + ": " + strings.Join(why, "; ") + " (refused; the other settings apply)"
	}
	return u
}

// refusedAuth is an `auth` setting that did not decode: why, and the auth
// mode it asks for, which claude.authStatus reports.
type refusedAuth struct {
	*lspext.DecodeError
	mode lspext.AuthMode
}

// askedAuthMode is the auth mode the `auth` setting of the configuration
// object raw asks for: its mode when that is one ("helper" when it names
// none), "" when it is not an object or its mode is not a mode.
func askedAuthMode(raw json.RawMessage) lspext.AuthMode {
	var cfg struct {
		Auth json.RawMessage `json:"auth"`
	}
	var auth struct {
		Mode json.RawMessage `json:"mode"`
	}
	if json.Unmarshal(raw, &cfg) != nil || json.Unmarshal(cfg.Auth, &auth) != nil || len(cfg.Auth) == 0 || cfg.Auth[0] != '{' {
		return ""
	}
	if auth.Mode == nil {
		return lspext.AuthModeHelper
	}
	var mode lspext.AuthMode
	if lspext.Decode(auth.Mode, &mode) != nil {
		return ""
	}
	return mode
}
