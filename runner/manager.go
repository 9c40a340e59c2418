package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Auth is what an authentication manager does for the runner: decorate each
// claude command, vet claude's init, react to 401s and explain failures.
// runner/auth implements it.
type Auth interface {
	Launch() (Launch, error)
	// CheckInit returns a warning when claude did not take its key from
	// where the manager expected.
	CheckInit(apiKeySource string) string
	// On401 is called for each HTTP 401 retry claude reports for a task.
	On401(ctx context.Context, taskID string) AuthDecision
	// TaskEnded lets the manager forget the task's 401 count.
	TaskEnded(taskID string)
	// Fingerprint identifies the current key (never the key itself).
	Fingerprint() string
	// Rotated reports whether the key differs now from the one with the
	// fingerprint given (checking afresh when needed).
	Rotated(ctx context.Context, startFingerprint string) bool
	// Explain says why the key cannot be had, if it cannot ("" when fine).
	Explain() string
}

// AuthDecision is the auth manager's answer to a 401.
type AuthDecision struct {
	Message string // a progress message for the user
	Abort   bool   // stop the task now instead of letting claude retry
	Reason  string // why, naming the key source and the fix
}

// Config configures a Manager. Zero values mean the documented defaults.
type Config struct {
	ClaudePath    string        // "" = find it (FindClaude)
	MaxConcurrent int           // default 4
	FollowUpIdle  time.Duration // how long a finished conversation's process waits for a follow-up; default 5 min, <0: not at all
	StopGrace     time.Duration // between closing stdin, SIGTERM and SIGKILL; default 5 s
	StartTimeout  time.Duration // claude must print something by then; default 60 s
	MaxLine       int           // cap on one stream line; default stream.DefaultMaxLine
	Env           []string      // the child's base environment; nil = os.Environ()
	Auth          Auth          // nil: claude's own authentication
	Log           *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 4
	}
	if c.FollowUpIdle == 0 {
		c.FollowUpIdle = 5 * time.Minute
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.MaxLine <= 0 {
		c.MaxLine = stream.DefaultMaxLine
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// ErrShutdown is returned for tasks submitted after Shutdown.
var ErrShutdown = errors.New("the bridge is shutting down")

// Manager runs tasks: it queues them past the concurrency limit, keeps
// finished conversations' processes briefly for follow-ups, and cancels
// everything on shutdown.
type Manager struct {
	mu       sync.Mutex // guards everything below
	config   Config
	tasks    map[string]*Task
	order    []*Task
	running  int
	queue    []*Task
	idle     map[string]*session // by claude session id
	live     map[*session]bool   // every claude process not yet gone
	closed   bool
	inflight sync.WaitGroup
	seq      atomic.Int64
}

// NewManager makes a Manager.
func NewManager(cfg Config) *Manager {
	return &Manager{config: cfg.withDefaults(), tasks: map[string]*Task{}, idle: map[string]*session{}, live: map[*session]bool{}}
}

func (m *Manager) cfg() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.config
}

// Reconfigure replaces the configuration; running tasks keep theirs except
// for the concurrency limit, which applies to the queue at once.
func (m *Manager) Reconfigure(cfg Config) {
	m.mu.Lock()
	m.config = cfg.withDefaults()
	m.mu.Unlock()
	m.grantSlots()
}

// ClaudePath resolves the claude executable with the current configuration.
func (m *Manager) ClaudePath() (string, error) {
	c := m.cfg()
	return FindClaude(c.ClaudePath, envLookup(c.Env))
}

func envLookup(env []string) func(string) string {
	if env == nil {
		return os.Getenv
	}
	return func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
}

// Get finds a task by id.
func (m *Manager) Get(id string) *Task {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasks[id]
}

// Tasks lists all tasks, oldest first.
func (m *Manager) Tasks() []Info {
	m.mu.Lock()
	order := append([]*Task(nil), m.order...)
	m.mu.Unlock()
	out := make([]Info, 0, len(order))
	for _, t := range order {
		out = append(out, t.Info())
	}
	return out
}

// keepFinished is how many finished tasks claude.tasks still lists; older
// ones are forgotten so a long editor session does not grow without bound.
const keepFinished = 200

// forgetOld drops the oldest finished tasks past keepFinished.
func (m *Manager) forgetOld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	finished := 0
	for _, t := range m.order {
		if t.State().Terminal() {
			finished++
		}
	}
	if finished <= keepFinished {
		return
	}
	kept := m.order[:0]
	for _, t := range m.order {
		if finished > keepFinished && t.State().Terminal() {
			delete(m.tasks, t.ID)
			finished--
			continue
		}
		kept = append(kept, t)
	}
	m.order = kept
}

// Cancel cancels a task by id; false if unknown or already ended.
func (m *Manager) Cancel(id string) bool {
	if t := m.Get(id); t != nil {
		return t.Cancel()
	}
	return false
}

// NewTask registers a task without starting it, so that its id is known to
// cancel routes before Run is called.
func (m *Manager) NewTask(spec Spec, obs Observer) (*Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrShutdown
	}
	if spec.ID == "" {
		spec.ID = fmt.Sprintf("t%d", m.seq.Add(1))
	} else if m.tasks[spec.ID] != nil {
		return nil, fmt.Errorf("a task with id %q already exists", spec.ID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Task{
		ID: spec.ID, Spec: spec, mgr: m, obs: obs,
		log:    m.config.Log.With(zap.String("task", spec.ID)),
		ctx:    ctx,
		cancel: cancel,
		state:  StateQueued, created: time.Now(),
		allowTools: map[string]bool{}, editedSet: map[string]bool{},
		slot: make(chan struct{}), turnEnd: make(chan *stream.Line, 1),
	}
	m.tasks[t.ID] = t
	m.order = append(m.order, t)
	m.inflight.Add(1)
	return t, nil
}

// Run runs a registered task to its end and returns its single outcome.
// Cancelling ctx cancels the task.
func (m *Manager) Run(ctx context.Context, t *Task) Outcome {
	defer m.inflight.Done()
	stop := context.AfterFunc(ctx, func() { t.Cancel() })
	defer stop()
	out, slot := m.run(t)
	t.mu.Lock()
	out.TaskID = t.ID
	out.EditedFiles = append([]string(nil), t.edited...)
	if out.SessionID == "" {
		out.SessionID = t.sessionID
	}
	t.state = out.Status
	t.endedAt = time.Now()
	t.outcome = &out
	t.mu.Unlock()
	m.forgetOld()
	if a := m.cfg().Auth; a != nil {
		a.TaskEnded(t.ID)
	}
	t.emit(Event{Kind: EventResult, Outcome: &out})
	if slot {
		// Only now: the next task in the queue starts after this one's result.
		m.release()
	}
	t.cancel()
	// The read loop let go of the task when its turn ended (session.end):
	// drop what only the turn needed, the whole streamed text included.
	t.texts, t.tools = nil, nil
	return out
}

// run runs the task's attempts; slot reports whether it holds a slot of
// the queue, which Run gives back after the result event.
func (m *Manager) run(t *Task) (out Outcome, slot bool) {
	start := time.Now()
	cancelled := func() Outcome {
		return Outcome{Status: StateCancelled, Result: "Cancelled", IsError: true, DurationMs: time.Since(start).Milliseconds()}
	}
	pos, waiting := m.enqueue(t)
	t.emit(Event{Kind: EventQueued, Queued: &Queued{Prompt: t.Spec.Prompt, Workspace: t.Spec.Workspace, Position: pos, Waiting: waiting}})
	select {
	case <-t.slot:
	case <-t.ctx.Done():
		m.dequeue(t)
		return cancelled(), false
	}

	for attempt := 1; ; attempt++ {
		fp := ""
		if a := m.cfg().Auth; a != nil {
			fp = a.Fingerprint()
		}
		out = m.turn(t, start)
		if out.Status != StateFailed || !t.authFailure(out) || attempt >= 3 {
			break
		}
		a := m.cfg().Auth
		if a == nil || !a.Rotated(t.ctx, fp) {
			break
		}
		// The key changed while this attempt failed on it: go again, in the
		// same conversation when claude got far enough to have one.
		t.mu.Lock()
		t.failReason, t.authAborted = "", false
		if t.sessionID != "" {
			t.Spec.ResumeSession = t.sessionID
		}
		t.mu.Unlock()
		t.status(fmt.Sprintf("The API key changed; running the task again (attempt %d of 3)", attempt+1))
	}
	return out, true
}

// authFailure reports whether the attempt failed because of the API key.
func (t *Task) authFailure(out Outcome) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.authAborted || out.apiStatus == 401
}

// turn runs one attempt: get a claude process, send the prompt, wait for the
// result, the process's end or a cancel.
func (m *Manager) turn(t *Task, start time.Time) Outcome {
	cfg := m.cfg()
	fail := func(reason string) Outcome {
		return Outcome{Status: StateFailed, Result: reason, IsError: true, DurationMs: time.Since(start).Milliseconds()}
	}
	if t.ctx.Err() != nil {
		return Outcome{Status: StateCancelled, Result: "Cancelled", IsError: true, DurationMs: time.Since(start).Milliseconds()}
	}
	t.setState(StateStarting)
	t.emit(Event{Kind: EventActivity, Message: "Starting claude"})
	s, err := m.sessionFor(t, cfg)
	if err != nil {
		return fail(err.Error())
	}
	t.mu.Lock()
	t.sess = s
	t.lastSession = s
	t.startedAt = time.Now()
	t.mu.Unlock()
	if err := s.begin(t, t.Spec.Prompt); err != nil {
		s.proc.stop(cfg.StopGrace)
		return fail("could not send the prompt to claude: " + err.Error())
	}
	t.setState(StateRunning)

	silence := time.NewTimer(cfg.StartTimeout)
	defer silence.Stop()
	var result *stream.Line
	exited := false
wait:
	for {
		select {
		case l := <-t.turnEnd:
			if l == nil {
				exited = true
			}
			result = l
			break wait
		case <-t.ctx.Done():
			// Cancel: interrupt, close stdin, then SIGTERM and SIGKILL to the
			// group, each after StopGrace. Run returns once claude is gone.
			s.interrupt(min(cfg.StopGrace, 2*time.Second))
			s.proc.stop(cfg.StopGrace)
			<-s.done
			s.end(t)
			return Outcome{Status: StateCancelled, Result: "Cancelled", IsError: true, SessionID: s.sessionID(), DurationMs: time.Since(start).Milliseconds()}
		case <-silence.C:
			s.mu.Lock()
			saw := s.sawOutput
			s.mu.Unlock()
			if !saw {
				t.abort(fmt.Sprintf("claude printed nothing for %s after it started; stopped it", cfg.StartTimeout), false)
			}
		}
	}
	s.end(t)
	t.mu.Lock()
	reason := t.failReason
	t.mu.Unlock()

	if exited || reason != "" {
		// claude is gone (or going): make sure, so no process outlives its task.
		s.proc.stop(cfg.StopGrace)
		<-s.done
	}
	if t.cancelled() {
		return Outcome{Status: StateCancelled, Result: "Cancelled", IsError: true, SessionID: s.sessionID(), DurationMs: time.Since(start).Milliseconds()}
	}
	if reason != "" {
		return fail(reason)
	}
	if exited {
		msg := "claude " + s.proc.exitDescription() + " before it finished the task"
		if tail := s.proc.stderr.lastLines(3); tail != "" {
			msg += ": " + tail
		}
		if a := cfg.Auth; a != nil {
			if why := a.Explain(); why != "" && strings.Contains(msg, "apiKeyHelper") {
				msg += " (" + why + ")"
			}
		}
		return fail(msg)
	}
	out := Outcome{
		Status:     StateCompleted,
		SessionID:  result.SessionID,
		Result:     result.Result,
		IsError:    result.IsError,
		CostUSD:    s.addCost(result.TotalCostUSD),
		DurationMs: result.DurationMs,
		NumTurns:   result.NumTurns,
	}
	if result.IsError {
		out.Status = StateFailed
		if out.Result == "" {
			out.Result = "claude ended with " + result.Subtype
		}
		if result.APIErrorStatus != nil {
			out.apiStatus = *result.APIErrorStatus
			if out.apiStatus == 401 && cfg.Auth != nil {
				if why := cfg.Auth.Explain(); why != "" {
					out.Result = "Authentication failed: " + why + " (claude said: " + out.Result + ")"
				}
			}
		}
	}
	m.park(s, cfg)
	return out
}

// sessionFor returns the process for the task's turn: the conversation's
// idle process when it has one, else a new claude.
func (m *Manager) sessionFor(t *Task, cfg Config) (*session, error) {
	if id := t.Spec.ResumeSession; id != "" {
		m.mu.Lock()
		s := m.idle[id]
		delete(m.idle, id)
		m.mu.Unlock()
		if s != nil && s.alive() && sameLaunch(s.opts, t.Spec.Options) {
			t.log.Debug("reusing idle claude process", zap.String("session", id))
			return s, nil
		}
		if s != nil {
			// Other options (model, permission mode, tools) need a new claude,
			// which resumes the same conversation.
			go s.proc.stop(cfg.StopGrace)
		}
	}
	path, err := FindClaude(cfg.ClaudePath, envLookup(cfg.Env))
	if err != nil {
		return nil, err
	}
	var extra []string
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	env = append([]string(nil), env...)
	if cfg.Auth != nil {
		l, err := cfg.Auth.Launch()
		if err != nil {
			return nil, fmt.Errorf("authentication is not ready: %w", err)
		}
		extra = l.Args
		if l.Env != nil {
			env = l.Env(env)
		}
	}
	args := BuildArgs(t.Spec.Options, extra)
	// Registered under the lock before it can be gone, so Live and Kill see
	// every process.
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := startSession(path, args, t.Spec.Workspace, env, cfg.MaxLine, t.log, func(s *session) {
		m.mu.Lock()
		delete(m.live, s)
		m.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("could not start claude (%s): %w", path, err)
	}
	s.opts = t.Spec.Options
	m.live[s] = true
	return s, nil
}

// sameLaunch reports whether a process started with a can serve a turn
// that asks for b (the session to resume aside).
func sameLaunch(a, b Options) bool {
	return a.Model == b.Model && a.PermissionMode == b.PermissionMode &&
		strings.Join(a.AllowedTools, ",") == strings.Join(b.AllowedTools, ",") &&
		strings.Join(a.DisallowedTools, ",") == strings.Join(b.DisallowedTools, ",")
}

// park keeps a finished conversation's process for a follow-up, or ends it.
func (m *Manager) park(s *session, cfg Config) {
	id := s.sessionID()
	if cfg.FollowUpIdle < 0 || id == "" || !s.alive() {
		go s.proc.stop(cfg.StopGrace)
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		go s.proc.stop(cfg.StopGrace)
		return
	}
	if old := m.idle[id]; old != nil && old != s {
		go old.proc.stop(cfg.StopGrace)
	}
	m.idle[id] = s
	s.mu.Lock()
	s.idleTimer = time.AfterFunc(cfg.FollowUpIdle, func() {
		m.mu.Lock()
		mine := m.idle[id] == s
		if mine {
			delete(m.idle, id)
		}
		m.mu.Unlock()
		// A follow-up that took the process just before the timer fired
		// keeps it.
		if mine {
			s.proc.stop(cfg.StopGrace)
		}
	})
	s.mu.Unlock()
	m.mu.Unlock()
}

// FollowUpSession finds the conversation to continue: a task id or a
// session id. It refuses a task that is still running.
func (m *Manager) FollowUpSession(taskID, sessionID string) (sess string, workspace string, roots []string, err error) {
	if taskID != "" {
		t := m.Get(taskID)
		if t == nil {
			return "", "", nil, fmt.Errorf("no task %q", taskID)
		}
		in := t.Info()
		if !in.State.Terminal() {
			return "", "", nil, fmt.Errorf("task %s is still %s; wait for it or cancel it first", taskID, in.State)
		}
		if in.SessionID == "" {
			return "", "", nil, fmt.Errorf("task %s has no conversation to continue (claude never started it)", taskID)
		}
		return in.SessionID, in.Workspace, t.Spec.Roots, nil
	}
	if sessionID == "" {
		return "", "", nil, errors.New("followUp needs a taskId or a sessionId")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.order) - 1; i >= 0; i-- {
		t := m.order[i]
		if t.SessionID() == sessionID {
			if st := t.State(); !st.Terminal() {
				return "", "", nil, fmt.Errorf("task %s of that session is still %s", t.ID, st)
			}
			return sessionID, t.Spec.Workspace, t.Spec.Roots, nil
		}
	}
	return sessionID, "", nil, nil
}

// enqueue takes a slot at once or joins the queue; it returns the number of
// tasks ahead (running and queued) and whether the task has to wait.
func (m *Manager) enqueue(t *Task) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running < m.config.MaxConcurrent && len(m.queue) == 0 {
		m.running++
		close(t.slot)
		return 0, false
	}
	m.queue = append(m.queue, t)
	return m.running + len(m.queue) - 1, true
}

func (m *Manager) dequeue(t *Task) {
	m.mu.Lock()
	for i, q := range m.queue {
		if q == t {
			m.queue = append(m.queue[:i], m.queue[i+1:]...)
			m.mu.Unlock()
			return
		}
	}
	m.mu.Unlock()
	// It was granted a slot in the meantime: give it back.
	select {
	case <-t.slot:
		m.release()
	default:
	}
}

func (m *Manager) release() {
	m.mu.Lock()
	m.running--
	m.mu.Unlock()
	m.grantSlots()
}

func (m *Manager) grantSlots() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.running < m.config.MaxConcurrent && len(m.queue) > 0 {
		t := m.queue[0]
		m.queue = m.queue[1:]
		m.running++
		close(t.slot)
	}
}

// Shutdown cancels every task, ends every idle process and waits until all
// claude processes are gone or ctx ends.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	tasks := append([]*Task(nil), m.order...)
	idle := make([]*session, 0, len(m.idle))
	for _, s := range m.idle {
		idle = append(idle, s)
	}
	m.idle = map[string]*session{}
	grace := m.config.StopGrace
	m.mu.Unlock()
	for _, t := range tasks {
		t.Cancel()
	}
	var wg sync.WaitGroup
	for _, s := range idle {
		wg.Add(1)
		go func() { defer wg.Done(); s.proc.stop(grace); <-s.done }()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		m.inflight.Wait()
		// Processes already on their way out (a finished task's, say):
		// shutdown returns only once every one is gone.
		m.mu.Lock()
		live := make([]*session, 0, len(m.live))
		for s := range m.live {
			live = append(live, s)
		}
		m.mu.Unlock()
		for _, s := range live {
			go s.proc.stop(grace)
			<-s.done
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Kill sends SIGKILL to every claude process group at once: the last
// resort when Shutdown ran out of time.
func (m *Manager) Kill() {
	m.mu.Lock()
	live := make([]*session, 0, len(m.live))
	for s := range m.live {
		live = append(live, s)
	}
	m.mu.Unlock()
	for _, s := range live {
		s.proc.signal(syscall.SIGKILL)
	}
}

// Live is the number of claude processes that have not yet exited.
func (m *Manager) Live() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.live)
}

// Queued reports the task ids waiting for a slot, first first.
func (m *Manager) Queued() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, len(m.queue))
	for i, t := range m.queue {
		ids[i] = t.ID
	}
	return ids
}
