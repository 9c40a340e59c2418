package lspext

import "reflect"

// CommandDef is one workspace/executeCommand command: its name, the type
// of its arguments[0] (its only argument; a type without a required field
// may be left out) and the types of its reply (two when the arguments
// choose between them).
type CommandDef struct {
	Command string
	Args    reflect.Type
	Results []reflect.Type
}

// CommandDefs are the commands, in the order of Commands.
var CommandDefs = []CommandDef{
	{CommandRun, reflect.TypeFor[RunArgs](), results[RunResult]()},
	{CommandCancel, reflect.TypeFor[CancelArgs](), results[CancelResult]()},
	{CommandFollowUp, reflect.TypeFor[FollowUpArgs](), results[RunResult]()},
	{CommandTasks, reflect.TypeFor[TasksArgs](), []reflect.Type{reflect.TypeFor[[]TaskInfo](), reflect.TypeFor[TasksResult]()}},
	{CommandAuthStatus, reflect.TypeFor[AuthStatusArgs](), results[AuthStatus]()},
	{CommandSend, reflect.TypeFor[SendArgs](), results[SendResult]()},
	{CommandInterrupt, reflect.TypeFor[InterruptArgs](), results[InterruptResult]()},
	{CommandSetPermissionMode, reflect.TypeFor[SetPermissionModeArgs](), results[SetPermissionModeResult]()},
	{CommandSetModel, reflect.TypeFor[SetModelArgs](), results[SetModelResult]()},
	{CommandCommands, reflect.TypeFor[CommandsArgs](), results[CommandsResult]()},
	{CommandSessions, reflect.TypeFor[SessionsArgs](), results[SessionsResult]()},
	{CommandTranscript, reflect.TypeFor[TranscriptArgs](), results[TranscriptResult]()},
	{CommandAnswer, reflect.TypeFor[AnswerArgs](), results[AnswerResult]()},
	{CommandChanges, reflect.TypeFor[ChangesArgs](), results[ChangesParams]()},
	{CommandRevert, reflect.TypeFor[RevertArgs](), results[RevertResult]()},
	{CommandAccept, reflect.TypeFor[AcceptArgs](), results[AcceptResult]()},
}

func results[T any]() []reflect.Type { return []reflect.Type{reflect.TypeFor[T]()} }

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
	{MethodChanges, reflect.TypeFor[ChangesParams]()},
}

// CommandDefOf is the command named name.
func CommandDefOf(name string) (CommandDef, bool) {
	for _, c := range CommandDefs {
		if c.Command == name {
			return c, true
		}
	}
	return CommandDef{}, false
}

// ArgsRequired reports whether the command needs arguments[0]: whether
// its type has a field that is always present.
func (c CommandDef) ArgsRequired() bool {
	required := false
	ForEachField(c.Args, func(_ reflect.StructField, _ []int, _ string, optional bool) {
		required = required || !optional
	})
	return required
}
