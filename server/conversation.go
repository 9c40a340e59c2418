package server

import (
	"context"
	"encoding/json"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// conversationCommand serves the commands beyond running a task: steering
// one (steer.go), claude's slash commands (slash.go), past sessions
// (sessions.go), deferred answers (answer.go), reviewing a task's changes
// (changes.go); ok false for another
// command.
func (s *Server) conversationCommand(ctx context.Context, cmd string, arg json.RawMessage) (res any, ok bool, err error) {
	var h func() (any, error)
	switch cmd {
	case lspext.CommandSend:
		h = serve(ctx, cmd, arg, s.send)
	case lspext.CommandInterrupt:
		h = serve(ctx, cmd, arg, s.interrupt)
	case lspext.CommandSetPermissionMode:
		h = serve(ctx, cmd, arg, s.setPermissionMode)
	case lspext.CommandSetModel:
		h = serve(ctx, cmd, arg, s.setModel)
	case lspext.CommandCommands:
		h = serve(ctx, cmd, arg, s.commands)
	case lspext.CommandSessions:
		h = serve(ctx, cmd, arg, s.sessions)
	case lspext.CommandTranscript:
		h = serve(ctx, cmd, arg, s.transcript)
	case lspext.CommandAnswer:
		h = serve(ctx, cmd, arg, s.answer)
	case lspext.CommandChanges:
		h = serve(ctx, cmd, arg, s.changes)
	case lspext.CommandRevert:
		h = serve(ctx, cmd, arg, s.revert)
	case lspext.CommandAccept:
		h = serve(ctx, cmd, arg, s.accept)
	default:
		return nil, false, nil
	}
	res, err = h()
	return res, true, err
}

// serve decodes a command's arguments[0] strictly into A (decodeArgs) and
// runs f with them.
func serve[A, R any](ctx context.Context, cmd string, arg json.RawMessage, f func(context.Context, A) (R, error)) func() (any, error) {
	return func() (any, error) {
		var a A
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, err
		}
		return f(ctx, a)
	}
}
