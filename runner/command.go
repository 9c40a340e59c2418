package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// InstallHint tells a user how to get the claude CLI.
const InstallHint = "install it with `npm install -g @anthropic-ai/claude-code`, or set claudePath to its location"

// ClaudeNotFoundError says where the bridge looked for claude and how to
// install it.
type ClaudeNotFoundError struct {
	Looked []string
}

func (e *ClaudeNotFoundError) Error() string {
	return fmt.Sprintf("claude CLI not found (looked in: %s); %s", strings.Join(e.Looked, "; "), InstallHint)
}

// FindClaude resolves the claude executable: the configured path, else
// $CLAUDE_BRIDGE_CLAUDE, else PATH, else the places the installers use.
func FindClaude(configured string, env func(string) string) (string, error) {
	if env == nil {
		env = os.Getenv
	}
	var looked []string
	try := func(p, what string) (string, bool) {
		if p == "" {
			return "", false
		}
		p = ExpandHome(p, env("HOME"))
		if !strings.ContainsRune(p, filepath.Separator) {
			if found, err := exec.LookPath(p); err == nil {
				return found, true
			}
			looked = append(looked, fmt.Sprintf("%s %q on PATH", what, p))
			return "", false
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
		looked = append(looked, fmt.Sprintf("%s %s", what, p))
		return "", false
	}
	if configured != "" {
		if p, ok := try(configured, "claudePath"); ok {
			return p, nil
		}
		return "", &ClaudeNotFoundError{Looked: looked}
	}
	if p, ok := try(env("CLAUDE_BRIDGE_CLAUDE"), "$CLAUDE_BRIDGE_CLAUDE"); ok {
		return p, nil
	}
	if p, err := exec.LookPath("claude"); err == nil {
		return p, nil
	}
	looked = append(looked, "PATH="+env("PATH"))
	home := env("HOME")
	for _, p := range []string{
		filepath.Join(home, ".claude", "local", "claude"),
		filepath.Join(home, ".npm-global", "bin", "claude"),
		filepath.Join(home, ".local", "bin", "claude"),
		"/usr/local/bin/claude",
	} {
		if found, ok := try(p, ""); ok {
			return found, nil
		}
	}
	return "", &ClaudeNotFoundError{Looked: looked}
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

// Launch is what an authentication manager adds to a claude command.
type Launch struct {
	Args []string
	// Env rewrites the child's environment (e.g. removes
	// ANTHROPIC_API_KEY); nil leaves it as it is.
	Env func(env []string) []string
	// HelperPath is the key helper claude will run ("" for none): no warm
	// claude is started while it is being changed (warm.go).
	HelperPath string
}

// Options are the per-task settings that shape claude's command line.
type Options struct {
	Model           string
	PermissionMode  string
	AllowedTools    []string
	DisallowedTools []string
	ResumeSession   string
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
	return errors.New("unknown permissionMode " + strconvQuote(m) + " (want default, acceptEdits, plan or bypassPermissions)")
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
