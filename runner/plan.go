package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// In plan mode claude 2.1.332 tells the model to write its plan to
// ~/.claude/plans/<slug>.md, then to call ExitPlanMode. That call reaches
// the bridge as a can_use_tool request (requires_user_interaction: true)
// whose input claude fills in from the file: {"plan": "<markdown>",
// "planFilePath": "<file>"} ({} when the model wrote no plan). Measured:
//   - allow: claude leaves plan mode for "default" (a system/status line
//     says permissionMode "default"; the next Edit is asked about), and
//     the model reads "User has approved your plan. You can now start
//     coding. … ## Approved Plan: …";
//   - allow with updatedPermissions [{"type": "setMode", "mode":
//     "acceptEdits", "destination": "session"}]: claude leaves plan mode
//     for acceptEdits (the next Edit is not asked about); so does a
//     set_permission_mode control request sent after the allow; with
//     "mode": "default", for default; with "bypassPermissions" (claude not
//     started in it) or "plan", it goes to default all the same;
//   - deny with a message: claude stays in plan mode and the model reads
//     the message as an error result (its edits are still asked about,
//     with decision_reason_type "mode").

func init() { interactive["ExitPlanMode"] = (*Task).reviewPlan }

// reviewPlan shows the plan to the user (PlanReviewer) and approves it, in
// the mode the user chose, or sends claude back to planning with the
// user's feedback.
func (t *Task) reviewPlan(ctx context.Context, call toolCall) toolAnswer {
	reviewer, ok := t.obs.(PlanReviewer)
	if !ok {
		return t.permission(ctx, call)
	}
	var in struct {
		Plan         string `json:"plan"`
		PlanFilePath string `json:"planFilePath"`
	}
	_ = json.Unmarshal(call.Input, &in)
	req := PlanRequest{ToolUseID: call.ToolUseID, Plan: in.Plan, FilePath: in.PlanFilePath}
	if req.Plan == "" {
		req.Plan, req.FilePath = t.planFromFile(req.FilePath)
	}
	done := t.waitingFor()
	t.emit(Event{Kind: EventActivity, Message: "Waiting for your approval of the plan"})
	d := reviewer.ReviewPlan(ctx, t, req)
	done()
	if ctx.Err() != nil {
		d = PlanDecision{Reason: EndReason(ctx), Copy: d.Copy}
	}
	if d.Approve && d.Mode != "acceptEdits" && d.Mode != "default" {
		// claude leaves plan mode for the mode of the setMode update only
		// for these two (measured: bypassPermissions, which claude was not
		// started with, or plan left it in default): any other is the
		// default acceptEdits, and the plan event says so.
		d.Mode = "acceptEdits"
	}
	t.emit(Event{Kind: EventPlan, Plan: &PlanEvent{PlanRequest: req, PlanDecision: d}})
	if d.Approve {
		return toolAnswer{Allow: true, Mode: d.Mode}
	}
	msg := "The user did not approve the plan yet: keep planning, revise the plan and call ExitPlanMode again when it is ready."
	switch {
	case strings.TrimSpace(d.Feedback) != "":
		msg = "The user wants you to keep planning. Their feedback on the plan: " + strings.TrimSpace(d.Feedback)
	case d.Reason != "":
		msg = "The plan was not approved (" + d.Reason + "): stay in plan mode."
	}
	return toolAnswer{Message: msg}
}

// planFromFile reads the plan when claude's call did not carry it: the
// file it names, else the last plan file the model wrote in this turn.
func (t *Task) planFromFile(path string) (plan, file string) {
	if path == "" {
		t.mu.Lock()
		path = t.planFile
		t.mu.Unlock()
	}
	if path == "" {
		return "", ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", path
	}
	return string(b), path
}

// notePlanFile remembers a file the model writes if it is claude's plan
// file.
func (t *Task) notePlanFile(path string) {
	if isPlanFile(path) {
		t.mu.Lock()
		t.planFile = path
		t.mu.Unlock()
	}
}

// isPlanFile reports whether path is one of claude's plan files
// (.claude/plans/*.md): claude's own notes, not a change to the
// workspace, so never an edited file of the task.
func isPlanFile(path string) bool {
	dir := filepath.Dir(path)
	return filepath.Ext(path) == ".md" && filepath.Base(dir) == "plans" && filepath.Base(filepath.Dir(dir)) == ".claude"
}

// modeChanged records what claude says it runs with now (a field left
// empty is unchanged) and reports it when it changed.
func (t *Task) modeChanged(m ModeChange) {
	t.mu.Lock()
	cur := t.mode
	if m.PermissionMode != "" {
		cur.PermissionMode = m.PermissionMode
	}
	if m.Model != "" {
		cur.Model = m.Model
	}
	changed := cur != t.mode
	t.mode = cur
	s := t.sess
	t.mu.Unlock()
	if s != nil && m.PermissionMode != "" {
		s.adjust(func(o *Options) { o.PermissionMode = m.PermissionMode })
	}
	if changed {
		t.emit(Event{Kind: EventMode, Mode: &cur})
	}
}

// Mode is the permission mode and model claude runs the task with now
// (empty before claude started).
func (t *Task) Mode() ModeChange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mode
}
