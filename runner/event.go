package runner

import (
	"context"
	"encoding/json"
	"time"
)

// EventKind names what an Event reports. The names are the `kind` values of
// the editor-facing claude/event notification.
type EventKind string

const (
	EventQueued     EventKind = "queued"
	EventStarted    EventKind = "started"
	EventText       EventKind = "text"
	EventThinking   EventKind = "thinking"
	EventToolUse    EventKind = "toolUse"
	EventToolResult EventKind = "toolResult"
	EventPermission EventKind = "permission"
	EventRetry      EventKind = "retry"
	EventStatus     EventKind = "status"
	EventOther      EventKind = "other"
	EventResult     EventKind = "result"
	// EventActivity is a progress hint ("Thinking") with no transcript
	// value; front ends show it in a progress line and do not log it.
	EventActivity EventKind = "activity"
)

// Event is one thing a task did. Exactly the fields of its Kind are set.
type Event struct {
	Kind EventKind
	Time time.Time

	Queued     *Queued
	Started    *Started
	Text       string // text, thinking: the delta
	MessageID  string // text, thinking
	ToolUse    *ToolUse
	ToolResult *ToolResult
	Permission *PermissionEvent
	Retry      *Retry
	Message    string          // status, activity
	Raw        json.RawMessage // other
	Outcome    *Outcome        // result
}

// Queued reports a task waiting for a free slot.
type Queued struct {
	Prompt    string
	Workspace string
	Position  int  // tasks ahead of it: running ones and those queued before it
	Waiting   bool // false when it got a slot at once
}

// Started reports claude's init message for the task.
type Started struct {
	SessionID      string
	Model          string
	Cwd            string
	PermissionMode string
	APIKeySource   string
	ClaudeVersion  string
}

// ToolUse is one tool call the model made.
type ToolUse struct {
	ID      string
	Name    string
	Input   json.RawMessage
	Summary string // "Edit server/main.go", "Bash: go test ./..."
}

// ToolResult is the outcome of a tool call.
type ToolResult struct {
	ToolUseID string
	Name      string
	IsError   bool
	Content   string
	// Change is set when a file tool (Edit, MultiEdit, Write, NotebookEdit)
	// changed a file.
	Change *FileChange
}

// FileChange is a file the agent changed on disk.
type FileChange struct {
	Path      string
	ToolUseID string // the tool use that made the change
	// Before is the file's content before the change, as claude reported
	// it; nil when unknown or when the file did not exist.
	Before *string
	Label  string    // "Claude: Edit server/main.go"
	after  *fileRead // the file's content, read when claude reported the change (After)
}

// Retry reports claude retrying an API request.
type Retry struct {
	Attempt     int
	MaxRetries  int
	DelayMs     int
	ErrorStatus int
	Error       string
}

// PermissionRequest is a can_use_tool question from claude.
type PermissionRequest struct {
	ToolUseID   string
	ToolName    string
	Input       json.RawMessage
	Description string
	Summary     string // "Bash: go test ./...", as ToolUse.Summary (cut to a line)
	// KeyInput is what the user is asked to allow, whole: the command, the
	// file (relative to the workspace), the URL or the pattern; "" when the
	// input has none of these (Description may say what the call does).
	KeyInput string
}

// Decision answers a permission question.
type Decision string

const (
	Allow     Decision = "allow"
	AllowTask Decision = "allowTask" // allow this tool for the rest of the task
	Deny      Decision = "deny"
)

// PermissionEvent reports how a permission question was answered.
type PermissionEvent struct {
	PermissionRequest
	Decision  Decision
	Reason    string
	Automatic bool // decided by the bridge without asking
}

// Outcome is a task's single terminal result.
type Outcome struct {
	TaskID      string
	Status      State // completed, failed or cancelled
	SessionID   string
	Result      string // the final text, or why it failed
	IsError     bool
	CostUSD     float64
	DurationMs  int64
	NumTurns    int
	EditedFiles []string // absolute paths

	apiStatus int // claude's api_error_status, for the auth retry decision
}

// Observer receives a task's events and answers its permission questions.
// Event is called from one goroutine per task at a time, in order.
// AskPermission may be called concurrently with Event; ctx ends when the task
// is cancelled, and the answer is then ignored.
type Observer interface {
	Event(t *Task, ev Event)
	AskPermission(ctx context.Context, t *Task, req PermissionRequest) (Decision, string)
}
