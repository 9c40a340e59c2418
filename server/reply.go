package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// callReply sends the editor a request and reads its reply into result, a
// pointer to a pointer to the reply's type (left nil for a null reply), by
// the rules the schema states for it (lspext.DecodeLSP: a field the type
// does not know is left out, so an editor may add its own, but a field of
// the wrong JSON type or out of range is not read). A reply that breaks
// them is a *replyError saying where and what, in JSON's terms.
func (s *Server) callReply(ctx context.Context, method string, params, result any) error {
	var raw json.RawMessage
	if err := s.call(ctx, method, params, &raw); err != nil {
		return err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	unknown, err := lspext.DecodeLSP(raw, result)
	if err != nil {
		s.log.Warn("the editor's reply could not be read", zap.String("method", method), zap.Error(err))
		return &replyError{problem: describeError(err, "result")}
	}
	if len(unknown) > 0 {
		s.log.Debug("fields of the editor's reply left out", zap.String("method", method), zap.Strings("fields", unknown))
	}
	return nil
}

// replyError is a reply that does not have its request's reply's shape.
type replyError struct {
	problem string // "result.answers is an array, not an object"
}

func (e *replyError) Error() string { return "the editor's answer could not be read: " + e.problem }

// unanswered says why a question to the editor got no answer: the task or
// claude withdrew it, nobody answered in time, the editor's answer could
// not be read (where and why, in JSON's terms), the editor answered with
// an error (its message), or it could not be asked at all (the bridge's
// log says why).
func (s *Server) unanswered(ctx context.Context, method string, err error) string {
	var re *replyError
	var rpcErr *jsonrpc2.Error
	switch {
	case ctx.Err() != nil:
		return "the question was withdrawn"
	case errors.Is(err, context.DeadlineExceeded):
		return "nobody answered within " + callTimeout(method).String()
	case errors.As(err, &re):
		return re.Error()
	case errors.As(err, &rpcErr):
		return "the editor answered with an error: " + firstLine(rpcErr.Message, 200)
	}
	s.log.Warn("asking the editor failed", zap.String("method", method), zap.Error(err))
	return "the editor could not be asked"
}

// notAnAction is the reason for a window/showMessageRequest answered with
// a title that is none of its actions (an editor's own button, a typo):
// no answer, as if dismissed.
func notAnAction(title string, actions []lspext.MessageActionItem) string {
	msg := "the editor's answer " + quoteTitle(title) + " is none of "
	for i, a := range actions {
		if i > 0 {
			msg += ", "
		}
		msg += quoteTitle(a.Title)
	}
	return msg
}

func quoteTitle(s string) string { return "“" + firstLine(s, 60) + "”" }

// actionOf is the action an answer to a window/showMessageRequest names,
// and whether it names one at all.
func actionOf(answer *lspext.MessageActionItem, actions []lspext.MessageActionItem) (string, bool) {
	if answer == nil {
		return "", false
	}
	for _, a := range actions {
		if a.Title == answer.Title {
			return a.Title, true
		}
	}
	return answer.Title, false
}
