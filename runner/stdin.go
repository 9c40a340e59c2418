package runner

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Writes to claude's stdin never block their caller and are bounded: a
// claude that stops reading its input (a hung one, or one that reads
// nothing while the bridge writes a permission answer repeating a 200 KB
// tool input) must not hold a task's turn loop, claude's read loop, the
// pool or Shutdown. Lines go through a queue to one writer goroutine per
// process; a write that waits stdinWriteTimeout ends in killing claude.
const (
	stdinWriteTimeout = 30 * time.Second
	stdinQueueLen     = 256
)

// input is claude's stdin: a queue and the goroutine that writes it (the
// writer, started by newInput; it ends once stdin is closed after the
// queue is written, or at the first failed write).
type input struct {
	pipe     *os.File      // the write end (non-blocking: it has write deadlines); the writer's alone
	timeout  time.Duration // a write that waits this long kills claude
	queue    chan []byte
	onStuck  func()        // kills claude; called once, by the writer
	closeReq chan struct{} // closed by close: the writer closes stdin once the queue is written
	done     chan struct{} // closed when the writer has ended

	mu      sync.Mutex // guards the fields below; never held across a write
	closing bool
	pending int           // lines queued and not yet written
	written chan struct{} // closed when pending falls to 0; a new one once a line is queued
	err     error         // why no more lines are taken
	killed  bool          // claude was killed for not reading (err says how)
}

func newInput(pipe *os.File, timeout time.Duration, onStuck func()) *input {
	in := &input{pipe: pipe, timeout: timeout, queue: make(chan []byte, stdinQueueLen), onStuck: onStuck,
		closeReq: make(chan struct{}), done: make(chan struct{}), written: make(chan struct{})}
	close(in.written) // nothing pending
	go in.writeLoop() // ends once stdin is closed or a write failed
	return in
}

// write queues one line; it never waits. An error means claude will not
// get it: stdin is closed, a write failed, or the queue is full (claude has
// not been reading: it is killed).
func (in *input) write(line []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case in.err != nil:
		return in.err
	case in.closing:
		return errors.New("claude's stdin is closed")
	}
	b := make([]byte, 0, len(line)+1)
	b = append(append(b, line...), '\n')
	select {
	case in.queue <- b:
		if in.pending == 0 {
			in.written = make(chan struct{})
		}
		in.pending++
		return nil
	default:
		in.err = fmt.Errorf("did not read its input (%d messages waiting) and was killed", stdinQueueLen)
		in.killed = true
		go in.onStuck() // ends once the signal is sent
		return in.err
	}
}

// close asks the writer to close stdin once what is queued is written;
// it never waits.
func (in *input) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closing {
		in.closing = true
		close(in.closeReq)
	}
}

// open reports whether lines are still taken. A line claude answered may
// still count as pending for a moment: the writer marks it written only
// after Write returns, and claude's answer can be read before that (a warm
// claude found dead by its own answer to initialize, under load), so open
// does not ask whether the queue is written; drained does.
func (in *input) open() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return !in.closing && in.err == nil
}

// drained reports whether lines are still taken and every one queued so
// far has been written: a claude that has not taken what it was sent is
// not parked for a follow-up.
func (in *input) drained() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return !in.closing && in.err == nil && in.pending == 0
}

// awaitDrained waits at most d for every line queued so far to be written
// and reports drained then. A claude that has answered the last line it
// was sent (an interrupt's result) has read it, but the writer may not
// have marked it written yet: this waits out that moment, not a claude
// that stopped reading.
func (in *input) awaitDrained(d time.Duration) bool {
	in.mu.Lock()
	ch := in.written
	in.mu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-in.done:
	case <-timer.C:
	}
	return in.drained()
}

// killedFor says why claude was killed for not reading its input (nil if
// it was not).
func (in *input) killedFor() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.killed {
		return nil
	}
	return in.err
}

func (in *input) writeLoop() {
	defer close(in.done)
	defer in.pipe.Close()
	for {
		var line []byte
		select {
		case line = <-in.queue:
		case <-in.closeReq:
			select {
			case line = <-in.queue:
			default:
				return
			}
		}
		_ = in.pipe.SetWriteDeadline(time.Now().Add(in.timeout))
		_, err := in.pipe.Write(line)
		in.mu.Lock()
		in.pending--
		if in.pending == 0 {
			close(in.written)
		}
		stuck := false
		if err != nil && in.err == nil {
			in.err = fmt.Errorf("write to claude: %w", err)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				in.err, in.killed, stuck = fmt.Errorf("read none of its input for %s and was killed", in.timeout), true, true
			}
		}
		failed := in.err != nil
		in.mu.Unlock()
		if stuck {
			in.onStuck()
		}
		if failed {
			return
		}
	}
}
