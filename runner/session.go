package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/proctree"
	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// drainWait bounds how long the output of a claude that has exited is
// still read: something it started may hold its stdout open (the tree is
// killed first, so this only matters for a process that escaped).
const drainWait = 2 * time.Second

// session is one claude process: one conversation that may run several
// turns (tasks) one after another on the same stdin. The pool owns
// sessions; a task's turn borrows one.
//
// Goroutines: readLoop (owns stdout; ends at EOF or when watch closes the
// read end) and watch (ends after the process has exited, its tree is
// killed and its output read, bounded; it closes gone). The process and
// the stream are watched separately: a claude that closes stdout and keeps
// running, or exits while something it started holds stdout, cannot hang
// its task.
//
// Turns claude runs on its own: when a Bash command it started with
// run_in_background finishes while it is idle, claude 2.1.332 runs a turn
// nobody asked for (measured: system task_updated, task_notification and
// background_tasks_changed, then a turn of its own: init, a status
// "requesting" without user_message_uuids, the answer and a result). A
// prompt sent meanwhile is queued behind that turn and gets a turn and a
// result of its own after it. Each prompt therefore carries a uuid, which
// claude echoes in command_lifecycle lines ("queued", "started",
// "completed"): a task's turn is the lines between its prompt's "started"
// and its result; nothing of another turn reaches it. What claude says in
// a turn of its own is told to the task that next uses the session (a
// status event), and logged.
type session struct {
	proc      *process
	log       *zap.Logger
	workspace string
	maxLine   int
	// launchArgs are the auth manager's additions to claude's command line
	// (set once, before the session is shared).
	launchArgs []string
	// keyGen and authFP are the auth manager's KeySourceGeneration and
	// Fingerprint before claude was launched (set once, before the session
	// is shared): claude keeps the key its helper gave as it started (until
	// the helper's TTL or a 401), so a parked claude serves a follow-up only
	// while both are still what they were (serves).
	keyGen, authFP string

	mu        sync.Mutex // guards the fields below
	opts      Options    // what claude runs with now; a turn that needs others needs a new process
	id        string     // claude's session id, from the init line
	turn      *Task      // the task whose turn is in flight; nil when idle
	turnUUID  string     // the uuid of that turn's prompt
	started   bool       // claude has started that prompt (command_lifecycle)
	lifecycle bool       // claude reports command_lifecycle (a fake claude in tests does not: every line is the turn's)
	untold    []string   // what claude said in turns of its own, for the next task
	costSoFar float64
	lines     int // stream lines read so far
	pending   map[string]chan *stream.ControlResponse
	reqSeq    int

	initID   string                  // the id of the initialize request the session opens with (set before the read loop starts)
	initResp *stream.ControlResponse // claude's answer to it, once in
	initLine int                     // lines read when that answer was read (its own included)
	spawned  time.Time               // just before the process started: claude read its command folders after it (claude.commands: a process started before a change to them may list the old commands)

	initDone chan struct{} // closed when claude has answered initialize
	readDone chan struct{} // closed when the read loop has ended
	gone     chan struct{} // closed when nothing of the process is left to wait for: it exited, or was given up on (process.stuck)
	onGone   func(*session)
}

// startSession starts claude tagged with tag; onGone runs once the
// process is gone, before gone is closed.
func startSession(path string, args []string, dir string, env []string, opts Options, tag proctree.Tag, wait waitFunc, maxLine int, log *zap.Logger, onGone func(*session)) (*session, error) {
	spawned := time.Now() // before claude can read anything
	p, err := startProcess(path, args, dir, env, tag, wait)
	if err != nil {
		return nil, err
	}
	s := &session{
		proc:      p,
		spawned:   spawned,
		log:       log.With(zap.Int("pid", p.pid())),
		workspace: dir,
		maxLine:   maxLine,
		opts:      opts,
		pending:   map[string]chan *stream.ControlResponse{},
		initID:    "bridge-init",
		initDone:  make(chan struct{}),
		readDone:  make(chan struct{}),
		gone:      make(chan struct{}),
		onGone:    onGone,
	}
	s.log.Debug("claude started", zap.String("dir", dir), zap.String("tag", string(tag)))
	go s.readLoop()
	go s.watch()
	// The SDKs open with initialize; claude answers with its commands and
	// models (claude.commands reads them, slash.go), and the answer tells
	// when a warm claude is ready (warm.go). No goroutine waits for it:
	// dispatch keeps it. The hooks of the review setting (review.go) are
	// registered here, on a claude started for tasks with review on
	// (opts.ReviewHooks): a process's hooks are part of its launch, so a
	// parked or warm claude serves only turns that want the same
	// (sameLaunch).
	init := map[string]any{"subtype": "initialize"}
	if opts.ReviewHooks {
		init["hooks"] = hooksConfig()
	}
	_ = s.sendControlID(s.initID, init, nil)
	return s, nil
}

// watch waits for the process to exit (its tree is killed by then), reads
// what is left of its output for a bounded time, and closes gone. A
// process given up on (process.stuck) is not waited for: its output is
// closed at once (it holds its stdout until the system lets it go).
func (s *session) watch() {
	select {
	case <-s.proc.exited:
	case <-s.proc.stuck:
	}
	if s.proc.isStuck() {
		s.log.Warn("claude got SIGKILL but has not exited: the system holds it (a read on a hung mount?); no longer waiting for it")
		s.proc.stdout.Close() // the read loop's next read fails: it ends
	} else {
		select {
		case <-s.readDone:
		case <-time.After(drainWait):
			s.log.Warn("claude's output is still open after it exited; closing it")
			s.proc.stdout.Close()
		}
	}
	s.mu.Lock()
	for id, ch := range s.pending {
		close(ch)
		delete(s.pending, id)
	}
	s.mu.Unlock()
	if s.onGone != nil {
		s.onGone(s)
	}
	close(s.gone)
}

// exited reports whether claude has exited.
func (s *session) exited() bool {
	select {
	case <-s.proc.exited:
		return true
	default:
		return false
	}
}

// alive reports whether the process can take another turn: it runs, and
// its output and input are open. It never waits (the pool asks under its
// lock).
func (s *session) alive() bool {
	select {
	case <-s.proc.exited:
		return false
	case <-s.readDone:
		return false
	default:
	}
	return s.proc.in.open()
}

// options is what claude runs with now.
func (s *session) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// serves reports whether the session can take a turn that wants w: the
// same folder and launch options, the conversation w resumes (a session
// with no conversation yet serves a turn that resumes none), and the key
// source and key it was launched with (a claude holding a key of before an
// auth change or a rotation must not send the turn: the wrong account).
func (s *session) serves(w want) bool {
	return s.workspace == w.workspace && s.sessionID() == w.resume && sameLaunch(s.options(), w.opts) &&
		s.keyGen == w.keyGen && s.authFP == w.authFP
}

// begin makes t the session's current turn and sends its prompt.
func (s *session) begin(t *Task, prompt UserMessage) error {
	s.mu.Lock()
	if s.turn != nil {
		s.mu.Unlock()
		return errors.New("session is busy with another task")
	}
	s.turn, s.turnUUID, s.started = t, newUUID(), false
	uuid, id, untold := s.turnUUID, s.id, s.untold
	s.untold = nil
	s.mu.Unlock()
	if id != "" {
		t.setSessionID(id) // a follow-up in this process continues that conversation
	}
	for _, text := range untold {
		t.status(unpromptedMessage(text))
	}
	s.proc.busy()
	return s.sendUser(prompt, uuid)
}

// sendUser writes a user message: a turn's prompt, with the uuid claude
// reports it under, or a message sent into the running turn (it joins the
// turn's next API request; its own uuid, see steer.go and message.go).
func (s *session) sendUser(m UserMessage, uuid string) error {
	return s.proc.write(m.line(uuid))
}

// end detaches t; the session is idle afterwards.
func (s *session) end(t *Task) {
	s.mu.Lock()
	if s.turn == t {
		s.turn, s.turnUUID, s.started = nil, "", false
	}
	s.mu.Unlock()
}

// current is the task the lines claude prints now belong to: the turn in
// flight once claude has started its prompt; nil when idle or while claude
// runs a turn of its own before it.
func (s *session) current() *Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifecycle && !s.started {
		return nil
	}
	return s.turn
}

// lifecycleLine notes where claude is with a prompt, and returns the task
// whose turn is attached (started or not; nil when idle), which learns of
// the messages it sent into its turn (steer.go). A message the task sent
// into its turn that claude starts after the turn's result (measured on
// 2.1.332: it runs a turn of its own for it) starts the task's turn again,
// like its prompt did.
func (s *session) lifecycleLine(l *stream.Line) *Task {
	s.mu.Lock()
	s.lifecycle = true
	t, prompt := s.turn, s.turnUUID
	s.mu.Unlock()
	// sentMessage takes t.mu: never under s.mu.
	if t != nil && l.State == "started" && (l.CommandUUID == prompt || t.sentMessage(l.CommandUUID)) {
		s.mu.Lock()
		if s.turn == t { // still attached: the read loop is the only one to start turns' lines
			s.started = true
		}
		s.mu.Unlock()
	}
	return t
}

// unprompted takes a line of a turn claude runs on its own: its result's
// text goes to the task waiting for its own turn, or the next one to use
// the session.
func (s *session) unprompted(l *stream.Line) {
	if l.Type != "result" {
		s.log.Debug("stream line outside a task's turn", zap.String("type", l.Type), zap.String("subtype", l.Subtype))
		return
	}
	s.addCost(float64(l.TotalCostUSD)) // claude's running total: the next task pays only for its own turn
	s.log.Info("claude ran a turn on its own", zap.String("result", l.Result), zap.Bool("isError", l.IsError))
	if l.Result == "" {
		return
	}
	s.mu.Lock()
	t := s.turn
	if t == nil {
		s.untold = append(s.untold, l.Result)
	}
	s.mu.Unlock()
	if t != nil {
		t.status(unpromptedMessage(l.Result))
	}
}

// unpromptedMessage is the status event that tells a turn of claude's own.
func unpromptedMessage(text string) string {
	const max = 2000
	if len(text) > max {
		text = text[:max] + "…"
	}
	return "Claude ran a turn on its own (a command it had started in the background finished) and said: " + text
}

// sendControl sends a control request; if reply is non-nil it gets the
// answer, or is closed when the process is gone.
func (s *session) sendControl(req map[string]any, reply chan *stream.ControlResponse) error {
	s.mu.Lock()
	s.reqSeq++
	id := fmt.Sprintf("bridge-%d", s.reqSeq)
	s.mu.Unlock()
	return s.sendControlID(id, req, reply)
}

func (s *session) sendControlID(id string, req map[string]any, reply chan *stream.ControlResponse) error {
	if reply != nil {
		s.mu.Lock()
		s.pending[id] = reply
		s.mu.Unlock()
	}
	b, _ := json.Marshal(map[string]any{"type": "control_request", "request_id": id, "request": req})
	if err := s.proc.write(b); err != nil {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return err
	}
	return nil
}

// initialized returns claude's answer to initialize once it is in; nil
// when claude exited first or ctx ended.
func (s *session) initialized(ctx context.Context) *stream.ControlResponse {
	select {
	case <-s.initDone:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.initResp
	case <-s.gone:
		return nil
	case <-ctx.Done():
		return nil
	}
}

// control sends a control request (interrupt, set_permission_mode,
// set_model, ...) and waits for claude's answer, the process's end or ctx.
func (s *session) control(ctx context.Context, req map[string]any) (*stream.ControlResponse, error) {
	reply := make(chan *stream.ControlResponse, 1)
	if err := s.sendControl(req, reply); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-reply:
		if !ok {
			return nil, errors.New("claude exited before it answered")
		}
		if r.Subtype == "error" {
			return r, errors.New(r.Error)
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// interrupt asks claude to stop the turn in flight and waits briefly for it
// to acknowledge.
func (s *session) interrupt(wait time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _ = s.control(ctx, map[string]any{"subtype": "interrupt"})
}

// respond answers a control request from claude.
func (s *session) respond(requestID string, response any, errMsg string) {
	body := map[string]any{"request_id": requestID}
	if errMsg != "" {
		body["subtype"] = "error"
		body["error"] = errMsg
	} else {
		body["subtype"] = "success"
		body["response"] = response
	}
	b, _ := json.Marshal(map[string]any{"type": "control_response", "response": body})
	if err := s.proc.write(b); err != nil {
		s.log.Debug("control response not delivered", zap.Error(err))
	}
}

// readLoop reads claude's stdout until EOF and hands each line on.
func (s *session) readLoop() {
	defer close(s.readDone)
	rd := stream.NewReader(s.proc.stdout, s.maxLine)
	for {
		raw, err := rd.Next()
		if err != nil {
			if errors.Is(err, stream.ErrLineTooLong) {
				s.log.Warn("skipped an over-long stream line", zap.Error(err))
				continue
			}
			if !errors.Is(err, io.EOF) && !s.exited() {
				s.log.Warn("reading claude's output failed", zap.Error(err))
			}
			return
		}
		s.mu.Lock()
		s.lines++
		s.mu.Unlock()
		if d, ok := stream.ParseDelta(raw); ok {
			// Most lines of a streamed answer: read without a generic decode.
			if t := s.current(); t != nil {
				t.streamDelta(d)
			}
			continue
		}
		line, err := stream.Decode(raw)
		if err != nil {
			// Stray text on stdout (a debug print, a crash banner), or a
			// line too deep to decode safely, must never break the task
			// nor reach the editor: log it and read on.
			s.log.Warn("skipped a stream line from claude", zap.Error(err))
		} else {
			s.dispatch(line)
		}
	}
}

func (s *session) dispatch(l *stream.Line) {
	switch l.Type {
	case "control_response":
		if l.Response == nil {
			return
		}
		s.mu.Lock()
		ch := s.pending[l.Response.RequestID]
		delete(s.pending, l.Response.RequestID)
		if l.Response.RequestID == s.initID && s.initResp == nil {
			s.initResp = l.Response
			s.initLine = s.lines
			close(s.initDone)
		}
		s.mu.Unlock()
		if ch != nil {
			ch <- l.Response
		}
		return
	case "command_lifecycle":
		if t := s.lifecycleLine(l); t != nil {
			t.commandLifecycle(l)
		}
		return
	case "control_request":
		t := s.current()
		if t == nil && l.Request != nil && l.Request.Subtype == "hook_callback" {
			// A hook of a turn claude runs on its own (no task of ours):
			// no opinion, so that claude goes on as without the hook.
			s.respond(l.RequestID, map[string]any{}, "")
			return
		}
		if t == nil || l.Request == nil {
			s.respond(l.RequestID, nil, "no task is running in this session")
			return
		}
		if !handledControls[l.Request.Subtype] {
			s.respond(l.RequestID, nil, "claude-bridge does not support control request "+l.Request.Subtype)
			return
		}
		// Registered here, in the order claude sent it, so that its
		// control_cancel_request, read next, finds it.
		ctx, done, ok := t.trackControl(l.RequestID)
		if !ok { // the task has ended: as if no task ran
			if l.Request.Subtype == "hook_callback" {
				s.respond(l.RequestID, map[string]any{}, "")
			} else {
				s.respond(l.RequestID, nil, "no task is running in this session")
			}
			return
		}
		// Asking the editor can take minutes: never on the read loop.
		go t.handleControl(s, l, ctx, done) // ends once answered, withdrawn or ended (endControls)
		return
	case "system":
		if l.Subtype == "init" {
			s.mu.Lock()
			s.id = l.SessionID
			s.mu.Unlock()
		}
	}
	t := s.current()
	if t == nil {
		s.unprompted(l)
		return
	}
	if l.Type == "result" {
		// The turn's last line: what follows (a turn of claude's own that
		// starts at once) is not the task's.
		s.mu.Lock()
		s.started = false
		s.mu.Unlock()
	}
	t.handleLine(s, l)
}

// initLines is the number of stream lines claude had printed when its
// answer to initialize was read (0 before).
func (s *session) initLines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initLine
}

// linesRead is the number of stream lines claude has printed so far.
func (s *session) linesRead() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines
}

// sessionID is claude's id for the conversation ("" before init).
func (s *session) sessionID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// addCost turns claude's running total into the cost of one turn.
func (s *session) addCost(total float64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := total - s.costSoFar
	if d < 0 {
		d = total
	}
	s.costSoFar = total
	return d
}
