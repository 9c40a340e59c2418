package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Spec describes a task to run.
type Spec struct {
	ID        string // unique; the Manager makes one up when empty
	Prompt    string
	Workspace string   // claude's working directory
	Roots     []string // folders the agent may edit; default {Workspace}
	Options
}

// Task is one turn of a conversation with claude: a prompt and everything
// claude does until its result.
type Task struct {
	ID   string
	Spec Spec

	mgr *Manager
	obs Observer
	log *zap.Logger

	ctx    context.Context // ends when the task is cancelled or finished
	cancel context.CancelFunc

	mu              sync.Mutex // guards the fields below
	state           State
	created         time.Time
	startedAt       time.Time
	endedAt         time.Time
	sessionID       string
	startedSent     bool     // the task's EventStarted went out (one per task)
	sess            *session // the process of the turn in flight
	outcome         *Outcome
	cancelRequested bool
	resultIn        bool   // the turn's result came before any cancel: a cancel now is too late
	lateCancel      bool   // a cancel came after the result: no further attempt
	failReason      string // set when the bridge stops claude for a reason of its own
	authAborted     bool
	waiting         int // permission questions in flight
	allowTools      map[string]bool
	edited          []string
	editedSet       map[string]bool

	results chan *stream.Line // the turn's result line, from the read loop
	wake    chan struct{}     // tells the turn loop that failReason was set

	emitMu sync.Mutex // keeps events in order: one Observer.Event at a time

	// Touched only by the session's read loop.
	texts    map[string]*textState
	curMsgID string
	tools    map[string]ToolUse
	after401 bool          // a 401 retry came and no answer of the API since
	authPrev chan struct{} // closed when the last authStep is done
	// held is streamed text not yet sent: while claude's output is
	// already waiting to be read, consecutive deltas of one message go out
	// as one event (fewer, larger events when the bridge falls behind; one
	// event per delta when it keeps up).
	held struct {
		kind EventKind
		id   string
		text strings.Builder
	}
}

type textState struct {
	emitted    strings.Builder
	reconciled string
}

// Info is a snapshot of a task for listings.
type Info struct {
	ID        string
	State     State
	Workspace string
	Prompt    string
	SessionID string
	Created   time.Time
	Ended     time.Time
	CostUSD   float64
}

// State is the task's current state.
func (t *Task) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// SessionID is claude's conversation id, once known.
func (t *Task) SessionID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sessionID
}

// Info returns a snapshot.
func (t *Task) Info() Info {
	t.mu.Lock()
	defer t.mu.Unlock()
	in := Info{ID: t.ID, State: t.state, Workspace: t.Spec.Workspace, Prompt: t.Spec.Prompt, SessionID: t.sessionID, Created: t.created, Ended: t.endedAt}
	if t.outcome != nil {
		in.CostUSD = t.outcome.CostUSD
	}
	return in
}

func (t *Task) setSessionID(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessionID = id
}

func (t *Task) setState(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.state.Terminal() {
		t.state = s
	}
}

func (t *Task) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	t.emitMu.Lock()
	defer t.emitMu.Unlock()
	t.obs.Event(t, ev)
}

func (t *Task) status(msg string) { t.emit(Event{Kind: EventStatus, Message: msg}) }

// Cancel asks the task to stop. It returns false when the task had already
// ended, or its result was already in (the task then ends as it was about
// to). Run returns once claude is gone.
func (t *Task) Cancel() bool {
	t.mu.Lock()
	if t.state.Terminal() || t.cancelRequested {
		t.mu.Unlock()
		return false
	}
	if t.resultIn {
		t.lateCancel = true
		t.mu.Unlock()
		return false
	}
	t.cancelRequested = true
	t.mu.Unlock()
	t.cancel()
	return true
}

// abort stops claude for a reason of the bridge's own (a bad key, a
// silent claude); the task fails with that reason. The turn loop does the
// stopping.
func (t *Task) abort(reason string, auth bool) {
	t.mu.Lock()
	if t.failReason == "" {
		t.failReason = reason
		t.authAborted = auth
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// resultArrived records the turn's result line (on the read loop) and
// hands it to the turn loop. A result that comes first wins over a later
// cancel; one that comes after a cancel changes nothing.
func (t *Task) resultArrived(l *stream.Line) {
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

func (t *Task) noteEdited(path string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.editedSet[path] {
		t.editedSet[path] = true
		t.edited = append(t.edited, path)
	}
}

// handleLine turns one stream line into events. Called on the session's
// read loop, in order.
func (t *Task) handleLine(s *session, l *stream.Line) {
	if l.Type != "stream_event" {
		t.flushText()
	}
	switch l.Type {
	case "system":
		t.handleSystem(l)
	case "stream_event":
		t.handleStreamEvent(l)
	case "assistant":
		t.handleAssistant(l)
	case "user":
		t.handleUser(l)
	case "result":
		t.resultArrived(l)
	default:
		t.emit(Event{Kind: EventOther, Raw: l.Raw})
	}
}

func (t *Task) handleSystem(l *stream.Line) {
	switch l.Subtype {
	case "init":
		// One started event per task: an attempt run again after the key
		// changed (turn.go) starts claude anew, and its init only updates
		// the session (the result event says which the task ended in).
		t.mu.Lock()
		t.sessionID = l.SessionID
		first := !t.startedSent
		t.startedSent = true
		t.mu.Unlock()
		if first {
			t.emit(Event{Kind: EventStarted, Started: &Started{
				SessionID: l.SessionID, Model: l.Model, Cwd: l.Cwd, PermissionMode: l.PermissionMode,
				APIKeySource: l.APIKeySource, ClaudeVersion: l.ClaudeCodeVersion,
			}})
		}
		if a := t.mgr.cfg().Auth; a != nil {
			if w := a.CheckInit(l.APIKeySource); w != "" {
				t.log.Warn("unexpected API key source", zap.String("apiKeySource", l.APIKeySource))
				t.status(w)
			}
		}
	case "status":
		msg := "Working"
		if l.Status != nil {
			switch *l.Status {
			case "requesting":
				msg = "Thinking"
			case "compacting":
				msg = "Compacting the conversation"
			default:
				msg = *l.Status
			}
		}
		t.emit(Event{Kind: EventActivity, Message: msg})
	case "api_retry":
		r := &Retry{Attempt: int(l.Attempt), MaxRetries: int(l.MaxRetries), DelayMs: int(l.RetryDelayMs), ErrorStatus: int(l.ErrorStatus), Error: string(l.Error)}
		t.emit(Event{Kind: EventRetry, Retry: r})
		if l.ErrorStatus == 401 {
			if a := t.mgr.cfg().Auth; a != nil {
				t.after401 = true
				t.authStep(func() { t.on401(a) })
			}
		}
	default:
		t.emit(Event{Kind: EventOther, Raw: l.Raw})
	}
}

func (t *Task) on401(a Auth) {
	d := a.On401(t.ctx, t.ID)
	if d.Message != "" {
		t.status(d.Message)
	}
	if d.Abort {
		reason := "authentication failed again and again with the same key"
		if d.Err != nil {
			reason = d.Err.Error()
		}
		t.abort(reason, true)
	}
}

// authStep runs f, a call into the auth manager's 401 counting (On401 runs
// the key helper, which can take seconds), off the read loop but in the
// order of the stream: each step waits for the one before. Called only on
// the read loop; the step's goroutine ends when f returns.
func (t *Task) authStep(f func()) {
	prev, done := t.authPrev, make(chan struct{})
	t.authPrev = done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		f()
	}()
}

func (t *Task) handleStreamEvent(l *stream.Line) {
	ev := l.Event
	if ev == nil {
		return
	}
	if ev.Type != "content_block_delta" {
		t.flushText()
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			t.curMsgID = ev.Message.ID
		}
	case "content_block_delta":
		if ev.Delta == nil {
			return
		}
		id := l.APIMessageID
		if id == "" {
			id = t.curMsgID
		}
		switch ev.Delta.Type {
		case "text_delta":
			t.delta(EventText, id, ev.Delta.Text)
		case "thinking_delta":
			t.delta(EventThinking, id, ev.Delta.Thinking)
		}
	}
}

func (t *Task) textState(kind EventKind, id string) *textState {
	if t.texts == nil {
		t.texts = map[string]*textState{}
	}
	key := string(kind) + "\x00" + id
	st := t.texts[key]
	if st == nil {
		st = &textState{}
		t.texts[key] = st
	}
	return st
}

func (t *Task) delta(kind EventKind, id, text string) {
	if text == "" {
		return
	}
	t.textState(kind, id).emitted.WriteString(text)
	if t.held.text.Len() > 0 && (t.held.kind != kind || t.held.id != id) {
		t.flushText()
	}
	t.held.kind, t.held.id = kind, id
	t.held.text.WriteString(text)
}

// flushText sends the held text, if any, as one event.
func (t *Task) flushText() {
	if t.held.text.Len() == 0 {
		return
	}
	text := t.held.text.String()
	t.held.text.Reset()
	t.emit(Event{Kind: t.held.kind, MessageID: t.held.id, Text: text})
}

// reconcile makes sure the deltas sent for a message add up to its text: a
// complete assistant line may carry text whose deltas never came (claude
// without partial messages, or a lost stream event).
func (t *Task) reconcile(kind EventKind, id, text string) {
	st := t.textState(kind, id)
	expected := st.reconciled + text
	emitted := st.emitted.String()
	switch {
	case strings.HasPrefix(emitted, expected):
	case strings.HasPrefix(expected, emitted):
		rest := expected[len(emitted):]
		st.emitted.WriteString(rest)
		t.emit(Event{Kind: kind, MessageID: id, Text: rest})
	default:
		t.log.Warn("streamed text and final message differ", zap.String("messageId", id))
	}
	st.reconciled = expected
}

func (t *Task) handleAssistant(l *stream.Line) {
	m := l.Message
	if m == nil {
		return
	}
	if t.after401 {
		// The API answered: the request got through after the 401s.
		t.after401 = false
		if a := t.mgr.cfg().Auth; a != nil {
			t.authStep(func() { a.OnTaskSuccess(t.ID) })
		}
	}
	var text, thinking strings.Builder
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			thinking.WriteString(b.Thinking)
		}
	}
	if thinking.Len() > 0 {
		t.reconcile(EventThinking, m.ID, thinking.String())
	}
	if text.Len() > 0 {
		t.reconcile(EventText, m.ID, text.String())
	}
	for _, b := range m.Content {
		if b.Type != "tool_use" {
			continue
		}
		tu := ToolUse{ID: b.ID, Name: b.Name, Input: b.Input, Summary: Summarize(b.Name, b.Input, t.Spec.Workspace)}
		if t.tools == nil {
			t.tools = map[string]ToolUse{}
		}
		t.tools[b.ID] = tu
		t.emit(Event{Kind: EventToolUse, ToolUse: &tu})
	}
}

// fileResult is the part of tool_use_result that file tools fill in.
type fileResult struct {
	FilePath     string  `json:"filePath"`
	NotebookPath string  `json:"notebook_path"`
	OriginalFile *string `json:"originalFile"`
}

func (t *Task) handleUser(l *stream.Line) {
	m := l.Message
	if m == nil {
		return
	}
	for _, b := range m.Content {
		if b.Type != "tool_result" {
			continue
		}
		tu := t.tools[b.ToolUseID]
		res := &ToolResult{ToolUseID: b.ToolUseID, Name: tu.Name, IsError: b.IsError, Content: b.Content.PlainText()}
		if !b.IsError && fileTools[tu.Name] {
			res.Change = t.fileChange(tu, l.ToolUseResult)
		}
		t.emit(Event{Kind: EventToolResult, ToolResult: res})
	}
}

func (t *Task) fileChange(tu ToolUse, raw json.RawMessage) *FileChange {
	var fr fileResult
	_ = json.Unmarshal(raw, &fr) // a string result (an error) leaves it empty
	path := fr.FilePath
	if path == "" {
		path = fr.NotebookPath
	}
	if path == "" {
		path = decodeInput(tu.Input).targetPath()
	}
	if path == "" {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(t.Spec.Workspace, path)
	}
	fc := &FileChange{Path: path, ToolUseID: tu.ID, Before: fr.OriginalFile, Label: "Claude: " + tu.Name + " " + RelPath(path, t.Spec.Workspace), after: readChanged(path)}
	t.noteEdited(path)
	return fc
}

// handleControl answers a control request from claude. It runs on its own
// goroutine because a permission question waits for a person.
func (t *Task) handleControl(s *session, l *stream.Line) {
	req := l.Request
	if req.Subtype != "can_use_tool" {
		s.respond(l.RequestID, nil, "claude-bridge does not support control request "+req.Subtype)
		return
	}
	in := decodeInput(req.Input)
	pr := PermissionRequest{ToolUseID: req.ToolUseID, ToolName: req.ToolName, Input: req.Input, Description: req.Description,
		Summary: summarize(req.ToolName, in, t.Spec.Workspace), KeyInput: in.keyInput(t.Spec.Workspace)}
	decision, reason, automatic := t.decide(pr)
	if decision == Deny {
		if reason == "" {
			reason = "The user denied " + req.ToolName + "."
		}
		s.respond(l.RequestID, map[string]any{"behavior": "deny", "message": reason}, "")
	} else {
		input := req.Input
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		s.respond(l.RequestID, map[string]any{"behavior": "allow", "updatedInput": input}, "")
	}
	t.emit(Event{Kind: EventPermission, Permission: &PermissionEvent{PermissionRequest: pr, Decision: decision, Reason: reason, Automatic: automatic}})
}

func (t *Task) decide(pr PermissionRequest) (Decision, string, bool) {
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
	t.waiting++
	t.state = nonTerminal(t.state, StateWaiting)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.waiting--
		if t.waiting == 0 {
			t.state = nonTerminal(t.state, StateRunning)
		}
		t.mu.Unlock()
	}()
	if allowed {
		return Allow, pr.ToolName + " was allowed for this task", true
	}
	t.emit(Event{Kind: EventActivity, Message: "Waiting for permission: " + pr.ToolName})
	d, reason := t.obs.AskPermission(t.ctx, t, pr)
	if t.ctx.Err() != nil {
		return Deny, "The task was cancelled.", true
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

func nonTerminal(cur, next State) State {
	if cur.Terminal() {
		return cur
	}
	return next
}
