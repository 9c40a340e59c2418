package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// Level is a message severity, numbered as LSP's MessageType so the server
// can pass it straight to window/showMessage.
type Level int

// Message levels.
const (
	LevelError   Level = 1
	LevelWarning Level = 2
	LevelInfo    Level = 3
	LevelLog     Level = 4
)

// Notifier is how the Manager reaches the user. The LSP server implements it
// with window/showMessage and the claude/authChanged notification. Methods are
// called from the Manager's goroutines, one at a time and in order; they must
// not block for long and must not call Check, Explain, On401 or Reconfigure
// (Status, Fingerprint and Launch are fine).
type Notifier interface {
	// ShowMessage tells the user about a failure, once per change of state,
	// and about the recovery from one.
	ShowMessage(level Level, text string)
	// AuthChanged reports a new (status, source, fingerprint): status is
	// "ok" or "error", source one of the Source* constants.
	AuthChanged(status, source, fingerprint string)
}

type nopNotifier struct{}

func (nopNotifier) ShowMessage(Level, string)          {}
func (nopNotifier) AuthChanged(string, string, string) {}

// ErrClosed is returned by Manager methods after Close.
var ErrClosed = errors.New("auth: manager is closed")

// checkResult is the outcome of one helper run.
type checkResult struct {
	at          time.Time
	ok          bool
	source      string
	fingerprint string
	// key is the key itself, kept in memory for launchEnv (Manager.lastKey);
	// never logged, shown or written.
	key       string
	duration  time.Duration
	err       string // the helper's own reason (its stderr), or the bridge's; scrubbed
	cancelled bool   // the run was cut short by Close: not an outcome to report
}

// Manager owns the helper script, watches it and the key file, refreshes the
// key on a timer and on demand, and keeps the per-task 401 counts. All methods
// are safe for concurrent use.
type Manager struct {
	log    *zap.Logger
	notify Notifier
	audit  auditLog

	// Tunables; tests shorten them.
	debounce      time.Duration // quiet time after a file event before acting
	helperTimeout time.Duration // a whole helper run, as claude would allow it
	restoreLimit  int           // restores within restoreWindow before giving up: a fight, not a user
	restoreWindow time.Duration

	// checkMu serialises helper runs and the notifications they cause, so
	// the user sees state changes in the order they happened, and a burst of
	// 401s from parallel tasks runs the helper one at a time.
	checkMu sync.Mutex

	// Channels between the watcher goroutine, the caller and the worker.
	helperDirty chan struct{}
	keyDirty    chan struct{}
	reconf      chan chan struct{}
	wg          sync.WaitGroup

	// mu guards everything below.
	mu             sync.Mutex
	cfg            resolved
	started        bool
	closed         bool
	ctx            context.Context // the loop's context; cancelled by Close
	cancel         context.CancelFunc
	watcher        *fsnotify.Watcher
	last           checkResult
	notified       [3]string // last (status, source, fingerprint) sent to AuthChanged
	haveNotified   bool
	shownErr       string // failure text last shown to the user; "" while healthy
	helperErr      string // last error writing the helper
	shownHelperErr string
	restores       []time.Time // restores within restoreWindow
	rewritten      bool        // a restore since the settings were applied (Launch.HelperRewritten)
	helperConflict string      // set when another program keeps rewriting the helper
	foreignHelper  []byte      // the start of what was at the helper path before the last restore
	tasks          map[string]*taskAuth
	// lastKey is the key the helper yielded at the last check ("" for
	// none), held in memory only, so that launchEnv can remove every
	// variable holding it from claude's environment.
	lastKey string
	// keyPaths are the key file and the targets of the symbolic links on
	// the way to it (linkChain), whose changes the watcher reports.
	keyPaths []string
	// warned holds the project overrides already shown (warnOverrides).
	warned map[string]bool
	// gen counts the configurations applied (Reconfigure), for
	// KeySourceGeneration.
	gen uint64

	// rtMu guards the runtime directory (the private channel for a key
	// from the bridge's environment) and serialises writes to its key file.
	rtMu     sync.Mutex
	rt       *runtimeDir // nil until a helper run needs it
	rtClosed bool        // set by Close: no runtime directory after it
}

// New validates cfg and returns a Manager that does nothing until Start.
// log and notify may be nil.
func New(cfg Config, log *zap.Logger, notify Notifier) (*Manager, error) {
	r, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	if notify == nil {
		notify = nopNotifier{}
	}
	m := &Manager{
		log:           log.Named("auth"),
		notify:        notify,
		debounce:      150 * time.Millisecond,
		helperTimeout: 10 * time.Second,
		restoreLimit:  10,
		restoreWindow: 30 * time.Second,
		helperDirty:   make(chan struct{}, 1),
		keyDirty:      make(chan struct{}, 1),
		reconf:        make(chan chan struct{}),
		cfg:           r,
		ctx:           context.Background(),
		tasks:         make(map[string]*taskAuth),
		warned:        make(map[string]bool),
	}
	m.audit.setPath(r.auditPath, r.auditMax)
	m.logConfig(r)
	return m, nil
}

func (m *Manager) logConfig(r resolved) {
	m.log.Info("auth configuration",
		zap.String("mode", r.mode), zap.String("helperPath", r.helperPath),
		zap.Bool("manageHelper", r.manage), zap.String("keyFile", r.keyFile),
		zap.Bool("keyCommand", r.keyCommand != ""), zap.Duration("refreshInterval", r.refresh))
	for _, w := range r.warnings {
		m.log.Warn(w)
	}
}

func (m *Manager) config() resolved {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

func (m *Manager) loopCtx() context.Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ctx
}

// Start writes the managed helper, runs the first check (so Status and
// Fingerprint are meaningful when it returns; at most about 10 s, usually
// milliseconds), then watches the helper and key file and refreshes every
// RefreshInterval until ctx ends or Close is called. Problems with the key
// are not errors here: they are reported through the Notifier and Status,
// and retried. Start fails only when called twice or after Close.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	if m.started {
		m.mu.Unlock()
		return errors.New("auth: manager already started")
	}
	m.started = true
	m.ctx, m.cancel = context.WithCancel(ctx)
	ctx = m.ctx
	w, err := fsnotify.NewWatcher()
	if err != nil {
		// inotify limits (EMFILE/ENOSPC): the refresh loop still notices
		// every change, only later.
		m.log.Warn("cannot watch the key helper and key file; changes are noticed at the next refresh", zap.Error(err))
	} else {
		m.watcher = w
	}
	m.mu.Unlock()

	if w != nil {
		m.wg.Add(1)
		go m.watch(ctx, w)
	}
	cfg := m.config()
	// The runtime directories of bridges that were killed still hold their
	// keys: remove them now, in both places a bridge may have put them.
	base, note := runtimeBase(cfg.environ, cfg.home)
	if note != "" {
		m.log.Warn(note + "; the bridge's runtime directory goes under " + base)
	}
	if n := cleanStaleRuntimes(cfg.environ, cfg.home); n > 0 {
		m.log.Info("removed the runtime directories of bridges that are gone", zap.Int("count", n))
	}
	m.ensureHelper(cfg, false)
	m.syncWatches(cfg)
	m.check(ctx)
	m.wg.Add(1)
	go m.loop(ctx, cfg.refresh)
	return nil
}

// Close stops the watcher and the refresh loop, kills a helper run in flight,
// waits for every goroutine to end and removes the bridge's runtime
// directory with its key file. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	cancel, w := m.cancel, m.watcher
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	var err error
	if w != nil {
		err = w.Close()
	}
	m.wg.Wait()
	m.closeRuntime()
	return err
}

// Reconfigure applies a new configuration (workspace/didChangeConfiguration).
// An invalid one is rejected and the old one kept. When the Manager is
// running it rewrites the helper, moves the watches, resets the refresh timer
// and runs a check before returning. Per-task 401 counts are kept. A helper
// at an old HelperPath is left in place: other bridges may use it.
func (m *Manager) Reconfigure(cfg Config) error {
	r, err := resolve(cfg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.cfg = r
	m.gen++
	m.helperConflict = ""
	m.restores, m.rewritten = nil, false
	started := m.started
	ctx := m.ctx
	m.mu.Unlock()
	if r.mode != ModeHelper || !r.manage || r.envKeySource == "" {
		// The helper no longer offers a key from the bridge's
		// environment: its copy must not stay on disk.
		m.rtMu.Lock()
		if m.rt != nil {
			m.rt.removeKey()
		}
		m.rtMu.Unlock()
	}
	m.audit.setPath(r.auditPath, r.auditMax)
	m.logConfig(r)
	if !started {
		return nil
	}
	done := make(chan struct{})
	select {
	case m.reconf <- done:
		<-done
	case <-ctx.Done():
	}
	return nil
}

// loop is the worker: it owns the refresh ticker and the debounce timers, and
// does all helper maintenance and periodic checks.
func (m *Manager) loop(ctx context.Context, interval time.Duration) {
	defer m.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	helperTimer := time.NewTimer(time.Hour)
	helperTimer.Stop()
	keyTimer := time.NewTimer(time.Hour)
	keyTimer.Stop()
	defer helperTimer.Stop()
	defer keyTimer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// The periodic pass is also the fallback for file systems
			// without change events (NFS, FUSE) and for lost watches.
			cfg := m.config()
			m.ensureHelper(cfg, true)
			m.syncWatches(cfg)
			m.check(ctx)
		case <-m.helperDirty:
			helperTimer.Reset(m.debounce)
		case <-m.keyDirty:
			keyTimer.Reset(m.debounce)
		case <-helperTimer.C:
			cfg := m.config()
			m.ensureHelper(cfg, true)
			m.syncWatches(cfg)
		case <-keyTimer.C:
			m.syncWatches(m.config())
			m.check(ctx)
		case done := <-m.reconf:
			cfg := m.config()
			ticker.Reset(cfg.refresh)
			m.ensureHelper(cfg, false)
			m.syncWatches(cfg)
			m.check(ctx)
			close(done)
		}
	}
}

// poke signals a worker channel without blocking: one pending signal is as
// good as many, which is the first half of the debounce.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// watch drains the fsnotify watcher. It watches parent directories, because
// editors and tools replace files by rename, which ends a watch on the file
// itself, and filters on the two names that matter.
func (m *Manager) watch(ctx context.Context, w *fsnotify.Watcher) {
	defer m.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			m.mu.Lock()
			cfg, keyPaths := m.cfg, m.keyPaths
			m.mu.Unlock()
			name := filepath.Clean(ev.Name)
			switch {
			case name == cfg.helperPath:
				poke(m.helperDirty)
			case name == cfg.keyFile || slices.Contains(keyPaths, name):
				// The key file, or a link or file on the way to it
				// (a rotated link target).
				poke(m.keyDirty)
			case name == filepath.Dir(cfg.helperPath) || slices.ContainsFunc(keyPaths, func(p string) bool { return name == filepath.Dir(p) }):
				// A watched directory itself went away: recreate what
				// is ours and re-check the key.
				poke(m.helperDirty)
				poke(m.keyDirty)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			m.log.Warn("file watcher error", zap.Error(err))
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				poke(m.helperDirty)
				poke(m.keyDirty)
			}
		}
	}
}

// syncWatches makes the watcher cover the parent directories of the
// helper, of the key file and of each target of a symbolic link on the way
// to the key file (~/.claude/api_key -> ~/secrets/anthropic: a key rotated
// by replacing ~/secrets/anthropic changes nothing in ~/.claude). A
// directory that does not exist yet is retried at the next pass; the
// refresh loop covers the gap. It runs again after every change to the key
// file, so a link pointed elsewhere moves the watches along.
func (m *Manager) syncWatches(cfg resolved) {
	keyPaths := linkChain(cfg.keyFile)
	m.mu.Lock()
	w := m.watcher
	closed := m.closed
	m.keyPaths = keyPaths
	m.mu.Unlock()
	if w == nil || closed {
		return
	}
	var want []string
	if cfg.mode == ModeHelper {
		want = append(want, filepath.Dir(cfg.helperPath))
		for _, p := range keyPaths {
			if d := filepath.Dir(p); !slices.Contains(want, d) {
				want = append(want, d)
			}
		}
	}
	have := w.WatchList()
	for _, d := range want {
		if slices.Contains(have, d) {
			continue
		}
		if err := w.Add(d); err != nil {
			m.log.Debug("cannot watch directory yet", zap.String("dir", d), zap.Error(err))
		}
	}
	for _, d := range have {
		if !slices.Contains(want, d) {
			w.Remove(d)
		}
	}
}

// ensureHelper writes the managed helper when it is missing or differs.
// restoring distinguishes putting it back after someone changed it (audited
// helper_restored, rate-limited) from writing it for a (new) configuration.
func (m *Manager) ensureHelper(cfg resolved, restoring bool) {
	if cfg.mode != ModeHelper || !cfg.manage {
		return
	}
	m.mu.Lock()
	conflict := m.helperConflict
	m.mu.Unlock()
	if conflict != "" {
		return
	}
	var before []byte
	if restoring {
		// What is there now, to say whose it is should the bridge give up.
		before = readHead(cfg.helperPath, 512)
	}
	changed, err := ensureFile(cfg.helperPath, helperScript(), 0o700)
	if err != nil {
		m.log.Error("cannot write the key helper", zap.String("path", cfg.helperPath), zap.Error(err))
		m.mu.Lock()
		m.helperErr = err.Error()
		show := m.shownHelperErr != m.helperErr
		m.shownHelperErr = m.helperErr
		m.mu.Unlock()
		if show {
			m.notify.ShowMessage(LevelError, "claude-bridge: cannot write the Claude API key helper: "+err.Error())
		}
		return
	}
	m.mu.Lock()
	m.helperErr, m.shownHelperErr = "", ""
	m.mu.Unlock()
	if !changed {
		return
	}
	if !restoring {
		m.log.Info("key helper written", zap.String("path", cfg.helperPath))
		m.writeAudit(auditRecord{Event: EventHelperWritten})
		return
	}
	m.log.Warn("key helper was changed or deleted; restored", zap.String("path", cfg.helperPath))
	m.writeAudit(auditRecord{Event: EventHelperRestored})
	now := time.Now()
	m.mu.Lock()
	if len(before) > 0 {
		m.foreignHelper = before
	}
	m.restores = append(m.restores, now)
	m.rewritten = true
	for len(m.restores) > 0 && now.Sub(m.restores[0]) > m.restoreWindow {
		m.restores = m.restores[1:]
	}
	if len(m.restores) >= m.restoreLimit {
		// Bridges of one helper version write the same helper whatever
		// their configuration, so only another version, or another
		// program, keeps rewriting it; the two would otherwise rewrite
		// it back and forth forever.
		m.helperConflict = conflictText(cfg, m.foreignHelper)
	}
	conflict = m.helperConflict
	m.mu.Unlock()
	if conflict != "" {
		m.log.Error(conflict)
		m.notify.ShowMessage(LevelWarning, "claude-bridge: "+conflict)
	}
}

// conflictText says who keeps replacing the helper, judged by what was at
// its path before the last restore.
func conflictText(cfg resolved, foreign []byte) string {
	shown := cfg.display(cfg.helperPath)
	if v := foreignHelperVersion(foreign); v != 0 && v != helperVersion {
		// Each version's helper refuses the other's arguments: a claude
		// running meanwhile gets no key, never the other bridge's.
		return fmt.Sprintf("%s keeps being replaced by the key helper of another claude-bridge version (helper version %d; this bridge's is version %d); the bridge stopped restoring it: run one claude-bridge version at a time, or give each version its own auth.helperPath", shown, v, helperVersion)
	}
	return fmt.Sprintf("%s keeps being changed by another program; the bridge stopped restoring it, and a claude already running runs whatever is there at its next key refresh: find what rewrites it, or set auth.helperPath to a file of the bridge's own", shown)
}

// readHead returns up to n bytes from the start of path (nil when it
// cannot be read).
func readHead(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, _ := io.ReadFull(f, b)
	return b[:k]
}

func (m *Manager) writeAudit(rec auditRecord) {
	if err := m.audit.write(rec); err != nil {
		m.log.Warn("cannot write the auth audit trail", zap.Error(err))
	}
}
