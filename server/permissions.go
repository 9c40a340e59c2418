package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// The actions of a permission question asked with window/showMessageRequest.
const (
	actionAllow     = "Allow"
	actionAllowTask = "Allow for this task"
	actionDeny      = "Deny"
)

// askPermission asks the editor whether claude may run a tool: with
// claude/permission when the editor declares
// lspext.ClientCapabilities.permission (its reply may be deferred to a
// claude.answer), else with window/showMessageRequest. A dismissed
// question, or an editor that cannot answer, is a Deny.
func (s *Server) askPermission(ctx context.Context, taskID string, req runner.PermissionRequest) (runner.Decision, string) {
	s.mu.Lock()
	structured := s.caps.bridge.Permission
	s.mu.Unlock()
	var decision lspext.Decision
	var why string
	if structured {
		decision, why = s.askPermissionRequest(ctx, taskID, req)
	} else {
		decision, why = s.askShowMessageRequest(ctx, taskID, req)
	}
	switch decision {
	case lspext.DecisionAllow:
		return runner.Allow, "Allowed in the editor."
	case lspext.DecisionAllowTask:
		return runner.AllowTask, fmt.Sprintf("%s allowed for this task in the editor.", req.ToolName)
	case lspext.DecisionDeny:
		return runner.Deny, "The user denied " + req.ToolName + " in the editor."
	}
	return runner.Deny, why
}

// askPermissionRequest sends claude/permission and waits for its answer, or
// for the claude.answer of a deferred one. It returns the decision, or ""
// and why there is none.
func (s *Server) askPermissionRequest(ctx context.Context, taskID string, req runner.PermissionRequest) (lspext.Decision, string) {
	params := &lspext.PermissionParams{
		TaskID: taskID, ToolUseID: req.ToolUseID, ToolName: req.ToolName,
		Message: shortPermissionMessage(req), KeyInput: req.KeyInput, Description: req.Description,
		Summary: req.Summary, Input: req.Input,
	}
	later, forget := s.deferred.open(ctx, lspext.MethodPermission, taskID, req.ToolUseID)
	defer forget()
	var res *lspext.PermissionResult
	if err := s.callReply(ctx, lspext.MethodPermission, params, &res); err != nil {
		return "", s.permissionUnanswered(ctx, lspext.MethodPermission, err)
	}
	if res == nil {
		return "", "The user dismissed the permission question."
	}
	if !res.Deferred {
		return res.Decision, "The editor answered the permission question with " + string(res.Decision) + "."
	}
	a, err := s.awaitDeferred(ctx, lspext.MethodPermission, later)
	if err != nil {
		return "", s.permissionUnanswered(ctx, lspext.MethodPermission, err)
	}
	if a.Dismissed || a.Decision == "" {
		return "", "The user dismissed the permission question."
	}
	return a.Decision, ""
}

// askShowMessageRequest asks with LSP's window/showMessageRequest, the way
// any LSP client can answer: the message names what is to be allowed,
// whole.
func (s *Server) askShowMessageRequest(ctx context.Context, taskID string, req runner.PermissionRequest) (lspext.Decision, string) {
	params := &lspext.PermissionRequestParams{
		Type:    int(protocol.MessageTypeInfo),
		Message: permissionMessage(req),
		Actions: []lspext.MessageActionItem{{Title: actionAllow}, {Title: actionAllowTask}, {Title: actionDeny}},
		// Beyond LSP: which task and call ask.
		TaskID: taskID, ToolUseID: req.ToolUseID, ToolName: req.ToolName,
	}
	var answer *lspext.MessageActionItem
	if err := s.callReply(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
		return "", s.permissionUnanswered(ctx, lspext.MethodShowMessageRequest, err)
	}
	if answer == nil {
		return "", "The user dismissed the permission question."
	}
	switch title, ok := actionOf(answer, params.Actions); {
	case !ok:
		// Not an answer to this question: as if dismissed.
		return "", "Denied: " + notAnAction(title, params.Actions) + "."
	case title == actionAllow:
		return lspext.DecisionAllow, ""
	case title == actionAllowTask:
		return lspext.DecisionAllowTask, ""
	}
	return lspext.DecisionDeny, ""
}

// permissionUnanswered is what claude is told when a permission question
// got no answer: its task ended (runner.EndReason: cancelled, failed, the
// call withdrawn), nobody answered in time, or
// unanswered's words, as a sentence.
func (s *Server) permissionUnanswered(ctx context.Context, method string, err error) string {
	if ctx.Err() != nil {
		return runner.EndSentence(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("Nobody answered the permission question within %s.", permissionTimeout)
	}
	return "Denied: " + s.unanswered(ctx, method, err) + "."
}

// permissionMessage names the tool and what it is to be allowed, whole
// (runner.PermissionRequest.KeyInput, every line): "Claude wants to run
// Bash: `go test ./...`". A plain LSP client shows only this, so nothing
// of a command is left out.
func permissionMessage(req runner.PermissionRequest) string {
	if req.KeyInput == "" {
		if req.Description != "" {
			return fmt.Sprintf("Claude wants to run %s: %s", req.ToolName, req.Description)
		}
		return "Claude wants to run " + req.ToolName
	}
	return fmt.Sprintf("Claude wants to run %s: `%s`", req.ToolName, req.KeyInput)
}

// shortMessageChars bounds the one-line form of a permission question.
const shortMessageChars = 120

// shortPermissionMessage is the question in one line (PermissionParams.
// message): the key input's first line, cut to shortMessageChars, saying
// what was left out: "Claude wants to run Bash: `echo tidying up` (and 2
// more lines)".
func shortPermissionMessage(req runner.PermissionRequest) string {
	what, cut := oneLineOf(req.KeyInput)
	if req.KeyInput == "" {
		if req.Description == "" {
			return "Claude wants to run " + req.ToolName
		}
		what, cut = oneLineOf(req.Description)
		return fmt.Sprintf("Claude wants to run %s: %s%s", req.ToolName, what, cut)
	}
	return fmt.Sprintf("Claude wants to run %s: `%s`%s", req.ToolName, what, cut)
}

// oneLineOf is the first line of s cut to shortMessageChars characters,
// and what says what was left out ("" when nothing).
func oneLineOf(s string) (line, more string) {
	s = strings.TrimSpace(s)
	line, rest, multi := strings.Cut(s, "\n")
	line = strings.TrimRight(line, " \t\r")
	if utf8.RuneCountInString(line) > shortMessageChars {
		line = string([]rune(line)[:shortMessageChars-1]) + "…"
		if !multi {
			return line, " (cut: the whole is longer)"
		}
	}
	if !multi {
		return line, ""
	}
	n := strings.Count(strings.TrimRight(rest, "\n"), "\n") + 1
	if n == 1 {
		return line, " (and 1 more line)"
	}
	return line, fmt.Sprintf(" (and %d more lines)", n)
}
