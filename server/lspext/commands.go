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
// a range ending at character 0 of a line does not include that line). A
// URI of a PNG, JPEG, GIF or WebP file (by its name's extension) without a
// range is sent as an image instead (see ImageRef).
type ContextRef struct {
	// URI is the file's file:// URI (or the URI of a document the editor
	// has open that is no file: untitled:, git:). Not blank.
	URI string `json:"uri" jsonschema:"pattern=\\S"`
	// Range is the part of the file meant; optional: absent for the whole file.
	Range *Range `json:"range,omitempty"`
	// Diagnostics are the editor's diagnostics of the range (or the file),
	// as LSP has them; they go into the prompt compactly, one line each:
	// "main.go:5:3: error: undefined: foo (compiler)". Optional.
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
}

// Diagnostic is LSP's Diagnostic: every field LSP 3.17 defines is
// accepted, so an editor can pass its own as they are.
type Diagnostic struct {
	// Range is where the diagnostic applies.
	Range Range `json:"range"`
	// Severity is 1 (error), 2 (warning), 3 (information) or 4 (hint).
	// Optional.
	Severity int `json:"severity,omitempty"`
	// Code is the diagnostic's code, a number or a string. Optional.
	Code any `json:"code,omitempty"`
	// CodeDescription links to the code's documentation. Optional.
	CodeDescription *CodeDescription `json:"codeDescription,omitempty"`
	// Source is what produced it ("compiler", "eslint"). Optional.
	Source string `json:"source,omitempty"`
	// Message is the diagnostic's message.
	Message string `json:"message"`
	// Tags are LSP's DiagnosticTags (1 unnecessary, 2 deprecated). Optional.
	Tags []int `json:"tags,omitempty"`
	// RelatedInformation is LSP's related locations and messages. Optional.
	RelatedInformation []DiagnosticRelated `json:"relatedInformation,omitempty"`
	// Data is the editor's own data, kept as it is. Optional.
	Data any `json:"data,omitempty"`
}

// CodeDescription is LSP's CodeDescription.
type CodeDescription struct {
	// Href is the URI of the code's documentation.
	Href string `json:"href"`
}

// DiagnosticRelated is LSP's DiagnosticRelatedInformation.
type DiagnosticRelated struct {
	// Location is where the related information is.
	Location Location `json:"location"`
	// Message is the related information.
	Message string `json:"message"`
}

// Location is LSP's Location: a range in a document.
type Location struct {
	// URI is the document's URI.
	URI string `json:"uri"`
	// Range is the range in it.
	Range Range `json:"range"`
}

// ImageRef is an image sent with a prompt: a file (uri), or the image
// itself (data and mediaType), one of the two. PNG, JPEG, GIF and WebP, as
// their content shows and whose header decodes, at most 20 MiB each and 32
// MiB together; anything else is refused with -32602 saying why. claude
// sends them to the model as image blocks (and makes large ones smaller
// itself).
type ImageRef struct {
	// URI is the file:// URI of an image file. Give it or data.
	URI string `json:"uri,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
	// Data is the image's bytes, base64 (standard alphabet, padded). Give
	// it, with mediaType, or uri.
	Data string `json:"data,omitempty" jsonschema:"pattern=\\S"`
	// MediaType is the type of data. Required with data, and only with it
	// (the data's own type wins should they differ).
	MediaType ImageMediaType `json:"mediaType,omitempty"`
}

// OneOfFields names the fields of which exactly one must be present.
func (ImageRef) OneOfFields() []string { return []string{"uri", "data"} }

// DependentRequired names, for a field, the fields that must be present
// with it.
func (ImageRef) DependentRequired() map[string][]string {
	return map[string][]string{"data": {"mediaType"}, "mediaType": {"data"}}
}

// RunArgs is arguments[0] of claude.run.
type RunArgs struct {
	// Prompt is what the task should do. Required, not blank.
	Prompt string `json:"prompt" jsonschema:"pattern=\\S"`
	// WorkspaceFolder is the URI of the workspace folder to run in. Optional:
	// default the folder holding context[0], else the first folder. A folder
	// that is not one of the editor's workspace folders is refused (-32602).
	WorkspaceFolder string `json:"workspaceFolder,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
	// Context lists files or ranges to mention in the prompt. Optional.
	Context []ContextRef `json:"context,omitempty"`
	// Images are sent with the prompt. Optional.
	Images []ImageRef `json:"images,omitempty"`
	// OpenFiles are the URIs of the files open in the editor, listed in the
	// prompt (names only: claude reads what it needs). Optional.
	OpenFiles []string `json:"openFiles,omitempty"`
	// Model overrides the configured model (claude's --model). Optional.
	Model string `json:"model,omitempty" jsonschema:"pattern=\\S"`
	// PermissionMode overrides the configured permission mode. Optional.
	PermissionMode PermissionMode `json:"permissionMode,omitempty"`
	// Review overrides the configured review mode for this task. Optional.
	Review ReviewMode `json:"review,omitempty"`
	// SessionID resumes that conversation (claude's --resume). Optional.
	SessionID string `json:"sessionId,omitempty" jsonschema:"pattern=\\S"`
	// TaskID is the id the new task gets; no other task may have it.
	// Optional: default one the bridge generates (t1, t2, …, skipping every
	// id a task has or an editor named). Naming it lets the editor cancel
	// the task before the reply (claude.cancel right after claude.run).
	TaskID string `json:"taskId,omitempty" jsonschema:"pattern=\\S"`
}

// FollowUpArgs is arguments[0] of claude.followUp: continue a finished
// task's conversation as a new task. It needs taskId or sessionId (both:
// the task's conversation must be that session, or the request is
// refused). Following up a task that is still running is refused (-32602).
type FollowUpArgs struct {
	// TaskID is the task whose conversation continues. Optional when
	// sessionId is given.
	TaskID string `json:"taskId,omitempty" jsonschema:"pattern=\\S"`
	// SessionID is the conversation to continue. Optional when taskId is
	// given.
	SessionID string `json:"sessionId,omitempty" jsonschema:"pattern=\\S"`
	// Prompt is the next message. Required, not blank.
	Prompt string `json:"prompt" jsonschema:"pattern=\\S"`
	// Context lists files or ranges to mention in the prompt. Optional.
	Context []ContextRef `json:"context,omitempty"`
	// Images are sent with the prompt. Optional.
	Images []ImageRef `json:"images,omitempty"`
	// OpenFiles are the URIs of the files open in the editor, listed in the
	// prompt. Optional.
	OpenFiles []string `json:"openFiles,omitempty"`
	// Model overrides the configured model. Optional.
	Model string `json:"model,omitempty" jsonschema:"pattern=\\S"`
	// PermissionMode overrides the configured permission mode. Optional.
	PermissionMode PermissionMode `json:"permissionMode,omitempty"`
	// Review overrides the configured review mode for this task. Optional.
	Review ReviewMode `json:"review,omitempty"`
	// NewTaskID is the id the new task gets, like taskId in claude.run. Optional:
	// default one the bridge generates.
	NewTaskID string `json:"newTaskId,omitempty" jsonschema:"pattern=\\S"`
	// WorkspaceFolder is the URI of the folder to continue a session in.
	// Optional: default the folder of the task, else the workspace folder
	// whose conversations (claude.sessions) hold the session, else the
	// first.
	WorkspaceFolder string `json:"workspaceFolder,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
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
	// Status is "completed", "failed", "cancelled" or "interrupted" (after
	// claude.interrupt: the conversation is kept for a follow-up).
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
	// Changes are the task's changes against its checkpoints, as
	// claude/changes lists them (review afterTurn or beforeWrite). Optional:
	// absent with review off or when the task changed nothing.
	Changes *ChangesParams `json:"changes,omitempty"`
}

// CancelArgs is arguments[0] of claude.cancel.
type CancelArgs struct {
	// TaskID is the task to cancel. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
}

// CancelResult is the reply of claude.cancel.
type CancelResult struct {
	// Cancelled is false when the task had already ended. An unknown task id
	// is an error (-32602) instead.
	Cancelled bool `json:"cancelled"`
}

// SendArgs is arguments[0] of claude.send: a message from the user into a
// running task. claude reads it at its next API request of the turn, or,
// when the turn is about to end, takes it as a new turn right after (the
// task then ends with that turn). A userMessage event says when claude took
// it.
type SendArgs struct {
	// TaskID is the running task. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
	// Prompt is the message. Required, not blank.
	Prompt string `json:"prompt" jsonschema:"pattern=\\S"`
	// Context lists files or ranges to mention in the message. Optional.
	Context []ContextRef `json:"context,omitempty"`
	// Images are sent with the message. Optional.
	Images []ImageRef `json:"images,omitempty"`
}

// SendResult is the reply of claude.send.
type SendResult struct {
	// Sent is true: the message was written to claude (a task that is not
	// running is an error, -32602, saying so).
	Sent bool `json:"sent"`
}

// InterruptArgs is arguments[0] of claude.interrupt: stop the turn in
// flight and keep the conversation (claude.cancel ends the task and its
// process instead).
type InterruptArgs struct {
	// TaskID is the task. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
}

// InterruptResult is the reply of claude.interrupt. The task then ends
// with status "interrupted", or as it was about to when claude finished
// first.
type InterruptResult struct {
	// Interrupted is false when the task had no turn in flight (queued,
	// starting, ended, or its result already in).
	Interrupted bool `json:"interrupted"`
}

// SetPermissionModeArgs is arguments[0] of claude.setPermissionMode: change
// the permission mode of a running task (claude's next tool call follows
// it, and so do follow-ups of the task that name no mode).
type SetPermissionModeArgs struct {
	// TaskID is the running task. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
	// Mode is the new mode. Required.
	Mode PermissionMode `json:"mode"`
}

// SetPermissionModeResult is the reply of claude.setPermissionMode.
type SetPermissionModeResult struct {
	// PermissionMode is the mode claude runs in now.
	PermissionMode PermissionMode `json:"permissionMode"`
}

// SetModelArgs is arguments[0] of claude.setModel: change the model of a
// running task. claude applies it from its next request to the model (the
// request in flight keeps the old one; the next, after the tool that runs
// meanwhile, of the same turn, has the new one), and so do follow-ups of
// the task that name no model.
type SetModelArgs struct {
	// TaskID is the running task. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
	// Model is the model, as for --model ("sonnet", "claude-opus-5-5").
	// Required.
	Model string `json:"model" jsonschema:"pattern=\\S"`
}

// SetModelResult is the reply of claude.setModel.
type SetModelResult struct {
	// Model is the model as claude resolved it ("claude-sonnet-5-5").
	Model string `json:"model"`
}

// CommandsArgs is arguments[0] of claude.commands. Optional.
type CommandsArgs struct {
	// WorkspaceFolder is the URI of the folder whose commands to list
	// (claude reads the folder's .claude/commands). Optional: default the
	// first workspace folder.
	WorkspaceFolder string `json:"workspaceFolder,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
}

// CommandsResult is the reply of claude.commands: claude's slash commands
// in the folder and the models it offers, as claude lists them in its
// answer to initialize. A prompt that starts with "/" runs a command.
type CommandsResult struct {
	// Commands are the slash commands, in claude's order (built-in ones
	// and the skills claude ships first, then the folder's and the user's).
	Commands []SlashCommand `json:"commands"`
	// Models are the models claude offers (for claude.setModel and the
	// model setting).
	Models []ModelInfo `json:"models"`
}

// SlashCommand is one of claude's slash commands.
type SlashCommand struct {
	// Name is the command without its slash ("compact", "greet").
	Name string `json:"name"`
	// Description says what it does.
	Description string `json:"description"`
	// ArgumentHint shows its arguments ("<name>"). Optional.
	ArgumentHint string `json:"argumentHint,omitempty"`
	// Source is where it comes from: "builtin" (claude's own, and the skills
	// it ships), "project" (the folder's .claude/commands), "user"
	// (~/.claude/commands) or "custom" (a plugin's or another).
	Source string `json:"source"`
	// Aliases are other names of the command. Optional.
	Aliases []string `json:"aliases,omitempty"`
}

// ModelInfo is a model claude offers.
type ModelInfo struct {
	// Value is what claude.setModel and the model setting take ("sonnet").
	Value string `json:"value"`
	// DisplayName is the model's name for a person ("Sonnet").
	DisplayName string `json:"displayName"`
	// Description says what it is good for. Optional.
	Description string `json:"description,omitempty"`
}

// SessionsArgs is arguments[0] of claude.sessions. Optional.
type SessionsArgs struct {
	// WorkspaceFolder is the URI of the folder whose conversations to list.
	// Optional: default every workspace folder.
	WorkspaceFolder string `json:"workspaceFolder,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
}

// SessionsResult is the reply of claude.sessions: the past conversations
// claude keeps for the folders (~/.claude/projects), those started in a
// terminal included, most recent first (at most 100 a folder).
type SessionsResult struct {
	// Sessions are the conversations.
	Sessions []SessionInfo `json:"sessions"`
}

// SessionInfo is one past conversation.
type SessionInfo struct {
	// SessionID is claude's id of the conversation (claude.followUp's
	// sessionId, claude.transcript's).
	SessionID string `json:"sessionId"`
	// Title is its title (a /rename, or claude's summary). Optional: absent
	// when it has none.
	Title string `json:"title,omitempty"`
	// FirstPrompt is the user's first prompt.
	FirstPrompt string `json:"firstPrompt"`
	// LastPrompt is the user's last prompt.
	LastPrompt string `json:"lastPrompt"`
	// LastActivity is when it last changed, RFC 3339 in UTC.
	LastActivity string `json:"lastActivity"`
	// Turns counts the user's prompts.
	Turns int `json:"turns"`
	// WorkspaceFolder is the URI of the folder it ran in.
	WorkspaceFolder string `json:"workspaceFolder"`
}

// TranscriptArgs is arguments[0] of claude.transcript.
type TranscriptArgs struct {
	// SessionID is the conversation. Required.
	SessionID string `json:"sessionId" jsonschema:"pattern=\\S"`
	// WorkspaceFolder is the URI of the folder it ran in. Optional: default
	// the workspace folder whose conversations hold it.
	WorkspaceFolder string `json:"workspaceFolder,omitempty" jsonschema:"pattern=^[Ff][Ii][Ll][Ee]:"`
}

// TranscriptResult is the reply of claude.transcript: a past conversation
// as claude keeps it, read (never changed) from claude's store, as the
// events a task would have sent: userMessage for the user's prompts, text
// and thinking, toolUse and toolResult, in order. Their taskId is the
// session id and seq counts from 1.
type TranscriptResult struct {
	// SessionID is the conversation.
	SessionID string `json:"sessionId"`
	// Title is its title, else its first prompt.
	Title string `json:"title"`
	// Events are its steps.
	Events []Event `json:"events"`
}

// AnswerArgs is arguments[0] of claude.answer: the answer to a
// claude/permission, claude/ask, claude/plan or claude/reviewEdit request
// the editor deferred (replied {"deferred": true}).
type AnswerArgs struct {
	// TaskID is the task that asked. Required.
	TaskID string `json:"taskId" jsonschema:"pattern=\\S"`
	// ToolUseID is the call asked about (the request's toolUseId). Required.
	ToolUseID string `json:"toolUseId" jsonschema:"pattern=\\S"`
	// Answers answers a claude/ask, as AskResult.answers; none, or
	// dismissed, leaves the questions unanswered. Optional.
	Answers map[string]string `json:"answers,omitempty"`
	// Decision answers a claude/permission, as its PermissionResult would.
	// Optional.
	Decision Decision `json:"decision,omitempty"`
	// Plan answers a claude/plan, as its PlanResult would (a decision is
	// required). Optional.
	Plan *PlanAnswer `json:"plan,omitempty"`
	// Review answers a claude/reviewEdit, as its ReviewEditResult would
	// (a decision is required). Optional.
	Review *ReviewAnswer `json:"review,omitempty"`
	// Dismissed is true when the user closed the question without
	// answering (claude is told; for a plan: keep planning; for a
	// permission: deny; for a review: reject). Optional.
	Dismissed bool `json:"dismissed,omitempty"`
}

// AnswerResult is the reply of claude.answer.
type AnswerResult struct {
	// Accepted is false when no deferred question waits for that call any
	// more (it was answered, withdrawn, or timed out).
	Accepted bool `json:"accepted"`
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
	// PermissionMode is claude's permission mode now. Optional: absent
	// until claude has started.
	PermissionMode string `json:"permissionMode,omitempty"`
	// Model is the model claude uses now. Optional: absent until claude
	// has started.
	Model string `json:"model,omitempty"`
	// Review is the task's review mode. Optional: absent for off.
	Review ReviewMode `json:"review,omitempty"`
	// UnreviewedChanges is true while the task has changes whose checkpoint
	// is kept: neither accepted nor reverted (claude.changes lists them).
	// Optional: absent for false.
	UnreviewedChanges bool `json:"unreviewedChanges,omitempty"`
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
	// Stopping is those being stopped, among them any that got SIGKILL and
	// that the system has not let go yet (a read on a hung mount): they
	// hold no slot, and are in Live until they are reaped.
	Stopping int `json:"stopping"`
	// Idle is those kept after a task for a follow-up.
	Idle int `json:"idle"`
	// Warm is those started ahead of need (prewarm) that have answered
	// claude's initialize and wait for a task; one still starting is in
	// Live only.
	Warm int `json:"warm"`
	// MaxIdle is the idle budget (maxIdleProcesses): idle and warm ones
	// together.
	MaxIdle int `json:"maxIdle"`
	// Slots is the most alive at once (maxConcurrentTasks).
	Slots int `json:"slots"`
}

// AuthStatusArgs is arguments[0] of claude.authStatus, which has no
// fields: the command takes no arguments, or an empty object.
type AuthStatusArgs struct{}
