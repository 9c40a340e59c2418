package server

import (
	"context"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// commands is claude.commands: claude's slash commands and models in a
// folder (runner.Manager.Commands), started with the configured model,
// mode and tools when no claude runs there.
func (s *Server) commands(ctx context.Context, a lspext.CommandsArgs) (*lspext.CommandsResult, error) {
	folder, _, err := s.folderFor(lspext.CommandCommands, a.WorkspaceFolder, nil)
	if err != nil {
		return nil, err
	}
	spec := s.spec("", "", folder.Path, nil, "", "", "")
	list, err := s.mgr.Commands(ctx, folder.Path, spec.Options)
	if err != nil {
		return nil, internalError("claude.commands: %v", err)
	}
	res := &lspext.CommandsResult{Commands: []lspext.SlashCommand{}, Models: []lspext.ModelInfo{}}
	for _, c := range list.Commands {
		res.Commands = append(res.Commands, lspext.SlashCommand{Name: c.Name, Description: c.Description, ArgumentHint: c.ArgumentHint, Source: c.Source, Aliases: c.Aliases})
	}
	for _, m := range list.Models {
		res.Models = append(res.Models, lspext.ModelInfo{Value: m.Value, DisplayName: m.DisplayName, Description: m.Description})
	}
	return res, nil
}
