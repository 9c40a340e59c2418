package runner

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"
)

// want is what a turn needs of a claude process.
type want struct {
	workspace string
	resume    string // the conversation to continue; "" for a new one
	opts      Options
	noWarm    bool // a warm process of the folder was found unusable: start one
	// keyGen and authFP are the auth manager's KeySourceGeneration and
	// Fingerprint now: a parked process launched under others does not
	// serve (session.serves).
	keyGen, authFP string
}

// sameLaunch reports whether a process started with a can serve a turn
// that asks for b (the session to resume aside).
func sameLaunch(a, b Options) bool {
	return a.Model == b.Model && a.PermissionMode == b.PermissionMode && a.ReviewHooks == b.ReviewHooks &&
		strings.Join(a.AllowedTools, ",") == strings.Join(b.AllowedTools, ",") &&
		strings.Join(a.DisallowedTools, ",") == strings.Join(b.DisallowedTools, ",")
}

// How a turn got its process.
type acquired int

const (
	acquiredNew  acquired = iota // started for the turn
	acquiredIdle                 // parked after an earlier turn of the conversation
	acquiredWarm                 // started ahead of need for the folder (see warm.go)
)

// pool owns every claude process of a Manager and the slots they hold.
// A process is busy (a task's turn borrows it), idle (parked after its
// turn for a follow-up, least recently used first), warm (started ahead
// of need for a workspace folder, no conversation yet; see warm.go) or
// stopping. Live processes, of every kind, never outnumber the slots
// (MaxConcurrent): when a task needs a new process and none is free, a
// warm one is killed (it holds no conversation, and SIGKILL frees its slot
// within milliseconds: the task waits least), else the least recently used
// idle one is stopped.
//
// Idle and warm processes together also count against the idle budget
// (MaxIdle), ranked: the most recently parked idle process first (its
// follow-up is the likeliest), then the warm ones (the next task in their
// folder), then the other idle ones, most recently used first. Past the
// budget the lowest ranked goes; a warm claude to be started takes the
// place of a lower ranked idle one, in the budget and in the slots
// (reserveWarm). So a user who runs one task after another keeps a warm
// claude (with the defaults: one warm, three parked), and a budget of one
// keeps the last conversation's process rather than a warm claude.
//
// A process that got SIGKILL and is not reaped within reapWait (stuck: the
// system holds it, a read on a hung mount) holds no slot: it is counted as
// stopping (unreaped) until the system lets it go, and Shutdown does not
// wait for it.
//
// Goroutines: a timer per idle process (ends when it fires or the process
// is taken or evicted), one stopper per evicted process (ends when the
// process is gone or given up on) and one watcher per process given up on
// (forgetUnreaped: ends when the system lets it go and the process's
// waiter has reaped it, or with the bridge).
type pool struct {
	mu       sync.Mutex // guards the fields below
	capacity int        // slots: live processes at most
	maxIdle  int        // idle and warm processes at most; 0: none kept
	keepIdle bool       // finished conversations are parked (FollowUpIdle >= 0)
	idleFor  time.Duration
	grace    time.Duration
	live     map[*session]*slot
	starting int               // slots held by processes being started for a turn
	early    map[*session]bool // started, and gone before acquire registered them
	unreaped map[*session]bool // given up on (process.stuck): no slot, counted as stopping until reaped
	idle     []*session        // least recently used first
	warm     map[string]*warmProc
	// cancelling counts launches of warm processes evicted before they
	// were attached: their slot is free (a task does not wait for a launch
	// that may be waiting for the auth manager), but Shutdown waits for them
	// (attachWarm kills what they start).
	cancelling int
	closed     bool
	changed    chan struct{} // closed (and replaced) whenever a slot frees or a warm process changes
	// warmEvent, if set, is told (outside mu) when a slot freed, or a warm
	// claude died on its own (lost: that one), so that the warmer plans
	// again.
	warmEvent func(lost *warmProc)
}

type slotState int

const (
	slotBusy slotState = iota
	slotIdle
	slotWarm
	slotStopping
)

// slot is one live process's place in the pool.
type slot struct {
	state  slotState
	timer  *time.Timer // the idle timer, while idle
	parked time.Time   // when it went idle
	warm   *warmProc   // while warm
}

// warmProc is a claude started ahead of need for a folder (see warm.go for
// when and why). From reserveWarm until it is gone or taken it holds a
// slot and a place in the idle budget: while its launch runs (sess nil,
// the auth manager may take a while) and while it waits.
type warmProc struct {
	folder  string
	opts    Options
	gen     uint64 // the warmer's generation it was started in
	started time.Time
	authFP  string   // Auth.Fingerprint() at its start
	keyGen  string   // Auth.KeySourceGeneration() before its launch
	context snapshot // what claude read at its start (warm.go)
	// The key helper claude runs as it starts, and its state then (set by
	// vetHelper before claude starts; "" for none).
	helperPath, helper string

	// Guarded by pool.mu.
	sess      *session // nil while it is being launched
	cancelled bool     // evicted while being launched: attachWarm kills it
	ready     bool     // claude answered initialize
}

func newPool() *pool {
	return &pool{live: map[*session]*slot{}, early: map[*session]bool{}, unreaped: map[*session]bool{}, warm: map[string]*warmProc{}, changed: make(chan struct{}), capacity: 1}
}

// configure sets the budgets; idle and warm processes past the new idle
// budget are stopped at once.
func (p *pool) configure(capacity, maxIdle int, idleFor, grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.capacity = max(capacity, 1)
	p.maxIdle = min(max(maxIdle, 0), p.capacity)
	p.keepIdle = idleFor >= 0
	if !p.keepIdle {
		for len(p.idle) > 0 {
			p.evict(p.idle[0])
		}
	}
	p.idleFor, p.grace = idleFor, grace
	p.trimIdle()
	// Idle processes wait the new time, counted from when they went idle.
	for _, s := range p.idle {
		if sl := p.live[s]; sl != nil && sl.timer != nil {
			sl.timer.Stop()
			sl.timer = p.idleTimer(s, idleFor-time.Since(sl.parked))
		}
	}
	p.signal() // a larger capacity may let a waiting start go
}

// used is the number of slots held. Called with mu held.
func (p *pool) used() int { return len(p.live) + p.starting + p.launching() }

// launching counts warm processes whose launch is still running (they hold
// a slot but are not in live yet). Called with mu held.
func (p *pool) launching() int {
	n := 0
	for _, wp := range p.warm {
		if wp.sess == nil {
			n++
		}
	}
	return n
}

// idleTimer stops s once it has been idle for d more.
func (p *pool) idleTimer(s *session, d time.Duration) *time.Timer {
	return time.AfterFunc(max(d, 0), func() { p.expire(s) })
}

// acquire returns a process for a turn that wants w: an idle one that
// serves it, the folder's warm one when its options match, else one made by
// start once a slot is free. start gets the callback the new session must
// call once it is gone. With acquiredWarm it also returns the warm
// process's record, for the turn to check that it is still usable.
func (p *pool) acquire(ctx context.Context, w want, start func(onGone func(*session)) (*session, error)) (*session, acquired, *warmProc, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, 0, nil, ErrShutdown
		}
		for i, s := range p.idle {
			if s.serves(w) && s.alive() && !s.proc.halted() {
				p.idle = append(p.idle[:i], p.idle[i+1:]...)
				sl := p.live[s]
				sl.timer.Stop()
				sl.state, sl.timer = slotBusy, nil
				p.mu.Unlock()
				return s, acquiredIdle, nil, nil
			}
		}
		wp := p.warm[w.workspace]
		if wp != nil && !w.noWarm && w.resume == "" && sameLaunch(wp.opts, w.opts) {
			if wp.sess != nil && wp.sess.alive() {
				delete(p.warm, w.workspace)
				sl := p.live[wp.sess]
				sl.state, sl.warm = slotBusy, nil
				p.mu.Unlock()
				return wp.sess, acquiredWarm, wp, nil // the turn tells the warmer (warmer.took)
			}
			if wp.sess == nil {
				// Being launched: it is further along than a start now
				// would be, so wait for it (attachWarm signals).
				if err := p.waitChange(ctx); err != nil {
					return nil, 0, nil, err
				}
				continue
			}
		}
		if w.resume != "" {
			// The conversation's parked process cannot serve this turn
			// (other options): it goes, and a new claude resumes the
			// conversation.
			for _, s := range append([]*session(nil), p.idle...) {
				if s.sessionID() == w.resume {
					p.evict(s)
				}
			}
		}
		if p.used() < p.capacity {
			// The task's claude starts now: a warm claude still starting
			// would take CPU from it (no new one starts meanwhile, see
			// warmer.hold); it goes, and is started again once the task's
			// claude waits for the API.
			p.evictStartingWarm()
			p.starting++
			p.mu.Unlock()
			s, err := start(p.gone)
			p.mu.Lock()
			p.starting--
			if err != nil {
				p.signal()
				p.mu.Unlock()
				return nil, 0, nil, err
			}
			if p.early[s] {
				delete(p.early, s) // gone already: gone() ran before this
			} else {
				p.live[s] = &slot{state: slotBusy}
			}
			p.mu.Unlock()
			return s, acquiredNew, nil, nil
		}
		// No slot: a warm process goes first (it is killed, which takes
		// milliseconds), then the least recently used idle one.
		if !p.evictAnyWarm() && len(p.idle) > 0 {
			p.evict(p.idle[0])
		}
		if err := p.waitChange(ctx); err != nil {
			return nil, 0, nil, err
		}
	}
}

// waitChange releases mu (held by the caller) and waits for the next
// change: a slot freed, a warm process attached or gone, or ctx's end.
func (p *pool) waitChange(ctx context.Context) error {
	ch := p.changed
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release takes back a process after its turn: parked for a follow-up
// when keep is true and the budget allows, else stopped. It never waits.
func (p *pool) release(s *session, keep bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := p.live[s]
	if sl == nil || sl.state != slotBusy {
		return
	}
	if !keep || p.closed || !p.keepIdle || p.maxIdle == 0 || s.sessionID() == "" || !s.alive() || !s.proc.in.drained() {
		p.stopLocked(s, sl)
		return
	}
	sl.state, sl.parked = slotIdle, time.Now()
	p.idle = append(p.idle, s)
	sl.timer = p.idleTimer(s, p.idleFor)
	p.trimIdle()
}

// discard kills a process the turn got but will not use (a warm process
// found stale); its slot frees once it is gone.
func (p *pool) discard(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sl := p.live[s]; sl != nil {
		p.killLocked(s, sl)
	}
}

// expire stops a process whose idle time ran out, unless a follow-up took
// it meanwhile.
func (p *pool) expire(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sl := p.live[s]; sl != nil && sl.state == slotIdle {
		p.evict(s)
	}
}

// trimIdle stops idle and warm processes past the idle budget, the lowest
// ranked first (see pool): the least recently used idle process while it
// is not the only one, then warm ones, then the last idle one.
func (p *pool) trimIdle() {
	for len(p.idle)+len(p.warm) > p.maxIdle {
		if !p.evictOutranked() && !p.evictAnyWarm() {
			p.evict(p.idle[0])
		}
	}
}

// evictOutranked stops the least recently used idle process if a warm
// claude outranks it (it is not the most recently parked one); false if
// there is none such. Called with mu held.
func (p *pool) evictOutranked() bool {
	if len(p.idle) < 2 {
		return false
	}
	p.evict(p.idle[0])
	return true
}

// evict stops an idle process. Called with mu held.
func (p *pool) evict(s *session) {
	for i, x := range p.idle {
		if x == s {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	if sl := p.live[s]; sl != nil {
		p.stopLocked(s, sl)
	}
}

func (p *pool) stopLocked(s *session, sl *slot) {
	if sl.timer != nil {
		sl.timer.Stop()
		sl.timer = nil
	}
	if sl.state == slotStopping {
		return
	}
	sl.state = slotStopping
	grace := p.grace
	go s.proc.stop(grace) // ends once the process is gone; gone() frees the slot
}

// killLocked stops a process with SIGKILL at once: a warm process has no
// conversation to save, and its slot must free in milliseconds.
func (p *pool) killLocked(s *session, sl *slot) {
	if sl.timer != nil {
		sl.timer.Stop()
		sl.timer = nil
	}
	sl.state, sl.warm = slotStopping, nil
	s.proc.closeStdin()
	s.proc.signal(syscall.SIGKILL) // the waiter kills its tagged tree and reaps it; gone() frees the slot
}

// reserveWarm reserves room for a warm process of folder, if the budgets
// allow one more: no warm process for the folder yet, fewer than maxWarm
// in all, room in the idle budget and a free slot. An idle process it
// outranks (not the most recently parked one, see pool) gives way: it is
// stopped, for its place in the budget at once and for its slot once it is
// gone (gone tells the warmer, which tries again). The caller launches
// the reserved one and calls attachWarm (or failWarm).
func (p *pool) reserveWarm(wp *warmProc, maxWarm int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.warm[wp.folder] != nil || len(p.warm) >= maxWarm || p.maxIdle == 0 {
		return false
	}
	for len(p.idle)+len(p.warm) >= p.maxIdle {
		if !p.evictOutranked() {
			return false
		}
	}
	// A launch evicted before it was attached (cancelling) has freed its
	// slot for tasks, but its claude may still come to life before
	// attachWarm kills it: no warm claude starts in that slot meanwhile.
	if p.used()+p.cancelling >= p.capacity {
		if p.stopping() == 0 { // else a slot frees soon: one stopped is enough
			p.evictOutranked()
		}
		return false
	}
	p.warm[wp.folder] = wp
	return true
}

// stopping counts the live processes being stopped (their slots free once
// they are gone). Called with mu held.
func (p *pool) stopping() int {
	n := 0
	for _, sl := range p.live {
		if sl.state == slotStopping {
			n++
		}
	}
	return n
}

// attachWarm registers the launched process of wp. It returns false when
// wp was evicted meanwhile (or the pool closed): the process is then
// killed, and is gone soon.
func (p *pool) attachWarm(wp *warmProc, s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.signal()
	if wp.cancelled {
		p.cancelling--
	}
	if p.early[s] {
		delete(p.early, s)
		if p.warm[wp.folder] == wp {
			delete(p.warm, wp.folder)
		}
		return false
	}
	sl := &slot{state: slotWarm, warm: wp}
	p.live[s] = sl
	wp.sess = s
	if wp.cancelled || p.closed || p.warm[wp.folder] != wp {
		if p.warm[wp.folder] == wp {
			delete(p.warm, wp.folder)
		}
		p.killLocked(s, sl)
		return false
	}
	return true
}

// failWarm forgets a warm process whose launch failed.
func (p *pool) failWarm(wp *warmProc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wp.cancelled {
		p.cancelling--
	}
	if p.warm[wp.folder] == wp {
		delete(p.warm, wp.folder)
	}
	p.signal()
}

// warmReady records that wp's claude answered initialize, and tells
// proctree that it waits: it has started what it starts as it starts (the
// key helper, hooks), and starts nothing more until a task takes it, so an
// orphan the bridge adopts from now on is not its (proctree counts a
// claude busy from its start; a warm one counted busy while it waits
// would keep every task's orphans from being placed). Under mu, so that a
// task taking it (acquire, then Busy) comes after. false if wp is no
// longer the folder's warm process.
func (p *pool) warmReady(wp *warmProc) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.warm[wp.folder] != wp || wp.sess == nil {
		return false
	}
	wp.ready = true
	wp.sess.proc.idle()
	return true
}

// evictWarm stops wp if it is still its folder's warm process.
func (p *pool) evictWarm(wp *warmProc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.warm[wp.folder] == wp {
		p.evictWarmLocked(wp)
	}
}

func (p *pool) evictWarmLocked(wp *warmProc) {
	delete(p.warm, wp.folder)
	if wp.sess == nil {
		wp.cancelled = true // attachWarm kills it
		p.cancelling++
		p.signal()
		return
	}
	if sl := p.live[wp.sess]; sl != nil {
		p.killLocked(wp.sess, sl)
	}
}

// evictAnyWarm stops one warm process (one still being launched first: it
// has cost least); false if there is none. Called with mu held.
func (p *pool) evictAnyWarm() bool {
	var pick *warmProc
	for _, wp := range p.warm {
		if pick == nil || (wp.sess == nil && pick.sess != nil) {
			pick = wp
		}
	}
	if pick == nil {
		return false
	}
	p.evictWarmLocked(pick)
	return true
}

// evictStartingWarm stops the warm processes that have not answered
// initialize yet. Called with mu held.
func (p *pool) evictStartingWarm() {
	for _, wp := range p.warm {
		if !wp.ready {
			p.evictWarmLocked(wp)
		}
	}
}

// warmList returns the warm processes.
func (p *pool) warmList() []*warmProc {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*warmProc, 0, len(p.warm))
	for _, wp := range p.warm {
		out = append(out, wp)
	}
	return out
}

// gone forgets a process that has exited, or was given up on (then kept
// as unreaped until it is reaped); its slot frees.
func (p *pool) gone(s *session) {
	p.mu.Lock()
	if s.proc.isStuck() {
		p.unreaped[s] = true
		go p.forgetUnreaped(s)
	}
	sl := p.live[s]
	var lost *warmProc
	if sl == nil {
		p.early[s] = true
	} else {
		if sl.timer != nil {
			sl.timer.Stop()
		}
		if sl.warm != nil && p.warm[sl.warm.folder] == sl.warm {
			// A warm claude died on its own while it waited.
			delete(p.warm, sl.warm.folder)
			lost = sl.warm
		}
	}
	delete(p.live, s)
	for i, x := range p.idle {
		if x == s {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	p.signal()
	ev := p.warmEvent
	p.mu.Unlock()
	if ev != nil && sl != nil {
		ev(lost) // a slot freed, or a warm claude is lost: plan again
	}
}

// forgetUnreaped waits until the system lets a process given up on go
// and its waiter has reaped it, then stops counting it.
func (p *pool) forgetUnreaped(s *session) {
	<-s.proc.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.unreaped, s)
	p.signal()
}

func (p *pool) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// close stops every idle and warm process and parks no more.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.maxIdle = 0
	p.trimIdle()
}

// stopAll stops every live process (busy ones included), each through
// its stop sequence.
func (p *pool) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, sl := range p.live {
		p.stopLocked(s, sl)
	}
}

// wait returns once no process is left, or ctx ends.
func (p *pool) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		n := p.used() + p.cancelling
		ch := p.changed
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// kill sends SIGKILL to every live process's group and tagged tree.
func (p *pool) kill() {
	p.mu.Lock()
	live := make([]*session, 0, len(p.live))
	for s := range p.live {
		live = append(live, s)
	}
	p.mu.Unlock()
	for _, s := range live {
		s.proc.signal(syscall.SIGKILL)
		s.proc.killTagged(0)
	}
}

// PoolStats counts the claude processes of a Manager.
type PoolStats struct {
	Live int // every claude process not yet gone (reaped)
	Busy int // running a task's turn
	// Stopping are being stopped: in their stop sequence, or killed and
	// not yet let go by the system (a read on a hung mount), which hold no
	// slot.
	Stopping int
	Idle     int // parked for a follow-up
	Warm     int // started ahead of need and ready (initialize answered)
	MaxIdle  int // the budget of idle and warm processes together
	Slots    int // live processes at most (MaxConcurrent)
}

func (p *pool) stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PoolStats{Live: len(p.live) + len(p.unreaped), Stopping: len(p.unreaped), Idle: len(p.idle), MaxIdle: p.maxIdle, Slots: p.capacity}
	for _, sl := range p.live {
		switch sl.state {
		case slotBusy:
			st.Busy++
		case slotStopping:
			st.Stopping++
		}
	}
	for _, wp := range p.warm {
		if wp.ready && wp.sess != nil {
			st.Warm++
		}
	}
	return st
}
