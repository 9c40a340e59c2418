package lspext

import (
	"encoding/json"
	"reflect"
)

// MethodShowMessageRequest asks a permission question of an editor that
// does not declare ClientCapabilities.permission: PermissionRequestParams →
// MessageActionItem, or null when the question was dismissed (the bridge
// then denies). An editor that does not declare ClientCapabilities.ask gets
// claude's questions this way too, one request per question.
const MethodShowMessageRequest = "window/showMessageRequest"

// MethodPermission asks the editor a permission question, sent only to an
// editor that declares ClientCapabilities.permission: PermissionParams →
// PermissionResult, or null when the user dismissed it (the bridge then
// denies).
const MethodPermission = "claude/permission"

// MethodAsk asks the editor claude's questions (its AskUserQuestion tool),
// sent only to an editor that declares ClientCapabilities.ask: AskParams →
// AskResult, or null when the user dismissed them (claude is told they
// were not answered).
const MethodAsk = "claude/ask"

// MethodPlan asks the editor to approve claude's plan (its ExitPlanMode
// call in plan mode), sent only to an editor that declares
// ClientCapabilities.plan: PlanParams → PlanResult, or null when the user
// dismissed it (claude keeps planning).
const MethodPlan = "claude/plan"

// MethodReviewEdit asks the editor to review an edit claude is about to
// write (review beforeWrite), sent only to an editor that declares
// ClientCapabilities.reviewEdit: ReviewEditParams → ReviewEditResult, or
// null when the user dismissed it (nothing is written; claude is told).
// An editor that does not declare it gets a window/showMessageRequest
// ("Claude wants to edit main.go: +3 −1 in 2 hunks", Accept, Reject, Show
// diff).
const MethodReviewEdit = "claude/reviewEdit"

// PermissionRequestParams is the params of the window/showMessageRequest
// with which the bridge asks a permission question, or one of claude's
// questions of an editor that does not answer claude/ask: LSP's
// ShowMessageRequestParams (type, message, actions) plus the task and the
// tool call it is about, so that an editor can show the question beside
// the call (an editor that knows only LSP ignores the extra fields).
type PermissionRequestParams struct {
	// Type is LSP's MessageType: 3 (Info).
	Type int `json:"type"`
	// Message is the question. A permission question names the tool and its
	// key input, whole (every line of a command), in backticks: "Claude
	// wants to run Bash: `go test ./...`"; one of claude's questions reads
	// "Claude asks (Color): Which color?".
	Message string `json:"message"`
	// Actions are the answers: "Allow", "Allow for this task", "Deny" for a
	// permission question; the options' labels for one of claude's questions.
	Actions []MessageActionItem `json:"actions"`
	// TaskID is the task that asks.
	TaskID string `json:"taskId"`
	// ToolUseID is the tool call asked about; its toolUse event carries the
	// same id, and so will its permission (or question) and toolResult events.
	ToolUseID string `json:"toolUseId"`
	// ToolName is the tool's name ("Edit", "Bash"; "AskUserQuestion" for one
	// of claude's questions).
	ToolName string `json:"toolName"`
}

// PermissionParams is the params of claude/permission: a tool call claude
// asks to run. The editor shows what is to be allowed, whole (KeyInput:
// every line of a command), before the user can allow it, and replies with
// PermissionResult.
type PermissionParams struct {
	// TaskID is the task that asks.
	TaskID string `json:"taskId"`
	// ToolUseID is the call asked about; its toolUse event carries the same
	// id, and so will its permission event (the decision, whoever made it).
	ToolUseID string `json:"toolUseId"`
	// ToolName is the tool's name ("Bash", "Edit").
	ToolName string `json:"toolName"`
	// Message is the question in one line, for a place that shows one line
	// (a notification, a picker's title): "Claude wants to run Bash: `echo
	// tidying up` (and 2 more lines)". It is cut (first line, 120
	// characters) and says so; KeyInput is what the user allows.
	Message string `json:"message"`
	// KeyInput is what the user is asked to allow, whole: the command with
	// all its lines, the file (relative to the task's folder when inside
	// it), the URL or the pattern; "" when the tool's input has none of
	// these (Description then says what the call does).
	KeyInput string `json:"keyInput"`
	// Description is claude's own description of the call ("Run the
	// tests"). Optional.
	Description string `json:"description,omitempty"`
	// Summary says in a few words what the call does, as the toolUse
	// event's summary: "Bash: go test ./...", "Edit main.go".
	Summary string `json:"summary"`
	// Input is the tool's input object as claude sent it (an Edit's
	// old_string and new_string, to show the change). Optional.
	Input json.RawMessage `json:"input,omitempty"`
}

// PermissionResult is the editor's reply to claude/permission.
type PermissionResult struct {
	// Decision is the user's answer. Required unless deferred.
	Decision Decision `json:"decision,omitempty"`
	// Deferred is true when the editor answers later, with claude.answer
	// (its decision field): an editor whose request handlers must return at
	// once (Neovim before 0.10) and that must not read keys meant for the
	// buffer being typed in. Decision is then ignored. Optional.
	Deferred bool `json:"deferred,omitempty"`
}

// AskParams is the params of claude/ask: the questions of one
// AskUserQuestion call (1 to 4, each with 2 to 4 options, as claude 2.1.332
// asks them). The editor shows each with its options, lets the user pick one
// (several where multiSelect), or type an answer of their own ("Other"),
// and replies with AskResult.
type AskParams struct {
	// TaskID is the task that asks.
	TaskID string `json:"taskId"`
	// ToolUseID is the AskUserQuestion call; its toolUse event carries the
	// same id, and its question event will.
	ToolUseID string `json:"toolUseId"`
	// Questions are the questions, in claude's order.
	Questions []Question `json:"questions"`
}

// Question is one of claude's questions.
type Question struct {
	// Question is the question's text; answers are keyed by it.
	Question string `json:"question"`
	// Header is a short label for the question (claude keeps it to 12
	// characters): "Color", "Approach".
	Header string `json:"header"`
	// MultiSelect is true when several options may be chosen.
	MultiSelect bool `json:"multiSelect"`
	// Options are the choices; claude adds none for "Other": the editor
	// offers a free-text answer itself.
	Options []QuestionOption `json:"options"`
}

// QuestionOption is one choice of a Question.
type QuestionOption struct {
	// Label is the choice as the user sees it, and as it is answered.
	Label string `json:"label"`
	// Description says what the choice means. Optional.
	Description string `json:"description,omitempty"`
}

// AskResult is the editor's reply to claude/ask: the answers, or
// {"deferred": true}.
type AskResult struct {
	// Answers maps a question's text to its answer: an option's label, the
	// labels of a multiSelect question joined by ", " ("Dark mode, Export",
	// the form claude's own dialog gives), or text the user typed. A
	// question left out is unanswered; no answers at all (absent, or empty)
	// is the same as a null reply. (claude 2.1.332 tells the model "Your
	// questions have been answered" for labels, "The user answered: … Read
	// the answers carefully" when an answer is text of the user's own.)
	// Optional.
	Answers map[string]string `json:"answers,omitempty"`
	// Deferred is true when the editor answers later, with claude.answer
	// (an editor whose request handlers must return at once: Neovim before
	// 0.10). Answers is then ignored. Optional.
	Deferred bool `json:"deferred,omitempty"`
}

// MessageActionItem is an answer to a window/showMessageRequest, as in LSP.
type MessageActionItem struct {
	// Title is the answer's text, as the editor shows it.
	Title string `json:"title"`
}

// PlanParams is the params of claude/plan: claude's plan, which the editor
// shows (as Markdown) with the choices of PlanResult.
type PlanParams struct {
	// TaskID is the task that asks.
	TaskID string `json:"taskId"`
	// ToolUseID is the ExitPlanMode call; its toolUse event carries the
	// same id, and its plan event will.
	ToolUseID string `json:"toolUseId"`
	// Plan is the plan's Markdown text ("" when claude wrote none).
	Plan string `json:"plan"`
	// URI is the file:// URI of a copy of the plan the bridge wrote under
	// its state directory (plans/<taskId>-<toolUseId>.md), for the editor
	// to open. Optional: absent when it could not be written.
	URI string `json:"uri,omitempty"`
}

// PlanResult is the editor's reply to claude/plan: the decision, or
// {"deferred": true}.
type PlanResult struct {
	// Decision is the user's answer. Required unless deferred.
	Decision PlanDecision `json:"decision,omitempty"`
	// PermissionMode is the mode to carry the plan out in when approved:
	// "acceptEdits" (edits are not asked about) or "default" (they are);
	// no other (claude.answer refuses another with -32602, and a reply
	// with another is not understood: claude keeps planning, told why).
	// Optional: default acceptEdits.
	PermissionMode PlanMode `json:"permissionMode,omitempty"`
	// Feedback is what claude should change when it keeps planning.
	// Optional.
	Feedback string `json:"feedback,omitempty"`
	// Deferred is true when the editor answers later, with claude.answer
	// (as in AskResult); the other fields are then ignored. Optional.
	Deferred bool `json:"deferred,omitempty"`
}

// RequiresOneOf: a decision, or deferred.
func (PlanResult) RequiresOneOf() []string { return []string{"decision", "deferred"} }

// PlanAnswer is claude.answer's answer to a claude/plan the editor
// deferred: PlanResult without deferred, the decision required.
type PlanAnswer struct {
	// Decision is the user's answer.
	Decision PlanDecision `json:"decision"`
	// PermissionMode is the mode to carry the plan out in when approved,
	// as in PlanResult. Optional: default acceptEdits.
	PermissionMode PlanMode `json:"permissionMode,omitempty"`
	// Feedback is what claude should change when it keeps planning.
	// Optional.
	Feedback string `json:"feedback,omitempty"`
}

// RequestDef is one request the bridge sends the editor: its method, the
// types of its params and of the editor's reply, and whether the reply may
// be null.
type RequestDef struct {
	Method         string
	Params         reflect.Type
	Result         reflect.Type
	ResultNullable bool
}

// RequestDefs are the requests beyond LSP's own that the bridge sends (a
// permission question is LSP's window/showMessageRequest with more params).
var RequestDefs = []RequestDef{
	{MethodShowMessageRequest, reflect.TypeFor[PermissionRequestParams](), reflect.TypeFor[MessageActionItem](), true},
	{MethodPermission, reflect.TypeFor[PermissionParams](), reflect.TypeFor[PermissionResult](), true},
	{MethodAsk, reflect.TypeFor[AskParams](), reflect.TypeFor[AskResult](), true},
	{MethodPlan, reflect.TypeFor[PlanParams](), reflect.TypeFor[PlanResult](), true},
	{MethodReviewEdit, reflect.TypeFor[ReviewEditParams](), reflect.TypeFor[ReviewEditResult](), true},
}
