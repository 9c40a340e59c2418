package server

import (
	"context"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// conversationCommand serves the commands beyond running a task: steering
// one (steer.go), claude's slash commands (slash.go), past sessions
// (sessions.go), deferred answers (answer.go), reviewing a task's changes
// (changes.go); ok false for another
// command.
func (s *Server) conversationCommand(ctx context.Context, cmd string, decode func(any) error) (res any, ok bool, err error) {
	var h func() (any, error)
	switch cmd {
	case lspext.CommandSend:
		h = serve(ctx, decode, s.send)
	case lspext.CommandInterrupt:
		h = serve(ctx, decode, s.interrupt)
	case lspext.CommandSetPermissionMode:
		h = serve(ctx, decode, s.setPermissionMode)
	case lspext.CommandSetModel:
		h = serve(ctx, decode, s.setModel)
	case lspext.CommandCommands:
		h = serve(ctx, decode, s.commands)
	case lspext.CommandSessions:
		h = serve(ctx, decode, s.sessions)
	case lspext.CommandTranscript:
		h = serve(ctx, decode, s.transcript)
	case lspext.CommandAnswer:
		h = serve(ctx, decode, s.answer)
	case lspext.CommandChanges:
		h = serve(ctx, decode, s.changes)
	case lspext.CommandRevert:
		h = serve(ctx, decode, s.revert)
	case lspext.CommandAccept:
		h = serve(ctx, decode, s.accept)
	default:
		return nil, false, nil
	}
	res, err = h()
	return res, true, err
}

// serve decodes a command's arguments[0] into A with decode (executeCommand's
// strict decoding) and runs f with them.
func serve[A, R any](ctx context.Context, decode func(any) error, f func(context.Context, A) (R, error)) func() (any, error) {
	return func() (any, error) {
		var a A
		if err := decode(&a); err != nil {
			return nil, err
		}
		return f(ctx, a)
	}
}
