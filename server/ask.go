package server

import (
	"context"

	"go.lsp.dev/protocol"

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
	later, forget := s.deferred.open(ctx, lspext.MethodAsk, taskID, req.ToolUseID)
	defer forget()
	var res *lspext.AskResult
	if err := s.callReply(ctx, lspext.MethodAsk, params, &res); err != nil {
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

// askOneByOne asks each question with window/showMessageRequest, the way
// any LSP client can answer; a dismissed question, or one answered with a
// title that is none of its options, ends the asking (the answers so far
// go to claude).
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
		var answer *lspext.MessageActionItem
		if err := s.callReply(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
			return answers, s.unanswered(ctx, lspext.MethodShowMessageRequest, err)
		}
		title, ok := actionOf(answer, params.Actions)
		switch {
		case answer == nil || answer.Title == "":
			return answers, "dismissed in the editor"
		case !ok:
			// Not an answer to this question: as if dismissed.
			return answers, notAnAction(title, params.Actions)
		}
		answers[q.Question] = title
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
