package server

import (
	"context"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// conversationCommand serves the commands beyond running a task:
// steering one (steer.go), claude's slash commands (slash.go), past
// sessions (sessions.go); ok false for another command.
func (s *Server) conversationCommand(ctx context.Context, cmd string, arg []byte) (res any, ok bool, err error) {
	switch cmd {
	case lspext.CommandSend:
		var a lspext.SendArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, true, err
		}
		res, err = s.send(ctx, a)
	case lspext.CommandInterrupt:
		var a lspext.InterruptArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, true, err
		}
		res, err = s.interrupt(a)
	case lspext.CommandSetPermissionMode:
		var a lspext.SetPermissionModeArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, true, err
		}
		res, err = s.setPermissionMode(ctx, a)
	case lspext.CommandSetModel:
		var a lspext.SetModelArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, true, err
		}
		res, err = s.setModel(ctx, a)
	case lspext.CommandCommands:
		var a lspext.CommandsArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, true, err
		}
		res, err = s.commands(ctx, a)
	default:
		return nil, false, nil
	}
	return res, true, err
}
