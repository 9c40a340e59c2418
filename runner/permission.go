package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// permission is the permission decision for a call of a tool without an
// interaction of its own: writes outside the workspace folders are denied
// without asking, a tool allowed for the task is allowed, anything else is
// asked (Observer.AskPermission). It reports the decision as a permission
// event.
func (t *Task) permission(ctx context.Context, call toolCall) toolAnswer {
	in := decodeInput(call.Input)
	pr := PermissionRequest{ToolUseID: call.ToolUseID, ToolName: call.ToolName, Input: call.Input, Description: call.Description,
		Summary: summarize(call.ToolName, in, t.Spec.Workspace), KeyInput: in.keyInput(t.Spec.Workspace)}
	decision, reason, automatic := t.decide(ctx, pr)
	ans := toolAnswer{Allow: decision != Deny}
	if decision == Deny {
		if reason == "" {
			reason = "The user denied " + call.ToolName + "."
		}
		ans.Message = reason
	}
	t.emit(Event{Kind: EventPermission, Permission: &PermissionEvent{PermissionRequest: pr, Decision: decision, Reason: reason, Automatic: automatic}})
	return ans
}

func (t *Task) decide(ctx context.Context, pr PermissionRequest) (Decision, string, bool) {
	roots := t.Spec.Roots
	if len(roots) == 0 {
		roots = []string{t.Spec.Workspace}
	}
	if fileTools[pr.ToolName] {
		if p := decodeInput(pr.Input).targetPath(); p != "" {
			if !filepath.IsAbs(p) {
				p = filepath.Join(t.Spec.Workspace, p)
			}
			in, err := within(p, roots)
			if err != nil {
				return Deny, fmt.Sprintf("claude-bridge only lets Claude edit files inside the workspace folders (%s), and could not tell whether %s is inside them: %v.", strings.Join(roots, ", "), p, err), true
			}
			if !in {
				return Deny, fmt.Sprintf("claude-bridge only lets Claude edit files inside the workspace folders (%s); %s is outside them.", strings.Join(roots, ", "), p), true
			}
		}
	}
	t.mu.Lock()
	allowed := t.allowTools[pr.ToolName]
	t.mu.Unlock()
	if allowed {
		return Allow, pr.ToolName + " was allowed for this task", true
	}
	if ctx.Err() != nil {
		return Deny, EndSentence(ctx), true // withdrawn or ended before it was asked: nobody is asked
	}
	defer t.waitingFor()()
	t.emit(Event{Kind: EventActivity, Message: "Waiting for permission: " + pr.ToolName})
	d, reason := t.obs.AskPermission(ctx, t, pr)
	if ctx.Err() != nil {
		return Deny, EndSentence(ctx), true
	}
	switch d {
	case AllowTask:
		t.mu.Lock()
		t.allowTools[pr.ToolName] = true
		t.mu.Unlock()
		return AllowTask, reason, false
	case Allow:
		return Allow, reason, false
	}
	return Deny, reason, false
}

// waitingFor marks the task waiting for the user (a permission question,
// a question of claude's, a plan to approve) until the returned function
// is called.
func (t *Task) waitingFor() (done func()) {
	t.mu.Lock()
	t.waiting++
	t.state = nonTerminal(t.state, StateWaiting)
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.waiting--
		if t.waiting == 0 {
			t.state = nonTerminal(t.state, StateRunning)
		}
		t.mu.Unlock()
	}
}
