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
	in := decodeInput(input)
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
// is outside (see package pathid).
func within(path string, roots []string) bool {
	for _, r := range roots {
		if pathid.Within(path, r) {
			return true
		}
	}
	return false
}
