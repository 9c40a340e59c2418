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
// it is not papered over with another claude.
func LocateClaude(configured string, env func(string) string) (ClaudeLocation, error) {
	if env == nil {
		env = os.Getenv
	}
	home := env("HOME")
	var looked []string
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
		looked = append(looked, fmt.Sprintf("%s %s", what, p))
		return ClaudeLocation{}, false
	}
	if configured != "" {
		if loc, ok := try(configured, "claudePath"); ok {
			return loc, nil
		}
		return ClaudeLocation{}, &ClaudeNotFoundError{Looked: looked}
	}
	if loc, ok := try(env("CLAUDE_BRIDGE_CLAUDE"), "$CLAUDE_BRIDGE_CLAUDE"); ok {
		return loc, nil
	}
	if p, err := lookPath("claude", env("PATH")); err == nil {
		return ClaudeLocation{Path: p, FoundIn: "PATH"}, nil
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
		if p := filepath.Join(dir, claudeExe); isExecutable(p) {
			return ClaudeLocation{Path: p, FoundIn: name + ", not on PATH"}, true
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
	return ClaudeLocation{}, &ClaudeNotFoundError{Looked: looked}
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
