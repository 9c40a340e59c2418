package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/internal/quote"
	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/proctree"
	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Auth is the auth manager as the runner uses it: it decorates each claude
// command, vets claude's init, counts a task's HTTP 401s (reset when a
// request gets through again) and explains why a key cannot be had.
// *auth.Manager (runner/auth) implements it; the server hands the runner
// the manager wrapped so that calls wait for its start (server/auth.go).
type Auth interface {
	// Launch is what one claude process working in workspace needs:
	// --settings arguments and its environment (see auth.Launch).
	Launch(workspace string) (auth.Launch, error)
	// CheckInit returns a warning when claude did not take its key from
	// where the manager expected ("" when it did).
	CheckInit(apiKeySource string) string
	// On401 is called for each HTTP 401 retry claude reports for a task;
	// a Decision with Abort stops the task (Err says why).
	On401(ctx context.Context, taskID string) auth.Decision
	// OnTaskSuccess is called when a request of the task got through after
	// a 401, so that later 401s do not count as in a row with earlier ones.
	OnTaskSuccess(taskID string)
	// ForgetTask drops the task's 401 count when it has ended.
	ForgetTask(taskID string)
	// Fingerprint identifies the current key (never the key itself).
	Fingerprint() string
	// KeySourceGeneration identifies, cheaply and without running
	// anything, where a claude launched now gets its key (the auth
	// settings received, the key file's state; see
	// auth.Manager.KeySourceGeneration). A warm claude is used only while
	// it is what it was when the warm claude was launched.
	KeySourceGeneration() string
	// Rotated reports whether the key differs now from the one with the
	// fingerprint given, checking afresh when the last check is older
	// than maxAge.
	Rotated(ctx context.Context, startFingerprint string, maxAge time.Duration) bool
	// Explain says why the key cannot be had, if it cannot ("" when fine).
	Explain() string
	// ClaudeEnv is the environment a launch gives claude when the runner's
	// is base (what Launch's Env would be), for the bridge's own runs of
	// claude outside a task (`claude --version`, ClaudeStatus).
	ClaudeEnv(base []string) []string
}

var _ Auth = (*auth.Manager)(nil)

// Config configures a Manager. Zero values mean the documented defaults.
type Config struct {
	ClaudePath    string        // "" = find it (FindClaude)
	MaxConcurrent int           // tasks running at once, and claude processes alive at once; default 4
	MaxIdle       int           // idle processes (parked for follow-ups, and warm ones) at most; 0: MaxConcurrent, <0: none
	FollowUpIdle  time.Duration // how long a finished conversation's process waits for a follow-up; default 5 min, <0: not at all
	// Prewarm keeps a claude started and initialised ahead of need for the
	// folders given to SetFolders (see warm.go), started with Defaults: a
	// task whose options are these takes it. Off in the zero Config.
	Prewarm      bool
	Defaults     Options       // the options warm claudes are started with (ResumeSession ignored)
	WarmRecycle  time.Duration // a warm claude older than this is replaced; default 10 min
	MaxWarm      int           // warm claudes at most, across folders (one per folder); default 2
	StopGrace    time.Duration // between closing stdin, SIGTERM and SIGKILL; default 2 s
	StartTimeout time.Duration // claude must print something by then; default 60 s
	MaxLine      int           // cap on one stream line; default stream.DefaultMaxLine
	Env          []string      // the child's base environment; nil = os.Environ()
	Auth         Auth          // nil: claude's own authentication
	// Scope tags every claude process (and so everything it starts); nil:
	// a scope of the Manager's own. The binary passes the scope its
	// watchdog sweeps.
	Scope *proctree.Scope
	Log   *zap.Logger
	// Checkpoints keeps the checkpoints of tasks with review afterTurn or
	// beforeWrite, and Snapshots the folders' snapshots that find what
	// Bash commands change (review.go); nil: no checkpoints.
	Checkpoints *checkpoint.Store
	Snapshots   *checkpoint.Snapshots

	wait waitFunc // reaps a claude process; nil: cmd.Wait (tests inject one that holds it)
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 4
	}
	switch {
	case c.MaxIdle == 0:
		c.MaxIdle = c.MaxConcurrent
	case c.MaxIdle < 0:
		c.MaxIdle = 0
	}
	if c.FollowUpIdle == 0 {
		c.FollowUpIdle = 5 * time.Minute
	}
	if c.StopGrace <= 0 {
		// A cancel's reply then comes within 6 s whatever claude does (2 s
		// for the interrupt's answer, 2 s after closing stdin, 2 s after
		// SIGTERM, then SIGKILL; 1 s more for a killed claude the system does
		// not let go, see reapWait): the bound of shutdown (server.shutdownWait).
		c.StopGrace = 2 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.MaxLine <= 0 {
		c.MaxLine = stream.DefaultMaxLine
	}
	if c.WarmRecycle <= 0 {
		c.WarmRecycle = 10 * time.Minute
	}
	if c.MaxWarm <= 0 {
		c.MaxWarm = 2
	}
	c.Defaults.ResumeSession = ""
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// ErrShutdown is returned for tasks submitted after Shutdown.
var ErrShutdown = errors.New("the bridge is shutting down")

// ErrTaskIDTaken is returned for a task whose given id a registered task
// has.
var ErrTaskIDTaken = errors.New("the task id is taken")

// Manager runs tasks: its queue bounds how many run at once, its pool
// keeps finished conversations' processes briefly for follow-ups within a
// budget, its warmer keeps a claude ready per folder (Config.Prewarm), and
// Shutdown cancels everything. It holds the registry of tasks; each task
// runs its own turn loop (Task.run).
type Manager struct {
	queue    *queue
	pool     *pool
	warm     *warmer
	scope    *proctree.Scope
	commands commandCache // claude's slash commands per folder (slash.go)
	checks   claudeChecks // what `claude --version` said, per executable (claudepath.go)

	mu       sync.Mutex // guards the fields below
	config   Config
	tasks    map[string]*Task
	order    []*Task
	closed   bool
	inflight sync.WaitGroup // one per task registered and not yet run to its end
	// seq numbers generated task ids (t1, t2, …); it only grows, so a
	// generated id is never generated again.
	seq int64
	// named are the ids an editor chose (claude.run's taskId,
	// claude.followUp's newTaskId) that have the form of a generated id
	// (t<n>, n past seq), from the moment the request naming them is read
	// (Hold) for the rest of the bridge's life: a generated id skips them,
	// so two tasks never share an id whatever named them, and a follow-up
	// naming an id finds the task the editor meant.
	named map[int64]bool
	// held counts the ids requests in flight name (Hold) before their task
	// is registered.
	held map[string]int
}

// NewManager makes a Manager. On Linux it makes the process a child
// subreaper (see proctree.Subreap), so that what a task leaves behind
// comes back to the bridge to be killed and reaped.
func NewManager(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	if err := proctree.Subreap(); err != nil {
		cfg.Log.Warn("could not become a child subreaper; orphans of a task go to init", zap.Error(err))
	}
	m := &Manager{config: cfg, tasks: map[string]*Task{}, queue: newQueue(cfg.MaxConcurrent), pool: newPool(), scope: cfg.Scope,
		named: map[int64]bool{}, held: map[string]int{}}
	if m.scope == nil {
		m.scope = proctree.NewScope()
	}
	m.pool.configure(cfg.MaxConcurrent, cfg.MaxIdle, cfg.FollowUpIdle, cfg.StopGrace)
	m.warm = newWarmer(m)
	return m
}

func (m *Manager) cfg() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.config
}

// Reconfigure replaces the configuration; running tasks keep theirs except
// for the limits, which apply at once: more tasks may start, and idle
// processes past the new budget are stopped. Warm claudes started under
// another launch configuration are replaced.
func (m *Manager) Reconfigure(cfg Config) {
	cfg = cfg.withDefaults()
	m.mu.Lock()
	old := m.config
	m.config = cfg
	m.mu.Unlock()
	m.queue.setLimit(cfg.MaxConcurrent)
	m.pool.configure(cfg.MaxConcurrent, cfg.MaxIdle, cfg.FollowUpIdle, cfg.StopGrace)
	m.commands.forget()
	if !sameWarmLaunch(old, cfg) {
		m.warm.recycle()
	}
	m.warm.poke()
}

// sameWarmLaunch reports whether a warm claude started under a is one b
// would start.
func sameWarmLaunch(a, b Config) bool {
	return a.ClaudePath == b.ClaudePath && a.MaxLine == b.MaxLine && sameAuth(a.Auth, b.Auth) &&
		strings.Join(a.Env, "\x00") == strings.Join(b.Env, "\x00") && sameLaunch(a.Defaults, b.Defaults)
}

// sameAuth compares two auth managers by identity (false for a type that
// cannot be compared).
func sameAuth(a, b Auth) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// SetFolders gives the workspace folders (absolute paths, in the editor's
// order) that get a warm claude when Config.Prewarm is on: at most
// Config.MaxWarm of them, those of the most recent tasks first.
func (m *Manager) SetFolders(folders []string) { m.warm.setFolders(folders) }

// RecycleWarm replaces every warm claude (the auth settings changed).
func (m *Manager) RecycleWarm() { m.warm.recycle() }

// RecheckWarm replaces the warm claudes whose key is no longer the auth
// manager's (Auth.Fingerprint), and retries at once where they failed (the
// key source changed, or works again).
func (m *Manager) RecheckWarm() { m.warm.recheck() }

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
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

// Cancel cancels a task by id; false if unknown, already ended or its
// result already in.
func (m *Manager) Cancel(id string) bool {
	if t := m.Get(id); t != nil {
		return t.Cancel()
	}
	return false
}

// Hold reserves an id an editor names for a task it is about to ask for
// (claude.run's taskId, claude.followUp's newTaskId), from the moment the
// request is read until release is called (when the request is answered):
// meanwhile no generated id is that id, and an id of the generated form
// (t<n>) is skipped by generated ids for good. Registering the task itself
// is NewTask's, which refuses an id a registered task has.
func (m *Manager) Hold(id string) (release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noteNamed(id)
	m.held[id]++
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.held[id]--; m.held[id] <= 0 {
				delete(m.held, id)
			}
		})
	}
}

// noteNamed records an editor-chosen id that a generated id could equal.
// Called with mu held.
func (m *Manager) noteNamed(id string) {
	if n, ok := generatedNumber(id); ok && n > m.seq {
		m.named[n] = true
	}
}

// generatedNumber is n when id is spelled as the generated id t<n> (no
// sign, no leading zero).
func generatedNumber(id string) (int64, bool) {
	digits, ok := strings.CutPrefix(id, "t")
	if !ok || digits == "" || digits[0] == '0' {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil
}

// newID generates a task id: t1, t2, … skipping every id a task has, a
// request holds or an editor ever named, and every id a checkpoint on
// disk has (checkpoints outlive the bridge: an earlier run's t1 must stay
// the one `claude-bridge revert t1` and claude.changes find). The ids stay
// short to type; they grow past those of the checkpoints kept (30 days at
// most). Called with mu held.
func (m *Manager) newID() string {
	taken := func(string) bool { return false }
	if m.config.Checkpoints != nil {
		taken = m.config.Checkpoints.Taken()
	}
	for {
		m.seq++
		if m.named[m.seq] {
			delete(m.named, m.seq) // passed for good: seq only grows
			continue
		}
		id := "t" + strconv.FormatInt(m.seq, 10)
		if m.tasks[id] == nil && m.held[id] == 0 && !taken(id) {
			return id
		}
	}
}

// NewTask registers a task without starting it, so that its id is known to
// cancel routes before Run is called. Every task registered must be Run.
// An empty spec.ID gets a generated one (newID); a given one must not be
// a registered task's.
func (m *Manager) NewTask(spec Spec, obs Observer) (*Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrShutdown
	}
	spec.ReviewHooks = HooksFor(spec.Review)
	if spec.ID == "" {
		spec.ID = m.newID()
	} else if m.tasks[spec.ID] != nil {
		return nil, fmt.Errorf("%w: a task with id %s exists", ErrTaskIDTaken, quote.String(spec.ID))
	} else {
		m.noteNamed(spec.ID)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	t := &Task{
		ID: spec.ID, Spec: spec, mgr: m, obs: obs,
		log:    m.config.Log.With(zap.String("task", spec.ID)),
		ctx:    ctx,
		cancel: cancel,
		state:  StateQueued, created: time.Now(),
		allowTools: map[string]bool{}, editedSet: map[string]bool{},
		results: make(chan *stream.Line, 1), wake: make(chan struct{}, 1),
	}
	m.tasks[t.ID] = t
	m.order = append(m.order, t)
	m.inflight.Add(1)
	return t, nil
}

// Run runs a registered task to its end and returns its single outcome.
// Cancelling ctx cancels the task. It returns once the task's claude
// process is parked for a follow-up or gone.
func (m *Manager) Run(ctx context.Context, t *Task) Outcome {
	defer m.inflight.Done()
	stop := context.AfterFunc(ctx, func() { t.Cancel() })
	defer stop()
	return t.run()
}

// FollowUpSession finds the conversation to continue: a task id or a
// session id (both: the task's must be that session). It refuses a task
// that is still running.
func (m *Manager) FollowUpSession(taskID, sessionID string) (sess string, workspace string, roots []string, err error) {
	if taskID != "" {
		t := m.Get(taskID)
		if t == nil {
			return "", "", nil, fmt.Errorf("no task %s", quote.String(taskID))
		}
		in := t.Info()
		if !in.State.Terminal() {
			return "", "", nil, fmt.Errorf("task %s is still %s; wait for it or cancel it first", quote.String(taskID), in.State)
		}
		if in.SessionID == "" {
			return "", "", nil, fmt.Errorf("task %s has no conversation to continue (claude never started it)", quote.String(taskID))
		}
		if sessionID != "" && sessionID != in.SessionID {
			return "", "", nil, fmt.Errorf("task %s is the conversation %s, not the sessionId %s: send one of them",
				quote.String(taskID), quote.String(in.SessionID), quote.String(sessionID))
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

// Shutdown cancels every task, stops every idle process and waits until
// every task has ended and every claude process is gone, or ctx ends.
func (m *Manager) Shutdown(ctx context.Context) error {
	// Everything before the wait is quick (no lock of the pool, the queue
	// or a task is held across a write or a wait), but ctx bounds it all
	// the same.
	ended := make(chan struct{})
	go func() { // ends when the last task's Run returns
		m.mu.Lock()
		m.closed = true
		tasks := append([]*Task(nil), m.order...)
		m.mu.Unlock()
		m.warm.cancel() // no more warm claudes; the pool stops those there are
		m.pool.close()
		for _, t := range tasks {
			t.Cancel()
		}
		m.inflight.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-ctx.Done():
		return ctx.Err()
	}
	// A task whose result was in when the cancel came parked nothing
	// (the pool is closed): its process is on its way out.
	m.pool.stopAll()
	err := m.pool.wait(ctx)
	// The last sweep: every orphan the bridge adopted (whatever task it
	// came from) goes before the bridge does.
	_, _ = proctree.SweepOrphans()
	return err
}

// Kill sends SIGKILL to every claude process group, to everything carrying
// their tags and to every orphan the bridge adopted, at once: the last
// resort when Shutdown ran out of time.
func (m *Manager) Kill() {
	m.pool.kill()
	_, _ = proctree.SweepOrphans()
}

// Live is the number of claude processes that have not yet exited.
func (m *Manager) Live() int { return m.pool.stats().Live }

// Stats counts the claude processes: live, busy, idle, warm and the budgets.
func (m *Manager) Stats() PoolStats { return m.pool.stats() }
