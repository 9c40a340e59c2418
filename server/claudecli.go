package server

import (
	"context"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// claudeCLI is where the runner finds claude with the current settings and
// whether it runs, for the claude.authStatus reply (lspext.ClaudeCLI).
func (s *Server) claudeCLI(ctx context.Context) *lspext.ClaudeCLI {
	loc, version, err := s.mgr.ClaudeStatus(ctx)
	out := &lspext.ClaudeCLI{Path: loc.Path, FoundIn: loc.FoundIn, Version: version}
	if err != nil {
		out.Problem = err.Error()
	}
	return out
}
