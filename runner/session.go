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
type session struct {
	proc      *process
	log       *zap.Logger
	workspace string
	maxLine   int

	mu        sync.Mutex // guards the fields below
	opts      Options    // what claude runs with now; a turn that needs others needs a new process
	id        string     // claude's session id, from the init line
	turn      *Task      // the task whose turn is in flight; nil when idle
	costSoFar float64
	sawOutput bool
	pending   map[string]chan *stream.ControlResponse
	reqSeq    int

	readDone chan struct{} // closed when the read loop has ended
	gone     chan struct{} // closed when nothing of the process is left
	onGone   func(*session)

	// claude's answer to initialize (slash.go): set under mu, then initDone
	// is closed.
	initResp json.RawMessage
	initAt   time.Time
	initDone chan struct{}
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
		initDone:  make(chan struct{}),
	}
	s.log.Debug("claude started", zap.String("dir", dir), zap.String("tag", string(tag)))
	go s.readLoop()
	go s.watch()
	// The SDKs open with initialize; claude answers with its commands and
	// models (claude.commands reads them, slash.go).
	s.awaitInitialize()
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

// alive reports whether the process can take another turn.
func (s *session) alive() bool {
	select {
	case <-s.proc.exited:
		return false
	case <-s.readDone:
		return false
	default:
	}
	s.proc.stdinMu.Lock()
	defer s.proc.stdinMu.Unlock()
	return !s.proc.closed
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
func (s *session) begin(t *Task, prompt UserMessage) error {
	s.mu.Lock()
	if s.turn != nil {
		s.mu.Unlock()
		return errors.New("session is busy with another task")
	}
	s.turn = t
	s.mu.Unlock()
	return s.sendUser(prompt, "")
}

// sendUser writes a user message (a turn's prompt; mid-turn, it joins the
// turn's next API request), with uuid when not "" (see message.go).
func (s *session) sendUser(m UserMessage, uuid string) error {
	return s.proc.write(m.line(uuid))
}

// end detaches t; the session is idle afterwards.
func (s *session) end(t *Task) {
	s.mu.Lock()
	if s.turn == t {
		s.turn = nil
	}
	s.mu.Unlock()
}

func (s *session) current() *Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.turn
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
	if t := s.current(); t != nil {
		t.handleLine(s, l)
	} else {
		s.log.Debug("stream line while idle", zap.String("type", l.Type), zap.String("subtype", l.Subtype))
	}
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
