package proctree

import (
	"sync"
)

// reg is what the bridge knows of the trees of its claude processes: when
// each tag's claude started and ended, and the process groups and
// sessions led by a process seen carrying the tag. It places what the
// tag alone cannot: a process whose environment cannot be read (a
// non-dumpable ssh-agent, for a bridge that does not run as root) or reads
// empty (an exec in progress), and an orphan the bridge adopted.
var reg = registry{tags: map[Tag]*tagState{}}

// keepEnded is how many ended tags the registry remembers, for placing
// orphans by elimination; older ones are forgotten.
const keepEnded = 256

type registry struct {
	mu    sync.Mutex // guards the fields below
	tags  map[Tag]*tagState
	ended []Tag // oldest first
}

type tagState struct {
	begin, end uint64 // its claude's start, and when it ended (0 while live), in Proc.Start's unit
	// busy is when the turn in flight began (0: idle, parked for a
	// follow-up). An idle claude starts nothing, so an orphan that started
	// while it was idle is not its.
	busy   uint64
	groups map[int]bool // process groups and sessions led by a process seen carrying the tag
}

// Track records that tag's claude, pid, has started (busy from now on):
// orphans the bridge adopts may be the tag's, and pid's process group is
// the tag's.
func Track(tag Tag, pid int) {
	begin := now()
	if p, ok := statOf(pid); ok {
		begin = p.Start
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.tags[tag] = &tagState{begin: begin, busy: begin, groups: map[int]bool{pid: true}}
}

// Busy records that tag's claude begins a turn.
func Busy(tag Tag) {
	t := now()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if st := reg.tags[tag]; st != nil && st.end == 0 && st.busy == 0 {
		st.busy = max(t, st.begin)
	}
}

// Idle records that tag's claude finished its turn and waits, parked.
func Idle(tag Tag) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if st := reg.tags[tag]; st != nil {
		st.busy = 0
	}
}

// Sweep kills what tag's claude started and left outside keep's tree
// (keep <= 0: all of it): processes carrying the tag, the members of
// process groups and sessions they lead, and adopted orphans that no other
// claude's turn in flight can have left. See sweep.
func Sweep(tag Tag, keep int) (int, error) {
	return sweep(sweepSpec{match: tagMatch(tag), keep: keep, tag: tag, since: reg.begin(tag)})
}

// End records that tag's claude has exited and kills everything of its
// tree, and the adopted orphans that no other claude's turn in flight can
// have left.
func End(tag Tag) (int, error) {
	reg.end(tag)
	n, err := sweep(sweepSpec{match: tagMatch(tag), tag: tag, since: reg.begin(tag)})
	reg.forgetGroups(tag)
	return n, err
}

// SweepOrphans kills every orphan the bridge adopted, and what they
// started: the last sweep before the bridge exits.
func SweepOrphans() (int, error) {
	return sweep(sweepSpec{match: func(string) bool { return false }, orphans: true, since: selfStart()})
}

func tagMatch(tag Tag) func(string) bool { return func(s string) bool { return s == string(tag) } }

func (r *registry) begin(tag Tag) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.tags[tag]; st != nil {
		return st.begin
	}
	return selfStart()
}

func (r *registry) end(tag Tag) {
	t := now()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.tags[tag]
	if st == nil || st.end != 0 {
		return
	}
	st.end, st.busy = max(t, st.begin), 0
	r.ended = append(r.ended, tag)
	for len(r.ended) > keepEnded {
		delete(r.tags, r.ended[0])
		r.ended = r.ended[1:]
	}
}

// groups is a copy of the tag's known process groups and sessions.
func (r *registry) groups(tag Tag) map[int]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]bool{}
	if st := r.tags[tag]; st != nil {
		for id := range st.groups {
			out[id] = true
		}
	}
	return out
}

func (r *registry) noteGroups(tag Tag, ids []int) {
	if len(ids) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.tags[tag]; st != nil {
		for _, id := range ids {
			st.groups[id] = true
		}
	}
}

// forgetGroups drops an ended tag's groups: their ids may be reused.
func (r *registry) forgetGroups(tag Tag) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.tags[tag]; st != nil {
		st.groups = map[int]bool{}
	}
}

// owns reports whether an orphan that started at start is tag's to kill:
// tag's claude was alive then, and no other claude has a turn in flight
// that began before it (that turn may have started it: its own sweep
// decides when it ends).
func (r *registry) owns(tag Tag, start uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	alive := func(st *tagState) bool { return start >= st.begin && (st.end == 0 || start <= st.end) }
	if st := r.tags[tag]; st == nil || !alive(st) {
		return false
	}
	for other, st := range r.tags {
		if other != tag && alive(st) && st.busy != 0 && st.busy <= start {
			return false
		}
	}
	return true
}
