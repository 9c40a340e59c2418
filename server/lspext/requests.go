package lspext

import "reflect"

// MethodShowMessageRequest asks the editor a permission question:
// PermissionRequestParams → MessageActionItem, or null when the question was
// dismissed (the bridge then denies).
const MethodShowMessageRequest = "window/showMessageRequest"

// PermissionRequestParams is the params of the window/showMessageRequest
// with which the bridge asks a permission question: LSP's
// ShowMessageRequestParams (type, message, actions) plus the task and the
// tool call it is about, so that an editor can show the question beside
// the call (an editor that knows only LSP ignores the extra fields).
type PermissionRequestParams struct {
	// Type is LSP's MessageType: 3 (Info).
	Type int `json:"type"`
	// Message is the question, naming the tool and its key input in
	// backticks: "Claude wants to run Bash: `go test ./...`".
	Message string `json:"message"`
	// Actions are the answers: "Allow", "Allow for this task", "Deny".
	Actions []MessageActionItem `json:"actions"`
	// TaskID is the task that asks.
	TaskID string `json:"taskId"`
	// ToolUseID is the tool call asked about; its toolUse event carries the
	// same id, and so will its permission and toolResult events.
	ToolUseID string `json:"toolUseId"`
	// ToolName is the tool's name ("Edit", "Bash").
	ToolName string `json:"toolName"`
}

// MessageActionItem is an answer to a window/showMessageRequest, as in LSP.
type MessageActionItem struct {
	// Title is the answer's text, as the editor shows it.
	Title string `json:"title"`
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
}
