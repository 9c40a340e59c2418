package server

import (
	"encoding/json"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// claudeCLI is where the runner finds claude with the current settings,
// for the claude.authStatus reply (lspext.ClaudeCLI).
func (s *Server) claudeCLI() *lspext.ClaudeCLI {
	loc, err := s.mgr.ClaudeLocation()
	if err != nil {
		return &lspext.ClaudeCLI{Problem: err.Error()}
	}
	return &lspext.ClaudeCLI{Path: loc.Path, FoundIn: loc.FoundIn}
}

// withClaudeCLI adds the claude CLI's location (the `claude` field) to a
// claude.authStatus reply, whatever Go type the auth manager gave it.
func (s *Server) withClaudeCLI(status any) any {
	data, err := json.Marshal(status)
	if err != nil {
		return status
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil || m == nil {
		return status
	}
	m["claude"] = s.claudeCLI()
	return m
}
