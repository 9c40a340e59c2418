package lspext

import "fmt"

// Position is a position in a text document, as in LSP: a zero-based line
// and a zero-based offset in UTF-16 code units.
type Position struct {
	// Line is the zero-based line number.
	Line uint32 `json:"line"`
	// Character is the zero-based offset in the line, in UTF-16 code units.
	Character uint32 `json:"character"`
}

// Range is a range in a text document, as in LSP: end is exclusive, and
// does not come before start (a range that ends before it starts is
// refused).
type Range struct {
	// Start is the range's first position.
	Start Position `json:"start"`
	// End is the position just past the range, start or after it.
	End Position `json:"end"`
}

// check refuses a range that ends before it starts.
func (r *Range) check() *DecodeError {
	if r.End.Line < r.Start.Line || r.End.Line == r.Start.Line && r.End.Character < r.Start.Character {
		return &DecodeError{Problem: fmt.Sprintf("ends (line %d, character %d) before it starts (line %d, character %d)",
			r.End.Line, r.End.Character, r.Start.Line, r.Start.Character)}
	}
	return nil
}

// ContextRef is a file, or a range of one, sent along with a prompt. The
// bridge appends it to the prompt as an @path#L5-10 mention (lines 1-based;
// a range ending at character 0 of a line does not include that line).
type ContextRef struct {
	// URI is the file's file:// URI.
	URI string `json:"uri"`
	// Range is the part of the file meant; optional: absent for the whole file.
	Range *Range `json:"range,omitempty"`
}

// RunArgs is arguments[0] of claude.run.
type RunArgs struct {
	// Prompt is what the task should do. Required, not blank.
	Prompt string `json:"prompt" jsonschema:"pattern=\\S"`
	// WorkspaceFolder is the URI of the workspace folder to run in. Optional:
	// default the folder holding context[0], else the first folder. A folder
	// that is not one of the editor's workspace folders is refused (-32602).
	WorkspaceFolder string `json:"workspaceFolder,omitempty"`
	// Context lists files or ranges to mention in the prompt. Optional.
	Context []ContextRef `json:"context,omitempty"`
	// Model overrides the configured model (claude's --model). Optional.
	Model string `json:"model,omitempty"`
	// PermissionMode overrides the configured permission mode. Optional.
	PermissionMode PermissionMode `json:"permissionMode,omitempty"`
	// SessionID resumes that conversation (claude's --resume). Optional.
	SessionID string `json:"sessionId,omitempty"`
	// TaskID is the id the new task gets; no other task may have it.
	// Optional: default one the bridge generates (t1, t2, …, skipping every
	// id a task has or an editor named). Naming it lets the editor cancel
	// the task before the reply (claude.cancel right after claude.run).
	TaskID string `json:"taskId,omitempty"`
}

// FollowUpArgs is arguments[0] of claude.followUp: continue a finished
// task's conversation as a new task. It needs taskId or sessionId (both:
// the task's conversation must be that session, or the request is
// refused). Following up a task that is still running is refused (-32602).
type FollowUpArgs struct {
	// TaskID is the task whose conversation continues. Optional when
	// sessionId is given.
	TaskID string `json:"taskId,omitempty" jsonschema:"minLength=1"`
	// SessionID is the conversation to continue. Optional when taskId is
	// given.
	SessionID string `json:"sessionId,omitempty" jsonschema:"minLength=1"`
	// Prompt is the next message. Required, not blank.
	Prompt string `json:"prompt" jsonschema:"pattern=\\S"`
	// Context lists files or ranges to mention in the prompt. Optional.
	Context []ContextRef `json:"context,omitempty"`
	// Model overrides the configured model. Optional.
	Model string `json:"model,omitempty"`
	// PermissionMode overrides the configured permission mode. Optional.
	PermissionMode PermissionMode `json:"permissionMode,omitempty"`
	// NewTaskID is the id the new task gets, like taskId in claude.run. Optional:
	// default one the bridge generates.
	NewTaskID string `json:"newTaskId,omitempty"`
}

// RequiresOneOf names the fields of which one at least must be present.
func (FollowUpArgs) RequiresOneOf() []string { return []string{"taskId", "sessionId"} }

// RunResult is the reply of claude.run and claude.followUp. It comes when
// the task has ended, after its progress `end` and its last claude/event. A
// task that fails is a normal reply with status "failed": JSON-RPC errors
// are only for requests that are wrong.
type RunResult struct {
	// TaskID is the task's id.
	TaskID string `json:"taskId"`
	// SessionID is claude's conversation id, for follow-ups ("" when claude
	// never started).
	SessionID string `json:"sessionId"`
	// Status is "completed", "failed" or "cancelled".
	Status TaskStatus `json:"status"`
	// Result is the agent's final text, or the reason the task failed.
	Result string `json:"result"`
	// IsError is claude's is_error: the task ended in an error.
	IsError bool `json:"isError"`
	// CostUSD is the task's API cost in US dollars, as claude's result
	// reports it (its total_cost_usd, less what earlier tasks of the same
	// claude process cost). 0 when the task ended without claude's result
	// (cancelled, or failed before it), though claude may have made API
	// calls: the bridge does not know what they cost.
	CostUSD float64 `json:"costUsd"`
	// DurationMs is the task's duration in milliseconds: claude's
	// duration_ms (from when claude took the prompt: the start of claude
	// and the wait in the queue are not counted); for a task that ended
	// without claude's result (cancelled, or failed before it), the time
	// the bridge measured from the claude.run to the end, queue included.
	DurationMs int64 `json:"durationMs"`
	// NumTurns is the number of agent turns, as claude's result reports it
	// (0 without one).
	NumTurns int `json:"numTurns"`
	// EditedFiles are the URIs of the files the task changed: those its
	// file tools (Edit, MultiEdit, Write, NotebookEdit) changed, and the
	// files open in the editor that changed on disk by other means while
	// it ran (a Bash command; the bridge carried them into the buffers).
	// Files a Bash command created or changed that are not open in the
	// editor are not listed: the bridge watches only open documents. Empty,
	// never absent.
	EditedFiles []string `json:"editedFiles"`
}

// CancelArgs is arguments[0] of claude.cancel.
type CancelArgs struct {
	// TaskID is the task to cancel. Required.
	TaskID string `json:"taskId" jsonschema:"minLength=1"`
}

// CancelResult is the reply of claude.cancel.
type CancelResult struct {
	// Cancelled is false when the task had already ended. An unknown task id
	// is an error (-32602) instead.
	Cancelled bool `json:"cancelled"`
}

// TasksArgs is arguments[0] of claude.tasks. Optional: without it the
// reply is the array of TaskInfo.
type TasksArgs struct {
	// Processes asks for the reply as a TasksResult, with the bridge's
	// claude processes counted. Optional: default false.
	Processes bool `json:"processes,omitempty"`
}

// TaskInfo is one entry of the claude.tasks reply: an array, oldest task
// first, of the running tasks and the 200 most recent finished ones.
type TaskInfo struct {
	// TaskID is the task's id.
	TaskID string `json:"taskId"`
	// Status is where the task is.
	Status TaskStatus `json:"status"`
	// WorkspaceFolder is the URI of the folder the task runs in.
	WorkspaceFolder string `json:"workspaceFolder"`
	// Prompt is the task's prompt, context mentions included.
	Prompt string `json:"prompt"`
	// SessionID is claude's conversation id; optional: absent until claude
	// has started.
	SessionID string `json:"sessionId,omitempty"`
	// StartedAt is when the task was created, RFC 3339 in UTC with nanoseconds.
	StartedAt string `json:"startedAt"`
	// EndedAt is when the task ended, RFC 3339 in UTC; optional: absent while
	// it runs.
	EndedAt string `json:"endedAt,omitempty"`
	// CostUSD is the task's cost in US dollars (0 is a cost); optional:
	// absent while it runs.
	CostUSD *float64 `json:"costUsd,omitempty"`
}

// TasksResult is the reply of claude.tasks when asked for processes
// ({"processes": true}); clients that do not ask keep getting the array.
type TasksResult struct {
	// Tasks is the array the reply is without processes.
	Tasks []TaskInfo `json:"tasks"`
	// Processes counts the bridge's claude processes.
	Processes ProcessCounts `json:"processes"`
}

// ProcessCounts counts the bridge's claude processes (maxIdleProcesses and
// maxConcurrentTasks bound them).
type ProcessCounts struct {
	// Live is every claude process not yet gone.
	Live int `json:"live"`
	// Running is those running a task.
	Running int `json:"running"`
	// Idle is those kept after a task for a follow-up.
	Idle int `json:"idle"`
	// MaxIdle is the idle budget (maxIdleProcesses).
	MaxIdle int `json:"maxIdle"`
	// Slots is the most alive at once (maxConcurrentTasks).
	Slots int `json:"slots"`
}

// AuthStatusArgs is arguments[0] of claude.authStatus, which has no
// fields: the command takes no arguments, or an empty object.
type AuthStatusArgs struct{}
