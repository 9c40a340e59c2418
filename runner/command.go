package runner

import (
	"errors"
	"fmt"
	"github.com/claude-bridge/claude-bridge/internal/quote"
	"os"
	"path/filepath"
	"strings"
)

// InstallHint tells a user how to get the claude CLI.
const InstallHint = "install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath to its location"

// ClaudeNotFoundError says how to install claude and where the bridge
// looked for it. Its message leads with the fix: editors that show one line
// of a warning show that.
type ClaudeNotFoundError struct {
	Looked []string
}

func (e *ClaudeNotFoundError) Error() string {
	return fmt.Sprintf("claude CLI not found: %s (looked in: %s)", InstallHint, strings.Join(e.Looked, "; "))
}

// Problem is the error without its fix.
func (e *ClaudeNotFoundError) Problem() string {
	return fmt.Sprintf("claude CLI not found (looked in: %s)", strings.Join(e.Looked, "; "))
}

// ClaudeUnusableError says that the claude the bridge found cannot be run
// as it is, and how to fix it. Its message leads with what is wrong and
// the fix: "claude CLI at ~/.local/bin/claude is not executable: run
// `chmod +x ~/.local/bin/claude` (or set claudePath to a claude that is)".
type ClaudeUnusableError struct {
	Path  string // the file, as found
	Shown string // the file as a person reads it (~ for the home folder)
	Why   string // "is not executable", "is a directory", "is a symbolic link to X, which does not exist"
	Fix   string // what to do, for a person
}

func (e *ClaudeUnusableError) Error() string { return e.Problem() + ": " + e.Fix }

// Problem is the error without its fix.
func (e *ClaudeUnusableError) Problem() string {
	return fmt.Sprintf("claude CLI at %s %s", e.Shown, e.Why)
}

// unusable says why the file at p, which exists, cannot be run as claude;
// nil when it can, or when nothing is there.
func unusable(p, home string) *ClaudeUnusableError {
	lst, err := os.Lstat(p)
	if err != nil {
		return nil
	}
	shown := tildePath(p, home)
	e := &ClaudeUnusableError{Path: p, Shown: shown}
	st, err := os.Stat(p)
	switch {
	case err != nil && lst.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(p)
		e.Why = fmt.Sprintf("is a symbolic link to %s, which does not exist", target)
		e.Fix = "reinstall claude (`npm install -g @anthropic-ai/claude-code`), or set claudePath to the claude executable"
	case err != nil:
		return nil
	case st.IsDir():
		e.Why = "is a directory, not the claude executable"
		e.Fix = "set claudePath to the claude executable"
	case !isExecutable(p):
		e.Why = "is not executable"
		e.Fix = fmt.Sprintf("run `chmod +x %s` (or set claudePath to a claude that is)", shown)
	default:
		return nil
	}
	return e
}

// tildePath shows p with the home folder as ~.
func tildePath(p, home string) string {
	if home != "" && (p == home || strings.HasPrefix(p, home+string(filepath.Separator))) {
		return "~" + p[len(home):]
	}
	return p
}

// FindClaude resolves the claude executable (see LocateClaude).
func FindClaude(configured string, env func(string) string) (string, error) {
	loc, err := LocateClaude(configured, env)
	return loc.Path, err
}

// ClaudeLocation is where LocateClaude found claude.
type ClaudeLocation struct {
	// Path is the executable.
	Path string
	// FoundIn says how it was found, for a person: "claudePath",
	// "$CLAUDE_BRIDGE_CLAUDE", "PATH", or the folder searched when claude
	// is not on the PATH the bridge got ("~/.local/bin", "the npm global
	// prefix's bin (/usr/local/bin)").
	FoundIn string
}

// LocateClaude resolves the claude executable: the configured path, else
// $CLAUDE_BRIDGE_CLAUDE, else PATH, else the folders the installers use,
// which a desktop launcher's or code-server's PATH often lacks: the native
// installer's ~/.local/bin, the old local install ~/.claude/local, the npm
// global prefix's bin (from npm_config_prefix, ~/.npmrc, or `npm prefix -g`
// run once, bounded), ~/.npm-global/bin, /usr/local/bin and
// /opt/homebrew/bin. A configured path that is not executable is an error:
// it is not papered over with another claude. When no claude is found but
// one of the places holds a claude that cannot be run (a file without the
// executable bit, a directory, a dangling symbolic link), the error is a
// ClaudeUnusableError that says so and how to fix it; else a
// ClaudeNotFoundError.
func LocateClaude(configured string, env func(string) string) (ClaudeLocation, error) {
	if env == nil {
		env = os.Getenv
	}
	home := env("HOME")
	var looked []string
	var broken *ClaudeUnusableError // the first claude found that cannot be run
	notFound := func() error {
		if broken != nil {
			return broken
		}
		return &ClaudeNotFoundError{Looked: looked}
	}
	try := func(p, what string) (ClaudeLocation, bool) {
		if p == "" {
			return ClaudeLocation{}, false
		}
		p = ExpandHome(p, home)
		if !strings.ContainsRune(p, filepath.Separator) {
			if found, err := lookPath(p, env("PATH")); err == nil {
				return ClaudeLocation{Path: found, FoundIn: what + " (on PATH)"}, true
			}
			looked = append(looked, fmt.Sprintf("%s %q on PATH", what, p))
			return ClaudeLocation{}, false
		}
		if isExecutable(p) {
			return ClaudeLocation{Path: p, FoundIn: what}, true
		}
		if u := unusable(p, home); u != nil && broken == nil {
			broken = u
		}
		looked = append(looked, fmt.Sprintf("%s %s", what, p))
		return ClaudeLocation{}, false
	}
	if configured != "" {
		if loc, ok := try(configured, "claudePath"); ok {
			return loc, nil
		}
		return ClaudeLocation{}, notFound()
	}
	if loc, ok := try(env("CLAUDE_BRIDGE_CLAUDE"), "$CLAUDE_BRIDGE_CLAUDE"); ok {
		return loc, nil
	}
	if p, err := lookPath("claude", env("PATH")); err == nil {
		return ClaudeLocation{Path: p, FoundIn: "PATH"}, nil
	}
	for _, dir := range filepath.SplitList(env("PATH")) {
		if u := unusable(filepath.Join(dir, claudeExe), home); u != nil && broken == nil && dir != "" {
			broken = u
		}
	}
	looked = append(looked, "PATH")
	dirs := []struct{ dir, name string }{
		{filepath.Join(home, ".local", "bin"), "~/.local/bin"},
		{filepath.Join(home, ".claude", "local"), "~/.claude/local"},
	}
	if prefix, from := npmPrefixFromConfig(env); prefix != "" {
		dirs = append(dirs, struct{ dir, name string }{npmBin(prefix), "the npm global prefix's bin (" + from + ")"})
	}
	dirs = append(dirs,
		struct{ dir, name string }{filepath.Join(home, ".npm-global", "bin"), "~/.npm-global/bin"},
		struct{ dir, name string }{"/usr/local/bin", "/usr/local/bin"},
		struct{ dir, name string }{"/opt/homebrew/bin", "/opt/homebrew/bin"},
	)
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(env("PATH")) {
		seen[dir] = true // searched already
	}
	search := func(dir, name string) (ClaudeLocation, bool) {
		if dir == "" || seen[dir] || (home == "" && strings.HasPrefix(name, "~")) {
			return ClaudeLocation{}, false
		}
		seen[dir] = true
		p := filepath.Join(dir, claudeExe)
		if isExecutable(p) {
			return ClaudeLocation{Path: p, FoundIn: name + ", not on PATH"}, true
		}
		if u := unusable(p, home); u != nil && broken == nil {
			broken = u
		}
		looked = append(looked, name)
		return ClaudeLocation{}, false
	}
	for _, d := range dirs {
		if loc, ok := search(d.dir, d.name); ok {
			return loc, nil
		}
	}
	// Last, and only when npm is there: ask npm itself (slow, so once).
	if prefix := npmPrefixFromNpm(env); prefix != "" {
		if loc, ok := search(npmBin(prefix), "the npm global prefix's bin (`npm prefix -g`)"); ok {
			return loc, nil
		}
	}
	return ClaudeLocation{}, notFound()
}

// ExpandHome turns a leading ~ into home.
func ExpandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") && home != "" {
		return filepath.Join(home, p[2:])
	}
	return p
}

// Options are the per-task settings that shape claude's command line.
type Options struct {
	Model           string
	PermissionMode  string
	AllowedTools    []string
	DisallowedTools []string
	ResumeSession   string
	// ReviewHooks registers the hooks of the review setting with claude's
	// initialize (review.go). Part of the launch: a process with them
	// serves only tasks with review on, one without only tasks with review
	// off (which so pay no hook round trip per tool call). Set by
	// Manager.NewTask from Spec.Review.
	ReviewHooks bool
}

// BuildArgs is claude's argument list, the way the SDKs run it. The prompt is
// never in argv: it goes to stdin as a user message.
func BuildArgs(o Options, extra []string) []string {
	args := []string{
		"-p",
		"--input-format", "stream-json",
		"--output-format", "stream-json",
		"--verbose",
		"--include-partial-messages",
		"--permission-prompt-tool", "stdio",
		// Each user message echoed when claude takes it (steer.go).
		"--replay-user-messages",
	}
	if o.Model != "" {
		args = append(args, "--model", o.Model)
	}
	if o.PermissionMode != "" {
		args = append(args, "--permission-mode", o.PermissionMode)
	}
	if len(o.AllowedTools) > 0 {
		args = append(args, "--allowedTools", strings.Join(o.AllowedTools, ","))
	}
	if len(o.DisallowedTools) > 0 {
		args = append(args, "--disallowedTools", strings.Join(o.DisallowedTools, ","))
	}
	if o.ResumeSession != "" {
		args = append(args, "--resume", o.ResumeSession)
	}
	return append(args, extra...)
}

// ValidPermissionMode reports whether claude accepts the mode.
func ValidPermissionMode(m string) error {
	switch m {
	case "", "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto":
		return nil
	}
	return errors.New("unknown permissionMode " + quote.String(m) + " (want one of default, acceptEdits, plan, bypassPermissions, dontAsk, auto)")
}
