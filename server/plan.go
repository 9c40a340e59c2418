package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// The answers of a plan asked with window/showMessageRequest.
const (
	actionApproveAcceptEdits = "Approve, accept edits"
	actionApproveDefault     = "Approve, ask before edits"
	actionKeepPlanning       = "Keep planning"
)

// planKeep is how long plan files stay in the state directory.
const planKeep = 7 * 24 * time.Hour

// ReviewPlan implements runner.PlanReviewer.
func (v *taskView) ReviewPlan(ctx context.Context, t *runner.Task, req runner.PlanRequest) runner.PlanDecision {
	return v.s.reviewPlan(ctx, v.id, req)
}

// reviewPlan shows claude's plan: the bridge writes it to a Markdown file
// under its state directory, then asks with claude/plan an editor that
// declares lspext.ClientCapabilities.plan, else opens the file with
// window/showDocument (when the editor supports it) and asks with
// window/showMessageRequest. No answer is keep planning.
func (s *Server) reviewPlan(ctx context.Context, taskID string, req runner.PlanRequest) runner.PlanDecision {
	path, err := s.writePlan(taskID, req)
	if err != nil {
		s.log.Warn("could not write the plan file", zap.Error(err))
	}
	d := s.decidePlan(ctx, taskID, req, path)
	d.Copy = path
	return d
}

func (s *Server) decidePlan(ctx context.Context, taskID string, req runner.PlanRequest, path string) runner.PlanDecision {
	uri := ""
	if path != "" {
		uri = pathToURI(path)
	}
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	if caps.bridge.Plan {
		later, forget := s.deferred.open(ctx, lspext.MethodPlan, taskID, req.ToolUseID)
		defer forget()
		var res *lspext.PlanResult
		params := &lspext.PlanParams{TaskID: taskID, ToolUseID: req.ToolUseID, Plan: req.Plan, URI: uri}
		if err := s.callReply(ctx, lspext.MethodPlan, params, &res); err != nil {
			return runner.PlanDecision{Reason: s.unanswered(ctx, lspext.MethodPlan, err)}
		}
		if res != nil && res.Deferred {
			a, err := s.awaitDeferred(ctx, lspext.MethodPlan, later)
			if err != nil {
				return runner.PlanDecision{Reason: s.unanswered(ctx, lspext.MethodPlan, err)}
			}
			res = nil
			if a.Plan != nil && !a.Dismissed {
				res = &lspext.PlanResult{Decision: a.Plan.Decision, PermissionMode: a.Plan.PermissionMode, Feedback: a.Plan.Feedback}
			}
		}
		if res == nil {
			return runner.PlanDecision{Reason: "dismissed in the editor"}
		}
		if res.Decision != lspext.PlanApprove {
			return runner.PlanDecision{Feedback: res.Feedback}
		}
		mode := string(res.PermissionMode) // acceptEdits or default: callReply and claude.answer read no other
		if mode == "" {
			mode = string(lspext.PlanModeAcceptEdits)
		}
		return runner.PlanDecision{Approve: true, Mode: mode}
	}
	shown := false
	if uri != "" && caps.showDocument {
		var res struct {
			Success bool `json:"success"`
		}
		err := s.call(ctx, "window/showDocument", map[string]any{"uri": uri, "takeFocus": true}, &res)
		shown = err == nil && res.Success
	}
	params := &lspext.PermissionRequestParams{
		Type:    int(protocol.MessageTypeInfo),
		Message: planMessage(req, shown),
		Actions: []lspext.MessageActionItem{{Title: actionApproveAcceptEdits}, {Title: actionApproveDefault}, {Title: actionKeepPlanning}},
		TaskID:  taskID, ToolUseID: req.ToolUseID, ToolName: "ExitPlanMode",
	}
	var answer *lspext.MessageActionItem
	if err := s.callReply(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
		return runner.PlanDecision{Reason: s.unanswered(ctx, lspext.MethodShowMessageRequest, err)}
	}
	title, ok := actionOf(answer, params.Actions)
	switch {
	case answer == nil:
		return runner.PlanDecision{Reason: "dismissed in the editor"}
	case !ok:
		// Not an answer to this question: as if dismissed.
		return runner.PlanDecision{Reason: notAnAction(title, params.Actions)}
	case title == actionApproveAcceptEdits:
		return runner.PlanDecision{Approve: true, Mode: string(lspext.PlanModeAcceptEdits)}
	case title == actionApproveDefault:
		return runner.PlanDecision{Approve: true, Mode: string(lspext.PlanModeDefault)}
	}
	return runner.PlanDecision{}
}

// planMessage asks about a plan in a window/showMessageRequest: where it
// is shown, or the plan itself when it could not be.
func planMessage(req runner.PlanRequest, shown bool) string {
	if shown {
		return "Claude's plan is ready (opened beside this): approve it and let Claude carry it out?"
	}
	plan := strings.TrimSpace(req.Plan)
	if plan == "" {
		plan = "(Claude wrote no plan.)"
	}
	return "Claude's plan is ready: approve it and let Claude carry it out?\n\n" + truncate(plan, 2000)
}

// writePlan writes the plan to <state>/plans/<taskId>-<toolUseId>.md
// (mode 0600 in a 0700 folder, atomically) and forgets plan files older
// than planKeep. It returns the file's path.
func (s *Server) writePlan(taskID string, req runner.PlanRequest) (string, error) {
	dir := filepath.Join(s.stateDir(), "plans")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	forgetOldPlans(dir)
	name := safeName(taskID) + "-" + safeName(req.ToolUseID) + ".md"
	text := req.Plan
	if strings.TrimSpace(text) == "" {
		text = "_Claude wrote no plan._\n"
	}
	path := filepath.Join(dir, name)
	return path, writePrivate(path, text)
}

// writePrivate writes text to path atomically, mode 0600.
func writePrivate(path, text string) error {
	return checkpoint.WriteAtomic(path, []byte(text), 0o600)
}

// stateDir is where the bridge keeps files of its own (Options.StateDir).
func (s *Server) stateDir() string {
	if s.opts.StateDir != "" {
		return s.opts.StateDir
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("claude-bridge-%d", os.Getuid()))
}

func forgetOldPlans(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > planKeep {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// safeName keeps letters, digits, '-', '_' and '.' of s (a task id or tool
// use id in a file name).
func safeName(s string) string { return checkpoint.SafeName(s) }
