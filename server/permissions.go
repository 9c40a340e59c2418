package server

import (
	"context"
	"errors"
	"fmt"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// The actions of a permission question, as the editor shows them.
const (
	actionAllow     = "Allow"
	actionAllowTask = "Allow for this task"
	actionDeny      = "Deny"
)

// askPermission asks the editor with window/showMessageRequest. A dismissed
// question, or an editor that cannot answer, is a Deny.
func (s *Server) askPermission(ctx context.Context, taskID string, req runner.PermissionRequest) (runner.Decision, string) {
	params := &lspext.PermissionRequestParams{
		Type:    int(protocol.MessageTypeInfo),
		Message: permissionMessage(req),
		Actions: []lspext.MessageActionItem{{Title: actionAllow}, {Title: actionAllowTask}, {Title: actionDeny}},
		// Beyond LSP: which task and call ask.
		TaskID: taskID, ToolUseID: req.ToolUseID, ToolName: req.ToolName,
	}
	var answer *lspext.MessageActionItem
	if err := s.callReply(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
		if ctx.Err() != nil {
			return runner.Deny, "The task was cancelled."
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return runner.Deny, fmt.Sprintf("Nobody answered the permission question within %s.", permissionTimeout)
		}
		return runner.Deny, "Denied: " + s.unanswered(ctx, lspext.MethodShowMessageRequest, err) + "."
	}
	if answer == nil {
		return runner.Deny, "The user dismissed the permission question."
	}
	switch title, ok := actionOf(answer, params.Actions); {
	case !ok:
		// Not an answer to this question: as if dismissed.
		return runner.Deny, "Denied: " + notAnAction(title, params.Actions) + "."
	case title == actionAllow:
		return runner.Allow, "Allowed in the editor."
	case title == actionAllowTask:
		return runner.AllowTask, fmt.Sprintf("%s allowed for this task in the editor.", req.ToolName)
	}
	return runner.Deny, "The user denied " + req.ToolName + " in the editor."
}

// permissionMessage names the tool and what it is to be allowed, whole
// (runner.PermissionRequest.KeyInput): "Claude wants to run Bash: `go test ./...`".
func permissionMessage(req runner.PermissionRequest) string {
	if req.KeyInput == "" {
		if req.Description != "" {
			return fmt.Sprintf("Claude wants to run %s: %s", req.ToolName, firstLine(req.Description, 200))
		}
		return "Claude wants to run " + req.ToolName
	}
	return fmt.Sprintf("Claude wants to run %s: `%s`", req.ToolName, firstLine(req.KeyInput, 300))
}
