package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// AskQuestions implements runner.QuestionAsker.
func (v *taskView) AskQuestions(ctx context.Context, t *runner.Task, req runner.QuestionRequest) (map[string]string, string) {
	return v.s.askQuestions(ctx, v.id, req)
}

// askQuestions puts claude's questions to the editor: all at once with
// claude/ask to an editor that declares lspext.ClientCapabilities.ask, else
// one window/showMessageRequest per question (the options as actions; a
// multiSelect question then takes one option). It returns the answers by
// question text, or none and why.
func (s *Server) askQuestions(ctx context.Context, taskID string, req runner.QuestionRequest) (map[string]string, string) {
	s.mu.Lock()
	ask := s.caps.bridge.Ask
	s.mu.Unlock()
	if ask {
		return s.askAll(ctx, taskID, req)
	}
	return s.askOneByOne(ctx, taskID, req)
}

// askAll sends claude/ask.
func (s *Server) askAll(ctx context.Context, taskID string, req runner.QuestionRequest) (map[string]string, string) {
	params := &lspext.AskParams{TaskID: taskID, ToolUseID: req.ToolUseID, Questions: questionsOf(req.Questions)}
	later, forget := s.deferred.open(taskID, req.ToolUseID)
	defer forget()
	res, err := callDecoded[lspext.AskResult](ctx, s, lspext.MethodAsk, params)
	if err != nil {
		return nil, s.unanswered(ctx, lspext.MethodAsk, err)
	}
	answers := map[string]string(nil)
	if res != nil {
		answers = res.Answers
	}
	if res != nil && res.Deferred {
		a, err := s.awaitDeferred(ctx, lspext.MethodAsk, later)
		if err != nil {
			return nil, s.unanswered(ctx, lspext.MethodAsk, err)
		}
		answers = a.Answers
		if a.Dismissed {
			answers = nil
		}
	}
	if len(answers) == 0 {
		return nil, "dismissed in the editor"
	}
	return answers, ""
}

// callDecoded sends the editor one of the bridge's own requests (claude/ask,
// claude/plan) and decodes its reply as strictly as the editor's commands
// (lspext.Decode, the schema's rules): nil for a null reply; an error
// naming the path in the reply (result.answers.…) and the problem for a
// reply of another shape.
func callDecoded[T any](ctx context.Context, s *Server, method string, params any) (*T, error) {
	var raw json.RawMessage
	if err := s.call(ctx, method, params, &raw); err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	var res T
	if err := lspext.Decode(raw, &res); err != nil {
		return nil, &badReply{describeError(err, "result")}
	}
	return &res, nil
}

// badReply is a reply of the editor's that does not have the protocol's
// shape, and where and why.
type badReply struct{ problem string }

func (e *badReply) Error() string { return "its reply was refused: " + e.problem }

// askOneByOne asks each question with window/showMessageRequest, the way
// any LSP client can answer; a dismissed question ends the asking (the
// answers so far go to claude).
func (s *Server) askOneByOne(ctx context.Context, taskID string, req runner.QuestionRequest) (map[string]string, string) {
	answers := map[string]string{}
	for _, q := range req.Questions {
		params := &lspext.PermissionRequestParams{
			Type:    int(protocol.MessageTypeInfo),
			Message: questionMessage(q),
			TaskID:  taskID, ToolUseID: req.ToolUseID, ToolName: "AskUserQuestion",
		}
		for _, o := range q.Options {
			params.Actions = append(params.Actions, lspext.MessageActionItem{Title: o.Label})
		}
		var answer *protocol.MessageActionItem
		if err := s.call(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
			return answers, s.unanswered(ctx, lspext.MethodShowMessageRequest, err)
		}
		if answer == nil || answer.Title == "" {
			return answers, "dismissed in the editor"
		}
		answers[q.Question] = answer.Title
	}
	return answers, ""
}

// questionMessage is one of claude's questions as a window/showMessageRequest
// message: "Claude asks (Color): Which color should the button be?".
func questionMessage(q runner.Question) string {
	msg := "Claude asks"
	if q.Header != "" {
		msg += " (" + q.Header + ")"
	}
	msg += ": " + q.Question
	if q.MultiSelect {
		msg += " (pick one; this editor cannot pick several)"
	}
	return msg
}

// unanswered says why a question to the editor got no answer.
func (s *Server) unanswered(ctx context.Context, method string, err error) string {
	switch {
	case ctx.Err() != nil:
		return "the question was withdrawn"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("nobody answered within %s", callTimeout(method))
	}
	s.log.Warn("asking the editor failed", zap.String("method", method), zap.Error(err))
	var bad *badReply
	if errors.As(err, &bad) {
		return "the editor's reply was refused: " + bad.problem
	}
	return "the editor could not be asked: " + err.Error()
}

func questionsOf(qs []runner.Question) []lspext.Question {
	out := make([]lspext.Question, len(qs))
	for i, q := range qs {
		out[i] = lspext.Question{Question: q.Question, Header: q.Header, MultiSelect: q.MultiSelect, Options: make([]lspext.QuestionOption, len(q.Options))}
		for j, o := range q.Options {
			out[i].Options[j] = lspext.QuestionOption{Label: o.Label, Description: o.Description}
		}
	}
	return out
}
