package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Steering a running task through claude's stdin: messages sent into the
// turn, an interrupt, a new permission mode or model. Measured on claude
// 2.1.332:
//   - A user message written while a turn runs goes into the turn's next
//     API request. Written while claude waits for its last answer of the
//     turn (no tool call follows), it starts a new turn right after the
//     turn's result: a second system/init, its own assistant messages and
//     a second result. With --replay-user-messages claude echoes each
//     message, with its uuid, when it takes it: so a task ends at a
//     result only once claude has taken every message sent into it.
//   - {"subtype": "interrupt"} is answered {"still_queued": []}; the
//     turn ends with "[Request interrupted by user]" and a result of
//     subtype error_during_execution (is_error true, terminal_reason
//     aborted_streaming, or aborted_tools with a control_cancel_request
//     for a can_use_tool in flight); the process takes the next message
//     as a new turn of the same conversation. A message sent before the
//     interrupt that claude had not taken yet still starts a turn after.
//   - {"subtype": "set_permission_mode", "mode"} is answered {"mode"} (an
//     unknown mode: an error naming the modes) with a system/status line
//     carrying the new permissionMode; the turn's next tool call follows
//     it.
//   - {"subtype": "set_model", "model"} is answered {"model": "<resolved
//     id>"} at once, whatever the model (a name claude does not know is
//     passed on as it is, and the API refuses it); the model applies from
//     claude's next API request, the very next of the same turn included
//     (sent while a tool ran, the request after the tool has the new model;
//     a request already in flight keeps the old one).

// controlWait bounds how long a steering request waits for claude's answer.
const controlWait = 10 * time.Second

// ErrNotRunning is returned when a task has no turn in flight to steer.
var ErrNotRunning = errors.New("the task is not running")

// running returns the session of the turn in flight, or an error saying
// why the task cannot be steered.
func (t *Task) running() (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.runningLocked()
}

func (t *Task) runningLocked() (*session, error) {
	switch {
	case t.state.Terminal():
		return nil, fmt.Errorf("%w: it is %s", ErrNotRunning, t.state)
	case t.cancelRequested:
		return nil, fmt.Errorf("%w: it is being cancelled", ErrNotRunning)
	case t.resultIn:
		return nil, fmt.Errorf("%w: its result is in", ErrNotRunning)
	case t.sess == nil:
		return nil, fmt.Errorf("%w yet: it is %s", ErrNotRunning, t.state)
	}
	return t.sess, nil
}

// Send writes a message from the user into the running turn: claude
// reads it at its next API request, or takes it as a new turn right after
// the current one (the task then ends with that turn). It fails when the
// task has no turn in flight (follow it up instead).
func (t *Task) Send(m UserMessage) error {
	uuid := newUUID()
	t.mu.Lock()
	s, err := t.runningLocked()
	if err != nil {
		t.mu.Unlock()
		return err
	}
	if t.sends == nil {
		t.sends = map[string]UserMessage{}
	}
	t.sends[uuid] = m
	t.mu.Unlock()
	if err := s.sendUser(m, uuid); err != nil {
		t.mu.Lock()
		delete(t.sends, uuid)
		held := t.releaseHeldLocked()
		t.mu.Unlock()
		t.deliver(held)
		return fmt.Errorf("could not write to claude: %w", err)
	}
	return nil
}

// sentMessage reports whether uuid is a message sent into the task's turn
// that claude has not taken yet.
func (t *Task) sentMessage(uuid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.sends[uuid]
	return ok
}

// replayed handles claude's echo of a user message (on the read loop): a
// message sent into the task has reached the conversation.
func (t *Task) replayed(l *stream.Line) {
	t.mu.Lock()
	m, ok := t.sends[l.UUID]
	delete(t.sends, l.UUID)
	t.mu.Unlock()
	if ok && !t.quiet.Load() { // a cancelled task takes no more messages
		t.emit(Event{Kind: EventUserMessage, UserMessage: &m})
	}
}

// withdrawSends takes back, as a cancel stops the turn, the messages sent
// into it that claude has not taken yet, so that a cancelled task costs no
// API request for them: the interrupt that follows would otherwise end the
// turn and start one for them (measured on 2.1.332). claude's
// cancel_async_message {message_uuid} drops a queued message
// ({"cancelled": true}; a no-op once claude took it). Each waits at most
// wait for claude's answer; on the stop's goroutine.
func (t *Task) withdrawSends(s *session, wait time.Duration) {
	t.mu.Lock()
	uuids := make([]string, 0, len(t.sends))
	for u := range t.sends {
		uuids = append(uuids, u)
	}
	t.mu.Unlock()
	for _, u := range uuids {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		r, err := s.control(ctx, map[string]any{"subtype": "cancel_async_message", "message_uuid": u})
		cancel()
		var resp struct {
			Cancelled bool `json:"cancelled"`
		}
		if err == nil {
			_ = json.Unmarshal(r.Response, &resp)
		}
		if !resp.Cancelled {
			t.log.Debug("claude kept a message sent into a cancelled task", zap.String("uuid", u), zap.Error(err))
			continue
		}
		t.mu.Lock()
		m, ok := t.sends[u]
		delete(t.sends, u)
		held := t.releaseHeldLocked()
		t.mu.Unlock()
		if ok { // else claude's command_lifecycle line said so first
			t.status(withdrawnMessage(m))
		}
		t.deliver(held)
	}
}

// withdrawnMessage tells the user a message sent into a cancelled task
// never reached claude's model.
func withdrawnMessage(m UserMessage) string {
	return fmt.Sprintf("Your message “%s” was withdrawn with the task: claude did not read it", oneLine(m.Text, 60))
}

// commandLifecycle handles claude's command_lifecycle line (on the read
// loop) about a message sent with a uuid: the bridge's own prompts and
// messages, so none is an event. Measured on claude 2.1.332: a message
// written while a turn runs is reported "queued" at once and "started"
// when claude takes it (just before its replay), then "completed" after
// the turn that took it (often once the task ended). claude's schema also
// names "cancelled", "discarded" and "refused": such a message will never
// be taken, so a result held for it is released and the user told.
func (t *Task) commandLifecycle(l *stream.Line) {
	switch l.State {
	case "cancelled", "discarded", "refused":
	default:
		return
	}
	t.mu.Lock()
	m, ok := t.sends[l.CommandUUID]
	delete(t.sends, l.CommandUUID)
	held := t.releaseHeldLocked()
	t.mu.Unlock()
	if !ok {
		return
	}
	if t.quiet.Load() {
		t.status(withdrawnMessage(m))
	} else {
		t.status(fmt.Sprintf("claude did not take your message “%s”: it was %s", oneLine(m.Text, 60), l.State))
	}
	t.deliver(held)
}

// holdResult is resultArrived's first step (on the read loop): a result
// that comes while messages sent into the task are still to be taken is
// held (claude starts a turn for them after it), merged with what came
// before; it returns the result to deliver, or nil.
func (t *Task) holdResult(l *stream.Line) *stream.Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	l = mergeResults(t.heldResult, l)
	t.heldResult = nil
	if len(t.sends) > 0 {
		t.heldResult = l
		return nil
	}
	return l
}

// releaseHeldLocked returns the held result when nothing is left to wait
// for (a send failed), else nil. Called with mu held.
func (t *Task) releaseHeldLocked() *stream.Line {
	if len(t.sends) > 0 || t.heldResult == nil {
		return nil
	}
	l := t.heldResult
	t.heldResult = nil
	return l
}

// takeHeld returns the result held for messages claude will never take
// (it has exited), or nil.
func (t *Task) takeHeld() *stream.Line {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.heldResult
	t.heldResult = nil
	return l
}

// deliver hands a result to the turn loop (nil: nothing).
func (t *Task) deliver(l *stream.Line) {
	if l == nil {
		return
	}
	t.mu.Lock()
	if !t.cancelRequested {
		t.resultIn = true
	}
	t.mu.Unlock()
	select {
	case t.results <- l:
	default:
	}
}

// mergeResults is the result of a task whose turns ended in prev, then l:
// l's, with the durations and turns of both (claude's cost is a running
// total already).
func mergeResults(prev, l *stream.Line) *stream.Line {
	if prev == nil {
		return l
	}
	m := *l
	m.DurationMs += prev.DurationMs
	m.NumTurns += prev.NumTurns
	return &m
}

// Interrupt stops the turn in flight and keeps the conversation: claude
// ends the turn (the task ends "interrupted") and its process stays for a
// follow-up. It returns false when the task has no turn in flight.
func (t *Task) Interrupt() bool {
	s, err := t.running()
	if err != nil {
		return false
	}
	t.mu.Lock()
	t.interruptRequested = true
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.ctx, controlWait)
	defer cancel()
	if _, err := s.control(ctx, map[string]any{"subtype": "interrupt"}); err != nil {
		t.log.Debug("interrupt not acknowledged")
	}
	return true
}

// interrupted reports whether the turn ended because of Interrupt: a
// result that claude ended as interrupted (error_during_execution) after
// an interrupt was asked for.
func (t *Task) interrupted(r *stream.Line) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.interruptRequested && r.IsError && r.Subtype == "error_during_execution"
}

// SetPermissionMode changes the permission mode of the running
// conversation (claude's set_permission_mode); claude's next tool call
// follows it, and so do follow-ups of the task that name no mode. It
// returns the mode claude reports.
func (t *Task) SetPermissionMode(ctx context.Context, mode string) (string, error) {
	if err := ValidPermissionMode(mode); err != nil || mode == "" {
		return "", fmt.Errorf("unknown permission mode %q", mode)
	}
	s, err := t.running()
	if err != nil {
		return "", err
	}
	r, err := t.steer(ctx, s, map[string]any{"subtype": "set_permission_mode", "mode": mode})
	if err != nil {
		return "", err
	}
	var resp struct {
		Mode string `json:"mode"`
	}
	_ = json.Unmarshal(r.Response, &resp)
	if resp.Mode == "" {
		resp.Mode = mode
	}
	t.modeChanged(ModeChange{PermissionMode: resp.Mode})
	return resp.Mode, nil
}

// SetModel changes the model of the running conversation (claude's
// set_model); it applies from claude's next API request, and to
// follow-ups of the task that name no model. It returns the model claude resolved it to.
func (t *Task) SetModel(ctx context.Context, model string) (string, error) {
	s, err := t.running()
	if err != nil {
		return "", err
	}
	r, err := t.steer(ctx, s, map[string]any{"subtype": "set_model", "model": model})
	if err != nil {
		return "", err
	}
	var resp struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(r.Response, &resp)
	s.adjust(func(o *Options) { o.Model = model })
	t.mu.Lock()
	t.setModel = model
	t.mu.Unlock()
	t.modeChanged(ModeChange{Model: resp.Model})
	return resp.Model, nil
}

func (t *Task) steer(ctx context.Context, s *session, req map[string]any) (*stream.ControlResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, controlWait)
	defer cancel()
	r, err := s.control(ctx, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("claude did not answer %s within %s", req["subtype"], controlWait)
		}
		return nil, fmt.Errorf("claude refused %s: %w", req["subtype"], err)
	}
	return r, nil
}

// adjust changes what the session's process runs with, as claude said it
// now does (so that the pool matches it to follow-ups truthfully).
func (s *session) adjust(f func(*Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opts)
}

// Changed is the permission mode and model the conversation was switched
// to while the task ran ("" for those that did not change): a follow-up
// that names none goes on with them.
func (t *Task) Changed() (mode, model string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mode.PermissionMode != "" && t.mode.PermissionMode != t.startMode {
		mode = t.mode.PermissionMode
	}
	return mode, t.setModel
}

// Conversation is the task a follow-up continues: the task taskID, else
// the latest task of the conversation sessionID; nil when none is known.
func (m *Manager) Conversation(taskID, sessionID string) *Task {
	if taskID != "" {
		return m.Get(taskID)
	}
	if sessionID == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.order) - 1; i >= 0; i-- {
		if m.order[i].SessionID() == sessionID {
			return m.order[i]
		}
	}
	return nil
}

// ClaudeHome is the home directory claude runs with (its HOME), where it
// keeps its conversations (runner/sessions).
func (m *Manager) ClaudeHome() string {
	if h := envLookup(m.cfg().Env)("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}
