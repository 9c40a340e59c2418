package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/auth"
)

// Warm claudes: a claude started and initialised per workspace folder
// ahead of need, so that a task's prompt goes to a process that is already
// there. What the real claude CLI 2.1.332 does while it waits (measured
// with the bridge's arguments against testdata/fakeapi), and what follows
// from it:
//
//   - Sent initialize, it answers within about 0.4 s (the answer's
//     session_state is "idle"; it holds no session id) and then prints
//     nothing at all until the first user message: no system/init line.
//     The init line, with the session id, model, cwd and apiKeySource, comes
//     about 0.1 s after the prompt. So a task that takes a warm claude gets
//     its `started` event and its session id from its own prompt's init
//     line, exactly as a cold one does.
//   - It runs the apiKeyHelper once while it starts (about 0.3 s after
//     exec, before it answers initialize; a helper slower than about 2 s
//     gets an answer first, whose account then has no apiKeySource), not at
//     the first request; later only when the helper's TTL has passed or on
//     a 401. A helper that fails at start leaves "apiKeyHelper failed" on
//     claude's stderr (a slow one, after the answer), and the first
//     request then goes out with no key, takes a 401 and is retried about a
//     second later. So a warm claude whose helper failed is replaced, not
//     used, and so is one started under another key (Auth.Fingerprint,
//     which is "" while the helper fails) or another key source, the auth
//     settings received since or the key file rewritten
//     (Auth.KeySourceGeneration, which changes before the auth manager
//     has noticed); and none is started while the helper file is being
//     changed by another program (vetHelper).
//   - It reads its context while it starts, not at the prompt: the
//     CLAUDE.md files, the git status (branch, changed files, recent
//     commits), the memory index, its settings; and today's date. A
//     CLAUDE.md edited or a commit made after it started does not reach the
//     first request. So a warm claude is replaced when any of those files
//     changes (snapshot), when the date changes, when a task that may have
//     written in its folder ends (a tool other than a read-only one ran),
//     and after Config.WarmRecycle in any case (changes snapshot cannot
//     see, such as the user's own saved edits in the git status).
//   - While it waits it uses no CPU and about 160 MB of memory (make bench
//     prints the figure, 2w).
//
// Budget: warm claudes count against the idle budget (MaxIdle, with the
// processes parked for follow-ups) and hold a slot each (MaxConcurrent);
// one is started only while both have room (an idle one it outranks gives
// way, see pool) and no task waits in the queue, at most one per folder
// and Config.MaxWarm in all (the folders of the most recent tasks first,
// then the editor's order). A task that needs a slot kills a warm claude
// before it would evict an idle one or wait. No warm claude starts while a
// task's claude starts (hold): from the moment the task asks for a claude
// until its claude waits for the API, or the task ends.
//
// A task takes the warm claude of its folder when its options are the
// ones warm claudes are started with (Config.Defaults) and it resumes no
// conversation; it checks the claude is still usable first (usable: among
// the rest, not stopped), and falls back to a cold start on any doubt, or
// when the warm claude dies, or shows no sign of life within
// keptAnswerWait, before the turn's first line (turn.go).

// warmer decides which folders have a warm claude, starts them, and
// replaces them when they go stale. The pool does the accounting.
//
// Goroutines: loop (started by the first SetFolders; ends when Shutdown
// cancels ctx) and one starter per warm claude being launched (ends once
// the claude answered initialize, failed, or the Manager shut down).
type warmer struct {
	m      *Manager
	kick   chan struct{} // a buffered token: plan again
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex // guards the fields below
	folders []string   // the editor's folders, those of the most recent tasks first
	gen     uint64     // bumped when the launch configuration or the auth settings change (recycle)
	wrote   map[string]time.Time
	fails   map[string]*warmFails
	// starting are the tasks whose claude is starting (hold): no warm
	// claude starts meanwhile.
	starting map[*Task]bool
	// helperUntil: no warm claude before then, the key helper having
	// changed moments ago (vetHelper).
	helperUntil time.Time
	running     bool // loop started
}

// warmFails counts a folder's warm claudes that died or failed in a row.
type warmFails struct {
	n     int
	until time.Time // no new one before this
}

func newWarmer(m *Manager) *warmer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &warmer{m: m, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel, wrote: map[string]time.Time{}, fails: map[string]*warmFails{}, starting: map[*Task]bool{}}
	m.pool.warmEvent = w.poolEvent
	return w
}

// poke asks the loop to plan again (never waits).
func (w *warmer) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// setFolders replaces the folders to keep warm, in the editor's order;
// folders that ran a task keep their place in front.
func (w *warmer) setFolders(folders []string) {
	w.mu.Lock()
	var next []string
	seen := map[string]bool{}
	for _, f := range w.folders { // recently used ones first, if still there
		if contains(folders, f) && !seen[f] {
			next = append(next, f)
			seen[f] = true
		}
	}
	for _, f := range folders {
		if !seen[f] {
			next = append(next, f)
			seen[f] = true
		}
	}
	w.folders = next
	start := !w.running && w.ctx.Err() == nil
	w.running = w.running || start
	w.mu.Unlock()
	if start {
		go w.loop()
	}
	w.poke()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// used moves folder to the front: its tasks are the likeliest next.
func (w *warmer) used(folder string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, f := range w.folders {
		if f == folder {
			copy(w.folders[1:i+1], w.folders[:i])
			w.folders[0] = folder
			return
		}
	}
}

// taskEnded records that task t in folder ended, and whether it may have
// written there (then the folder's warm claude, started before, is stale).
func (w *warmer) taskEnded(t *Task, folder string, wrote bool) {
	w.mu.Lock()
	if wrote {
		w.wrote[folder] = time.Now()
	}
	delete(w.starting, t)
	w.mu.Unlock()
	w.poke()
}

// hold records that task t is about to get a claude that may start: no warm
// claude starts until its claude waits for the API (its request is out and
// it has printed nothing for a while: release), or the task ends. Starting
// a claude takes most of a second of CPU, which a warm claude starting
// beside it would take from the task's (measured with 2 cores: the prompt
// reached the API 60 ms later with the next warm claude starting beside
// a taken one; a run right after a configuration change took 2.99 s where
// 1.51 s without prewarm, the next warm claude starting in the same
// millisecond as the task's cold one); once it waits for the API it has no
// use for the CPU.
func (w *warmer) hold(t *Task) {
	w.mu.Lock()
	w.starting[t] = true
	w.mu.Unlock()
}

// release records that task t's claude is no longer starting (it waits for
// the API, or t reused an idle one): warm claudes may start again.
func (w *warmer) release(t *Task) {
	w.mu.Lock()
	held := w.starting[t]
	delete(w.starting, t)
	w.mu.Unlock()
	if held {
		w.poke()
	}
}

// recycle makes every warm claude stale (the configuration or the key
// source changed) and forgets past failures.
func (w *warmer) recycle() {
	w.mu.Lock()
	w.gen++
	w.fails = map[string]*warmFails{}
	w.mu.Unlock()
	w.poke()
}

// recheck forgets past failures and plans again: a warm claude whose key
// is no longer the auth manager's is replaced (the key source changed).
func (w *warmer) recheck() {
	w.mu.Lock()
	w.fails = map[string]*warmFails{}
	w.mu.Unlock()
	w.poke()
}

// poolEvent is the pool's news: a warm claude was taken, a slot freed, or
// a warm claude died on its own (lost).
func (w *warmer) poolEvent(lost *warmProc) {
	if lost != nil {
		w.failed(lost.folder, "it exited while it waited")
	}
	w.poke()
}

// failed counts a failure of folder's warm claude: the next one starts at
// once after the first, then after 1 s, 2 s, 4 s ... up to 5 minutes.
func (w *warmer) failed(folder, why string) {
	w.mu.Lock()
	f := w.fails[folder]
	if f == nil {
		f = &warmFails{}
		w.fails[folder] = f
	}
	f.n++
	delay := time.Duration(0)
	if f.n > 1 {
		delay = min(time.Second<<min(f.n-2, 9), 5*time.Minute)
	}
	f.until = time.Now().Add(delay)
	n := f.n
	w.mu.Unlock()
	w.m.cfg().Log.Info("warm claude lost", zap.String("folder", folder), zap.String("why", why), zap.Int("inARow", n), zap.Duration("retryIn", delay))
}

// healthy forgets folder's failures: its warm claude was taken or served
// its time.
func (w *warmer) healthy(folder string) {
	w.mu.Lock()
	delete(w.fails, folder)
	w.mu.Unlock()
}

// loop plans whenever poked, and when the next warm claude is due to be
// recycled or a folder's back-off ends.
func (w *warmer) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-w.kick:
		case <-timer.C:
		case <-w.ctx.Done():
			return
		}
		next := w.plan()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// plan stops the warm claudes that are stale or no longer wanted and
// starts those missing, within the budgets. It returns when to plan again
// at the latest.
func (w *warmer) plan() time.Duration {
	cfg := w.m.cfg()
	now := time.Now()
	next := time.Hour
	w.mu.Lock()
	targets := append([]string(nil), w.folders[:min(len(w.folders), cfg.MaxWarm)]...)
	gen := w.gen
	w.mu.Unlock()
	if !cfg.Prewarm || w.m.isClosed() {
		targets = nil
	}
	fp, keyGen := "", ""
	live := w.m.pool.warmList()
	if cfg.Auth != nil && (len(live) > 0 || len(targets) > 0) {
		// The generation before the fingerprint: Fingerprint waits for
		// auth settings being applied, and a warm claude launched now is
		// launched with them (its launch waits too), but must be stale
		// should more settings come meanwhile.
		keyGen = cfg.Auth.KeySourceGeneration()
		fp = cfg.Auth.Fingerprint()
	}
	for _, wp := range live {
		why := ""
		if !contains(targets, wp.folder) {
			why = "its folder no longer gets one"
		} else {
			why = w.usable(wp, cfg, fp, now)
		}
		if why != "" {
			cfg.Log.Debug("warm claude stopped", zap.String("folder", wp.folder), zap.String("why", why))
			w.m.pool.evictWarm(wp)
			if why == warmAuthFailed || why == warmExited || why == warmStopped {
				w.failed(wp.folder, why)
			} else {
				w.healthy(wp.folder)
			}
			continue
		}
		next = min(next, wp.started.Add(cfg.WarmRecycle).Sub(now))
	}
	if len(targets) == 0 {
		return next
	}
	if running, waiting := w.m.queue.counts(); waiting > 0 || running >= cfg.MaxConcurrent {
		return next // every slot is a task's; a freed one pokes
	}
	w.mu.Lock()
	helperUntil, starting := w.helperUntil, len(w.starting)
	w.mu.Unlock()
	if starting > 0 {
		return next // a task's claude starts (hold); release or taskEnded pokes
	}
	if helperUntil.After(now) {
		return min(next, helperUntil.Sub(now))
	}
	for _, folder := range targets {
		w.mu.Lock()
		f := w.fails[folder]
		w.mu.Unlock()
		if f != nil && f.until.After(now) {
			next = min(next, f.until.Sub(now))
			continue
		}
		wp := &warmProc{folder: folder, opts: cfg.Defaults, gen: gen, started: now, authFP: fp, keyGen: keyGen, context: takeSnapshot(folder, envLookup(cfg.Env)("HOME"))}
		if !w.m.pool.reserveWarm(wp, cfg.MaxWarm) {
			continue // this folder has one, or the budgets are full
		}
		go w.start(wp, cfg) // ends once claude answered initialize or failed
	}
	return max(next, time.Millisecond)
}

// Reasons a warm claude is unusable that count as its failure (the next
// one waits, see failed).
const (
	warmAuthFailed = "its key helper failed"
	warmExited     = "it exited"
	warmStopped    = "it is stopped (SIGSTOP, a debugger): it would not answer"
)

// usable says why the warm claude wp cannot serve a task now ("" when it
// can); fp is the auth manager's current fingerprint.
func (w *warmer) usable(wp *warmProc, cfg Config, fp string, now time.Time) string {
	w.mu.Lock()
	gen, wrote := w.gen, w.wrote[wp.folder]
	w.mu.Unlock()
	switch {
	case wp.gen != gen:
		return "the configuration changed"
	case !sameLaunch(wp.opts, cfg.Defaults):
		return "the default options changed"
	case now.Sub(wp.started) >= cfg.WarmRecycle:
		return fmt.Sprintf("it waited %s", cfg.WarmRecycle)
	case wp.authFP != fp:
		return "the API key changed"
	case cfg.Auth != nil && wp.keyGen != cfg.Auth.KeySourceGeneration():
		// The auth settings changed, or the key file, perhaps moments ago:
		// it may hold another key than a claude started now would.
		return "the key source changed since it started"
	case !wrote.IsZero() && !wrote.Before(wp.started):
		return "a task may have changed its folder since it started"
	}
	if s := wp.session(w.m.pool); s != nil {
		if s.proc.stderr.contains(helperFailedMark) {
			return warmAuthFailed
		}
		if !s.alive() {
			return warmExited
		}
		if s.proc.halted() {
			return warmStopped
		}
	}
	if takeSnapshot(wp.folder, envLookup(cfg.Env)("HOME")) != wp.context {
		return "what it read at start (CLAUDE.md, settings, git state, the date) changed"
	}
	return ""
}

// check says why the warm claude s, which a task took, cannot serve it
// ("" when it can): usable, and the auth manager's additions to claude's
// command line must be those it was started with. That asks the auth
// manager to vet the key helper again (Auth.Launch), as a cold start would:
// claude runs the helper again later (its TTL, a 401), and must never run
// one the bridge no longer vouches for. A warm claude taken before it
// answered initialize is used all the same: claude reads the prompt once
// it is ready, as a cold one does.
func (w *warmer) check(ctx context.Context, wp *warmProc, s *session, cfg Config, fp string) string {
	if why := w.usable(wp, cfg, fp, time.Now()); why != "" {
		return why
	}
	if cfg.Auth != nil {
		l, err := authLaunch(ctx, cfg.Auth, wp.folder)
		if err != nil {
			return err.Error()
		}
		if strings.Join(l.Args, "\x00") != strings.Join(s.launchArgs, "\x00") {
			return "the auth manager launches claude differently now"
		}
	}
	return ""
}

// helperFailedMark is what claude 2.1.332 prints on stderr when its
// apiKeyHelper fails ("apiKeyHelper failed: exited 3: ...").
const helperFailedMark = "apiKeyHelper failed"

// session is wp's claude, nil while it is being launched.
func (wp *warmProc) session(p *pool) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return wp.sess
}

// helperQuiet is how long the key helper must have been left alone for a
// warm claude to be started on it (see vetHelper).
const helperQuiet = 5 * time.Second

// errHelperInFlux refuses a warm start while the key helper is changing.
type errHelperInFlux struct{ until time.Time }

func (e *errHelperInFlux) Error() string { return "the key helper is being changed" }

// helperState identifies the key helper file (auth.FileStamp) and says
// when it was last modified.
func helperState(path string) (string, time.Time) {
	fi, err := os.Stat(path)
	if err != nil {
		return "-", time.Time{}
	}
	return auth.StampOf(fi), fi.ModTime()
}

// vetHelper refuses to start a warm claude on a key helper changed less
// than helperQuiet ago, unless the auth manager has just verified it is
// the bridge's own script (Launch.HelperVerified), and records the
// helper's state for the check after claude ran it. claude runs the helper
// about 0.3 s after it starts, not when the auth manager vets it
// (Auth.Launch, which restores a managed helper someone changed, and
// refuses it after ten restores): a claude started while another program
// keeps rewriting the helper could run that program's script. For a task
// the user asked for, that moment is the user's; a warm claude is started
// only on a helper verified or left alone, and is killed should the helper
// change before it answered initialize (claude has run it by then).
func (w *warmer) vetHelper(wp *warmProc, l auth.Launch) error {
	if l.HelperPath == "" {
		return nil
	}
	if l.HelperRewritten {
		// No quiet period makes this safe: the program that rewrote the
		// helper may do it again as claude starts.
		return errors.New("another program has rewritten the key helper since the auth settings were applied: no claude is started ahead of need")
	}
	state, mod := helperState(l.HelperPath)
	if until := mod.Add(helperQuiet); time.Now().Before(until) && !l.HelperVerified {
		// Changed moments ago, and not found to be the bridge's own script
		// (a user's own helper being edited; a managed one verified is the
		// bridge's write: its first start on this HOME, a new helper).
		return &errHelperInFlux{until: until}
	}
	wp.helperPath, wp.helper = l.HelperPath, state
	return nil
}

// start launches wp's claude and waits until it answers initialize.
func (w *warmer) start(wp *warmProc, cfg Config) {
	log := cfg.Log.With(zap.String("warm", wp.folder))
	s, err := w.m.startClaude(w.ctx, cfg, wp.opts, wp.folder, log, w.m.pool.gone, func(l auth.Launch) error { return w.vetHelper(wp, l) })
	if err != nil {
		w.m.pool.failWarm(wp)
		var flux *errHelperInFlux
		if errors.As(err, &flux) {
			w.mu.Lock()
			w.helperUntil = flux.until
			w.mu.Unlock()
			log.Debug("warm claude not started: the key helper changed moments ago")
		} else {
			w.failed(wp.folder, "it could not start: "+err.Error())
		}
		w.poke()
		return
	}
	if !w.m.pool.attachWarm(wp, s) {
		return // evicted while it was launched
	}
	ctx, cancel := context.WithTimeout(w.ctx, cfg.StartTimeout)
	defer cancel()
	r := s.initialized(ctx)
	switch {
	case w.ctx.Err() != nil:
		// Shutdown: the closed pool kills it.
	case r == nil && ctx.Err() != nil:
		w.m.pool.evictWarm(wp)
		w.failed(wp.folder, fmt.Sprintf("it did not answer initialize within %s", cfg.StartTimeout))
	case r == nil:
		// It exited before it answered; gone() has counted it.
	case r.Subtype == "error":
		w.m.pool.evictWarm(wp)
		w.failed(wp.folder, "it refused initialize: "+r.Error)
	case s.proc.stderr.contains(helperFailedMark):
		w.m.pool.evictWarm(wp)
		w.failed(wp.folder, warmAuthFailed)
	case wp.helperPath != "" && func() bool { st, _ := helperState(wp.helperPath); return st != wp.helper }():
		w.m.pool.evictWarm(wp)
		log.Info("warm claude stopped: the key helper changed while it started", zap.Int("pid", s.proc.pid()))
	default:
		if w.m.pool.warmReady(wp) {
			log.Debug("warm claude ready", zap.Int("pid", s.proc.pid()), zap.Duration("after", time.Since(wp.started)))
		}
	}
	w.poke()
}

// snapshot identifies what a claude reads while it starts and sends with
// the first request: the local date and, by size, modification time and
// inode (or absence), the CLAUDE.md files of the folder and the folders
// above it, the folder's claude settings and MCP configuration, the user's
// CLAUDE.md, settings and the folder's memory index, and the git files
// that change with a commit, a checkout or staging. Equal snapshots: a
// claude started at either moment reads the same context (but for the
// git status of files changed in the work tree and not staged, which only
// WarmRecycle bounds).
type snapshot string

func takeSnapshot(folder, home string) snapshot {
	var b strings.Builder
	b.WriteString(time.Now().Format("2006-01-02"))
	stat := func(p string) {
		fi, err := os.Stat(p)
		if err != nil {
			b.WriteString("|-")
			return
		}
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = uint64(st.Ino)
		}
		fmt.Fprintf(&b, "|%d.%d.%d", fi.Size(), fi.ModTime().UnixNano(), ino)
	}
	for dir := folder; ; {
		stat(filepath.Join(dir, "CLAUDE.md"))
		stat(filepath.Join(dir, "CLAUDE.local.md"))
		stat(filepath.Join(dir, ".claude", "CLAUDE.md"))
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	for _, f := range []string{".claude", ".claude/settings.json", ".claude/settings.local.json", ".mcp.json"} {
		stat(filepath.Join(folder, f))
	}
	if home != "" {
		stat(filepath.Join(home, ".claude", "CLAUDE.md"))
		stat(filepath.Join(home, ".claude", "settings.json"))
		stat(filepath.Join(home, ".claude", "projects", projectSlug(folder), "memory", "MEMORY.md"))
	}
	if gd := gitDir(folder); gd != "" {
		for _, f := range []string{"HEAD", "index", "logs/HEAD", "packed-refs"} {
			stat(filepath.Join(gd, f))
		}
	}
	return snapshot(b.String())
}

// projectSlug is the name claude gives a folder's directory under
// ~/.claude/projects: its path with every character but letters and
// digits turned into '-' (/tmp/a/ws → -tmp-a-ws).
func projectSlug(folder string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, folder)
}

// gitDir finds the git directory of the repository holding folder: a .git
// directory, or the one a .git file names (a worktree); "" if none.
func gitDir(folder string) string {
	for dir := folder; ; {
		p := filepath.Join(dir, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return p
			}
			if b, err := os.ReadFile(p); err == nil {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:"); ok {
					gd := strings.TrimSpace(rest)
					if !filepath.IsAbs(gd) {
						gd = filepath.Join(dir, gd)
					}
					return gd
				}
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
