package auth

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/proctree"
)

// Check runs the helper now, exactly as claude would, records the outcome
// (Status, audit trail, notifications) and returns the helper's reason when
// it yields no usable key. In inherit mode it does nothing.
func (m *Manager) Check(ctx context.Context) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	res := m.check(ctx)
	if res.ok || m.config().mode == ModeInherit {
		return nil
	}
	if res.cancelled {
		return ctx.Err()
	}
	return errors.New(res.err)
}

// Fingerprint is the fingerprint of the key the helper yielded at the last
// check, or "" when it yielded none (or in inherit mode). The task runner
// notes it when a task starts; a different value after an auth failure means
// the key was rotated and the task is worth running again.
func (m *Manager) Fingerprint() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.mode != ModeHelper || !m.last.ok {
		return ""
	}
	return m.last.fingerprint
}

// Explain returns the helper's own reason for failing (its stderr, such as
// "~/.claude/api_key has mode 0644; run chmod 600 ~/.claude/api_key" or
// "no API key available: ..."), or "" when it yields a key or in inherit
// mode. The task runner adds it to a task that failed on authentication.
// An outcome older than two seconds is refreshed first, so it may run the
// helper (at most about 10 s).
func (m *Manager) Explain() string {
	m.mu.Lock()
	mode, last, closed := m.cfg.mode, m.last, m.closed
	ctx := m.ctx
	m.mu.Unlock()
	if mode != ModeHelper {
		return ""
	}
	if !closed && time.Since(last.at) > 2*time.Second {
		last = m.check(ctx)
	}
	if last.ok || last.cancelled {
		return ""
	}
	return last.err
}

// check runs the helper and records the outcome, under checkMu.
func (m *Manager) check(ctx context.Context) checkResult {
	m.checkMu.Lock()
	defer m.checkMu.Unlock()
	cfg := m.config()
	if cfg.mode != ModeHelper {
		return checkResult{}
	}
	res := m.runHelper(ctx, cfg)
	if !res.cancelled {
		m.record(cfg, res)
	}
	return res
}

// helperScope tags the bridge's own helper runs (see runHelper).
var helperScope = proctree.NewScope()

// capWriter keeps at most max bytes: a broken helper must not make the
// bridge buffer without bound.
type capWriter struct {
	buf []byte
	max int
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// runHelper runs the helper as claude does, `/bin/sh -c <helper command>`,
// with the environment a launch gives claude, plus
// CLAUDE_BRIDGE_HELPER_REPORT so the managed helper names its source on
// stderr. It runs nothing that Launch would refuse (helperReady): the bridge
// never runs a foreign script either. A managed helper is run from the
// content the bridge verified, handed to sh, not from the file, which
// another program could replace between the check and the run.
func (m *Manager) runHelper(ctx context.Context, cfg resolved) checkResult {
	start := time.Now()
	res := checkResult{at: start, source: SourceNone}
	shown := cfg.display(cfg.helperPath)
	argv, err := m.helperReady(cfg)
	if err != nil {
		res.err = err.Error()
		return res
	}
	timeout := m.helperTimeout
	if cfg.keyCommand != "" {
		// A key command allowed longer than the usual run limit gets its
		// time, plus a margin for the rest of the script.
		timeout = max(timeout, cfg.keyCmdTimeout+2*time.Second)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout := &capWriter{max: 4 * maxKeyLen}
	stderr := &capWriter{max: 16 << 10}
	shArgs := []string{"-c", commandLine(argv)}
	if cfg.manage {
		// sh -c SCRIPT $0 $1...: the script sees the same $0 and
		// arguments as when claude runs the file.
		shArgs = append([]string{"-c", string(helperScript())}, argv...)
	}
	cmd := exec.CommandContext(rctx, "/bin/sh", shArgs...)
	env, _ := launchEnv(cfg, cfg.environ, cfg.secrets(""))
	// Tagged, so that what the key command leaves behind outside its
	// process group (a child that called setsid) is found and killed
	// after the run, as a claude's tree is at the end of its turn.
	tag := helperScope.NewTag()
	cmd.Env = append(env, envReport+"=1", tag.Env())
	if cfg.keyCommand != "" {
		defer func() { _, _ = proctree.Sweep(tag, 0) }()
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Its own process group, so a timeout also ends the key command and
	// anything it started, not just the shell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	res.duration = time.Since(start)
	// Only the managed helper names its source; a user's own helper's
	// stderr is its message, whatever it says.
	src, msg := "", strings.TrimSpace(string(stderr.buf))
	if cfg.manage {
		src, msg = splitStderr(string(stderr.buf))
	}
	// Whatever the helper printed on stdout may be a key: it is scrubbed
	// from any message the bridge keeps.
	secrets := append(strings.Fields(string(stdout.buf)), strings.TrimSpace(string(stdout.buf)))
	for _, k := range keyVariables {
		secrets = append(secrets, strings.TrimSpace(envValue(cfg.environ, k)))
	}
	switch {
	case ctx.Err() != nil:
		res.cancelled = true
		res.err = "the check was cancelled"
	case rctx.Err() != nil:
		res.err = fmt.Sprintf("the key helper %s did not finish within %v", shown, timeout)
	case err != nil:
		res.err = msg
		if res.err == "" {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				res.err = fmt.Sprintf("the key helper %s failed (%v) without saying why", shown, ee.ProcessState)
			} else {
				res.err = fmt.Sprintf("cannot run the key helper %s: %v", shown, err)
			}
		}
	default:
		key, perr := parseKey(stdout.buf)
		if perr != nil {
			res.err = strings.Replace(perr.Error(), "the key helper", "the key helper "+shown, 1)
			break
		}
		res.ok = true
		res.key = key
		res.fingerprint = Fingerprint(key)
		res.source = src
		if res.source == "" {
			res.source = SourceHelper
		}
	}
	res.err = redact(res.err, secrets...)
	return res
}

// statusOf is the Status.Status string for a check outcome.
func statusOf(res checkResult) string {
	if res.ok {
		return "ok"
	}
	return "error"
}

// record stores a check outcome, writes the audit trail and tells the user
// about changes of state: a failure once per distinct reason, the recovery
// once, and every new (status, source, fingerprint) through AuthChanged.
// Called with checkMu held, which keeps notifications in order.
func (m *Manager) record(cfg resolved, res checkResult) {
	triple := [3]string{statusOf(res), res.source, res.fingerprint}
	m.mu.Lock()
	prev := m.last
	m.last = res
	m.lastKey = res.key
	changed := !m.haveNotified || m.notified != triple
	m.notified, m.haveNotified = triple, true
	var showLevel Level
	var showText string
	switch {
	case !res.ok && res.err != m.shownErr:
		showLevel, showText = LevelError, "claude-bridge: the Claude API key helper fails: "+res.err
		m.shownErr = res.err
	case res.ok && m.shownErr != "":
		showLevel, showText = LevelInfo, fmt.Sprintf("claude-bridge: the Claude API key works again (%s, fingerprint %s)", sourceDisplay(cfg, res.source), res.fingerprint)
		m.shownErr = ""
	}
	m.mu.Unlock()

	dur := res.duration.Milliseconds()
	if res.ok {
		m.log.Debug("key helper ok", zap.String("source", res.source), zap.String("fingerprint", res.fingerprint), zap.Duration("duration", res.duration))
		m.writeAudit(auditRecord{Time: res.at, Event: EventRefreshOK, Source: res.source, Fingerprint: res.fingerprint, DurationMs: &dur})
	} else {
		m.log.Warn("key helper failed", zap.String("error", res.err), zap.Duration("duration", res.duration))
		m.writeAudit(auditRecord{Time: res.at, Event: EventRefreshFailed, Source: res.source, DurationMs: &dur, Error: res.err})
	}
	if !prev.at.IsZero() && (prev.source != res.source || prev.fingerprint != res.fingerprint) {
		m.log.Info("key source changed",
			zap.String("from", prev.source), zap.String("fromFingerprint", prev.fingerprint),
			zap.String("source", res.source), zap.String("fingerprint", res.fingerprint))
		m.writeAudit(auditRecord{Time: res.at, Event: EventKeySourceChanged, Source: res.source, Fingerprint: res.fingerprint})
	}
	if showText != "" {
		m.notify.ShowMessage(showLevel, showText)
	}
	if changed {
		m.notify.AuthChanged(triple[0], triple[1], triple[2])
	}
}

// sourceDisplay names a source the way a user recognises it.
func sourceDisplay(cfg resolved, source string) string {
	switch source {
	case SourceEnvClaudeAPIKey:
		return "CLAUDE_API_KEY"
	case SourceEnvAnthropicAPIKey:
		return "the bridge's ANTHROPIC_API_KEY"
	case SourceKeyFile:
		return cfg.display(cfg.keyFile)
	case SourceKeyCommand:
		return "auth.keyCommand"
	case SourceHelper:
		return "the key helper " + cfg.display(cfg.helperPath)
	case SourceInherit:
		return "claude's own login"
	}
	return "no source"
}

// sourceFix says how to replace a key the API rejects, per source.
func sourceFix(cfg resolved, source string) string {
	switch source {
	case SourceEnvClaudeAPIKey:
		return "set CLAUDE_API_KEY in the bridge's environment to a valid key, or unset it to use " + cfg.display(cfg.keyFile)
	case SourceEnvAnthropicAPIKey:
		return "set ANTHROPIC_API_KEY in the bridge's environment to a valid key, or unset it to use " + cfg.display(cfg.keyFile)
	case SourceKeyFile:
		w := cfg.shellWord(cfg.keyFile)
		return fmt.Sprintf("write a valid key into %s (chmod 600 %s)", cfg.display(cfg.keyFile), w)
	case SourceKeyCommand:
		return "make auth.keyCommand print a valid key"
	case SourceHelper:
		return "make " + cfg.display(cfg.helperPath) + " print a valid key"
	}
	return fmt.Sprintf("set CLAUDE_API_KEY, write %s (chmod 600), or configure auth.keyCommand", cfg.display(cfg.keyFile))
}
