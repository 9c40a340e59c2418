package server

import "github.com/claude-bridge/claude-bridge/server/lspext"

// claudeCLI is where the runner finds claude with the current settings,
// for the claude.authStatus reply (lspext.ClaudeCLI).
func (s *Server) claudeCLI() *lspext.ClaudeCLI {
	loc, err := s.mgr.ClaudeLocation()
	if err != nil {
		return &lspext.ClaudeCLI{Problem: err.Error()}
	}
	return &lspext.ClaudeCLI{Path: loc.Path, FoundIn: loc.FoundIn}
}
