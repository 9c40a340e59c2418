package lspext

import "reflect"

// CommandDef is one workspace/executeCommand command: its name and the
// types of its arguments[0] and of its reply (Args nil: it takes none).
type CommandDef struct {
	Command string
	Args    reflect.Type
	Result  reflect.Type
}

// CommandDefs are the commands, in the order of Commands.
var CommandDefs = []CommandDef{
	{CommandRun, reflect.TypeFor[RunArgs](), reflect.TypeFor[RunResult]()},
	{CommandCancel, reflect.TypeFor[CancelArgs](), reflect.TypeFor[CancelResult]()},
	{CommandFollowUp, reflect.TypeFor[FollowUpArgs](), reflect.TypeFor[RunResult]()},
	{CommandTasks, nil, reflect.TypeFor[[]TaskInfo]()},
	{CommandAuthStatus, nil, reflect.TypeFor[AuthStatus]()},
}

// NotificationDef is one notification the bridge sends: its method and the
// type of its params (for claude/event, the Event interface: one of the
// event types).
type NotificationDef struct {
	Method string
	Params reflect.Type
}

// NotificationDefs are the notifications the bridge sends.
var NotificationDefs = []NotificationDef{
	{MethodEvent, reflect.TypeFor[Event]()},
	{MethodEditConflict, reflect.TypeFor[EditConflictParams]()},
	{MethodAuthChanged, reflect.TypeFor[AuthChangedParams]()},
}
