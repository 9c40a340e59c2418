package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner/auth"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// authStartWait bounds how long a task waits for the auth manager to start
// (its first check runs the key helper, which may run a key command).
const authStartWait = 30 * time.Second

// authManager is the auth manager (runner/auth) as the server runs it, and
// the one adapter between it and the rest of the bridge. It is made from
// the editor's auth settings in initialize, started when the editor sends
// initialized (its first check runs the key helper: initialize answers at
// once, and what the check reports follows the initialize reply), handed
// to the runner as its runner.Auth (each call waits for the start, and for
// the auth settings changes received before it: settle), and
// reports to the editor through the server (window/showMessage,
// claude/authChanged). Settings the bridge refuses, at initialize or
// later, leave it without a manager, so without a key: claude.authStatus
// says "error" and why, tasks fail saying why rather than run claude with
// other credentials, and the next settings are tried afresh.
type authManager struct {
	s     *Server
	base  auth.Config   // Options.Auth: Home, Environ, the default AuditPath
	ready chan struct{} // closed once the start is over (or was called off by close)
	once  sync.Once     // starts the manager, or calls the start off

	mu     sync.Mutex    // guards the fields below
	m      *auth.Manager // nil while the settings are refused
	err    error         // why m is nil
	mode   lspext.AuthMode
	closed bool

	// Auth settings changes: each is noted as it is read
	// (didChangeConfiguration, on the read loop: requested) and applied
	// in order by configLoop (applied). genMu guards both; settled is
	// broadcast on each application. Every call of the runner's waits for
	// the changes noted before it (settle): a task that follows a change
	// launches claude with the new settings, never the old.
	genMu     sync.Mutex
	settled   *sync.Cond
	requested uint64
	applied   uint64
	// last is the auth setting last received (initialize, or the last
	// change noted), lastRefused whether it was refused as it came: a
	// change equal to it is no change (unchanged).
	last        *lspext.AuthConfiguration
	lastRefused bool

	// sentMu orders claude/authChanged notifications and guards sent, the
	// last one sent: one goes out whenever what claude.authStatus says of
	// the key (status, source, fingerprint) changes, whoever changed it
	// (the manager's checks, new settings, settings refused).
	sentMu sync.Mutex
	sent   *lspext.AuthChangedParams
}

// newAuthManager makes the auth manager from the editor's auth settings
// (nil: every default), or without one when refused is not nil (why the
// settings were refused). It does not start it (see start).
func newAuthManager(s *Server, base auth.Config, c *lspext.AuthConfiguration, refused error) *authManager {
	if base.Environ == nil && s.opts.Runner.Env != nil {
		// One environment is the bridge's: where a key may come from and
		// what the launch pins (ANTHROPIC_BASE_URL, proxies) are the
		// environment claude is started with.
		base.Environ = s.opts.Runner.Env
	}
	a := &authManager{s: s, base: base, ready: make(chan struct{}), mode: modeOf(c, refused), last: c, lastRefused: refused != nil}
	a.settled = sync.NewCond(&a.genMu)
	err := refused
	if err == nil {
		var cfg auth.Config
		cfg, err = AuthConfig(c, base)
		if err == nil {
			a.m, err = auth.New(cfg, s.log, authNotifier{a})
		}
	}
	if err != nil {
		a.err = fmt.Errorf("authentication is not set up: %w", err)
	}
	return a
}

// modeOf is the auth mode settings ask for (c, or refused: an `auth`
// setting that did not decode asks for the mode it names, "" when that is
// not a mode).
func modeOf(c *lspext.AuthConfiguration, refused error) lspext.AuthMode {
	var r *refusedAuth
	if errors.As(refused, &r) {
		return r.mode
	}
	if c != nil && c.Mode == lspext.AuthModeInherit {
		return lspext.AuthModeInherit
	}
	return lspext.AuthModeHelper
}

// start starts the manager in the background, once; later calls do
// nothing.
func (a *authManager) start() {
	a.once.Do(func() {
		a.mu.Lock()
		m := a.m
		a.mu.Unlock()
		go func() { // ends when the manager's first check is over
			if m != nil {
				if err := m.Start(a.s.connCtx); err != nil {
					a.s.log.Warn("the auth manager did not start: " + err.Error())
				}
			}
			close(a.ready)
			a.report() // inherit mode and refused settings run no check of their own
		}()
	})
}

// setupError is why the auth settings were refused, or nil.
func (a *authManager) setupError() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// queue hands c to configLoop through configs, noting it as a change the
// runner's calls wait for (settle); false when configs is full (the
// change is dropped, and nothing waits for it). On the read loop.
func (a *authManager) queue(configs chan<- authChange, c authChange) bool {
	a.genMu.Lock()
	defer a.genMu.Unlock()
	c.gen = a.requested + 1
	select {
	case configs <- c:
		a.requested = c.gen
		a.last, a.lastRefused = c.cfg, c.refused != nil
		return true
	default:
		return false
	}
}

// unchanged reports whether the auth setting c, received as it is
// (refused: why it was refused as it came), is the one last received and
// in force: then it changes nothing, and neither the manager nor the warm
// claudes need to start again. The VS Code extension sends the whole
// claudeBridge section, auth included, with each change of any setting,
// which recycled the warm claudes each time. Settings in
// force with an error (a helper path refused, say) are tried again: what
// refused them may have been fixed since. On the read loop.
func (a *authManager) unchanged(c *lspext.AuthConfiguration, refused error) bool {
	a.genMu.Lock()
	same := c != nil && refused == nil && a.last != nil && !a.lastRefused && reflect.DeepEqual(a.last, c)
	a.genMu.Unlock()
	return same && a.setupError() == nil
}

// done records that the change gen is applied (configLoop).
func (a *authManager) done(gen uint64) {
	a.genMu.Lock()
	defer a.genMu.Unlock()
	a.applied = max(a.applied, gen)
	a.settled.Broadcast()
}

// settle waits until the auth settings changes noted so far are applied,
// for at most authStartWait; false if they are not by then.
func (a *authManager) settle() bool {
	a.genMu.Lock()
	defer a.genMu.Unlock()
	want := a.requested
	if a.applied >= want {
		return true
	}
	expired := false
	t := time.AfterFunc(authStartWait, func() {
		a.genMu.Lock()
		expired = true
		a.settled.Broadcast()
		a.genMu.Unlock()
	})
	defer t.Stop()
	for a.applied < want && !expired {
		a.settled.Wait()
	}
	return a.applied >= want
}

// get settles (the auth settings changes received are applied), starts the
// manager if need be, waits (bounded) for the start and returns the
// manager, or nil and why there is none.
func (a *authManager) get() (*auth.Manager, error) {
	if !a.settle() {
		return nil, errors.New("the new auth settings are still being applied")
	}
	return a.current()
}

// current is get without settling: the manager as it is now (for what
// applies the settings, and reports them).
func (a *authManager) current() (*auth.Manager, error) {
	a.start()
	select {
	case <-a.ready:
	case <-time.After(authStartWait):
		return nil, errors.New("the auth manager is still starting")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil && a.err == nil {
		return nil, auth.ErrClosed
	}
	return a.m, a.err
}

// The runner.Auth methods. Without a manager a launch fails with the
// reason, and everything else is neutral.

func (a *authManager) Launch(workspace string) (auth.Launch, error) {
	m, err := a.get()
	if m == nil {
		return auth.Launch{}, err
	}
	return m.Launch(workspace)
}

func (a *authManager) CheckInit(apiKeySource string) string {
	if m, _ := a.get(); m != nil {
		return m.CheckInit(apiKeySource)
	}
	return ""
}

func (a *authManager) On401(ctx context.Context, taskID string) auth.Decision {
	if m, _ := a.get(); m != nil {
		return m.On401(ctx, taskID)
	}
	return auth.Decision{}
}

func (a *authManager) OnTaskSuccess(taskID string) {
	if m, _ := a.get(); m != nil {
		m.OnTaskSuccess(taskID)
	}
}

func (a *authManager) ForgetTask(taskID string) {
	if m, _ := a.get(); m != nil {
		m.ForgetTask(taskID)
	}
}

func (a *authManager) Fingerprint() string {
	if m, _ := a.get(); m != nil {
		return m.Fingerprint()
	}
	return ""
}

// KeySourceGeneration is the manager's, behind the number of auth
// settings changes received: it changes the moment a change is read, before
// it is applied. It waits only while the manager's first start is under
// way (bounded, like get): that start writes the key helper, which would
// change the generation a moment after it was read, and a claude launched
// meanwhile would be taken for stale (the first warm claude was started
// twice).
func (a *authManager) KeySourceGeneration() string {
	select {
	case <-a.ready:
	default:
		a.start()
		select {
		case <-a.ready:
		case <-time.After(authStartWait):
		}
	}
	a.genMu.Lock()
	gen := a.requested
	a.genMu.Unlock()
	a.mu.Lock()
	m := a.m
	a.mu.Unlock()
	if m == nil {
		return fmt.Sprintf("%d|-", gen)
	}
	return fmt.Sprintf("%d|%s", gen, m.KeySourceGeneration())
}

func (a *authManager) Rotated(ctx context.Context, startFingerprint string, maxAge time.Duration) bool {
	if m, _ := a.get(); m != nil {
		return m.Rotated(ctx, startFingerprint, maxAge)
	}
	return false
}

// ClaudeEnv is base less what a launch leaves out of claude's environment
// (auth.Manager.ClaudeEnv, which needs no started manager: the keys it
// knows are those of the bridge's environment and the last one the helper
// yielded). Without a manager (refused settings) base as it is; CheckClaude
// still leaves out the variables named like a credential.
func (a *authManager) ClaudeEnv(base []string) []string {
	a.mu.Lock()
	m := a.m
	a.mu.Unlock()
	if m != nil {
		return m.ClaudeEnv(base)
	}
	return slices.Clone(base)
}

func (a *authManager) Explain() string {
	m, err := a.get()
	if m != nil {
		return m.Explain()
	}
	return err.Error()
}

// status is the claude.authStatus reply, once the start is over (its
// first check says what the key is), or after authStartWait with status
// "starting".
func (a *authManager) status() lspext.AuthStatus {
	m, err := a.current()
	if m == nil {
		a.mu.Lock()
		m, mode := a.m, a.mode
		a.mu.Unlock()
		if m == nil { // refused, or closed
			return lspext.AuthStatus{Status: lspext.AuthError, Mode: mode, Source: lspext.SourceNone, LastError: err.Error()}
		}
	}
	return authStatus(m.Status())
}

// reconfigure applies new auth settings (the whole `auth` object), or
// their refusal. Settings the bridge refuses (here, or when they were
// decoded) stop the manager: the bridge is without a key until settings
// it accepts come, and the user is told why. When the earlier settings
// were refused, these make the manager anew. claude/authChanged follows
// whatever changed.
func (a *authManager) reconfigure(c authChange) {
	defer a.report()
	err := c.refused
	var cfg auth.Config
	if err == nil {
		cfg, err = AuthConfig(c.cfg, a.base)
	}
	m, _ := a.current()
	if err == nil && m != nil {
		if err = m.Reconfigure(cfg); err == nil {
			a.mu.Lock()
			a.mode = modeOf(c.cfg, nil)
			a.mu.Unlock()
			return
		}
	}
	if err == nil {
		m, err = auth.New(cfg, a.s.log, authNotifier{a})
		if err == nil {
			if err = m.Start(a.s.connCtx); err != nil {
				_ = m.Close()
			}
		}
		if err == nil {
			a.mu.Lock()
			closed := a.closed
			if !closed {
				a.m, a.err, a.mode = m, nil, modeOf(c.cfg, nil)
			}
			a.mu.Unlock()
			if closed {
				_ = m.Close()
			}
			return
		}
	}
	// Refused: no manager, so no key, until settings the bridge accepts.
	a.mu.Lock()
	old := a.m
	a.m, a.err, a.mode = nil, fmt.Errorf("authentication is not set up: %w", err), modeOf(c.cfg, c.refused)
	a.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	a.s.ShowMessage(protocol.MessageTypeError, "claude-bridge: auth settings refused: "+err.Error()+
		"; tasks fail until the auth settings are fixed (the bridge has no key)")
}

// report sends claude/authChanged when what claude.authStatus says of the
// key differs from the last one sent.
func (a *authManager) report() {
	st := a.status()
	a.changed(lspext.AuthChangedParams{Status: st.Status, Source: st.Source, Fingerprint: st.Fingerprint})
}

// changed sends p as claude/authChanged unless it was the last one sent.
func (a *authManager) changed(p lspext.AuthChangedParams) {
	a.sentMu.Lock()
	defer a.sentMu.Unlock()
	if a.sent != nil && *a.sent == p {
		return
	}
	a.sent = &p
	a.s.notify(lspext.MethodAuthChanged, &p)
}

// close stops the manager: its watcher, its refresh loop and its runtime
// directory. A start in progress is waited for; one not begun is called off.
func (a *authManager) close() error {
	a.once.Do(func() { close(a.ready) })
	<-a.ready
	a.mu.Lock()
	a.closed = true
	m := a.m
	a.m = nil
	a.mu.Unlock()
	if m != nil {
		return m.Close()
	}
	return nil
}

// authNotifier relays the auth manager's news to the editor.
type authNotifier struct{ a *authManager }

func (n authNotifier) ShowMessage(level auth.Level, text string) {
	if !strings.HasPrefix(text, "claude-bridge") {
		text = "claude-bridge: " + text
	}
	n.a.s.ShowMessage(protocol.MessageType(level), text)
}

func (n authNotifier) AuthChanged(status, source, fingerprint string) {
	n.a.s.mgr.RecheckWarm() // a warm claude holds the key it got at its start
	n.a.changed(lspext.AuthChangedParams{Status: lspext.AuthState(status), Source: keySource(source), Fingerprint: fingerprint})
}

// keySource is the auth manager's source as the protocol's KeySource: one
// the protocol does not know (none should come) is "helper", the helper's
// own.
func keySource(source string) lspext.KeySource {
	for _, s := range lspext.KeySources {
		if string(s) == source {
			return s
		}
	}
	return lspext.SourceHelper
}

// maxSeconds bounds the durations of the auth settings (about 11 days).
const maxSeconds = 1e6

// AuthConfig is the auth manager's configuration for the editor's (or the
// terminal's) auth settings c (nil: every default) over base's Home,
// Environ and AuditPath (the default audit trail). It fails on a duration
// that is negative or too long; auth.New checks the rest.
func AuthConfig(c *lspext.AuthConfiguration, base auth.Config) (auth.Config, error) {
	cfg := auth.Config{Home: base.Home, Environ: base.Environ, AuditPath: base.AuditPath}
	if c == nil {
		return cfg, nil
	}
	for name, v := range map[string]float64{"keyCommandTimeoutSeconds": c.KeyCommandTimeoutSeconds, "refreshIntervalSeconds": c.RefreshIntervalSeconds} {
		if v < 0 || math.IsNaN(v) || v > maxSeconds {
			return cfg, fmt.Errorf("auth.%s: %v is out of range (0 to %v)", name, v, maxSeconds)
		}
	}
	cfg.Mode = string(c.Mode)
	cfg.HelperPath = c.HelperPath
	cfg.ManageHelper = c.ManageHelper
	cfg.KeyFile = c.KeyFile
	cfg.KeyCommand = c.KeyCommand
	cfg.KeyCommandTimeout = time.Duration(c.KeyCommandTimeoutSeconds * float64(time.Second))
	cfg.RefreshInterval = time.Duration(c.RefreshIntervalSeconds * float64(time.Second))
	if c.AuditPath != "" {
		cfg.AuditPath = c.AuditPath
	}
	cfg.AuditMaxBytes = c.AuditMaxBytes
	cfg.Settings = c.Settings
	return cfg, nil
}

// authStatus is the claude.authStatus reply for the manager's status.
func authStatus(st auth.Status) lspext.AuthStatus {
	out := lspext.AuthStatus{
		Status:               lspext.AuthState(st.Status),
		Mode:                 lspext.AuthMode(st.Mode),
		HelperPath:           st.HelperPath,
		HelperExists:         st.HelperExists,
		HelperMode:           st.HelperMode,
		HelperManagedContent: st.HelperManagedContent,
		Managed:              st.Managed,
		Source:               keySource(st.Source),
		KeyCommandConfigured: st.KeyCommandConfigured,
		Fingerprint:          st.Fingerprint,
		RuntimeKeyFile:       st.RuntimeKeyFile,
		TTLMs:                st.TTLMs,
		LastRefreshOK:        st.LastRefreshOK,
		LastRefreshMs:        st.LastRefreshMs,
		LastError:            st.LastError,
		Problems:             st.Problems,
	}
	if st.Mode == auth.ModeHelper {
		kf := st.KeyFile
		out.KeyFile = &lspext.KeyFileStatus{Path: kf.Path, Exists: kf.Exists, OwnerUID: kf.OwnerUID, Owner: kf.Owner, Mode: kf.Mode, OK: kf.OK, Problem: kf.Problem}
	}
	if st.LastRefresh != nil {
		out.LastRefresh = st.LastRefresh.UTC().Format(time.RFC3339Nano)
	}
	return out
}
