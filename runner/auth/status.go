package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// RuntimeKeyFile is this bridge's private copy of the key it found in
	// its environment, which the helper reads (see the package
	// documentation); "" when it has none.
	RuntimeKeyFile string     `json:"runtimeKeyFile,omitempty"`
	TTLMs          int64      `json:"ttlMs,omitempty"`
	LastRefresh    *time.Time `json:"lastRefresh,omitempty"`
	LastRefreshOK  bool       `json:"lastRefreshOk"`
	LastRefreshMs  int64      `json:"lastRefreshMs,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
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
		s.HelperManagedContent = managedHelperProblem(cfg) == ""
	}
	if p := helperPathProblem(cfg, cfg.helperPath); p != nil {
		s.Problems = append(s.Problems, p.Error())
	}
	if helperErr != "" {
		s.Problems = append(s.Problems, "cannot write the key helper: "+helperErr)
	}
	if conflict != "" {
		s.Problems = append(s.Problems, conflict)
	}
	s.Problems = append(s.Problems, cfg.warnings...)
	m.rtMu.Lock()
	if m.rt != nil && cfg.manage && cfg.envKeySource != "" {
		s.RuntimeKeyFile = m.rt.keyPath()
	}
	m.rtMu.Unlock()
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
		ks.Problem = keyFileTextProblem(cfg.keyFile, shown)
		ks.OK = ks.Problem == ""
	}
	return ks
}

// keyFileTextProblem reads the start of a key file and applies the helper's
// rules for its encoding (see clean in the script): UTF-16, with or without
// a byte-order mark, and NUL bytes are refused; a UTF-8 byte-order mark,
// whitespace and CRLF are not problems (the helper strips them). The rest
// (one printable token) is judged by running the helper.
func keyFileTextProblem(path, shown string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot read %s: %v", shown, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyLen+1024))
	if err != nil {
		return fmt.Sprintf("cannot read %s: %v", shown, err)
	}
	switch {
	case isUTF32(data):
		return shown + " is UTF-32 text; save it as UTF-8 or ASCII"
	case isUTF16(data):
		return shown + " is UTF-16 text; save it as UTF-8 or ASCII"
	case bytes.IndexByte(data, 0) >= 0:
		return shown + " contains NUL bytes, which no API key has"
	}
	if name := assignedName(data); name != "" {
		return shown + " holds a shell assignment (" + name + "=...), not just the key; leave only the key itself (sk-ant-...) in it"
	}
	return ""
}

// isUTF32 reports whether data starts the way UTF-32 text does: a
// byte-order mark of either order, or, without one, ASCII with three NULs
// beside its first character.
func isUTF32(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xff, 0xfe, 0, 0}) || bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}) ||
		len(data) >= 4 && (bytes.Equal(data[1:4], []byte{0, 0, 0}) || bytes.Equal(data[0:3], []byte{0, 0, 0}))
}

// assignedName is NAME when data (its UTF-8 byte-order mark and surrounding
// white space aside) is a shell assignment, "NAME=value" or "export
// NAME=value", as a key file copied from a .env file is; "" otherwise. An
// API key never holds "=". The value is never returned.
func assignedName(data []byte) string {
	s := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	name, _, ok := strings.Cut(s, "=")
	if !ok {
		return ""
	}
	if rest, ok := strings.CutPrefix(name, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		name = strings.TrimSpace(rest)
	}
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return ""
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return name
}

// isUTF16 reports whether data starts the way UTF-16 text does: a byte-order
// mark of either order, or, without one, a NUL in one of its first two bytes
// (ASCII in UTF-16 is every other byte NUL). PowerShell's `echo KEY > file`
// writes UTF-16LE with a byte-order mark.
func isUTF16(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) ||
		(len(data) > 0 && data[0] == 0) || (len(data) > 1 && data[1] == 0)
}

// ClaudeInfo is what the caller found out about the claude CLI for Doctor.
type ClaudeInfo struct {
	Path    string
	Version string
	Err     error  // why it could not be found or run
	Problem string // Err without its fix (runner.ClaudeProblem); "": "claude CLI: " and Err's text
	Fix     string // what to do about Err, for a person (runner.ClaudeFix)
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
		fix := claude.Fix
		if fix == "" {
			fix = "install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath (--claude) to the claude executable"
		}
		problem := claude.Problem
		if problem == "" {
			problem = "claude CLI: " + claude.Err.Error()
		}
		d.fail(problem, fix)
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
	// doctor is a start of the bridge too: what killed bridges left goes,
	// from both places a bridge may have put it.
	if n := cleanStaleRuntimes(cfg.environ, cfg.home); n > 0 {
		d.info(fmt.Sprintf("removed %d runtime directories of claude-bridges that were killed, with what they held", n))
	}
	base, note := runtimeBase(cfg.environ, cfg.home)
	if note != "" {
		d.warn(note, "")
	}
	if _, err := os.Lstat(base); err == nil {
		if p := privateDirProblem(base); p != "" {
			d.fail("runtime directory: "+p, "chmod 700 "+shQuoteIfNeeded(base)+", or remove it")
		} else {
			d.pass(fmt.Sprintf("runtime directory %s: private (0700); each bridge keeps claude's settings file there, the helper's configuration and a key from its environment, removed when it exits", cfg.display(base)))
		}
	} else {
		d.info(fmt.Sprintf("runtime directory %s: made by the first bridge that starts a claude", cfg.display(base)))
	}
	d.info(fmt.Sprintf("claude's --settings pin %d environment variables that decide where requests and their key go (ANTHROPIC_BASE_URL, the proxy variables, NODE_TLS_REJECT_UNAUTHORIZED, NODE_EXTRA_CA_CERTS, ANTHROPIC_CUSTOM_HEADERS, the provider switches) to your own values: a repository's .claude/settings.json cannot change them", len(routingVariables)))
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
		now, _ := os.ReadFile(cfg.helperPath)
		why := managedHelperProblem(cfg)
		switch {
		case helperErr != "":
			d.fail("key helper "+shownHelper+": cannot write it: "+helperErr, "make "+cfg.display(filepath.Dir(cfg.helperPath))+" writable by you, or set auth.helperPath to a writable place")
		case conflict != "":
			d.fail("key helper: "+conflict, "")
		case why != "":
			d.fail(fmt.Sprintf("key helper %s %s, so no claude is started with it", shownHelper, why), "remove it and run claude-bridge doctor again")
		case !bytes.Equal(before, now):
			d.pass(fmt.Sprintf("key helper %s: mode 0700, managed by the bridge, written now", shownHelper))
		default:
			d.pass(fmt.Sprintf("key helper %s: mode 0700, managed by the bridge, up to date", shownHelper))
		}
	} else {
		var p *pathProblem
		switch err := ownHelperProblem(cfg); {
		case errors.As(err, &p):
			d.fail(p.Text, p.Fix)
		case err != nil:
			text, fix, _ := strings.Cut(err.Error(), "; run ")
			d.fail(text, fix)
		default:
			d.pass(fmt.Sprintf("key helper %s: yours (auth.manageHelper is false), mode %s", shownHelper, octal(statFile(cfg.helperPath).Mode)))
		}
	}
	if p := helperPathProblem(cfg, cfg.helperPath); p != nil {
		d.fail(p.Text, p.Fix)
	} else if _, err := os.Stat(filepath.Dir(cfg.helperPath)); err == nil {
		also := ""
		if chain := linkChain(cfg.helperPath); len(chain) > 1 {
			dirs := make([]string, 0, len(chain)-1)
			for _, p := range chain[1:] {
				dirs = append(dirs, cfg.display(filepath.Dir(p)))
			}
			also = ", and those of its link targets (" + strings.Join(dirs, ", ") + ")"
		}
		d.pass(fmt.Sprintf("key helper directory %s: only you (or root) can write it and the directories above it%s", cfg.display(filepath.Dir(cfg.helperPath)), also))
	}
	if len(cfg.tools.missing) > 0 {
		d.fail(fmt.Sprintf("the key helper needs %s, found in none of %s", strings.Join(cfg.tools.missing, ", "), strings.Join(systemToolDirs, ", ")), "install coreutils")
	}

	// A key in the env block of claude's user settings would beat the
	// helper; the bridge's --settings sets it to "" instead, so it is
	// unused, but it is a key in a file where no key belongs.
	userSettings := filepath.Join(claudeConfigDir(cfg), "settings.json")
	userEnv := userSettingsEnv(cfg)
	for _, k := range credentialVariables {
		if _, ok := userEnv[k]; ok {
			d.warn(fmt.Sprintf("%s sets %s in its env block; the bridge's --settings sets it to empty for claude, so the key helper is used", cfg.display(userSettings), k),
				fmt.Sprintf("remove %s from the env block of %s, or set auth.mode to \"inherit\" to let claude use it", k, cfg.display(userSettings)))
		}
	}
	if src := cfg.envKeySource; src != "" && cfg.manage {
		base, note := runtimeBase(cfg.environ, cfg.home)
		if note != "" {
			d.warn(note, "")
		}
		d.info(fmt.Sprintf("%s is set in the bridge's environment: the helper offers it before any other source, read from a 0600 file in the bridge's private directory under %s (removed when the bridge exits); claude's environment never holds it", src, cfg.display(base)))
	}
	if src := cfg.envKeySource; src == SourceEnvClaudeAPIKey && envValue(cfg.environ, envAnthropicAPIKey) != "" {
		d.info("ANTHROPIC_API_KEY is set in the bridge's environment too: CLAUDE_API_KEY wins; neither reaches claude's environment")
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
		if cfg.tools.timeout == "" {
			d.warn(fmt.Sprintf("key command: configured, but GNU timeout is in none of %s, so it runs without a time limit", strings.Join(systemToolDirs, ", ")), "install coreutils")
		} else {
			d.pass(fmt.Sprintf("key command: configured; runs in your home directory %s in a process group of its own, killed when the command exits or at its time limit (%v)", cfg.home, cfg.keyCmdTimeout))
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
