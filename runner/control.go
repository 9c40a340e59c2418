package runner

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// claude's control requests to the bridge. With --permission-prompt-tool
// stdio, claude 2.1.332 asks before each tool call it does not allow by
// itself: {"type":"control_request","request_id":ID,"request":{"subtype":
// "can_use_tool","tool_name","input","tool_use_id","description"?,
// "permission_suggestions"?,"requires_user_interaction"?}}, and answers
// are {"behavior":"allow","updatedInput":{...},"updatedPermissions"?:[...]}
// or {"behavior":"deny","message":"why"}. When it stops waiting (an
// interrupt) it sends {"type":"control_cancel_request","request_id":ID};
// an answer after that is ignored (measured).
//
// A call is answered in one of two ways: a tool with an interaction of its
// own (the interactive table: a question, a plan) by that interaction, any
// other by the permission decision (permission.go).

// toolCall is one can_use_tool request: a tool call claude asks about
// before it runs it.
type toolCall struct {
	ToolUseID   string
	ToolName    string
	Input       json.RawMessage
	Description string
}

// toolAnswer is what claude is told about a call.
type toolAnswer struct {
	Allow bool
	// Input is the input the tool runs with (allow); nil: the call's own.
	Input json.RawMessage
	// Mode, when set on an allow, switches claude's permission mode for the
	// rest of the session (updatedPermissions setMode, as the SDKs send it
	// when a plan is approved).
	Mode string
	// Message is what the model is told (deny).
	Message string
}

// response is the control_response body for the answer.
func (a toolAnswer) response(call toolCall) map[string]any {
	if !a.Allow {
		return map[string]any{"behavior": "deny", "message": a.Message}
	}
	input := a.Input
	if len(input) == 0 {
		input = call.Input
	}
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	r := map[string]any{"behavior": "allow", "updatedInput": input}
	if a.Mode != "" {
		r["updatedPermissions"] = []map[string]any{{"type": "setMode", "mode": a.Mode, "destination": "session"}}
	}
	return r
}

// toolHandler answers a call of one tool in place of the permission
// decision. ctx ends when the task is cancelled or claude withdraws the
// call.
type toolHandler func(t *Task, ctx context.Context, call toolCall) toolAnswer

// interactive are the tools whose can_use_tool is not a permission
// question but the tool's own exchange with the user (claude marks them
// requires_user_interaction): answering AskUserQuestion means answering its
// questions (question.go), ExitPlanMode approving the plan or not
// (plan.go). A tool that should get a review of its own instead of a yes
// or no (the per-hunk review of an edit) is answered the same way: one
// entry here. Read only.
var interactive = map[string]toolHandler{}

// handleControl answers a control request from claude, with the context
// and done of its trackControl. It runs on its own goroutine
// (session.dispatch starts it) because an answer may wait for a person; it
// ends once claude has its answer, or the call was withdrawn or ended with
// the task (endControls).
func (t *Task) handleControl(s *session, l *stream.Line, ctx context.Context, done func()) {
	defer done()
	req := l.Request
	if req.Subtype == "hook_callback" {
		ans := t.hookCallback(ctx, req)
		if !withdrawn(ctx) {
			s.respond(l.RequestID, ans, "")
		}
		return
	}
	call := toolCall{ToolUseID: req.ToolUseID, ToolName: req.ToolName, Input: req.Input, Description: req.Description}
	var ans toolAnswer
	if h := interactive[call.ToolName]; h != nil {
		ans = h(t, ctx, call)
	} else {
		ans = t.permission(ctx, call)
	}
	if withdrawn(ctx) {
		return // claude stopped waiting: it would ignore the answer
	}
	s.respond(l.RequestID, ans.response(call), "")
}

// handledControls are the control requests a task answers (handleControl);
// claude-bridge answers others with an error.
var handledControls = map[string]bool{"can_use_tool": true, "hook_callback": true}

// withdrawnKey marks the context of a call claude withdrew.
type withdrawnKey struct{}

// control is a control request in flight: withdraw ends its context as
// claude withdrew it (control_cancel_request), end with the task's end.
type control struct {
	withdraw func()
	end      context.CancelCauseFunc
}

// trackControl registers a control request of claude's, on the read loop
// before its goroutine starts, so that a control_cancel_request read next
// finds it: its context ends with the task, when claude withdraws the
// request (cancelControl), or when the task ends (endControls); done,
// called once its goroutine is over, forgets it. ok is false once the
// task has ended (endControls): the request is not the task's to answer.
func (t *Task) trackControl(requestID string) (ctx context.Context, done func(), ok bool) {
	withdrawn := new(atomic.Bool)
	ctx, cancel := context.WithCancelCause(context.WithValue(t.ctx, withdrawnKey{}, withdrawn))
	t.mu.Lock()
	if t.controlsEnded {
		t.mu.Unlock()
		cancel(nil)
		return nil, nil, false
	}
	if t.controls == nil {
		t.controls = map[string]control{}
	}
	t.controls[requestID] = control{withdraw: func() {
		withdrawn.Store(true)
		cancel(nil)
	}, end: cancel}
	t.controlsRunning.Add(1) // under t.mu, with controlsEnded false: before endControls' Wait
	t.mu.Unlock()
	return ctx, func() {
		t.mu.Lock()
		delete(t.controls, requestID)
		t.mu.Unlock()
		cancel(nil)
		t.controlsRunning.Done()
	}, true
}

// cancelControl handles claude's control_cancel_request: the question
// asked for that request is withdrawn from the user.
func (t *Task) cancelControl(requestID string) {
	t.mu.Lock()
	c, ok := t.controls[requestID]
	t.mu.Unlock()
	if ok {
		c.withdraw()
	}
}

// endControls ends the control requests still in flight with cause (why
// the task ended: EndReason) and waits until their goroutines are over, so
// that what they report (a permission denied because claude died, a
// question taken back) comes before the task's result and the reply to
// claude.run, as the README promises, and a Bash command's PostToolUse
// hook has recorded its changes before the checkpoint is finished. No
// control request is taken after (trackControl). Measured before: with
// claude killed while a permission question waited, the permission event
// came after the result, and in 2 runs of 3 after the reply.
func (t *Task) endControls(cause error) {
	t.mu.Lock()
	t.controlsEnded = true
	ends := make([]context.CancelCauseFunc, 0, len(t.controls))
	for _, c := range t.controls {
		ends = append(ends, c.end)
	}
	t.mu.Unlock()
	for _, end := range ends {
		end(cause)
	}
	t.controlsRunning.Wait()
}

// withdrawn reports whether claude withdrew the call ctx belongs to.
func withdrawn(ctx context.Context) bool {
	w, _ := ctx.Value(withdrawnKey{}).(*atomic.Bool)
	return w != nil && w.Load()
}

// errTaskCancelled is the cause of a task's context when the user cancelled
// the task (Task.Cancel).
var errTaskCancelled = errors.New("the task was cancelled")

// endCause is the cause of a task's context when the task ends with out
// (finish): what its questions still open are told. A cancel before it
// wins (the first cause stays).
func endCause(out Outcome) error {
	switch out.Status {
	case StateCancelled:
		return errTaskCancelled
	case StateInterrupted:
		return errors.New("the task was interrupted")
	case StateFailed:
		why := strings.TrimSpace(out.Result)
		if i := strings.IndexByte(why, '\n'); i >= 0 {
			why = strings.TrimSpace(why[:i])
		}
		const most = 160
		if r := []rune(why); len(r) > most {
			why = string(r[:most-1]) + "…"
		}
		if why == "" {
			return errors.New("the task failed")
		}
		return errors.New("the task failed: " + strings.TrimRight(why, "."))
	}
	return errors.New("the task ended")
}

// EndReason says, lower case and without a full stop, why a question asked
// with ctx (a control request's context, or one derived from it) stopped
// waiting for the user: claude withdrew it ("claude stopped waiting for the
// answer (the turn was interrupted)"), the user cancelled the task ("the
// task was cancelled"), or the task ended otherwise ("the task failed:
// claude exited unexpectedly …", "the task ended"). For a ctx not ended
// by the task, "the task was cancelled".
func EndReason(ctx context.Context) string {
	if withdrawn(ctx) {
		return "claude stopped waiting for the answer (the turn was interrupted)"
	}
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) && !errors.Is(c, context.DeadlineExceeded) {
		return c.Error()
	}
	return errTaskCancelled.Error()
}

// EndSentence is EndReason as a sentence, as claude is told it: a capital
// first letter (claude keeps its own lower case) and a full stop.
func EndSentence(ctx context.Context) string {
	return sentence(EndReason(ctx))
}

// sentence makes a reason a sentence: a capital first letter, except for
// claude's name, and a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	if !strings.HasPrefix(s, "claude ") && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-('a'-'A')) + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
