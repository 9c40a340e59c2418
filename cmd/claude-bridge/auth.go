package main

import (
	"fmt"
	"path/filepath"

	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/server"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// authBase is the auth manager's configuration before the editor's (or the
// terminal's) settings: the audit trail beside the log file, the home
// directory and environment of the bridge's own.
func authBase(logFile string) auth.Config {
	var base auth.Config
	if logFile != "" && logFile != "-" {
		base.AuditPath = filepath.Join(filepath.Dir(logFile), "auth-audit.jsonl")
	}
	return base
}

// authConfig decodes the --auth flag of run and doctor: the editor's auth
// settings object (lspext.AuthConfiguration), strictly, so that a
// misspelt field is an error rather than a default.
func authConfig(raw string, logFile string) (auth.Config, error) {
	var c *lspext.AuthConfiguration
	if raw != "" && raw != "null" {
		c = new(lspext.AuthConfiguration)
		if err := lspext.Decode([]byte(raw), c); err != nil {
			return auth.Config{}, fmt.Errorf("auth settings: %w", err)
		}
	}
	return server.AuthConfig(c, authBase(logFile))
}
