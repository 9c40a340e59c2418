package server

import (
	"encoding/json"
	"fmt"

	"github.com/claude-bridge/claude-bridge/runner"
)

// Config is the editor-facing configuration: initializationOptions, or
// settings.claudeBridge in workspace/didChangeConfiguration. Pointers tell
// "not given" from a zero value, so a partial update keeps the rest.
type Config struct {
	ClaudePath          *string         `json:"claudePath,omitempty"`
	Model               *string         `json:"model,omitempty"`
	PermissionMode      *string         `json:"permissionMode,omitempty"`
	AllowedTools        []string        `json:"allowedTools,omitempty"`
	DisallowedTools     []string        `json:"disallowedTools,omitempty"`
	MaxConcurrentTasks  *int            `json:"maxConcurrentTasks,omitempty"`
	FollowUpIdleSeconds *int            `json:"followUpIdleSeconds,omitempty"`
	MaxIdleProcesses    *int            `json:"maxIdleProcesses,omitempty"`
	Prewarm             *bool           `json:"prewarm,omitempty"`
	LogLevel            *string         `json:"logLevel,omitempty"`
	Auth                json.RawMessage `json:"auth,omitempty"`
}

// Settings is the resolved configuration.
type Settings struct {
	ClaudePath          string
	Model               string
	PermissionMode      string
	AllowedTools        []string
	DisallowedTools     []string
	MaxConcurrentTasks  int
	FollowUpIdleSeconds int
	MaxIdleProcesses    int // -1: as many as MaxConcurrentTasks
	Prewarm             bool
	LogLevel            string
	Auth                json.RawMessage // passed to the auth manager as it is
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{PermissionMode: "acceptEdits", MaxConcurrentTasks: 4, FollowUpIdleSeconds: 300, MaxIdleProcesses: -1, Prewarm: true, LogLevel: "info"}
}

// Merge applies the fields c sets onto s, after checking them.
func (s Settings) Merge(c Config) (Settings, error) {
	if c.ClaudePath != nil {
		s.ClaudePath = *c.ClaudePath
	}
	if c.Model != nil {
		s.Model = *c.Model
	}
	if c.PermissionMode != nil {
		if err := runner.ValidPermissionMode(*c.PermissionMode); err != nil {
			return s, err
		}
		s.PermissionMode = *c.PermissionMode
		if s.PermissionMode == "" {
			s.PermissionMode = "acceptEdits"
		}
	}
	if c.AllowedTools != nil {
		s.AllowedTools = c.AllowedTools
	}
	if c.DisallowedTools != nil {
		s.DisallowedTools = c.DisallowedTools
	}
	if c.MaxConcurrentTasks != nil {
		if *c.MaxConcurrentTasks < 1 {
			return s, fmt.Errorf("maxConcurrentTasks must be at least 1, not %d", *c.MaxConcurrentTasks)
		}
		s.MaxConcurrentTasks = *c.MaxConcurrentTasks
	}
	if c.MaxIdleProcesses != nil {
		if *c.MaxIdleProcesses < 0 {
			return s, fmt.Errorf("maxIdleProcesses must be 0 or more, not %d", *c.MaxIdleProcesses)
		}
		s.MaxIdleProcesses = *c.MaxIdleProcesses
	}
	if c.Prewarm != nil {
		s.Prewarm = *c.Prewarm
	}
	if c.FollowUpIdleSeconds != nil {
		s.FollowUpIdleSeconds = *c.FollowUpIdleSeconds
	}
	if c.LogLevel != nil {
		s.LogLevel = *c.LogLevel
	}
	if len(c.Auth) > 0 && string(c.Auth) != "null" {
		s.Auth = c.Auth
	}
	return s, nil
}

// decodeConfig reads a Config from raw JSON; null or empty is no change.
func decodeConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if len(raw) == 0 || string(raw) == "null" {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("invalid claude-bridge settings: %v", err)
	}
	return c, nil
}
