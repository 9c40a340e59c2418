package lspext

import (
	"reflect"
	"sync"
)

// Enum is one of the protocol's string types with a fixed set of values.
type Enum struct {
	Type   reflect.Type
	Values []string
}

// Enums are the enumerations: the schema's enum definitions, and the
// values Decode accepts for each.
func Enums() []Enum {
	return []Enum{
		enum(EventKinds), enum(TaskStatuses), enum(Decisions), enum(PlanDecisions), enum(PlanModes), enum(TodoStatuses), enum(PermissionModes),
		enum(AuthStates), enum(AuthModes), enum(KeySources), enum(LogLevels), enum(ImageMediaTypes),
		enum(ReviewModes), enum(ReviewDecisions), enum(ChangeStatuses),
	}
}

func enum[T ~string](values []T) Enum {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return Enum{Type: reflect.TypeFor[T](), Values: out}
}

// enumValues are Enums by type.
var enumValues = sync.OnceValue(func() map[reflect.Type][]string {
	m := map[reflect.Type][]string{}
	for _, e := range Enums() {
		m[e.Type] = e.Values
	}
	return m
})

// Commands: the workspace/executeCommand commands the bridge serves, in
// the order of its executeCommandProvider capability.
const (
	// CommandRun runs a task and replies when it has ended: RunArgs →
	// RunResult.
	CommandRun = "claude.run"
	// CommandCancel cancels a task: CancelArgs → CancelResult.
	CommandCancel = "claude.cancel"
	// CommandFollowUp continues a task's conversation as a new task:
	// FollowUpArgs → RunResult.
	CommandFollowUp = "claude.followUp"
	// CommandTasks lists the tasks: no arguments → TaskInfo[]; TasksArgs
	// {processes: true} → TasksResult.
	CommandTasks = "claude.tasks"
	// CommandAuthStatus reports the authentication state: no arguments →
	// AuthStatus.
	CommandAuthStatus = "claude.authStatus"
	// CommandSend sends a message into a running task: SendArgs →
	// SendResult.
	CommandSend = "claude.send"
	// CommandInterrupt stops a task's turn and keeps its conversation:
	// InterruptArgs → InterruptResult.
	CommandInterrupt = "claude.interrupt"
	// CommandSetPermissionMode changes a running task's permission mode:
	// SetPermissionModeArgs → SetPermissionModeResult.
	CommandSetPermissionMode = "claude.setPermissionMode"
	// CommandSetModel changes a running task's model: SetModelArgs →
	// SetModelResult.
	CommandSetModel = "claude.setModel"
	// CommandCommands lists claude's slash commands and models in a folder:
	// CommandsArgs → CommandsResult.
	CommandCommands = "claude.commands"
	// CommandSessions lists past conversations: SessionsArgs →
	// SessionsResult.
	CommandSessions = "claude.sessions"
	// CommandTranscript reads a past conversation: TranscriptArgs →
	// TranscriptResult.
	CommandTranscript = "claude.transcript"
	// CommandAnswer answers a claude/ask, claude/plan or claude/reviewEdit
	// the editor deferred: AnswerArgs → AnswerResult.
	CommandAnswer = "claude.answer"
	// CommandChanges lists a task's changes still kept for review:
	// ChangesArgs → ChangesParams.
	CommandChanges = "claude.changes"
	// CommandRevert takes back a task's changes (all, a file's, some
	// hunks): RevertArgs → RevertResult.
	CommandRevert = "claude.revert"
	// CommandAccept keeps a task's changes and drops their checkpoint:
	// AcceptArgs → AcceptResult.
	CommandAccept = "claude.accept"
)

// Commands are the command names, in the order the bridge announces them.
var Commands = []string{CommandRun, CommandCancel, CommandFollowUp, CommandTasks, CommandAuthStatus,
	CommandSend, CommandInterrupt, CommandSetPermissionMode, CommandSetModel, CommandCommands,
	CommandSessions, CommandTranscript, CommandAnswer, CommandChanges, CommandRevert, CommandAccept}

// Notifications the bridge sends to the editor.
const (
	// MethodEvent carries one event of a task (the schema's BridgeEvent).
	MethodEvent = "claude/event"
	// MethodEditConflict carries EditConflictParams.
	MethodEditConflict = "claude/editConflict"
	// MethodAuthChanged carries AuthChangedParams.
	MethodAuthChanged = "claude/authChanged"
	// MethodChanges carries ChangesParams: what a task changed, when it
	// ends (review afterTurn or beforeWrite).
	MethodChanges = "claude/changes"
)

// EventKind names what a claude/event reports; it is the `kind` field that
// tells the event types apart.
type EventKind string

// The event kinds, one Go type each (see NewEvent).
const (
	KindQueued      EventKind = "queued"
	KindStarted     EventKind = "started"
	KindText        EventKind = "text"
	KindThinking    EventKind = "thinking"
	KindToolUse     EventKind = "toolUse"
	KindToolResult  EventKind = "toolResult"
	KindPermission  EventKind = "permission"
	KindQuestion    EventKind = "question"
	KindPlan        EventKind = "plan"
	KindMode        EventKind = "mode"
	KindTodos       EventKind = "todos"
	KindReview      EventKind = "review"
	KindUserMessage EventKind = "userMessage"
	KindRetry       EventKind = "retry"
	KindStatus      EventKind = "status"
	KindOther       EventKind = "other"
	KindResult      EventKind = "result"
)

// EventKinds are all the event kinds, in the order a task usually sends them.
var EventKinds = []EventKind{KindQueued, KindStarted, KindText, KindThinking, KindToolUse, KindToolResult,
	KindPermission, KindQuestion, KindPlan, KindReview, KindMode, KindTodos, KindUserMessage, KindRetry, KindStatus, KindOther, KindResult}

// TaskStatus is where a task is in its life: queued → starting → running ⇄
// waiting → completed | failed | cancelled | interrupted. A
// task ends in exactly one of the four terminal statuses (interrupted only
// after claude.interrupt).
type TaskStatus string

// The task statuses.
const (
	StatusQueued    TaskStatus = "queued"
	StatusStarting  TaskStatus = "starting"
	StatusRunning   TaskStatus = "running"
	StatusWaiting   TaskStatus = "waiting" // for the user's answer: a permission question, claude's questions or plan, an edit to review
	StatusCompleted TaskStatus = "completed"
	StatusFailed    TaskStatus = "failed"
	StatusCancelled TaskStatus = "cancelled"
	// StatusInterrupted: the turn was stopped with claude.interrupt; the
	// conversation is kept for a follow-up.
	StatusInterrupted TaskStatus = "interrupted"
)

// TaskStatuses are all the task statuses.
var TaskStatuses = []TaskStatus{StatusQueued, StatusStarting, StatusRunning, StatusWaiting,
	StatusCompleted, StatusFailed, StatusCancelled, StatusInterrupted}

// Terminal reports whether s is a final status: completed, failed,
// cancelled or interrupted.
func (s TaskStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled || s == StatusInterrupted
}

// Decision is how a permission question was answered.
type Decision string

// The decisions.
const (
	DecisionAllow     Decision = "allow"
	DecisionAllowTask Decision = "allowTask" // allow this tool for the rest of the task
	DecisionDeny      Decision = "deny"
)

// Decisions are all the decisions.
var Decisions = []Decision{DecisionAllow, DecisionAllowTask, DecisionDeny}

// PlanDecision is the user's answer to claude's plan.
type PlanDecision string

// The plan decisions.
const (
	PlanApprove      PlanDecision = "approve"      // leave plan mode and carry the plan out
	PlanKeepPlanning PlanDecision = "keepPlanning" // stay in plan mode and revise the plan
)

// PlanDecisions are all the plan decisions.
var PlanDecisions = []PlanDecision{PlanApprove, PlanKeepPlanning}

// PlanMode is the permission mode an approved plan is carried out in: one
// of the two that claude 2.1.332 leaves plan mode for when the plan is
// approved with its setMode update (measured; a bypassPermissions claude
// was not started with, or plan, leaves it in default instead).
type PlanMode string

// The plan modes.
const (
	PlanModeAcceptEdits PlanMode = "acceptEdits" // edits are not asked about
	PlanModeDefault     PlanMode = "default"     // edits are asked about
)

// PlanModes are all the plan modes.
var PlanModes = []PlanMode{PlanModeAcceptEdits, PlanModeDefault}

// TodoStatus is where an item of claude's to-do list is.
type TodoStatus string

// The to-do statuses (claude's own names).
const (
	TodoPending    TodoStatus = "pending"
	TodoInProgress TodoStatus = "in_progress"
	TodoCompleted  TodoStatus = "completed"
)

// TodoStatuses are all the to-do statuses.
var TodoStatuses = []TodoStatus{TodoPending, TodoInProgress, TodoCompleted}

// PermissionMode is claude's --permission-mode: how it asks before using
// tools.
type PermissionMode string

// The permission modes the bridge passes to claude.
const (
	ModeDefault           PermissionMode = "default"     // ask before edits and commands
	ModeAcceptEdits       PermissionMode = "acceptEdits" // edits in the workspace are allowed; commands are asked about
	ModePlan              PermissionMode = "plan"        // plan only: no edits, no commands
	ModeBypassPermissions PermissionMode = "bypassPermissions"
	ModeDontAsk           PermissionMode = "dontAsk"
	ModeAuto              PermissionMode = "auto"
)

// PermissionModes are all the permission modes.
var PermissionModes = []PermissionMode{ModeDefault, ModeAcceptEdits, ModePlan, ModeBypassPermissions, ModeDontAsk, ModeAuto}

// AuthState is the state of the API key: "ok" (the key helper yields a
// key), "error" (it does not), "inherit" (claude authenticates on its own)
// or "starting" (before the first check).
type AuthState string

// The auth states.
const (
	AuthOK       AuthState = "ok"
	AuthError    AuthState = "error"
	AuthInherit  AuthState = "inherit"
	AuthStarting AuthState = "starting"
)

// AuthStates are all the auth states.
var AuthStates = []AuthState{AuthOK, AuthError, AuthInherit, AuthStarting}

// AuthMode is how claude gets its credentials: "helper" (the bridge
// supplies the key through its key helper script) or "inherit" (claude's
// own login or environment; the bridge manages no key).
type AuthMode string

// The auth modes.
const (
	AuthModeHelper  AuthMode = "helper"
	AuthModeInherit AuthMode = "inherit"
)

// AuthModes are all the auth modes.
var AuthModes = []AuthMode{AuthModeHelper, AuthModeInherit}

// KeySource is where the key helper found the key.
type KeySource string

// The key sources.
const (
	SourceClaudeAPIKey    KeySource = "CLAUDE_API_KEY"    // the CLAUDE_API_KEY variable
	SourceAnthropicAPIKey KeySource = "ANTHROPIC_API_KEY" // the bridge's own ANTHROPIC_API_KEY
	SourceKeyFile         KeySource = "keyFile"           // the key file (auth.keyFile)
	SourceKeyCommand      KeySource = "keyCommand"        // the key command (auth.keyCommand)
	SourceHelper          KeySource = "helper"            // the user's own helper, which does not say
	SourceNone            KeySource = "none"              // no key: the helper failed, or no check ran yet
	SourceInherit         KeySource = "inherit"           // inherit mode: claude's own login
)

// KeySources are all the key sources.
var KeySources = []KeySource{SourceClaudeAPIKey, SourceAnthropicAPIKey, SourceKeyFile, SourceKeyCommand,
	SourceHelper, SourceNone, SourceInherit}

// LogLevel is the level of the bridge's log file.
type LogLevel string

// The log levels.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

// LogLevels are all the log levels.
var LogLevels = []LogLevel{LogDebug, LogInfo, LogWarn, LogError}

// ImageMediaType is the type of an image sent as data (ImageRef): the
// types claude's image blocks take.
type ImageMediaType string

// The image media types.
const (
	ImagePNG  ImageMediaType = "image/png"
	ImageJPEG ImageMediaType = "image/jpeg"
	ImageGIF  ImageMediaType = "image/gif"
	ImageWebP ImageMediaType = "image/webp"
)

// ImageMediaTypes are all the image media types.
var ImageMediaTypes = []ImageMediaType{ImagePNG, ImageJPEG, ImageGIF, ImageWebP}
