package server

import (
	"encoding/json"
	"fmt"

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
	LogLevel            lspext.LogLevel
	Review              lspext.ReviewMode
	Auth                *lspext.AuthConfiguration // nil: every default
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings {
	return Settings{PermissionMode: lspext.ModeAcceptEdits, MaxConcurrentTasks: 4, FollowUpIdleSeconds: 300, MaxIdleProcesses: -1, LogLevel: lspext.LogInfo,
		Review: lspext.ReviewOff}
}

// Merge applies the fields c sets onto s, after checking them.
func (s Settings) Merge(c lspext.Configuration) (Settings, error) {
	if c.ClaudePath != nil {
		s.ClaudePath = *c.ClaudePath
	}
	if c.Model != nil {
		s.Model = *c.Model
	}
	if c.PermissionMode != nil {
		if err := runner.ValidPermissionMode(string(*c.PermissionMode)); err != nil {
			return s, err
		}
		s.PermissionMode = *c.PermissionMode
		if s.PermissionMode == "" {
			s.PermissionMode = lspext.ModeAcceptEdits
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
	if c.FollowUpIdleSeconds != nil {
		s.FollowUpIdleSeconds = *c.FollowUpIdleSeconds
	}
	if c.Review != nil {
		if err := runner.ValidReview(string(*c.Review)); err != nil {
			return s, err
		}
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
	return s, nil
}

// decodeConfig reads the configuration object (initializationOptions, or
// settings.claudeBridge); null or empty is no change. A field the bridge
// does not know is not refused: an editor's settings section may hold
// settings of the editor's own, and a newer editor may send settings this
// bridge does not know yet (refusing initialize over them would leave the
// editor with a bridge that answers nothing). unknown then names the
// first, for the log.
func decodeConfig(raw json.RawMessage) (c lspext.Configuration, unknown error, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return c, nil, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, nil, fmt.Errorf("invalid claude-bridge settings: %v", err)
	}
	return c, lspext.Decode(raw, &lspext.Configuration{}), nil
}
