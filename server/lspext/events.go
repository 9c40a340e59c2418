package lspext

import (
	"bytes"
	"encoding/json"
)

// RawObject is a JSON object passed on as it is: a tool's input, a stream
// message of claude's. Empty, it encodes as {}.
type RawObject []byte

// MarshalJSON is r itself, or {} when r is empty.
func (r RawObject) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("{}"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of data.
func (r *RawObject) UnmarshalJSON(data []byte) error {
	*r = append((*r)[:0], data...)
	return nil
}

// ObjectOf is raw as a RawObject: a JSON object as it is; nothing or null
// as {}; any other value as {"value": raw}. claude passes on a tool's
// input as the model wrote it, which may be an array, a string or a
// number; an editor always gets an object.
func ObjectOf(raw json.RawMessage) RawObject {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return RawObject("{}")
	case raw[0] == '{':
		return RawObject(raw)
	}
	return RawObject(append(append([]byte(`{"value":`), raw...), '}'))
}

// EventHeader is the part every claude/event shares. For each task, seq
// counts from 1 with no gaps, so an editor can tell it missed one.
type EventHeader struct {
	// TaskID is the task the event belongs to.
	TaskID string `json:"taskId"`
	// Seq is the event's number in its task, from 1, with no gaps.
	Seq int64 `json:"seq"`
	// Kind says which event it is, and so which fields follow.
	Kind EventKind `json:"kind"`
}

// Head returns the header, for a sender to fill in (see Event).
func (h *EventHeader) Head() *EventHeader { return h }

// Event is the params of a claude/event notification: one of the event
// types, told apart by `kind`. Every event starts with the fields all
// kinds share: taskId (the task), seq (from 1 for each task, with no
// gaps) and kind.
type Event interface {
	// Head returns the event's header (promoted from EventHeader).
	Head() *EventHeader
	// EventKind is the kind the event's type stands for.
	EventKind() EventKind
}

// Stamp fills in ev's header: the task, its sequence number and the kind
// ev's type stands for. It returns ev. A sender builds the kind's struct,
// then stamps and sends it:
//
//	ev := &lspext.ToolUseEvent{ToolUseID: id, Name: name, Input: in, Summary: s}
//	stream.Notify(lspext.MethodEvent, lspext.Stamp(ev, taskID, seq))
func Stamp(ev Event, taskID string, seq int64) Event {
	h := ev.Head()
	h.TaskID, h.Seq, h.Kind = taskID, seq, ev.EventKind()
	return ev
}

// QueuedEvent (kind "queued") is the first event of every task: it waits
// for a free slot (maxConcurrentTasks), or got one at once.
type QueuedEvent struct {
	EventHeader
	// Prompt is the task's prompt, context mentions included.
	Prompt string `json:"prompt"`
	// WorkspaceFolder is the URI of the folder the task runs in.
	WorkspaceFolder string `json:"workspaceFolder"`
	// Position is the number of tasks ahead of it, running or queued.
	Position int `json:"position"`
	// Waiting is false when the task got a slot at once.
	Waiting bool `json:"waiting"`
}

// StartedEvent (kind "started") reports claude's init message: the
// process runs and the conversation has an id. A task sends it once, for
// its first init: a task run again after an authentication failure (with
// a key that changed since; a status event says so) starts claude anew
// without a second started event, and the result event says which session
// the task ended in.
type StartedEvent struct {
	EventHeader
	// SessionID is claude's conversation id (for claude.followUp and --resume).
	SessionID string `json:"sessionId"`
	// Model is the model claude uses.
	Model string `json:"model"`
	// Cwd is claude's working directory, a path.
	Cwd string `json:"cwd"`
	// PermissionMode is claude's permission mode, as claude reports it.
	PermissionMode string `json:"permissionMode"`
	// APIKeySource is where claude says its key came from ("apiKeyHelper"
	// when the bridge's helper supplies it).
	APIKeySource string `json:"apiKeySource"`
	// ClaudeVersion is the claude CLI's version.
	ClaudeVersion string `json:"claudeVersion"`
}

// TextEvent (kind "text") is new text of an assistant message: the text
// since the previous text event of the same message. Joined, the deltas of
// a message equal its text exactly. The most frequent event.
type TextEvent struct {
	EventHeader
	// MessageID is the assistant message the text belongs to.
	MessageID string `json:"messageId"`
	// Text is the delta.
	Text string `json:"text"`
	// ParentToolUseID is the Agent tool call whose subagent wrote the text
	// (claude marks a subagent's lines so): what claude told its subagent's
	// model, not the task's answer. Optional: absent for the task's own.
	ParentToolUseID string `json:"parentToolUseId,omitempty"`
}

// ThinkingEvent (kind "thinking") is new thinking text, in deltas like
// TextEvent.
type ThinkingEvent struct {
	EventHeader
	// MessageID is the assistant message the thinking belongs to.
	MessageID string `json:"messageId"`
	// Text is the delta.
	Text string `json:"text"`
	// ParentToolUseID is the Agent tool call whose subagent thought it
	// (claude marks a subagent's lines so). Optional: absent for the task's
	// own.
	ParentToolUseID string `json:"parentToolUseId,omitempty"`
}

// ToolUseEvent (kind "toolUse") is a tool call the model made.
type ToolUseEvent struct {
	EventHeader
	// ToolUseID is claude's id of the call; the toolResult and permission
	// events of the call carry it too.
	ToolUseID string `json:"toolUseId"`
	// Name is the tool's name ("Edit", "Bash").
	Name string `json:"name"`
	// Input is the tool's input object, as the model gave it: {} when it
	// gave none (or null), and {"value": <it>} when it gave something else
	// than an object (an array, a string, a number).
	Input RawObject `json:"input"`
	// Summary says in a few words what the call does, paths relative to the
	// workspace folder: "Edit server/main.go", "Bash: go test ./...".
	Summary string `json:"summary"`
	// ParentToolUseID is the Agent tool call whose subagent made the call
	// (claude marks a subagent's lines so): a subagent's to-do tools never
	// change the task's to-do list, and its calls show in the progress as
	// "Subagent: …". Optional: absent for the task's own calls.
	ParentToolUseID string `json:"parentToolUseId,omitempty"`
}

// ToolResultEvent (kind "toolResult") is the outcome of a tool call.
type ToolResultEvent struct {
	EventHeader
	// ToolUseID is the call's id (see ToolUseEvent).
	ToolUseID string `json:"toolUseId"`
	// Name is the tool's name.
	Name string `json:"name"`
	// IsError is true when the tool failed.
	IsError bool `json:"isError"`
	// Content is the result's text, cut to 4,000 Unicode characters (code
	// points; a JavaScript string counts up to 8,000 UTF-16 units for
	// them), then "… [N more characters]" when it was longer.
	Content string `json:"content"`
	// FilePath is the absolute path of the file a file tool (Edit,
	// MultiEdit, Write, NotebookEdit) changed. Optional: only for a change.
	FilePath string `json:"filePath,omitempty"`
	// URI is the file:// URI of filePath. Optional: present with filePath.
	URI string `json:"uri,omitempty"`
	// ParentToolUseID is the Agent tool call whose subagent made the call,
	// as in its toolUse event. Optional: absent for the task's own calls.
	ParentToolUseID string `json:"parentToolUseId,omitempty"`
}

// PermissionEvent (kind "permission") reports how a permission question
// (claude's can_use_tool) was answered: by the user, or by the bridge
// without asking.
type PermissionEvent struct {
	EventHeader
	// ToolUseID is the call's id (see ToolUseEvent).
	ToolUseID string `json:"toolUseId"`
	// Name is the tool's name.
	Name string `json:"name"`
	// Input is the tool's input object, as in the toolUse event: {} for
	// none, {"value": <it>} for something else than an object.
	Input RawObject `json:"input"`
	// Summary says what the call does, as in the toolUse event.
	Summary string `json:"summary"`
	// Decision is the answer.
	Decision Decision `json:"decision"`
	// Reason says why, as claude is told it.
	Reason string `json:"reason"`
	// Automatic is true when the bridge decided without asking (an earlier
	// "Allow for this task", or a write outside the workspace folders).
	Automatic bool `json:"automatic"`
}

// QuestionEvent (kind "question") reports how claude's questions (its
// AskUserQuestion tool) were answered; it comes once the user has answered
// them or they were given up (a claude/ask request carries them while the
// user is asked).
type QuestionEvent struct {
	EventHeader
	// ToolUseID is the AskUserQuestion call's id (see ToolUseEvent).
	ToolUseID string `json:"toolUseId"`
	// Questions are the questions, as claude asked them.
	Questions []Question `json:"questions"`
	// Answers maps a question's text to its answer, as in AskResult; empty
	// when none was answered.
	Answers map[string]string `json:"answers"`
	// Reason says why the questions went unanswered ("dismissed in the
	// editor", "nobody answered within 10m0s", "the task was cancelled").
	// Optional: absent when answered.
	Reason string `json:"reason,omitempty"`
}

// PlanEvent (kind "plan") is claude's plan (its ExitPlanMode call in plan
// mode) and how the user answered it; it comes once answered (a
// claude/plan request carries the plan while the user reads it).
type PlanEvent struct {
	EventHeader
	// ToolUseID is the ExitPlanMode call's id (see ToolUseEvent).
	ToolUseID string `json:"toolUseId"`
	// Plan is the plan's Markdown text ("" when claude wrote none).
	Plan string `json:"plan"`
	// URI is the bridge's copy of the plan (see PlanParams). Optional.
	URI string `json:"uri,omitempty"`
	// Decision is the answer: approve, or keepPlanning (also when nobody
	// answered: reason says why).
	Decision PlanDecision `json:"decision"`
	// PermissionMode is the mode the approved plan is carried out in.
	// Optional: absent unless approved.
	PermissionMode PlanMode `json:"permissionMode,omitempty"`
	// Feedback is what the user asked claude to change. Optional.
	Feedback string `json:"feedback,omitempty"`
	// Reason says why nobody decided ("dismissed in the editor", "nobody
	// answered within 10m0s"). Optional.
	Reason string `json:"reason,omitempty"`
}

// ModeEvent (kind "mode") says what the conversation runs with now, when
// claude reports a change: its permission mode (after a plan's approval,
// or claude.setPermissionMode) or its model (claude.setModel).
type ModeEvent struct {
	EventHeader
	// PermissionMode is claude's permission mode now, as claude names it.
	PermissionMode string `json:"permissionMode"`
	// Model is the model claude uses now; a model set while a request to
	// the model is in flight applies from claude's next request.
	Model string `json:"model"`
}

// TodosEvent (kind "todos") is claude's to-do list after a change: the
// whole list, in claude's order. claude keeps it with TodoWrite or with its
// task tools (TaskCreate, TaskUpdate, …), whichever it gives the model; the
// bridge follows both.
type TodosEvent struct {
	EventHeader
	// ToolUseID is the call that changed the list.
	ToolUseID string `json:"toolUseId"`
	// Todos are the items.
	Todos []Todo `json:"todos"`
}

// Todo is one item of claude's to-do list.
type Todo struct {
	// Content is what is to be done ("Run the tests").
	Content string `json:"content"`
	// Status is where the item is.
	Status TodoStatus `json:"status"`
	// ActiveForm is what is being done while the item is in progress
	// ("Running the tests"). Optional.
	ActiveForm string `json:"activeForm,omitempty"`
	// ID is the item's id among claude's task tools ("1"). Optional: absent
	// for TodoWrite's items.
	ID string `json:"id,omitempty"`
}

// UserMessageEvent (kind "userMessage") is a message sent into the task
// with claude.send, when claude took it into the conversation (at its next
// API request, or as a new turn right after the current one).
type UserMessageEvent struct {
	EventHeader
	// Text is the message as claude got it (context mentions included).
	Text string `json:"text"`
	// ImageCount is the number of images sent with it. Optional: absent
	// for none.
	ImageCount int `json:"imageCount,omitempty"`
}

// RetryEvent (kind "retry") reports claude retrying an API request.
type RetryEvent struct {
	EventHeader
	// Attempt is the retry's number, from 1.
	Attempt int `json:"attempt"`
	// MaxRetries is how many retries claude makes at most.
	MaxRetries int `json:"maxRetries"`
	// DelayMs is the wait before the retry, in milliseconds.
	DelayMs int `json:"delayMs"`
	// ErrorStatus is the HTTP status of the failed request; 0 when there was
	// none (a network error).
	ErrorStatus int `json:"errorStatus"`
	// Error is claude's description of the failure.
	Error string `json:"error"`
}

// StatusEvent (kind "status") is something the bridge did for the task:
// an auth refresh, an edit carried into a buffer, a conflict.
type StatusEvent struct {
	EventHeader
	// Message says what, in a sentence.
	Message string `json:"message"`
}

// OtherEvent (kind "other") passes through a stream message from claude
// that the bridge does not know.
type OtherEvent struct {
	EventHeader
	// Raw is the message as claude wrote it, a JSON object.
	Raw RawObject `json:"raw"`
}

// ResultEvent (kind "result") is a task's last event: its single outcome.
// Its fields are those of RunResult (without editedFiles), and mean the
// same (costUsd and durationMs are claude's, or 0 and the bridge's own
// measure for a task that ended without claude's result).
type ResultEvent struct {
	EventHeader
	// Status is "completed", "failed", "cancelled" or "interrupted".
	Status TaskStatus `json:"status"`
	// Result is the agent's final text, or the reason the task failed.
	Result string `json:"result"`
	// IsError is claude's is_error.
	IsError bool `json:"isError"`
	// CostUSD is the task's API cost in US dollars, as in RunResult.
	CostUSD float64 `json:"costUsd"`
	// DurationMs is the task's duration in milliseconds, as in RunResult.
	DurationMs int64 `json:"durationMs"`
	// NumTurns is the number of agent turns.
	NumTurns int `json:"numTurns"`
	// SessionID is claude's conversation id ("" when claude never started).
	SessionID string `json:"sessionId"`
}

// EventKind implementations: the kind each type stands for.

func (*QueuedEvent) EventKind() EventKind      { return KindQueued }
func (*StartedEvent) EventKind() EventKind     { return KindStarted }
func (*TextEvent) EventKind() EventKind        { return KindText }
func (*ThinkingEvent) EventKind() EventKind    { return KindThinking }
func (*ToolUseEvent) EventKind() EventKind     { return KindToolUse }
func (*ToolResultEvent) EventKind() EventKind  { return KindToolResult }
func (*PermissionEvent) EventKind() EventKind  { return KindPermission }
func (*QuestionEvent) EventKind() EventKind    { return KindQuestion }
func (*PlanEvent) EventKind() EventKind        { return KindPlan }
func (*ModeEvent) EventKind() EventKind        { return KindMode }
func (*TodosEvent) EventKind() EventKind       { return KindTodos }
func (*ReviewEvent) EventKind() EventKind      { return KindReview }
func (*UserMessageEvent) EventKind() EventKind { return KindUserMessage }
func (*RetryEvent) EventKind() EventKind       { return KindRetry }
func (*StatusEvent) EventKind() EventKind      { return KindStatus }
func (*OtherEvent) EventKind() EventKind       { return KindOther }
func (*ResultEvent) EventKind() EventKind      { return KindResult }

// NewEvent returns a new, empty event of kind k with its Kind set, or nil
// for a kind this package does not know.
func NewEvent(k EventKind) Event {
	var ev Event
	switch k {
	case KindQueued:
		ev = &QueuedEvent{}
	case KindStarted:
		ev = &StartedEvent{}
	case KindText:
		ev = &TextEvent{}
	case KindThinking:
		ev = &ThinkingEvent{}
	case KindToolUse:
		ev = &ToolUseEvent{}
	case KindToolResult:
		ev = &ToolResultEvent{}
	case KindPermission:
		ev = &PermissionEvent{}
	case KindQuestion:
		ev = &QuestionEvent{}
	case KindPlan:
		ev = &PlanEvent{}
	case KindMode:
		ev = &ModeEvent{}
	case KindTodos:
		ev = &TodosEvent{}
	case KindReview:
		ev = &ReviewEvent{}
	case KindUserMessage:
		ev = &UserMessageEvent{}
	case KindRetry:
		ev = &RetryEvent{}
	case KindStatus:
		ev = &StatusEvent{}
	case KindOther:
		ev = &OtherEvent{}
	case KindResult:
		ev = &ResultEvent{}
	default:
		return nil
	}
	ev.Head().Kind = k
	return ev
}
