package runner

import "sync"

// queue bounds how many tasks run at once, first come first served (the
// Runner of x/tools' gocommand, to a Task's Invocation). A task enters,
// waits for its ticket's slot, and leaves once its result is out.
type queue struct {
	mu      sync.Mutex // guards the fields below
	limit   int
	running int       // tickets holding a slot
	waiting []*ticket // in arrival order
}

// ticket is one task's place in the queue.
type ticket struct {
	granted chan struct{} // closed when the ticket gets a slot
	holds   bool          // it holds a slot (guarded by queue.mu)
	left    bool          // it left (guarded by queue.mu)
}

func newQueue(limit int) *queue { return &queue{limit: max(limit, 1)} }

// enter takes a slot at once or joins the line. It returns the ticket, the
// number of tasks ahead of it (running and waiting) and whether it waits.
func (q *queue) enter() (tk *ticket, ahead int, waits bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	tk = &ticket{granted: make(chan struct{})}
	if q.running < q.limit && len(q.waiting) == 0 {
		q.grant(tk)
		return tk, 0, false
	}
	q.waiting = append(q.waiting, tk)
	return tk, q.running + len(q.waiting) - 1, true
}

// leave gives the ticket's slot back, or takes it out of the line. It may
// be called more than once.
func (q *queue) leave(tk *ticket) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if tk.left {
		return
	}
	tk.left = true
	if tk.holds {
		tk.holds = false
		q.running--
	} else {
		for i, w := range q.waiting {
			if w == tk {
				q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
				break
			}
		}
	}
	q.grantWaiting()
}

// setLimit changes the limit; a higher one lets waiting tasks start now.
func (q *queue) setLimit(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limit = max(n, 1)
	q.grantWaiting()
}

func (q *queue) grantWaiting() {
	for q.running < q.limit && len(q.waiting) > 0 {
		tk := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.grant(tk)
	}
}

func (q *queue) grant(tk *ticket) {
	tk.holds = true
	q.running++
	close(tk.granted)
}

// counts reports the tasks holding a slot and those waiting for one.
func (q *queue) counts() (running, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running, len(q.waiting)
}
