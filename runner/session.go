package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// session is one claude process: one conversation that may run several
// turns (tasks) one after another on the same stdin.
//
// Goroutines: readLoop (owns stdout; ends at EOF, after the process exits)
// and the process's own waiter. The mutex guards the fields below it.
type session struct {
	proc      *process
	log       *zap.Logger
	workspace string
	opts      Options // what claude was started with; a follow-up with others needs a new process
	maxLine   int

	mu        sync.Mutex
	id        string // claude's session id, from the init line
	turn      *Task  // the task whose turn is in flight; nil when idle
	costSoFar float64
	sawOutput bool
	idleTimer *time.Timer
	pending   map[string]chan *stream.ControlResponse
	reqSeq    int

	done   chan struct{} // closed when stdout is drained and the process is gone
	onGone func(*session)
}

// startSession starts claude; onGone runs once the process is gone and its
// output drained, before done is closed.
func startSession(path string, args []string, dir string, env []string, maxLine int, log *zap.Logger, onGone func(*session)) (*session, error) {
	p, err := startProcess(path, args, dir, env)
	if err != nil {
		return nil, err
	}
	s := &session{
		proc:      p,
		log:       log.With(zap.Int("pid", p.pid())),
		workspace: dir,
		maxLine:   maxLine,
		pending:   map[string]chan *stream.ControlResponse{},
		done:      make(chan struct{}),
		onGone:    onGone,
	}
	s.log.Debug("claude started", zap.String("dir", dir))
	go s.readLoop()
	// The SDKs open with initialize; the answer (claude's command list) is
	// not needed, but sending it keeps claude in the mode the SDKs test.
	_ = s.sendControl(map[string]any{"subtype": "initialize"}, nil)
	return s, nil
}

// alive reports whether the process can take another turn.
func (s *session) alive() bool {
	select {
	case <-s.done:
		return false
	case <-s.proc.exited:
		return false
	default:
	}
	s.proc.stdinMu.Lock()
	defer s.proc.stdinMu.Unlock()
	return !s.proc.closed
}

// begin makes t the session's current turn and sends its prompt.
func (s *session) begin(t *Task, prompt string) error {
	s.mu.Lock()
	if s.turn != nil {
		s.mu.Unlock()
		return errors.New("session is busy with another task")
	}
	s.turn = t
	if s.idleTimer != nil {
		s.idleTimer.Stop()
		s.idleTimer = nil
	}
	s.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{
		"type":               "user",
		"message":            map[string]any{"role": "user", "content": prompt},
		"parent_tool_use_id": nil,
		"session_id":         "",
	})
	return s.proc.write(msg)
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

// sendControl sends a control request; if reply is non-nil it gets the answer.
func (s *session) sendControl(req map[string]any, reply chan *stream.ControlResponse) error {
	s.mu.Lock()
	s.reqSeq++
	id := fmt.Sprintf("bridge-%d", s.reqSeq)
	if reply != nil {
		s.pending[id] = reply
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"type": "control_request", "request_id": id, "request": req})
	return s.proc.write(b)
}

// interrupt asks claude to stop the turn in flight and waits briefly for it
// to acknowledge.
func (s *session) interrupt(wait time.Duration) {
	reply := make(chan *stream.ControlResponse, 1)
	if err := s.sendControl(map[string]any{"subtype": "interrupt"}, reply); err != nil {
		return
	}
	select {
	case <-reply:
	case <-s.done:
	case <-time.After(wait):
	}
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
	defer func() {
		<-s.proc.exited
		s.proc.stdout.Close()
		s.mu.Lock()
		t := s.turn
		for id, ch := range s.pending {
			close(ch)
			delete(s.pending, id)
		}
		s.mu.Unlock()
		if s.onGone != nil {
			s.onGone(s)
		}
		close(s.done)
		if t != nil {
			t.processExited(s)
		}
	}()
	rd := stream.NewReader(s.proc.stdout, s.maxLine)
	for {
		raw, err := rd.Next()
		if err != nil {
			if errors.Is(err, stream.ErrLineTooLong) {
				s.log.Warn("skipped an over-long stream line", zap.Error(err))
				continue
			}
			if !errors.Is(err, io.EOF) {
				s.log.Warn("reading claude's output failed", zap.Error(err))
			}
			return
		}
		s.mu.Lock()
		s.sawOutput = true
		s.mu.Unlock()
		line, err := stream.Decode(raw)
		if err != nil {
			// Stray text on stdout (a debug print, a crash banner) must
			// never break the task: log it and read on.
			s.log.Warn("skipped a non-JSON line from claude", zap.Error(err))
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
