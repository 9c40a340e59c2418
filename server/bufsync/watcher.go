package bufsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
	"github.com/claude-bridge/claude-bridge/runner/pathid"
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
// replaces the file, and a watch on the old file would be lost. A change is
// carried when three things hold:
//   - the file has been quiet for the debounce;
//   - every running task has reported a tool event since the change was
//     seen (Advance): claude writes a tool_use line before it runs the tool,
//     so by then the bridge knows which file tool, if any, is changing the
//     file, however late it reads claude's output;
//   - no file tool (Edit, MultiEdit, Write, NotebookEdit) is changing the
//     file (Hold until Release): its result carries the change, labelled
//     with the tool ("Claude: Edit main.go"), not as a change on disk.
//
// Then the file is read (never blocking on a FIFO, a device or a hung mount:
// documents.ReadDisk) and, if it differs from the disk content the bridge
// last knew (documents.Doc.Disk), carried into every buffer open on it. A
// state that looks like a moment of a rewrite (the file empty or gone, or a
// content that conflicts with unsaved changes) is only carried once it has
// stayed for the settle time, or at the task's end (Settle).
//
// A change that holds every unsaved change of the buffer is the editor
// having written the buffer (UserSaved): the user's save, whose didSave
// may come later. It is handed to Carrier.Saved (the tasks keep it out of
// their own changes) and recorded in the store before the rest of the
// change is carried.
//
// One goroutine, started by NewWatcher and ended by Close, owns the fsnotify
// watcher and the pending paths; carries run on goroutines of their own,
// each counted by its task (End waits for them), serialized per document by
// the Carrier.
type Watcher struct {
	c        *Carrier
	docs     *documents.Store
	log      *zap.Logger
	debounce time.Duration
	settle   time.Duration

	mu      sync.Mutex // guards tasks, holds, seq, changed, closed
	tasks   []*watchTask
	holds   map[string]*hold // tool use id → the file its tool is changing
	seq     uint64           // counts Begin and Advance calls
	changed map[string]bool  // paths seen changing and not looked at since
	closed  bool

	kick      chan struct{} // "something changed": the loop resyncs and fires what is ready
	requeue   chan string   // a held path, back to the loop
	quit      chan struct{}
	done      chan struct{}
	unsubDocs func()
}

// watchTask is a running task as the Watcher knows it.
type watchTask struct {
	id       string
	ctx      context.Context // its carries; cancelled by End
	cancel   context.CancelFunc
	carries  sync.WaitGroup
	advanced uint64 // seq at its last Begin or Advance
}

// hold is a file a tool is changing.
type hold struct {
	task, path string
	key        string // pathid.Key of path, once looked up
}

// NewWatcher starts a Watcher feeding c, idle until Begin. debounce is how
// long a path must be quiet before it is read (<= 0: 100 ms); a transient
// state must stay for ten times that (at least a second) to be carried.
func NewWatcher(c *Carrier, debounce time.Duration) *Watcher {
	if debounce <= 0 {
		debounce = 100 * time.Millisecond
	}
	w := &Watcher{
		c:        c,
		docs:     c.docs,
		log:      c.log,
		debounce: debounce,
		settle:   max(10*debounce, time.Second),
		holds:    map[string]*hold{},
		changed:  map[string]bool{},
		kick:     make(chan struct{}, 1),
		requeue:  make(chan string, 64),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	w.unsubDocs = c.docs.Subscribe(func(string, bool) { w.poke() })
	go w.run()
	return w
}

// Begin tells the Watcher a task started; it watches while any task runs.
// Changes it notices are attributed to the latest task begun and still
// running (with one task at a time, exactly the right one).
func (w *Watcher) Begin(taskID string) {
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	w.seq++
	w.tasks = append(w.tasks, &watchTask{id: taskID, ctx: ctx, cancel: cancel, advanced: w.seq})
	w.mu.Unlock()
	w.poke()
}

// Advance tells the Watcher that the task reported a tool event (a tool
// use, after Hold for a file tool's, or a tool result): the changes seen
// before it are now attributable.
func (w *Watcher) Advance(taskID string) {
	w.mu.Lock()
	w.seq++
	for _, t := range w.tasks {
		if t.id == taskID {
			t.advanced = w.seq
		}
	}
	w.mu.Unlock()
	w.poke()
}

// Hold tells the Watcher that a file tool of the task (tool use toolUseID)
// is changing the file at path: its result carries the change, and the
// Watcher leaves the file alone until Release (or the task's end).
func (w *Watcher) Hold(taskID, toolUseID, path string) {
	w.mu.Lock()
	w.holds[toolUseID] = &hold{task: taskID, path: path}
	w.mu.Unlock()
}

// Release ends a Hold, once the tool's result has been carried (or the tool
// failed).
func (w *Watcher) Release(toolUseID string) {
	w.mu.Lock()
	_, ok := w.holds[toolUseID]
	delete(w.holds, toolUseID)
	w.mu.Unlock()
	if ok {
		w.poke()
	}
}

// held reports whether a file tool is changing the file of doc.
func (w *Watcher) held(doc documents.Doc) bool {
	w.mu.Lock()
	var hs []*hold
	for _, h := range w.holds {
		hs = append(hs, h)
	}
	w.mu.Unlock()
	if len(hs) == 0 {
		return false
	}
	spelling := pathid.SpellingKey(doc.Path)
	var key string
	for _, h := range hs {
		if pathid.SpellingKey(h.path) == spelling {
			return true
		}
		w.mu.Lock()
		hk := h.key
		w.mu.Unlock()
		if hk == "" {
			hk = pathid.Key(h.path) // bounded (pathid.LookupTimeout)
			w.mu.Lock()
			h.key = hk
			w.mu.Unlock()
		}
		if key == "" {
			key = pathid.Key(doc.Path)
		}
		if hk == key {
			return true
		}
	}
	// A hard link of a held file under another name (looked up now: a
	// file replaced since has another identity).
	fk, ok := pathid.FileKey(doc.Path)
	if !ok {
		return false
	}
	for _, h := range hs {
		if hfk, ok := pathid.FileKey(h.path); ok && hfk == fk {
			return true
		}
	}
	return false
}

// End tells the Watcher a task ended: its holds go, its carries still
// running are cancelled (and report what they did not carry) and waited
// for. Call it after Settle. When the last task ends, watching stops; what
// it had seen and not carried yet, Settle has.
func (w *Watcher) End(taskID string) {
	w.mu.Lock()
	var t *watchTask
	for i, o := range w.tasks {
		if o.id == taskID {
			t = o
			w.tasks = append(w.tasks[:i:i], w.tasks[i+1:]...)
			break
		}
	}
	w.releaseTaskLocked(taskID)
	w.mu.Unlock()
	if t != nil {
		t.cancel()
		t.carries.Wait()
	}
	w.poke()
}

func (w *Watcher) releaseTaskLocked(taskID string) {
	for id, h := range w.holds {
		if h.task == taskID {
			delete(w.holds, id)
		}
	}
}

// Close stops watching, cancels the carries in progress and waits for them.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	tasks := append([]*watchTask(nil), w.tasks...)
	w.mu.Unlock()
	w.unsubDocs()
	close(w.quit)
	<-w.done
	for _, t := range tasks {
		t.cancel()
		t.carries.Wait()
	}
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

// current is the task a change noticed now belongs to, and adds a carry to
// its count; nil when no task runs.
func (w *Watcher) current() *watchTask {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.tasks); n > 0 {
		t := w.tasks[n-1]
		t.carries.Add(1)
		return t
	}
	return nil
}

func (w *Watcher) active() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.tasks) > 0
}

// ready reports whether every running task has advanced since seen.
func (w *Watcher) ready(seen uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.tasks {
		if t.advanced <= seen {
			return false
		}
	}
	return true
}

func (w *Watcher) markChanged(path string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.changed[path] = true
	} else {
		delete(w.changed, path)
	}
}

// pending is a path waiting to be carried.
type pending struct {
	due   time.Time
	seen  uint64 // seq when it was last seen changing
	final bool   // held once already: carry whatever it holds
}

// loop is the state owned by the run goroutine.
type loop struct {
	fsw     *fsnotify.Watcher   // nil while no task runs
	dirs    map[string]bool     // directories being watched
	paths   map[string]bool     // files of open documents
	pending map[string]*pending // path → when and how to carry it
	timer   *time.Timer
}

func (w *Watcher) run() {
	defer close(w.done)
	l := &loop{dirs: map[string]bool{}, paths: map[string]bool{}, pending: map[string]*pending{}}
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
			w.fire(l, time.Now())
		case p := <-w.requeue:
			if w.active() {
				// Attributed already (seen 0): carried once it has settled.
				if old := l.pending[p]; old == nil {
					l.pending[p] = &pending{due: time.Now().Add(w.settle), final: true}
				}
				w.resetTimer(l)
			}
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

func (w *Watcher) seqNow() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// sync brings the watching in line with the running tasks and open documents.
func (w *Watcher) sync(l *loop) {
	if !w.active() {
		if l.fsw != nil {
			l.fsw.Close()
			l.fsw = nil
			l.dirs = map[string]bool{}
		}
		// What the tasks changed, Settle carried as each ended.
		for p := range l.pending {
			delete(l.pending, p)
			w.markChanged(p, false)
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
		if l.dirs[d] || !answers(d) {
			continue
		}
		if err := l.fsw.Add(d); err != nil {
			w.log.Debug("cannot watch directory", zap.String("dir", d), zap.Error(err))
			continue
		}
		l.dirs[d] = true
	}
}

// answers reports whether the directory dir can be looked up at once: a
// directory on a hung mount is not watched (inotify_add_watch would hang
// the loop, holding fsnotify's lock), and is tried again at the next resync.
func answers(dir string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	return fsbound.Do(ctx, dir, func() { _, _ = os.Stat(dir) }) == nil
}

// rescan looks at every open document now: events were lost.
func (w *Watcher) rescan(l *loop) {
	now := time.Now()
	seen := w.seqNow()
	for p := range l.paths {
		l.pending[p] = &pending{due: now, seen: seen}
		w.markChanged(p, true)
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

// schedule (re)starts the debounce of a path that changed.
func (w *Watcher) schedule(l *loop, path string) {
	l.pending[path] = &pending{due: time.Now().Add(w.debounce), seen: w.seqNow()}
	w.markChanged(path, true)
	w.resetTimer(l)
}

// fire carries every path whose debounce ended by now and whose change is
// attributable (ready).
func (w *Watcher) fire(l *loop, now time.Time) {
	for p, pd := range l.pending {
		if pd.due.After(now) || !w.ready(pd.seen) {
			continue
		}
		t := w.current()
		if t == nil {
			continue
		}
		delete(l.pending, p)
		how := fromDisk{provisional: !pd.final, skip: w.held, saves: true}
		go func() { // counted by t.carries; ends with the carry (bounded by t.ctx)
			defer t.carries.Done()
			held, err := w.c.carryFromDisk(t.ctx, t.id, p, "", how)
			switch {
			case err != nil && t.ctx.Err() == nil:
				w.log.Warn("carrying a change on disk", zap.String("path", p), zap.Error(err))
			case held:
				select {
				case w.requeue <- p:
				default: // the loop is behind; Settle looks at it at the task's end
				}
			default:
				w.markChanged(p, false)
			}
		}()
	}
	w.resetTimer(l)
}

func (w *Watcher) resetTimer(l *loop) {
	l.timer.Stop()
	var next time.Time
	now := time.Now()
	for _, pd := range l.pending {
		if pd.due.After(now) && (next.IsZero() || pd.due.Before(next)) {
			next = pd.due
		}
	}
	if !next.IsZero() {
		l.timer.Reset(max(time.Until(next), 0))
	}
}

// Settle carries, now and in the caller's goroutine, every open document
// whose file differs from what the bridge last saw on disk, attributing the
// changes to taskID, whatever the debounce still had pending: the server
// calls it as a task ends (the task's file tools have all reported by
// then, so its holds go first), so that changes a Bash command made are in
// the buffers (and in the task's edited files) before the task's result. A
// change the watcher carries at the same time is carried once: the second
// carry finds the disk equal to documents.Doc.Disk. The documents are read
// in parallel; one that cannot be read is reported if it was seen changing.
func (w *Watcher) Settle(ctx context.Context, taskID string) error {
	w.mu.Lock()
	w.releaseTaskLocked(taskID)
	w.mu.Unlock()
	paths := w.docs.Paths()
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		w.mu.Lock()
		quiet := !w.changed[p]
		w.mu.Unlock()
		wg.Add(1)
		go func() { // ends with the carry, bounded by ctx
			defer wg.Done()
			_, errs[i] = w.c.carryFromDisk(ctx, taskID, p, "", fromDisk{skip: w.held, quiet: quiet, saves: true})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}
