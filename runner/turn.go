package runner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// run is the task's whole life, on the caller's goroutine: wait for a
// slot, run the attempts, finish. It returns the single outcome.
func (t *Task) run() Outcome {
	start := time.Now()
	q := t.mgr.queue
	tk, ahead, waits := q.enter()
	defer q.leave(tk) // also on a panic; finish gives the slot back first
	t.emit(Event{Kind: EventQueued, Queued: &Queued{Prompt: t.Spec.Prompt, Workspace: t.Spec.Workspace, Position: ahead, Waiting: waits}})
	t.beginCheckpoint()
	var out Outcome
	select {
	case <-tk.granted:
		out = t.attempts(start)
	case <-t.ctx.Done():
		out = t.verdict(turnFacts{}, start)
	}
	return t.finish(out, func() { q.leave(tk) })
}

// rotatedMaxAge is how old the auth manager's last check may be when an
// attempt that failed on the key asks whether the key has changed since.
const rotatedMaxAge = 2 * time.Second

// attempts runs the turn, and runs it again (up to 3 times, in the same
// conversation when there is one) when it failed on an API key that has
// changed since.
func (t *Task) attempts(start time.Time) Outcome {
	for attempt := 1; ; attempt++ {
		a := t.mgr.cfg().Auth
		fp := ""
		if a != nil {
			fp = a.Fingerprint()
		}
		out := t.turn(start, fp)
		if out.Status != StateFailed || !t.authFailure(out) || attempt >= 3 || a == nil || !a.Rotated(t.ctx, fp, rotatedMaxAge) {
			return out
		}
		if !t.nextAttempt() {
			return out
		}
		t.status(fmt.Sprintf("The API key changed; running the task again (attempt %d of 3)", attempt+1))
	}
}

// authFailure reports whether the attempt failed because of the API key.
func (t *Task) authFailure(out Outcome) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.authAborted || out.apiStatus == 401
}

// nextAttempt resets what one attempt decided, resuming the conversation
// claude got far enough to have; false when a cancel came meanwhile.
func (t *Task) nextAttempt() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lateCancel || t.cancelRequested {
		return false
	}
	t.failReason, t.authAborted, t.resultIn = "", false, false
	if t.sessionID != "" {
		t.Spec.ResumeSession = t.sessionID
	}
	return true
}

// turnFacts is what one attempt saw; verdict turns it into the outcome.
type turnFacts struct {
	sess      *session
	result    *stream.Line // the result line, if one came
	exited    bool         // claude exited before a result
	startFail string       // claude could not be started
}

// apiWait is how long a claude that has sent an API request must print
// nothing to count as waiting for the API (see warmer.hold).
const apiWait = 100 * time.Millisecond

// inputWrittenWait is how long a turn that ended cleanly waits for claude's
// stdin to be marked written before it parks the process: claude answers
// a line (an interrupt, then its result) as soon as it has read it, which
// can be before the writer has counted it written (measured with a 20 ms
// delay after the write: the interrupted claude was stopped, not parked,
// 3 times in 5). A claude not reading its input is not parked.
const inputWrittenWait = time.Second

// keptAnswerWait is how long a claude kept waiting that a task took (a
// warm one, or one parked for a follow-up) has, once it has answered
// initialize and the prompt is written, to print its first line: one that
// prints nothing by then is taken for hung (alive but not reading:
// SIGSTOPped past the check before it was taken, or stuck) and the task
// starts a claude of its own. Measured on claude 2.1.332 against
// testdata/fakeapi, a ready claude prints its command_lifecycle line for
// the prompt 10 to 110 ms after it (on 2 cores at a load of 10), its init
// line 150 to 600 ms after, and sends the API request only after that: one
// that printed nothing has sent nothing, so the prompt goes to the API
// once, from the claude started in its place.
const keptAnswerWait = 3 * time.Second

// turn runs one attempt: get a claude process, send the prompt, wait for
// the result, the process's end, a cancel or an abort. Whatever happens,
// the process ends parked (a result came and nothing is wrong) or gone.
// fp is the auth manager's key fingerprint as the attempt began.
//
// A warm claude (warm.go) is checked before use and, should it fail before
// the turn's first stream line (it died while it waited, or the prompt
// could not be written), the turn starts a claude of its own instead: a
// task never fails because of a warm claude.
func (t *Task) turn(start time.Time, fp string) Outcome {
	cfg := t.mgr.cfg()
	if t.ctx.Err() != nil {
		return t.verdict(turnFacts{}, start)
	}
	t.setState(StateStarting)
	t.mgr.warm.used(t.Spec.Workspace)
	w := want{workspace: t.Spec.Workspace, resume: t.Spec.ResumeSession, opts: t.Spec.Options, authFP: fp}
	if cfg.Auth != nil {
		w.keyGen = cfg.Auth.KeySourceGeneration()
	}
	// No warm claude starts beside the claude this turn starts or takes,
	// until it waits for the API (await) or the task ends.
	t.mgr.warm.hold(t)
	t.starting.Store(true)
	for {
		s, how, wp, err := t.mgr.pool.acquire(t.ctx, w, t.launcher(cfg))
		if err != nil {
			return t.verdict(turnFacts{startFail: err.Error()}, start)
		}
		switch how {
		case acquiredIdle:
			t.log.Debug("reusing an idle claude process", zap.String("session", t.Spec.ResumeSession))
			t.starting.Store(false) // nothing starts
			t.mgr.warm.release(t)
		case acquiredWarm:
			if why := t.mgr.warm.check(t.ctx, wp, s, cfg, fp); why != "" {
				t.log.Debug("not using the warm claude", zap.String("why", why))
				t.mgr.pool.discard(s)
				w.noWarm = true
				continue
			}
			t.mgr.warm.healthy(wp.folder)
			t.log.Debug("using the warm claude", zap.Int("pid", s.proc.pid()), zap.Duration("age", time.Since(wp.started)))
		}
		out, again := t.turnOn(s, how, cfg, start)
		if !again {
			return out
		}
		t.log.Info("the claude kept waiting failed before the turn began; starting claude for the task", zap.Bool("warm", how == acquiredWarm))
		w.noWarm = true
	}
}

// turnOn runs the turn on s. again is true when s was a claude kept
// waiting (warm, or parked for a follow-up) that failed before the turn's
// first stream line, and is gone: the turn is to be run on a claude of its
// own (a follow-up's resuming the conversation).
func (t *Task) turnOn(s *session, how acquired, cfg Config, start time.Time) (out Outcome, again bool) {
	t.mu.Lock()
	t.sess = s
	t.startedAt = time.Now()
	t.mu.Unlock()
	t.turnLines.Store(0)
	t.requested.Store(false)
	// The silence check counts claude's lines from here; a parked process
	// taking a follow-up is not checked (it has printed before). A claude
	// that was kept waiting (warm, or parked) gets the answer check
	// instead (await), counted from here too.
	mark := s.linesRead()
	kept := how == acquiredWarm || how == acquiredIdle
	answerFrom := -1
	if kept {
		answerFrom = mark
	}
	if how == acquiredIdle {
		mark = -1
	}
	f := turnFacts{sess: s}
	sendErr := s.begin(t, UserMessage{Text: t.Spec.Prompt, Images: t.Spec.Images})
	if sendErr == nil {
		t.log.Debug("prompt sent", zap.Int("pid", s.proc.pid()), zap.Duration("sinceTask", time.Since(t.created)))
		t.setState(StateRunning)
	} else if !kept {
		t.abort(t.notSent(s, sendErr), false)
	}
	hung := false
	if sendErr == nil || !kept {
		f.result, f.exited, hung = t.await(s, cfg, mark, answerFrom)
	}
	s.end(t)
	t.endJoin()   // the read loop has let go of the task: a surrogate still held goes out
	t.flushText() // text claude streamed just before it ended, held for its window
	if kept && f.result == nil && t.turnLines.Load() == 0 && (sendErr != nil || f.exited) && t.ctx.Err() == nil && !t.failed() {
		if hung && how == acquiredWarm {
			t.mgr.warm.failed(t.Spec.Workspace, fmt.Sprintf("it printed nothing within %s of the prompt", keptAnswerWait))
		}
		t.mu.Lock()
		t.sess = nil
		t.mu.Unlock()
		t.mgr.pool.discard(s)
		<-s.gone
		return Outcome{}, true
	}
	out = t.verdict(f, start)
	t.mu.Lock()
	t.sess = nil
	t.mu.Unlock()
	if out.Status != StateCancelled && !t.failed() && f.result != nil && !s.exited() && s.proc.in.awaitDrained(inputWrittenWait) {
		// A clean end of turn: park the process for a follow-up, without
		// what the turn left running outside claude's own tree.
		s.proc.killLeftovers()
		t.mgr.pool.release(s, true)
		return out, false
	}
	t.mgr.pool.release(s, false)
	s.proc.stop(cfg.StopGrace)
	<-s.gone
	return out, false
}

// exitWait bounds how long a prompt that could not be written waits for
// claude's exit, to say why in claude's words.
const exitWait = 2 * time.Second

// notSent says why the prompt could not be written to claude: a claude
// that exited at once (a broken install, a bad interpreter) says it with
// its exit code and its stderr's last lines, not "broken pipe".
func (t *Task) notSent(s *session, err error) string {
	select {
	case <-s.proc.exited:
	case <-time.After(exitWait):
		return "could not send the prompt to claude: " + err.Error()
	}
	msg := "claude " + s.proc.exitDescription() + " before it took the prompt"
	if tail := s.proc.stderr.lastLines(3); tail != "" {
		msg += ": " + tail
	}
	return msg
}

// await waits for the turn's end: its result, claude's exit, a cancel
// (interrupt, then the stop sequence) or an abort (the stop sequence).
// claude's output ending is no end by itself: a claude that closes stdout
// and keeps running is stopped after StopGrace.
// The silence check: a claude that printed no line past mark (its count of
// lines as the turn began; -1: no check) within StartTimeout is stopped.
// For a claude kept waiting the answer check comes first (answerFrom, its
// count of lines before the prompt; -1: none): one that prints nothing
// within keptAnswerWait of having answered initialize and got the prompt
// is killed, and await returns hung (and exited): the turn is to be run on
// a claude of its own.
func (t *Task) await(s *session, cfg Config, mark, answerFrom int) (result *stream.Line, exited, hung bool) {
	silence := time.NewTimer(cfg.StartTimeout)
	defer silence.Stop()
	readDone := s.readDone
	var eof <-chan time.Time
	stopping := false
	// A turn whose claude starts tells the warmer once its claude waits for
	// the API (warmer.hold): it has sent a request and printed nothing for
	// apiWait.
	var waiting <-chan time.Time
	if t.starting.Load() {
		tick := time.NewTicker(apiWait / 2)
		defer tick.Stop()
		waiting = tick.C
	}
	var ready <-chan struct{} // a kept claude's answer to initialize
	answer := time.NewTimer(time.Hour)
	answer.Stop()
	defer answer.Stop()
	answered := answerFrom // the lines it had printed once it answered initialize
	if answerFrom >= 0 {
		ready = s.initDone
	}
	stop := func(interrupt bool) {
		if stopping {
			return
		}
		stopping = true
		go func() { // ends once claude is stopped
			if interrupt {
				wait := min(cfg.StopGrace, 2*time.Second)
				t.withdrawSends(s, wait)
				s.interrupt(wait)
			}
			s.proc.stop(cfg.StopGrace)
		}()
	}
	for {
		select {
		case l := <-t.results:
			return l, false, false
		case <-s.gone:
			// The read loop has delivered everything it read by now.
			select {
			case l := <-t.results:
				return l, false, false
			default:
				if l := t.takeHeld(); l != nil {
					return l, false, false // claude ended before it took a message sent into the task
				}
				return nil, true, hung
			}
		case <-t.ctx.Done():
			stop(true)
		case <-t.wake:
			if t.failed() {
				stop(true)
			}
		case <-waiting:
			if t.requested.Load() && time.Since(time.Unix(0, t.lastLine.Load())) >= apiWait && t.starting.CompareAndSwap(true, false) {
				t.mgr.warm.release(t)
				waiting = nil
			}
		case <-ready:
			ready = nil
			// Counted when the answer was read, not now: the turn may look
			// after claude has printed lines for the prompt, which are its
			// sign of life.
			answered = max(answerFrom, s.initLines())
			answer.Reset(keptAnswerWait)
		case <-answer.C:
			if s.linesRead() <= answered && !stopping {
				t.log.Info("the claude kept waiting printed nothing after the prompt; killing it", zap.Int("pid", s.proc.pid()), zap.Duration("waited", keptAnswerWait))
				hung, stopping = true, true
				s.proc.signal(syscall.SIGKILL) // its waiter kills its tagged tree; gone follows
			}
		case <-silence.C:
			if mark >= 0 && s.linesRead() <= mark {
				t.abort(fmt.Sprintf("claude printed nothing for %s after it started; stopped it", cfg.StartTimeout), false)
			}
		case <-readDone:
			readDone = nil
			eof = time.After(cfg.StopGrace)
		case <-eof:
			t.abort("claude closed its output but kept running; stopped it", false)
		}
	}
}

// failed reports whether the bridge stopped claude for a reason of its own.
func (t *Task) failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failReason != ""
}

// verdict is the one place that decides how an attempt ended: cancelled
// (a cancel came before any result), failed (the bridge stopped claude,
// claude could not start or exited without a result, or its result is an
// error), or completed.
func (t *Task) verdict(f turnFacts, start time.Time) Outcome {
	cfg := t.mgr.cfg()
	t.mu.Lock()
	cancelled, reason := t.cancelRequested, t.failReason
	t.mu.Unlock()
	sid := ""
	if f.sess != nil {
		sid = f.sess.sessionID()
	}
	fail := func(why string) Outcome {
		return Outcome{Status: StateFailed, Result: why, IsError: true, SessionID: sid, DurationMs: time.Since(start).Milliseconds()}
	}
	switch {
	case cancelled:
		return Outcome{Status: StateCancelled, Result: "Cancelled", IsError: true, SessionID: sid, DurationMs: time.Since(start).Milliseconds()}
	case f.startFail != "":
		return fail(f.startFail)
	case reason != "":
		return fail(reason)
	case f.result == nil:
		<-f.sess.gone // it exited, or was given up on (await returns on gone)
		msg := "claude " + f.sess.proc.exitDescription() + " before it finished the task"
		if tail := f.sess.proc.stderr.lastLines(3); tail != "" {
			msg += ": " + tail
		}
		if a := cfg.Auth; a != nil {
			if why := a.Explain(); why != "" && strings.Contains(msg, "apiKeyHelper") {
				msg += " (" + why + ")"
			}
		}
		return fail(msg)
	}
	r := f.result
	out := Outcome{
		Status:     StateCompleted,
		SessionID:  r.SessionID,
		Result:     r.Result,
		IsError:    r.IsError,
		CostUSD:    f.sess.addCost(float64(r.TotalCostUSD)),
		DurationMs: int64(r.DurationMs),
		NumTurns:   int(r.NumTurns),
	}
	if t.interrupted(r) {
		out.Status, out.Result = StateInterrupted, "Interrupted"
	} else if r.IsError {
		out.Status = StateFailed
		if out.Result == "" {
			out.Result = "claude ended with " + r.Subtype
			if why := t.claudesOwnError(f.sess, r); why != "" {
				out.Result += ": " + why
			}
		}
		if r.APIErrorStatus != nil {
			out.apiStatus = int(*r.APIErrorStatus)
			if out.apiStatus == 401 && cfg.Auth != nil {
				if why := cfg.Auth.Explain(); why != "" {
					out.Result = "Authentication failed: " + why + " (claude said: " + out.Result + ")"
				}
			}
		}
	}
	return out
}

// claudesOwnError is what claude itself said of a result that ended in an
// error without any text: the result's errors (2.1.332 puts there, for
// instance, "No conversation found with session ID: …" for a --resume it
// cannot do), else, when the attempt made no API request (claude failed
// before it asked the model anything), the last lines it wrote on stderr
// (read until it exits, a bounded wait: such a claude exits at once).
func (t *Task) claudesOwnError(s *session, r *stream.Line) string {
	if len(r.Errors) > 0 {
		return strings.Join(r.Errors, "; ")
	}
	if t.requested.Load() {
		return ""
	}
	select {
	case <-s.gone:
	case <-time.After(stderrWait):
	}
	return s.proc.stderr.lastLines(3)
}

// stderrWait bounds the wait for claude's last words on stderr after a
// result that ended in an error before any API request.
const stderrWait = time.Second

// finish records the outcome as the task's terminal state (once), tells
// the observer, and then runs release (the queue slot goes back only
// after the result event).
func (t *Task) finish(out Outcome, release func()) Outcome {
	t.endControls(endCause(out)) // what they report comes before the result
	t.finishCheckpoint()
	t.mu.Lock()
	if t.outcome != nil {
		o := *t.outcome
		t.mu.Unlock()
		return o
	}
	out.TaskID = t.ID
	out.EditedFiles = append([]string(nil), t.edited...)
	out.Checkpoint = t.ckpt
	if out.SessionID == "" {
		out.SessionID = t.sessionID
	}
	t.state = out.Status
	t.endedAt = time.Now()
	t.outcome = &out
	wrote := t.wrote
	t.mu.Unlock()
	t.mgr.forgetOld()
	if a := t.mgr.cfg().Auth; a != nil {
		a.ForgetTask(t.ID)
	}
	t.emit(Event{Kind: EventResult, Outcome: &out})
	release()
	t.mgr.warm.taskEnded(t, t.Spec.Workspace, wrote) // after release: a queue slot may be free for a warm claude
	t.cancel(endCause(out))
	// The read loop let go of the task when its turn ended (session.end):
	// drop what only the turn needed, the whole streamed text included.
	t.texts, t.tools, t.toolStart = nil, nil, nil
	return out
}

// launcher returns how the pool starts a new claude for this task.
func (t *Task) launcher(cfg Config) func(onGone func(*session)) (*session, error) {
	return func(onGone func(*session)) (*session, error) {
		// "Starting claude" only once nothing refuses the launch: a refused
		// one says why, and nothing started.
		return t.mgr.startClaude(t.ctx, cfg, t.Spec.Options, t.Spec.Workspace, t.log, onGone, func(auth.Launch) error {
			t.emit(Event{Kind: EventActivity, Message: "Starting claude"})
			return nil
		})
	}
}

// startClaude starts a claude with opts in workspace, tagged in the
// Manager's scope, with the auth manager's additions for workspace (it may
// wait for a key helper run; ctx ends the wait). vet, if set, is told the
// auth manager's launch (the zero Launch without an auth manager) and may
// refuse it before claude starts. onGone runs once the process is gone.
func (m *Manager) startClaude(ctx context.Context, cfg Config, opts Options, workspace string, log *zap.Logger, onGone func(*session), vet func(auth.Launch) error) (*session, error) {
	path, err := FindClaude(cfg.ClaudePath, envLookup(cfg.Env))
	if err != nil {
		return nil, err
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	env = append([]string(nil), env...)
	var l auth.Launch
	var keyGen, fp string
	if cfg.Auth != nil {
		// The generation before the launch: a change from now on makes
		// this claude stale. The fingerprint once the launch has waited
		// for the auth settings (it does not wait again then).
		keyGen = cfg.Auth.KeySourceGeneration()
		if l, err = authLaunch(ctx, cfg.Auth, workspace); err != nil {
			return nil, err
		}
		fp = cfg.Auth.Fingerprint()
	}
	if vet != nil {
		if err := vet(l); err != nil {
			return nil, err
		}
	}
	if l.Env != nil {
		env = l.Env(env)
	}
	args := BuildArgs(opts, l.Args)
	s, err := startSession(path, args, workspace, env, opts, m.scope.NewTag(), cfg.wait, cfg.MaxLine, log, onGone)
	if err != nil {
		return nil, fmt.Errorf("could not start claude (%s): %w", path, err)
	}
	s.launchArgs, s.keyGen, s.authFP = l.Args, keyGen, fp
	return s, nil
}

// authLaunch asks the auth manager for claude's command additions; it may
// wait for a key helper run, so a cancel (ctx) does not wait for it.
func authLaunch(ctx context.Context, a Auth, workspace string) (auth.Launch, error) {
	type res struct {
		l   auth.Launch
		err error
	}
	ch := make(chan res, 1)
	go func() { l, err := a.Launch(workspace); ch <- res{l, err} }() // ends when the auth manager answers
	select {
	case r := <-ch:
		if r.err != nil {
			return auth.Launch{}, fmt.Errorf("authentication is not ready: %w", r.err)
		}
		return r.l, nil
	case <-ctx.Done():
		return auth.Launch{}, ctx.Err()
	}
}
