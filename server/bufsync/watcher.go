package bufsync

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/server/documents"
)

// Watcher carries into open buffers the changes to their files that no
// tool_use_result reports: files rewritten by a Bash command (sed -i, a code
// generator, git checkout) while a task runs. It watches only while at least
// one task runs (Begin/End), so the user's own work outside tasks never shows
// up as "Claude: ... changed on disk".
//
// It watches the parent directories of the open documents, not the files:
// an atomic save (write a temporary file, rename it over the original)
// replaces the file, and a watch on the old file would be lost. Events are
// debounced per path, then the file is read (without ever blocking on a
// FIFO, a device or a hung mount: documents.ReadDisk) and, if it differs
// from the disk content the bridge last knew (documents.Doc.Disk), carried
// into every buffer open on it. A change Carry already carried is recognised
// by that comparison and skipped.
//
// One goroutine, started by NewWatcher and ended by Close, owns the fsnotify
// watcher and all the watching state; carries run on goroutines of their own
// (Close cancels and waits for them), serialized per document by the Carrier.
type Watcher struct {
	c        *Carrier
	docs     *documents.Store
	log      *zap.Logger
	debounce time.Duration

	mu        sync.Mutex // guards tasks, lastTask, closed
	tasks     []string   // running tasks, in the order they began
	lastTask  string     // the last task to end, for changes noticed as it ended
	closed    bool
	kick      chan struct{} // "tasks or open documents changed": the loop resyncs
	quit      chan struct{}
	done      chan struct{}
	ctx       context.Context // for carries; cancelled by Close
	cancel    context.CancelFunc
	carries   sync.WaitGroup
	unsubDocs func()
}

// NewWatcher starts a Watcher feeding c, idle until Begin. debounce is how
// long a path must be quiet before it is read (<= 0: 100 ms).
func NewWatcher(c *Carrier, debounce time.Duration) *Watcher {
	if debounce <= 0 {
		debounce = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{
		c:        c,
		docs:     c.docs,
		log:      c.log,
		debounce: debounce,
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
	}
	w.unsubDocs = c.docs.Subscribe(func(string, bool) { w.poke() })
	go w.run()
	return w
}

// Begin tells the Watcher a task started; it watches while any task runs.
// Changes it notices are attributed to the latest task begun and still
// running (with one task at a time, exactly the right one).
func (w *Watcher) Begin(taskID string) {
	w.mu.Lock()
	w.tasks = append(w.tasks, taskID)
	w.mu.Unlock()
	w.poke()
}

// End tells the Watcher a task ended. When the last one ends, changes still
// waiting out their debounce are carried at once and watching stops.
func (w *Watcher) End(taskID string) {
	w.mu.Lock()
	for i, id := range w.tasks {
		if id == taskID {
			w.tasks = append(w.tasks[:i], w.tasks[i+1:]...)
			w.lastTask = taskID
			break
		}
	}
	w.mu.Unlock()
	w.poke()
}

// Close stops watching, cancels the carries in progress and waits for them.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	w.unsubDocs()
	close(w.quit)
	<-w.done
	w.cancel()
	w.carries.Wait()
	return nil
}

// poke asks the loop to resync without ever blocking the caller (the LSP read
// loop calls it through the document store).
func (w *Watcher) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// task is the task a change noticed now belongs to.
func (w *Watcher) task() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.tasks); n > 0 {
		return w.tasks[n-1]
	}
	return w.lastTask
}

func (w *Watcher) active() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.tasks) > 0
}

// loop is the state owned by the run goroutine.
type loop struct {
	fsw     *fsnotify.Watcher    // nil while no task runs
	dirs    map[string]bool      // directories being watched
	paths   map[string]bool      // files of open documents
	pending map[string]time.Time // path → when its debounce ends
	timer   *time.Timer
}

func (w *Watcher) run() {
	defer close(w.done)
	l := &loop{dirs: map[string]bool{}, paths: map[string]bool{}, pending: map[string]time.Time{}}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	defer func() {
		l.timer.Stop()
		if l.fsw != nil {
			l.fsw.Close()
		}
	}()
	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if l.fsw != nil {
			events, errs = l.fsw.Events, l.fsw.Errors
		}
		select {
		case <-w.quit:
			return
		case <-w.kick:
			w.sync(l)
		case ev, ok := <-events:
			if !ok {
				w.lost(l)
				break
			}
			w.event(l, ev)
		case err, ok := <-errs:
			if !ok {
				w.lost(l)
				break
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("file watcher overflow, rescanning open documents")
				w.rescan(l)
			} else {
				w.log.Warn("file watcher", zap.Error(err))
			}
		case now := <-l.timer.C:
			w.fire(l, now)
		}
	}
}

// sync brings the watching in line with the running tasks and open documents.
func (w *Watcher) sync(l *loop) {
	if !w.active() {
		if l.fsw != nil {
			l.fsw.Close()
			l.fsw = nil
			l.dirs = map[string]bool{}
			// Do not drop what the last task did in its final moments.
			w.fire(l, time.Now().Add(w.debounce))
		}
		return
	}
	if l.fsw == nil {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			// inotify limits (EMFILE, ENOSPC): tool results still carry the
			// agent's own edits; only Bash-made changes go unseen.
			w.log.Warn("cannot watch files", zap.Error(err))
			return
		}
		l.fsw = fsw
	}
	l.paths = map[string]bool{}
	want := map[string]bool{}
	for _, p := range w.docs.Paths() {
		l.paths[p] = true
		want[filepath.Dir(p)] = true
	}
	for d := range l.dirs {
		if !want[d] {
			_ = l.fsw.Remove(d) // fails if the directory is gone: fine
			delete(l.dirs, d)
		}
	}
	for d := range want {
		if l.dirs[d] {
			continue
		}
		if err := l.fsw.Add(d); err != nil {
			w.log.Debug("cannot watch directory", zap.String("dir", d), zap.Error(err))
			continue
		}
		l.dirs[d] = true
	}
}

// rescan looks at every open document now: events were lost.
func (w *Watcher) rescan(l *loop) {
	now := time.Now()
	for p := range l.paths {
		l.pending[p] = now
	}
	w.fire(l, now)
}

// lost handles an fsnotify watcher that closed by itself: drop it, so that
// the next resync (a task beginning, a document opening) makes a new one.
func (w *Watcher) lost(l *loop) {
	w.log.Warn("file watcher stopped")
	l.fsw.Close()
	l.fsw = nil
	l.dirs = map[string]bool{}
}

// event records one file system event for the debounce.
func (w *Watcher) event(l *loop, ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	if l.dirs[name] && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		// The directory itself went away; its watch is gone. Look at its
		// documents, and watch it again at the next resync if it is back.
		delete(l.dirs, name)
		for p := range l.paths {
			if filepath.Dir(p) == name {
				w.schedule(l, p)
			}
		}
		return
	}
	if !l.paths[name] || !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename) {
		return // another file, or only a CHMOD
	}
	w.schedule(l, name)
}

func (w *Watcher) schedule(l *loop, path string) {
	l.pending[path] = time.Now().Add(w.debounce)
	w.resetTimer(l)
}

// fire carries every path whose debounce ended by now.
func (w *Watcher) fire(l *loop, now time.Time) {
	task := w.task()
	for p, due := range l.pending {
		if due.After(now) {
			continue
		}
		delete(l.pending, p)
		w.carries.Add(1)
		go func() {
			defer w.carries.Done()
			if err := w.c.carryFromDisk(w.ctx, task, p); err != nil && w.ctx.Err() == nil {
				w.log.Warn("carrying a change on disk", zap.String("path", p), zap.Error(err))
			}
		}()
	}
	w.resetTimer(l)
}

func (w *Watcher) resetTimer(l *loop) {
	l.timer.Stop()
	var next time.Time
	for _, due := range l.pending {
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if !next.IsZero() {
		l.timer.Reset(max(time.Until(next), 0))
	}
}

// Settle carries, now and in the caller's goroutine, every open document
// whose file differs from what the bridge last saw on disk, attributing the
// changes to taskID. The server calls it as a task ends, so that changes a
// Bash command made are in the buffers (and in the task's edited files)
// before the task's result, whatever the debounce still had pending. A
// change the watcher carries at the same time is carried once: the second
// carry finds the disk equal to documents.Doc.Disk.
func (w *Watcher) Settle(ctx context.Context, taskID string) error {
	var first error
	for _, p := range w.c.docs.Paths() {
		if err := w.c.carryFromDisk(ctx, taskID, p); err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	return first
}
