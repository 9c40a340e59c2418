package runner

import (
	"context"
	"crypto/rand"
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

	mu        sync.Mutex // guards the fields below
	opts      Options    // what claude runs with now; a turn that needs others needs a new process
	id        string     // claude's session id, from the init line
	turn      *Task      // the task whose turn is in flight; nil when idle
	turnUUID  string     // the uuid of that turn's prompt
	started   bool       // claude has started that prompt (command_lifecycle)
	lifecycle bool       // claude reports command_lifecycle (a fake claude in tests does not: every line is the turn's)
	untold    []string   // what claude said in turns of its own, for the next task
	costSoFar float64
	sawOutput bool
	pending   map[string]chan *stream.ControlResponse
	reqSeq    int

	readDone chan struct{} // closed when the read loop has ended
	gone     chan struct{} // closed when nothing of the process is left
	onGone   func(*session)
}

// startSession starts claude tagged with tag; onGone runs once the
// process is gone, before gone is closed.
func startSession(path string, args []string, dir string, env []string, opts Options, tag proctree.Tag, maxLine int, log *zap.Logger, onGone func(*session)) (*session, error) {
	p, err := startProcess(path, args, dir, env, tag)
	if err != nil {
		return nil, err
	}
	s := &session{
		proc:      p,
		log:       log.With(zap.Int("pid", p.pid())),
		workspace: dir,
		maxLine:   maxLine,
		opts:      opts,
		pending:   map[string]chan *stream.ControlResponse{},
		readDone:  make(chan struct{}),
		gone:      make(chan struct{}),
		onGone:    onGone,
	}
	s.log.Debug("claude started", zap.String("dir", dir), zap.String("tag", string(tag)))
	go s.readLoop()
	go s.watch()
	// The SDKs open with initialize; the answer (claude's command list) is
	// not needed, but sending it keeps claude in the mode the SDKs test.
	_ = s.sendControl(map[string]any{"subtype": "initialize"}, nil)
	return s, nil
}

// watch waits for the process to exit (its tree is killed by then), reads
// what is left of its output for a bounded time, and closes gone.
func (s *session) watch() {
	<-s.proc.exited
	select {
	case <-s.readDone:
	case <-time.After(drainWait):
		s.log.Warn("claude's output is still open after it exited; closing it")
		s.proc.stdout.Close() // the read loop's next read fails: it ends
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

// alive reports whether the process can take another turn: it runs, its
// output is open and it has taken all its input. It never waits (the pool
// asks under its lock).
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
// same folder and launch options, and the conversation w resumes (a
// session with no conversation yet serves a turn that resumes none).
func (s *session) serves(w want) bool {
	return s.workspace == w.workspace && s.sessionID() == w.resume && sameLaunch(s.options(), w.opts)
}

// begin makes t the session's current turn and sends its prompt.
func (s *session) begin(t *Task, prompt string) error {
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
// reports it under.
func (s *session) sendUser(text, uuid string) error {
	msg, _ := json.Marshal(map[string]any{
		"type":               "user",
		"message":            map[string]any{"role": "user", "content": text},
		"parent_tool_use_id": nil,
		"session_id":         "",
		"uuid":               uuid,
	})
	return s.proc.write(msg)
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

// lifecycleLine notes where claude is with a prompt.
func (s *session) lifecycleLine(l *stream.Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifecycle = true
	if s.turn != nil && l.CommandUUID == s.turnUUID && l.State == "started" {
		s.started = true
	}
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

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sendControl sends a control request; if reply is non-nil it gets the
// answer, or is closed when the process is gone.
func (s *session) sendControl(req map[string]any, reply chan *stream.ControlResponse) error {
	s.mu.Lock()
	s.reqSeq++
	id := fmt.Sprintf("bridge-%d", s.reqSeq)
	if reply != nil {
		s.pending[id] = reply
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"type": "control_request", "request_id": id, "request": req})
	if err := s.proc.write(b); err != nil {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return err
	}
	return nil
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
		s.sawOutput = true
		s.mu.Unlock()
		line, err := stream.Decode(raw)
		if err != nil {
			// Stray text on stdout (a debug print, a crash banner), or a
			// line too deep to decode safely, must never break the task
			// nor reach the editor: log it and read on.
			s.log.Warn("skipped a stream line from claude", zap.Error(err))
		} else {
			s.dispatch(line)
		}
		if rd.Buffered() == 0 {
			// Caught up with claude: send the text held back meanwhile.
			if t := s.current(); t != nil {
				t.flushText()
			}
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
		s.mu.Unlock()
		if ch != nil {
			ch <- l.Response
		}
		return
	case "command_lifecycle":
		s.lifecycleLine(l)
		return
	case "control_request":
		t := s.current()
		if t == nil || l.Request == nil {
			s.respond(l.RequestID, nil, "no task is running in this session")
			return
		}
		// Asking the editor can take minutes: never on the read loop.
		go t.handleControl(s, l)
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

// saw reports whether claude has printed anything.
func (s *session) saw() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sawOutput
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
