package runner

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner/pathid"
)

// fileTools are the tools whose successful result means a file changed.
var fileTools = map[string]bool{"Edit": true, "MultiEdit": true, "Write": true, "NotebookEdit": true}

// readOnlyTools are claude's tools that change nothing in the workspace,
// its git state or claude's memory: after a task that ran only these, the
// folder's warm claude (warm.go) still holds the right context. Any other
// tool (Edit, Write, Bash, an MCP tool, one this list does not know) may
// have written.
var readOnlyTools = map[string]bool{
	"Read": true, "Glob": true, "Grep": true, "LS": true, "WebFetch": true, "WebSearch": true,
	"ToolSearch": true, "TodoWrite": true, "TaskCreate": true, "TaskUpdate": true, "TaskGet": true,
	"TaskList": true, "AskUserQuestion": true, "ExitPlanMode": true, "EnterPlanMode": true,
}

// FileToolPath returns the file a file tool (Edit, MultiEdit, Write,
// NotebookEdit) is about to change, absolute (a relative path is taken in
// workspace); ok is false for any other tool, or without a path.
func FileToolPath(tu ToolUse, workspace string) (path string, ok bool) {
	if !fileTools[tu.Name] {
		return "", false
	}
	p := decodeInput(tu.Input).targetPath()
	if p == "" {
		return "", false
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(workspace, p)
	}
	return p, true
}

// toolInput holds the input fields the bridge looks at.
type toolInput struct {
	FilePath     string `json:"file_path"`
	NotebookPath string `json:"notebook_path"`
	Path         string `json:"path"`
	Command      string `json:"command"`
	Pattern      string `json:"pattern"`
	URL          string `json:"url"`
	Query        string `json:"query"`
	Description  string `json:"description"`
	Prompt       string `json:"prompt"`
}

func decodeInput(raw json.RawMessage) toolInput {
	var in toolInput
	_ = json.Unmarshal(raw, &in)
	return in
}

// targetPath is the file a tool acts on, if any.
func (in toolInput) targetPath() string {
	if in.FilePath != "" {
		return in.FilePath
	}
	return in.NotebookPath
}

// Summarize says in a few words what a tool call does, with paths relative
// to root: "Edit server/main.go", "Bash: go test ./...", "Read README.md".
func Summarize(tool string, input json.RawMessage, root string) string {
	return summarize(tool, decodeInput(input), root)
}

func summarize(tool string, in toolInput, root string) string {
	switch {
	case in.targetPath() != "":
		return tool + " " + RelPath(in.targetPath(), root)
	case in.Command != "":
		return tool + ": " + oneLine(in.Command, 80)
	case in.Pattern != "":
		s := fmt.Sprintf("%s %q", tool, oneLine(in.Pattern, 60))
		if in.Path != "" {
			s += " in " + RelPath(in.Path, root)
		}
		return s
	case in.URL != "":
		return tool + " " + oneLine(in.URL, 80)
	case in.Query != "":
		return tool + ": " + oneLine(in.Query, 80)
	case in.Description != "":
		return tool + ": " + oneLine(in.Description, 80)
	case in.Path != "":
		return tool + " " + RelPath(in.Path, root)
	}
	return tool
}

// keyInput is what a permission question shows of a tool call: its key
// input whole (the user is asked to allow exactly that), the command, the
// file relative to root, the URL or the pattern; "" when it has none.
func (in toolInput) keyInput(root string) string {
	switch {
	case in.Command != "":
		return in.Command
	case in.targetPath() != "":
		return RelPath(in.targetPath(), root)
	case in.URL != "":
		return in.URL
	}
	return in.Pattern
}

// RelPath shows p relative to root when it lies inside it, by spelling or
// by identity: claude reports real paths, and root may be a folder the editor
// opened through a symbolic link (see package pathid).
func RelPath(p, root string) string {
	if root == "" || !filepath.IsAbs(p) {
		return p
	}
	if rel, ok := pathid.Rel(p, root); ok {
		return rel
	}
	return p
}

func oneLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len([]rune(s)) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

// within reports whether path lies inside one of roots, by the file's
// identity: the real path of a file in a root the editor opened through a
// symbolic link is inside it, and a link inside a root that points outside
// is outside (see package pathid). err is set when a look-up did not finish
// in time (a hung network mount) and path is in no root that could be
// resolved: nobody can tell where a write to path would land.
func within(path string, roots []string) (bool, error) {
	var first error
	for _, r := range roots {
		in, err := pathid.Within(path, r)
		if in {
			return true, nil
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return false, first
}
