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
}

// sameLaunch reports whether a process started with a can serve a turn
// that asks for b (the session to resume aside).
func sameLaunch(a, b Options) bool {
	return a.Model == b.Model && a.PermissionMode == b.PermissionMode && a.ReviewHooks == b.ReviewHooks &&
		strings.Join(a.AllowedTools, ",") == strings.Join(b.AllowedTools, ",") &&
		strings.Join(a.DisallowedTools, ",") == strings.Join(b.DisallowedTools, ",")
}

// pool owns every claude process of a Manager and the slots they hold.
// A process is busy (a task's turn borrows it), idle (parked after its
// turn for a follow-up, least recently used first) or stopping. Live
// processes, of every kind, never outnumber the slots (MaxConcurrent):
// when a task needs a new process and none is free, the least recently
// used idle one is stopped to make room. Idle processes also count against
// their own budget (MaxIdle). An idle process is matched to a turn by
// session.serves, so a process with no conversation yet (a pre-started
// one) would fit the same budget.
//
// Goroutines: a timer per idle process (ends when it fires or the process
// is taken or evicted) and one stopper per evicted process (ends when the
// process is gone).
type pool struct {
	mu       sync.Mutex // guards the fields below
	capacity int        // slots: live processes at most
	maxIdle  int        // idle processes at most; 0: none kept
	idleFor  time.Duration
	grace    time.Duration
	live     map[*session]*slot
	starting int               // slots held by processes being started
	early    map[*session]bool // started, and gone before acquire registered them
	idle     []*session        // least recently used first
	closed   bool
	changed  chan struct{} // closed (and replaced) whenever a slot frees
}

type slotState int

const (
	slotBusy slotState = iota
	slotIdle
	slotStopping
)

// slot is one live process's place in the pool.
type slot struct {
	state slotState
	timer *time.Timer // the idle timer, while idle
}

func newPool() *pool {
	return &pool{live: map[*session]*slot{}, early: map[*session]bool{}, changed: make(chan struct{}), capacity: 1}
}

// configure sets the budgets; idle processes past the new idle budget are
// stopped at once.
func (p *pool) configure(capacity, maxIdle int, idleFor, grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.capacity = max(capacity, 1)
	p.maxIdle = min(max(maxIdle, 0), p.capacity)
	if idleFor < 0 {
		p.maxIdle = 0
	}
	p.idleFor, p.grace = idleFor, grace
	p.trimIdle()
	p.signal() // a larger capacity may let a waiting start go
}

// acquire returns a process for a turn that wants w: an idle one that
// serves it, else one made by start once a slot is free. start gets the
// callback the new session must call once it is gone.
func (p *pool) acquire(ctx context.Context, w want, start func(onGone func(*session)) (*session, error)) (*session, bool, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, ErrShutdown
		}
		for i, s := range p.idle {
			if s.serves(w) && s.alive() {
				p.idle = append(p.idle[:i], p.idle[i+1:]...)
				sl := p.live[s]
				sl.timer.Stop()
				sl.state, sl.timer = slotBusy, nil
				p.mu.Unlock()
				return s, true, nil
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
		if len(p.live)+p.starting < p.capacity {
			p.starting++
			p.mu.Unlock()
			s, err := start(p.gone)
			p.mu.Lock()
			p.starting--
			if err != nil {
				p.signal()
				p.mu.Unlock()
				return nil, false, err
			}
			if p.early[s] {
				delete(p.early, s) // gone already: gone() ran before this
			} else {
				p.live[s] = &slot{state: slotBusy}
			}
			p.mu.Unlock()
			return s, false, nil
		}
		if len(p.idle) > 0 {
			p.evict(p.idle[0])
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
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
	if !keep || p.closed || p.maxIdle == 0 || s.sessionID() == "" || !s.alive() {
		p.stopLocked(s, sl)
		return
	}
	sl.state = slotIdle
	p.idle = append(p.idle, s)
	sl.timer = time.AfterFunc(p.idleFor, func() { p.expire(s) })
	p.trimIdle()
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

// trimIdle stops the least recently used idle processes past the budget.
func (p *pool) trimIdle() {
	for len(p.idle) > p.maxIdle {
		p.evict(p.idle[0])
	}
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

// gone forgets a process that has exited; its slot frees.
func (p *pool) gone(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := p.live[s]
	if sl == nil {
		p.early[s] = true
	} else if sl.timer != nil {
		sl.timer.Stop()
	}
	delete(p.live, s)
	for i, x := range p.idle {
		if x == s {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	p.signal()
}

func (p *pool) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// close stops every idle process and parks no more.
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
		n := len(p.live) + p.starting
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
	Live    int // every claude process not yet gone
	Busy    int // running a task's turn
	Idle    int // parked for a follow-up
	MaxIdle int // the idle budget
	Slots   int // live processes at most (MaxConcurrent)
}

func (p *pool) stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PoolStats{Live: len(p.live), Idle: len(p.idle), MaxIdle: p.maxIdle, Slots: p.capacity}
	for _, sl := range p.live {
		if sl.state == slotBusy {
			st.Busy++
		}
	}
	return st
}
