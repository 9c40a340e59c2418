package server

import "sync"

// steerOrder keeps the editor's order among the requests that steer one
// running task (claude.send, claude.interrupt, claude.setPermissionMode,
// claude.setModel). Requests are served concurrently, so two messages sent
// one after the other could otherwise reach claude's stdin the other way
// round: each request takes its place on the read loop, in the order the
// editor sent them, and runs only once the one before it for the same task
// is done.
type steerOrder struct {
	mu   sync.Mutex               // guards last
	last map[string]chan struct{} // by task id: closed when the latest request that took a place is done
}

// place takes the next place for taskID (on the read loop): wait is closed
// when the request before it is done (nil: none), and done frees the
// place for the next; it must be called once, after wait (a request
// cancelled while it waits calls it once wait is closed).
func (o *steerOrder) place(taskID string) (wait <-chan struct{}, done func()) {
	mine := make(chan struct{})
	o.mu.Lock()
	if o.last == nil {
		o.last = map[string]chan struct{}{}
	}
	prev := o.last[taskID]
	o.last[taskID] = mine
	o.mu.Unlock()
	return prev, func() {
		close(mine)
		o.mu.Lock()
		if o.last[taskID] == mine {
			delete(o.last, taskID)
		}
		o.mu.Unlock()
	}
}
