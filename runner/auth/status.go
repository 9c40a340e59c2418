package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// KeyFileStatus describes the key file as the helper judges it.
type KeyFileStatus struct {
	Path     string `json:"path"`
	Exists   bool   `json:"exists"`
	OwnerUID int    `json:"ownerUid,omitempty"`
	Owner    string `json:"owner,omitempty"` // user name, when it resolves
	Mode     string `json:"mode,omitempty"`  // octal, "0600"
	// OK is true when the file exists and the helper would accept its
	// owner and mode (its content is judged by running the helper).
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"` // the helper's own words, with the fix
}

// Status is the auth state for the claude.authStatus command and doctor.
type Status struct {
	// Status is "ok" (the helper yields a key), "error", "inherit", or
	// "starting" before the first check.
	Status               string        `json:"status"`
	Mode                 string        `json:"mode"`
	HelperPath           string        `json:"helperPath,omitempty"`
	HelperExists         bool          `json:"helperExists"`
	HelperMode           string        `json:"helperMode,omitempty"`
	HelperManagedContent bool          `json:"helperManagedContent"` // the file is what this bridge would write
	Managed              bool          `json:"managed"`
	Source               string        `json:"source"`
	KeyFile              KeyFileStatus `json:"keyFile"`
	KeyCommandConfigured bool          `json:"keyCommandConfigured"`
	Fingerprint          string        `json:"fingerprint,omitempty"`
	TTLMs                int64         `json:"ttlMs,omitempty"`
	LastRefresh          *time.Time    `json:"lastRefresh,omitempty"`
	LastRefreshOK        bool          `json:"lastRefreshOk"`
	LastRefreshMs        int64         `json:"lastRefreshMs,omitempty"`
	LastError            string        `json:"lastError,omitempty"`
	// Problems lists what is wrong besides the last check: the helper
	// cannot be written, another program keeps rewriting it, settings
	// the bridge overrides.
	Problems []string `json:"problems,omitempty"`
}

// Status reports the current state without running the helper (Check does).
func (m *Manager) Status() Status {
	m.mu.Lock()
	cfg, last := m.cfg, m.last
	helperErr, conflict := m.helperErr, m.helperConflict
	m.mu.Unlock()
	s := Status{Mode: cfg.mode, Source: SourceInherit}
	if cfg.mode == ModeInherit {
		s.Status = "inherit"
		return s
	}
	s.HelperPath = cfg.helperPath
	s.Managed = cfg.manage
	s.KeyCommandConfigured = cfg.keyCommand != ""
	s.TTLMs = cfg.ttlMs()
	s.KeyFile = keyFileStatus(cfg)
	if st := statFile(cfg.helperPath); st.Exists {
		s.HelperExists = true
		s.HelperMode = octal(st.Mode)
		if data, err := os.ReadFile(cfg.helperPath); err == nil {
			s.HelperManagedContent = bytes.Equal(data, helperScript(cfg))
		}
	}
	if helperErr != "" {
		s.Problems = append(s.Problems, "cannot write the key helper: "+helperErr)
	}
	if conflict != "" {
		s.Problems = append(s.Problems, conflict)
	}
	s.Problems = append(s.Problems, cfg.warnings...)
	if last.at.IsZero() {
		s.Status, s.Source = "starting", SourceNone
		return s
	}
	at := last.at
	s.LastRefresh = &at
	s.LastRefreshOK = last.ok
	s.LastRefreshMs = last.duration.Milliseconds()
	s.LastError = last.err
	s.Source = last.source
	s.Fingerprint = last.fingerprint
	s.Status = statusOf(last)
	return s
}

// keyFileStatus applies the helper's rules for the key file in Go, for
// Status and doctor (the helper itself stays the authority when it runs).
func keyFileStatus(cfg resolved) KeyFileStatus {
	ks := KeyFileStatus{Path: cfg.keyFile}
	st := statFile(cfg.keyFile)
	shown, word := cfg.display(cfg.keyFile), cfg.shellWord(cfg.keyFile)
	switch {
	case st.Err != nil:
		ks.Problem = fmt.Sprintf("cannot inspect %s: %v", shown, st.Err)
		return ks
	case !st.Exists:
		return ks
	}
	ks.Exists = true
	ks.OwnerUID = st.UID
	ks.Mode = octal(st.Mode)
	if u, err := user.LookupId(strconv.Itoa(st.UID)); err == nil {
		ks.Owner = u.Username
	}
	me := os.Getuid()
	switch {
	case !st.Regular:
		ks.Problem = fmt.Sprintf("%s is not a regular file; remove it and write the key into a file: echo KEY > %s; chmod 600 %s", shown, word, word)
	case st.UID != me:
		ks.Problem = fmt.Sprintf("%s is owned by uid %d, not by you (uid %d); run chown %d %s", shown, st.UID, me, me, word)
	case st.Mode.Perm()&0o077 != 0:
		ks.Problem = fmt.Sprintf("%s has mode %s; run chmod 600 %s", shown, ks.Mode, word)
	default:
		ks.OK = true
	}
	return ks
}

// ClaudeInfo is what the caller found out about the claude CLI for Doctor.
type ClaudeInfo struct {
	Path    string
	Version string
	Err     error // why it could not be found or run
}

// doctorOut prints doctor lines: a verdict, the check, and a fix for each
// problem.
type doctorOut struct {
	w  io.Writer
	ok bool
}

func (d *doctorOut) line(tag, text string) { fmt.Fprintf(d.w, "%-5s %s\n", tag, text) }
func (d *doctorOut) pass(text string)      { d.line("ok", text) }
func (d *doctorOut) info(text string)      { d.line("info", text) }
func (d *doctorOut) warn(text, fix string) {
	d.line("warn", text)
	if fix != "" {
		d.line("", "fix: "+fix)
	}
}
func (d *doctorOut) fail(text, fix string) {
	d.ok = false
	d.line("FAIL", text)
	if fix != "" {
		d.line("", "fix: "+fix)
	}
}

// Doctor checks everything authentication depends on, prints one line per
// check with a fix for each problem, runs the helper once, and returns false
// when anything is wrong. In helper mode with a managed helper it writes the
// helper first, as Start would, so the run checks what claude will run.
func (m *Manager) Doctor(ctx context.Context, out io.Writer, claude ClaudeInfo) (ok bool) {
	d := &doctorOut{w: out, ok: true}
	switch {
	case claude.Err != nil:
		d.fail("claude CLI: "+claude.Err.Error(), "install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath (--claude) to the claude executable")
	case claude.Path == "":
		d.fail("claude CLI: not found", "install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath (--claude) to the claude executable")
	default:
		v := claude.Version
		if v == "" {
			v = "version unknown"
		}
		d.pass(fmt.Sprintf("claude CLI: %s (%s)", claude.Path, v))
	}

	cfg := m.config()
	if cfg.mode == ModeInherit {
		d.pass("auth mode: inherit: claude authenticates on its own (its login, or ANTHROPIC_API_KEY in its environment); the bridge does not manage the key")
		return d.ok
	}
	d.pass("auth mode: helper: claude gets the key from the helper through --settings apiKeyHelper")
	for _, w := range cfg.warnings {
		d.warn(w, "")
	}

	shownHelper := cfg.display(cfg.helperPath)
	if cfg.manage {
		before, _ := os.ReadFile(cfg.helperPath)
		m.ensureHelper(cfg, false)
		m.mu.Lock()
		helperErr, conflict := m.helperErr, m.helperConflict
		m.mu.Unlock()
		st := statFile(cfg.helperPath)
		now, _ := os.ReadFile(cfg.helperPath)
		current := bytes.Equal(now, helperScript(cfg))
		switch {
		case helperErr != "":
			d.fail("key helper "+shownHelper+": cannot write it: "+helperErr, "make "+cfg.display(filepath.Dir(cfg.helperPath))+" writable by you, or set auth.helperPath to a writable place")
		case conflict != "":
			d.fail("key helper: "+conflict, "")
		case !st.Exists || !current || st.Mode.Perm() != 0o700:
			d.fail(fmt.Sprintf("key helper %s: not the bridge's content or not mode 0700", shownHelper), "remove it and run claude-bridge doctor again")
		case !bytes.Equal(before, now):
			d.pass(fmt.Sprintf("key helper %s: mode 0700, managed by the bridge, written now", shownHelper))
		default:
			d.pass(fmt.Sprintf("key helper %s: mode 0700, managed by the bridge, up to date", shownHelper))
		}
	} else {
		st := statFile(cfg.helperPath)
		switch {
		case !st.Exists:
			d.fail(fmt.Sprintf("key helper %s: does not exist (auth.manageHelper is false, so the bridge does not write it)", shownHelper), "create it (a sh script printing the key), or set auth.manageHelper to true")
		case !st.Regular:
			d.fail(fmt.Sprintf("key helper %s: not a regular file", shownHelper), "point auth.helperPath at a sh script that prints the key")
		case st.Mode&0o100 == 0:
			d.fail(fmt.Sprintf("key helper %s: not executable (claude runs it as a command)", shownHelper), "chmod 700 "+cfg.shellWord(cfg.helperPath))
		default:
			d.pass(fmt.Sprintf("key helper %s: yours (auth.manageHelper is false), mode %s", shownHelper, octal(st.Mode)))
			if st.Mode.Perm()&0o022 != 0 {
				d.warn(fmt.Sprintf("key helper %s is writable by others, who could make it print their key or copy yours", shownHelper), "chmod 700 "+cfg.shellWord(cfg.helperPath))
			}
		}
	}

	// A key in the env block of claude's user settings beats the helper
	// just as the environment variable does.
	userSettings := filepath.Join(cfg.home, ".claude", "settings.json")
	if data, err := os.ReadFile(userSettings); err == nil {
		var s struct {
			Env map[string]any `json:"env"`
		}
		if json.Unmarshal(data, &s) == nil {
			for _, k := range []string{envAnthropicAPIKey, envAnthropicToken} {
				if _, ok := s.Env[k]; ok {
					d.fail(fmt.Sprintf("%s sets %s in its env block, which overrides the key helper", cfg.display(userSettings), k),
						fmt.Sprintf("remove %s from the env block of %s, or set auth.mode to \"inherit\"", k, cfg.display(userSettings)))
				}
			}
		}
	}
	if envValue(cfg.environ, envClaudeAPIKey) != "" {
		d.info("CLAUDE_API_KEY is set in the bridge's environment: the helper prints it before any other source")
	}
	if envValue(cfg.environ, envAnthropicAPIKey) != "" {
		d.info("ANTHROPIC_API_KEY is set in the bridge's environment: removed from claude's environment, the helper offers it after CLAUDE_API_KEY")
	}

	ks := keyFileStatus(cfg)
	shownKey := cfg.display(cfg.keyFile)
	switch {
	case ks.Problem != "":
		fix := ""
		if _, f, found := strings.Cut(ks.Problem, "; run "); found {
			fix = f
		}
		d.fail("key file "+ks.Problem, fix)
	case !ks.Exists:
		d.info("key file " + shownKey + ": not present")
	default:
		owner := strconv.Itoa(ks.OwnerUID)
		if ks.Owner != "" {
			owner = ks.Owner + " (uid " + owner + ")"
		}
		d.pass(fmt.Sprintf("key file %s: owner %s, mode %s", shownKey, owner, ks.Mode))
	}
	if cfg.keyCommand != "" {
		if _, err := exec.LookPath("timeout"); err != nil {
			d.warn("key command: configured, but `timeout` is not installed, so it runs without a time limit", "install coreutils")
		} else {
			d.pass(fmt.Sprintf("key command: configured (time limit %v)", cfg.keyCmdTimeout))
		}
	}
	d.pass(fmt.Sprintf("key lifetime: claude asks the helper again every %v (%s=%d); the bridge checks it as often", cfg.refresh, envTTL, cfg.ttlMs()))

	if err := m.Check(ctx); err != nil {
		fix := ""
		if strings.HasPrefix(err.Error(), "no API key available") {
			fix = sourceFix(cfg, SourceNone)
		}
		d.fail("helper run: "+err.Error(), fix)
	} else {
		st := m.Status()
		d.pass(fmt.Sprintf("helper run: a key from %s, fingerprint %s (%d ms)", sourceDisplay(cfg, st.Source), st.Fingerprint, st.LastRefreshMs))
	}
	return d.ok
}
