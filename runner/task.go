package runner

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Spec describes a task to run.
type Spec struct {
	ID        string // unique; the Manager makes one up when empty
	Prompt    string
	Workspace string   // claude's working directory
	Roots     []string // folders the agent may edit; default {Workspace}
	Images    []Image  // sent with the prompt
	// Review is when the user reviews the task's changes: "" or "off",
	// "beforeWrite", "afterTurn" (review.go).
	Review string
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

	ctx    context.Context         // ends when the task is cancelled or finished
	cancel context.CancelCauseFunc // its cause says why the task ended (EndReason)

	mu                 sync.Mutex // guards the fields below
	state              State
	created            time.Time
	startedAt          time.Time
	endedAt            time.Time
	sessionID          string
	sess               *session // the process of the turn in flight
	outcome            *Outcome
	cancelRequested    bool
	resultIn           bool   // the turn's result came before any cancel: a cancel now is too late
	lateCancel         bool   // a cancel came after the result: no further attempt
	failReason         string // set when the bridge stops claude for a reason of its own
	authAborted        bool
	waiting            int // questions to the user in flight (permission.go)
	allowTools         map[string]bool
	controls           map[string]control     // control requests from claude in flight, by request id (control.go)
	controlsEnded      bool                   // the task ended: no more control requests are taken (endControls)
	controlsRunning    sync.WaitGroup         // the handleControl goroutines; endControls waits for them
	planFile           string                 // the plan file the model last wrote (plan.go)
	mode               ModeChange             // the permission mode and model claude runs with now, as it said last
	todos              []Todo                 // claude's to-do list (todos.go)
	sends              map[string]UserMessage // messages sent into the turn and not yet taken by claude, by uuid (steer.go)
	heldResult         *stream.Line           // a result that came while sends were still to be taken (steer.go)
	interruptRequested bool
	startMode          string // the permission mode claude started with
	setModel           string // the model claude.setModel asked for, "" if none
	started            bool   // the started event is out (a new turn of the same process sends init again)
	edited             []string
	editedSet          map[string]bool
	postNotes          map[string]postNote           // what a reviewed call's PostToolUse hook tells claude, by tool use id (review.go)
	bashBefore         map[string]*bashBefore        // snapshots taken before a Bash command, by tool use id (review.go)
	bridgeWrote        map[string]FileChange         // files the bridge wrote for a reviewed call claude could not make, by tool use id (review.go)
	preRead            map[string]checkpoint.Content // what a file tool's file was just before it wrote, by tool use id (attribution.go)

	// ckpt is the task's checkpoint (review.go); set (with mu held, for
	// other tasks' noteWrite) before the task's claude runs, read only
	// after. nil with review off.
	ckpt *CheckpointTask

	wrote bool // a tool that may write ran (warm.go: the folder's warm claude is stale then)

	results   chan *stream.Line // the turn's result line, from the read loop
	wake      chan struct{}     // tells the turn loop that failReason was set
	turnLines atomic.Int64      // stream lines of this attempt's turn handled so far
	starting  atomic.Bool       // the turn's claude starts (or was taken warm) and the turn has not told the warmer it waits for the API (warmer.hold)
	requested atomic.Bool       // claude reported an API request of this attempt (status requesting)
	quiet     atomic.Bool       // cancelled: what claude writes or takes from now on is no longer the task's (steer.go)
	lastLine  atomic.Int64      // when the read loop last handled a line of this attempt (UnixNano)

	emitMu sync.Mutex // keeps events in order: one Observer.Event at a time

	// Touched only by the session's read loop.
	texts    map[textKey]*textState
	joining  *textState // the text whose last delta ended with a high surrogate (pacing.go)
	curMsgID string
	tools    map[toolKey]ToolUse
	// toolStart is when claude asked for each tool call not yet answered
	// (attribution.go), a subagent's too.
	toolStart map[string]time.Time
	after401  bool           // a 401 retry came and no answer of the API since
	authPrev  chan struct{}  // closed when the last authStep is done
	otherSeen map[string]int // messages passed on as other events, by type/subtype: how many came (otherOnce)

	hold textHold // streamed text not yet sent (pacing.go)
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
	// PermissionMode and Model are what claude runs the task with now (""
	// before claude started).
	PermissionMode string
	Model          string
	// Review is the task's review mode ("" for off).
	Review string
	// Unreviewed is true when the task's checkpoint has files left to
	// review (neither accepted nor reverted).
	Unreviewed bool
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
	in := Info{ID: t.ID, State: t.state, Workspace: t.Spec.Workspace, Prompt: t.Spec.Prompt, SessionID: t.sessionID, Created: t.created, Ended: t.endedAt,
		PermissionMode: t.mode.PermissionMode, Model: t.mode.Model}
	if t.outcome != nil {
		in.CostUSD = t.outcome.CostUSD
	}
	if t.Spec.Review != ReviewOff {
		in.Review = t.Spec.Review
	}
	if t.ckpt != nil && t.outcome != nil {
		in.Unreviewed = len(t.ckpt.Manifest().Files) > 0
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
	t.quiet.Store(true)
	t.mu.Unlock()
	t.cancel(errTaskCancelled)
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
// hands it to the turn loop, unless claude has yet to take a message sent
// into the task (steer.go: it is held until the turn claude starts for
// it ends). A result that comes first wins over a later cancel; one that
// comes after a cancel changes nothing.
func (t *Task) resultArrived(l *stream.Line) {
	t.deliver(t.holdResult(l))
}

func (t *Task) noteEdited(path string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.editedSet[path] {
		t.editedSet[path] = true
		t.edited = append(t.edited, path)
	}
}

// toolKey names a tool call: its id, and the Agent call whose subagent
// made it ("" for the task's own).
type toolKey struct{ parent, id string }

// parentOf is the Agent tool call whose subagent printed l ("" for the
// task's own conversation). Measured on claude 2.1.332: a subagent's
// assistant and user lines carry "parent_tool_use_id": the id of the
// Agent call that started it (whether it runs in the background, the
// default, or with run_in_background false); its text comes whole in
// assistant lines, without stream_event deltas (in the foreground its last
// message, its hand-back, comes only as the Agent call's result); the
// task's own lines carry null.
func parentOf(l *stream.Line) string {
	if l.ParentToolUseID == nil {
		return ""
	}
	return *l.ParentToolUseID
}

// handleLine turns one stream line into events. Called on the session's
// read loop, in order.
func (t *Task) handleLine(s *session, l *stream.Line) {
	t.turnLines.Add(1)
	t.lastLine.Store(time.Now().UnixNano())
	if l.Type != "stream_event" && l.Type != "assistant" {
		t.flushText() // an assistant line's text is reconciled first (handleAssistant)
	}
	if parent := parentOf(l); parent != "" {
		t.handleSubagentLine(l, parent)
		return
	}
	switch l.Type {
	case "system":
		t.handleSystem(l)
	case "stream_event":
		t.handleStreamEvent(l)
	case "assistant":
		t.handleAssistant(l, "")
	case "user":
		if l.IsReplay {
			t.replayed(l)
		}
		t.handleUser(l, "")
	case "result":
		t.resultArrived(l)
	case "control_cancel_request":
		t.cancelControl(l.RequestID)
	default:
		t.otherOnce(l)
	}
}

// handleSubagentLine reports what a subagent did, each event marked with
// the Agent call that started it: its messages and tool calls are shown,
// but never taken for the task's own (its to-do list, its text, its
// result), and its file changes are carried like any other.
func (t *Task) handleSubagentLine(l *stream.Line, parent string) {
	switch l.Type {
	case "assistant":
		t.handleAssistant(l, parent)
	case "user":
		t.handleUser(l, parent)
	case "stream_event":
		// Not printed by 2.1.332 for subagents; the assistant line that
		// follows carries the whole text, which reconcile sends.
	default:
		t.otherOnce(l)
	}
}

// otherOnce passes on a stream message the bridge has no event for, as an
// other event, the first time its type and subtype come in the task; later
// ones of the same kind are only counted (and logged): claude sends some of
// its messages in runs (one per delta), and a transcript needs to see that
// a kind exists, not each of them. Called only on the read loop.
func (t *Task) otherOnce(l *stream.Line) {
	key := l.Type + "/" + l.Subtype
	if t.otherSeen == nil {
		t.otherSeen = map[string]int{}
	}
	t.otherSeen[key]++
	if n := t.otherSeen[key]; n > 1 {
		t.log.Debug("stream message not passed on (one of its kind was)", zap.String("kind", key), zap.Int("count", n))
		return
	}
	t.emit(Event{Kind: EventOther, Raw: l.Raw})
}

// quietSystem are claude's system messages the bridge has no use for in
// a transcript or progress, dropped. Measured on 2.1.332 with
// --include-partial-messages: thinking_tokens comes once per thinking
// delta ({"estimated_tokens": N, "estimated_tokens_delta": 3}: 300 of them
// for 300 words of thinking), beside the thinking text itself, which the
// thinking events carry.
var quietSystem = map[string]bool{"thinking_tokens": true}

// systemNotice is the text of claude's user-facing system messages
// (strings in the 2.1.332 binary: {"subtype":"informational","content",
// "level"} and {"subtype":"notification","text","priority","color"}).
type systemNotice struct {
	Content string `json:"content"`
	Text    string `json:"text"`
}

func (t *Task) handleSystem(l *stream.Line) {
	switch l.Subtype {
	case "init":
		// One started event per task: an attempt run again after the key
		// changed (turn.go) starts claude anew, and its init only updates
		// the session (the result event says which the task ended in).
		t.mu.Lock()
		t.sessionID = l.SessionID
		again := t.started
		t.started = true
		if !again {
			t.mode = ModeChange{PermissionMode: l.PermissionMode, Model: l.Model}
			t.startMode = l.PermissionMode
		}
		t.mu.Unlock()
		// again: a new turn for a message sent into the task (steer.go), or
		// an attempt run again after the key changed (turn.go); the auth
		// check below still applies to the new claude.
		if !again {
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
		if l.PermissionMode != "" {
			t.modeChanged(ModeChange{PermissionMode: l.PermissionMode})
		}
		msg := "Working"
		if l.Status != nil {
			switch *l.Status {
			case "requesting":
				msg = "Thinking"
				t.requested.Store(true)
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
	case "informational", "notification":
		var n systemNotice
		_ = json.Unmarshal(l.Raw, &n)
		if msg := strings.TrimSpace(n.Content + n.Text); msg != "" {
			t.status("claude: " + msg)
			return
		}
		t.otherOnce(l)
	case "compact_boundary":
		t.status("claude compacted the conversation to make room")
	default:
		if quietSystem[l.Subtype] {
			return
		}
		t.otherOnce(l)
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

// streamDelta takes a text or thinking delta read by stream.ParseDelta:
// what handleLine does with the same line decoded.
func (t *Task) streamDelta(d stream.Delta) {
	t.turnLines.Add(1)
	t.lastLine.Store(time.Now().UnixNano())
	if t.quiet.Load() {
		return
	}
	id := d.MessageID
	if id == "" {
		id = t.curMsgID
	}
	if d.Thinking {
		t.delta(EventThinking, id, d.Text)
	} else {
		t.delta(EventText, id, d.Text)
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
		if ev.Delta == nil || t.quiet.Load() {
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

// reconcile makes sure the deltas sent for a message add up to its text: a
// complete assistant line may carry text whose deltas never came (claude
// without partial messages, or a lost stream event, or a subagent's
// message, which comes whole): the rest is sent. When what was streamed
// differs from the text, the part still held for its window (textWindow)
// is put right; only what the editor already has is beyond correction
// (logged). parent is the subagent's Agent call ("" for the task's own
// message).
func (t *Task) reconcile(kind EventKind, id, parent, text string) {
	st := t.textState(kind, id, parent)
	if t.joining == st {
		t.endJoin()
	}
	expected := st.reconciled + text
	st.reconciled = expected
	emitted := st.emitted.String()
	switch {
	case t.quiet.Load():
		// Cancelled: what claude still writes is not the task's answer.
		return
	case strings.HasPrefix(emitted, expected):
		return
	case parent != "":
		// A subagent's message comes whole, never streamed (2.1.332), so
		// nothing of it is held: the rest goes out after the task's own
		// held text.
		if !strings.HasPrefix(expected, emitted) {
			t.log.Warn("a subagent's text and its final message differ", zap.String("messageId", id))
			return
		}
		rest := expected[len(emitted):]
		st.emitted.WriteString(rest)
		t.flushText()
		t.emit(Event{Kind: kind, MessageID: id, Text: rest, Parent: parent})
		return
	case strings.HasPrefix(expected, emitted):
		t.push(st, expected[len(emitted):])
		return
	}
	h := &t.hold
	h.mu.Lock()
	defer h.mu.Unlock()
	held := ""
	if h.kind == kind && h.id == id {
		held = h.text.String()
	}
	sent := emitted[:len(emitted)-len(held)]
	if !strings.HasPrefix(expected, sent) {
		t.log.Warn("streamed text and final message differ, in text the editor already has", zap.String("messageId", id), zap.Int("sentBytes", len(sent)))
		return
	}
	if h.text.Len() > 0 && held == "" {
		t.sendHeldLocked(time.Now()) // another message's text, first
	}
	h.kind, h.id = kind, id
	h.text.Reset()
	h.text.WriteString(expected[len(sent):])
	st.emitted.Reset()
	st.emitted.WriteString(expected)
	t.log.Info("streamed text differed from the final message; corrected the part not yet sent", zap.String("messageId", id), zap.Int("heldBytes", len(held)))
}

// handleAssistant reports an assistant message: the task's own (parent
// "") or a subagent's (parent: its Agent call).
func (t *Task) handleAssistant(l *stream.Line, parent string) {
	m := l.Message
	if m == nil {
		t.flushText()
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
		t.reconcile(EventThinking, m.ID, parent, thinking.String())
	}
	if text.Len() > 0 {
		t.reconcile(EventText, m.ID, parent, text.String())
	}
	t.flushText()
	for _, b := range m.Content {
		if b.Type != "tool_use" {
			continue
		}
		tu := ToolUse{ID: b.ID, Name: b.Name, Input: b.Input, Summary: Summarize(b.Name, b.Input, t.Spec.Workspace)}
		if fileTools[b.Name] {
			t.notePlanFile(decodeInput(b.Input).targetPath())
		}
		if !readOnlyTools[b.Name] {
			t.mu.Lock()
			t.wrote = true
			t.mu.Unlock()
		}
		if t.tools == nil {
			t.tools = map[toolKey]ToolUse{}
		}
		t.tools[toolKey{parent, b.ID}] = tu
		t.toolStarted(b.ID)
		t.emit(Event{Kind: EventToolUse, ToolUse: &tu, Parent: parent})
	}
}

// fileResult is the part of tool_use_result that file tools fill in.
type fileResult struct {
	FilePath     string  `json:"filePath"`
	NotebookPath string  `json:"notebook_path"`
	OriginalFile *string `json:"originalFile"`
}

// handleUser reports the tool results of a user line: the task's own
// (parent "") or a subagent's (parent: its Agent call). Only the task's
// own to-do tools make its to-do list.
func (t *Task) handleUser(l *stream.Line, parent string) {
	m := l.Message
	if m == nil {
		return
	}
	for _, b := range m.Content {
		if b.Type != "tool_result" {
			continue
		}
		tu := t.tools[toolKey{parent, b.ToolUseID}]
		res := &ToolResult{ToolUseID: b.ToolUseID, Name: tu.Name, IsError: b.IsError, Content: b.Content.PlainText()}
		if !b.IsError && fileTools[tu.Name] && !isPlanFile(decodeInput(tu.Input).targetPath()) {
			res.Change = t.fileChange(tu, l.ToolUseResult)
		}
		t.mu.Lock()
		if ch, ok := t.bridgeWrote[b.ToolUseID]; ok {
			// The bridge wrote the user's reviewed version (review.go).
			delete(t.bridgeWrote, b.ToolUseID)
			res.Change = &ch
			t.mu.Unlock()
			t.noteEdited(ch.Path)
		} else {
			t.mu.Unlock()
		}
		t.noteToolWrite(tu, res.Change)
		t.emit(Event{Kind: EventToolResult, ToolResult: res, Parent: parent})
		if !b.IsError && parent == "" {
			t.trackTodos(tu, l.ToolUseResult)
		}
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

func nonTerminal(cur, next State) State {
	if cur.Terminal() {
		return cur
	}
	return next
}
