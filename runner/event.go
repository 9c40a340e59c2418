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
	EventQuestion   EventKind = "question"
	EventPlan       EventKind = "plan"
	EventMode       EventKind = "mode"
	EventTodos      EventKind = "todos"
	// EventReview: an edit held for review was answered (review.go).
	EventReview EventKind = "review"
	// EventUserMessage: claude took a message sent into the task (Send).
	EventUserMessage EventKind = "userMessage"
	EventRetry       EventKind = "retry"
	EventStatus      EventKind = "status"
	EventOther       EventKind = "other"
	EventResult      EventKind = "result"
	// EventActivity is a progress hint ("Thinking") with no transcript
	// value; front ends show it in a progress line and do not log it.
	EventActivity EventKind = "activity"
)

// Event is one thing a task did. Exactly the fields of its Kind are set.
type Event struct {
	Kind EventKind
	Time time.Time

	// Parent is the Agent tool call whose subagent did what the event
	// reports (text, thinking, toolUse, toolResult): claude marks a
	// subagent's lines with parent_tool_use_id. "" for the task's own
	// conversation, which alone makes the task's to-do list, progress and
	// result.
	Parent string

	Queued      *Queued
	Started     *Started
	Text        string // text, thinking: the delta
	MessageID   string // text, thinking
	ToolUse     *ToolUse
	ToolResult  *ToolResult
	Permission  *PermissionEvent
	Question    *QuestionEvent
	Plan        *PlanEvent
	Review      *ReviewEvent
	Mode        *ModeChange
	Todos       *Todos
	UserMessage *UserMessage
	Retry       *Retry
	Message     string          // status, activity
	Raw         json.RawMessage // other
	Outcome     *Outcome        // result
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
	Status      State // completed, failed, cancelled or interrupted
	SessionID   string
	Result      string // the final text, or why it failed
	IsError     bool
	CostUSD     float64
	DurationMs  int64
	NumTurns    int
	EditedFiles []string // absolute paths
	// Checkpoint is the task's checkpoint of the files it changed (review
	// afterTurn or beforeWrite), finished; nil with review off.
	Checkpoint *CheckpointTask

	apiStatus int // claude's api_error_status, for the auth retry decision
}

// Question is one question of claude's AskUserQuestion tool. The input
// claude 2.1.332 gives the tool is {"questions": [{"question", "header",
// "multiSelect", "options": [{"label", "description", "preview"?}]}]}
// (1 to 4 questions, 2 to 4 options each, no "Other": the UI adds it).
type Question struct {
	Question    string           `json:"question"`
	Header      string           `json:"header"`
	MultiSelect bool             `json:"multiSelect"`
	Options     []QuestionOption `json:"options"`
}

// QuestionOption is one choice of a Question.
type QuestionOption struct {
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// QuestionRequest is one AskUserQuestion call to put to the user.
type QuestionRequest struct {
	ToolUseID string
	Questions []Question
}

// QuestionEvent reports how claude's questions were answered.
type QuestionEvent struct {
	QuestionRequest
	// Answers maps a question's text to its answer (see QuestionAsker);
	// empty when none was answered.
	Answers map[string]string
	// Reason says why they went unanswered ("" when answered).
	Reason string
}

// QuestionAsker is an Observer that can put claude's questions to the
// user. A task whose observer is not one tells claude that its questions
// cannot be asked.
type QuestionAsker interface {
	// AskQuestions asks the questions and returns the answers by question
	// text: an option's label, the labels of a multiSelect question joined
	// by ", " (claude's own dialog's form), or text the user typed. No
	// answer means the user did not answer; reason then says why. ctx ends
	// when the task is cancelled or claude withdraws the questions.
	AskQuestions(ctx context.Context, t *Task, req QuestionRequest) (answers map[string]string, reason string)
}

// PlanRequest is a plan claude asks the user to approve: its ExitPlanMode
// call in plan mode.
type PlanRequest struct {
	ToolUseID string
	// Plan is the plan's Markdown text ("" when claude wrote none).
	Plan string
	// FilePath is claude's own plan file (~/.claude/plans/<slug>.md), ""
	// when unknown.
	FilePath string
}

// PlanDecision is the user's answer to a plan.
type PlanDecision struct {
	// Approve is true to leave plan mode and carry the plan out.
	Approve bool
	// Mode is the permission mode to carry it out in: "acceptEdits" or
	// "default" (the only two claude leaves plan mode for; any other, ""
	// included, is taken as acceptEdits). Approve only.
	Mode string
	// Feedback is what claude should change in its plan (keep planning).
	Feedback string
	// Reason says why there was no decision of the user's (dismissed,
	// timed out); "" when the user decided.
	Reason string
	// Copy is a file the front end wrote the plan to, to show it ("" for
	// none).
	Copy string
}

// PlanEvent reports a plan and how it was answered.
type PlanEvent struct {
	PlanRequest
	PlanDecision
}

// PlanReviewer is an Observer that can show claude's plans for approval. A
// task whose observer is not one asks to allow ExitPlanMode as a permission
// question instead.
type PlanReviewer interface {
	// ReviewPlan shows the plan and returns the user's decision; ctx ends
	// when the task is cancelled or claude withdraws the question.
	ReviewPlan(ctx context.Context, t *Task, req PlanRequest) PlanDecision
}

// ModeChange is what the conversation runs with now: claude's permission
// mode and model (after a plan's approval, claude.setPermissionMode or
// claude.setModel).
type ModeChange struct {
	PermissionMode string
	Model          string
}

// Observer receives a task's events and answers its permission questions.
// Event is called from one goroutine per task at a time, in order.
// AskPermission may be called concurrently with Event; ctx ends when the task
// is cancelled, and the answer is then ignored.
type Observer interface {
	Event(t *Task, ev Event)
	AskPermission(ctx context.Context, t *Task, req PermissionRequest) (Decision, string)
}
