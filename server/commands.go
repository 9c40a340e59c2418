package server

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/claude-bridge/claude-bridge/internal/quote"
	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// executeCommandParams is LSP's ExecuteCommandParams with the arguments
// left to decode by command (lspext's types) and the progress token kept
// as the editor spelled it (protocol.ProgressToken holds numbers as int32).
type executeCommandParams struct {
	Command       string            `json:"command"`
	Arguments     []json.RawMessage `json:"arguments,omitempty"`
	WorkDoneToken json.RawMessage   `json:"workDoneToken,omitempty"`
}

// decodeExecuteCommand decodes workspace/executeCommand's params: LSP's
// (lspext.DecodeLSP), with a progress token that is LSP's integer or
// string.
func decodeExecuteCommand(params json.RawMessage) (executeCommandParams, error) {
	var p executeCommandParams
	if len(params) == 0 {
		return p, invalidParams("workspace/executeCommand: params are missing: send {command, arguments}")
	}
	if _, err := lspext.DecodeLSP(params, &p); err != nil {
		return p, invalidParams("workspace/executeCommand: %s", describeError(err, "params"))
	}
	if len(p.WorkDoneToken) > 0 && progressToken(p.WorkDoneToken) == "" {
		return p, invalidParams("workspace/executeCommand: params.workDoneToken is %s, not an integer or a string (LSP's ProgressToken)",
			(&lspext.DecodeError{}).Describe(p.WorkDoneToken))
	}
	return p, nil
}

// progressToken is the key of an LSP ProgressToken (integer | string) as
// the editor spelled it (rawIDKey), or "" when raw is neither.
func progressToken(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return rawIDKey(raw)
	}
	if n, ok := new(big.Float).SetString(string(raw)); ok && n.IsInt() {
		return rawIDKey(raw)
	}
	return ""
}

// describeError says a decoding error for the value named root (its path
// inside root); other errors as they are.
func describeError(err error, root string) string {
	var de *lspext.DecodeError
	if errors.As(err, &de) {
		return de.In(root)
	}
	return err.Error()
}

// executeCommand runs a command. Every command takes one argument at most,
// arguments[0], decoded strictly into the command's type (lspext.Decode):
// a field the type does not know, a field of the wrong type, a value out
// of range, a null or a required field left out is a -32602 error naming
// the command and the path of the field (`claude.run: arguments[0].context[0]
// has an unknown field "rnge"`).
func (s *Server) executeCommand(ctx context.Context, p executeCommandParams) (any, error) {
	cmd, args := p.Command, p.Arguments
	def, ok := lspext.CommandDefOf(cmd)
	if !ok {
		return nil, invalidParams("workspace/executeCommand: params.command %s is not one of the bridge's commands (%s)", quote.String(cmd), strings.Join(lspext.Commands, ", "))
	}
	if len(args) > 1 {
		return nil, invalidParams("%s: arguments[1]: %s takes one argument (arguments[0]), not %d", cmd, cmd, len(args))
	}
	var arg json.RawMessage
	if len(args) == 1 {
		arg = args[0]
	} else if def.ArgsRequired() {
		return nil, invalidParams("%s: arguments[0] is missing: %s needs its arguments object", cmd, cmd)
	}
	decode := func(v any) error {
		if arg == nil {
			return nil
		}
		if err := lspext.Decode(arg, v); err != nil {
			return invalidParams("%s: %s", cmd, describeError(err, "arguments[0]"))
		}
		return nil
	}
	switch cmd {
	case lspext.CommandRun:
		var a lspext.RunArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return s.run(ctx, a, p.WorkDoneToken)
	case lspext.CommandFollowUp:
		var a lspext.FollowUpArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return s.followUp(ctx, a, p.WorkDoneToken)
	case lspext.CommandCancel:
		var a lspext.CancelArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		return s.cancel(ctx, a.TaskID)
	case lspext.CommandTasks:
		var a lspext.TasksArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if !a.Processes {
			return s.listTasks(), nil // the reply old clients know
		}
		st := s.mgr.Stats()
		return &lspext.TasksResult{Tasks: s.listTasks(),
			Processes: lspext.ProcessCounts{Live: st.Live, Running: st.Busy, Stopping: st.Stopping, Idle: st.Idle, Warm: st.Warm, MaxIdle: st.MaxIdle, Slots: st.Slots}}, nil
	case lspext.CommandAuthStatus:
		if err := decode(&lspext.AuthStatusArgs{}); err != nil {
			return nil, err
		}
		s.mu.Lock()
		a := s.auth
		s.mu.Unlock()
		if a == nil {
			return &lspext.AuthStatus{Status: lspext.AuthInherit, Mode: lspext.AuthModeInherit, Source: lspext.SourceInherit,
				Message: "claude uses its own login; the bridge manages no key", Claude: s.claudeCLI(ctx)}, nil
		}
		a.settle() // auth settings received before this request are applied
		st := a.status()
		st.Claude = s.claudeCLI(ctx)
		return &st, nil
	}
	if res, ok, err := s.conversationCommand(ctx, cmd, decode); ok {
		return res, err
	}
	return nil, internalError("command %s has no handler", cmd)
}

// cancel is claude.cancel: a task the bridge runs, or one whose claude.run
// or claude.followUp is still on its way to starting it. That one is
// cancelled as soon as it starts, and the cancel answers once it has: true,
// or the same error as for an unknown task when the request was refused
// (its arguments were wrong) and no task was ever started.
func (s *Server) cancel(ctx context.Context, taskID string) (*lspext.CancelResult, error) {
	if s.mgr.Get(taskID) != nil {
		return &lspext.CancelResult{Cancelled: s.mgr.Cancel(taskID)}, nil
	}
	s.mu.Lock()
	starts := append([]*pendingStart(nil), s.pendingStarts[taskID]...)
	for _, p := range starts {
		p.cancelWanted = true
	}
	s.mu.Unlock()
	if len(starts) == 0 {
		return nil, argError(lspext.CommandCancel, "taskId", taskID, "names no task")
	}
	for _, p := range starts {
		select {
		case <-p.decided:
		case <-ctx.Done():
			return nil, jsonrpc2.Errorf(requestCancelled, "request cancelled")
		}
	}
	s.mu.Lock()
	atStart := false
	for _, p := range starts {
		atStart = atStart || p.cancelledAtStart
	}
	s.mu.Unlock()
	if atStart {
		return &lspext.CancelResult{Cancelled: true}, nil
	}
	if s.mgr.Get(taskID) != nil {
		// Registered before this cancel said it wanted it (or by another
		// request): cancelled as any running task.
		return &lspext.CancelResult{Cancelled: s.mgr.Cancel(taskID)}, nil
	}
	return nil, argError(lspext.CommandCancel, "taskId", taskID, "names no task: the request that named it was refused")
}

func (s *Server) run(ctx context.Context, a lspext.RunArgs, token json.RawMessage) (any, error) {
	ctxURIs := make([]string, len(a.Context))
	for i, c := range a.Context {
		ctxURIs[i] = c.URI
	}
	folder, roots, err := s.folderFor(lspext.CommandRun, a.WorkspaceFolder, ctxURIs)
	if err != nil {
		return nil, err
	}
	msg, err := userMessage(ctx, lspext.CommandRun, input{a.Prompt, a.Context, a.Images, a.OpenFiles}, folder.Path, s.bufs.docs)
	if err != nil {
		return nil, err
	}
	spec := s.spec(a.TaskID, msg.Text, folder.Path, roots, a.Model, a.PermissionMode, a.Review)
	spec.Images = msg.Images
	if a.SessionID != "" {
		// A conversation of the folder the task runs in, as claude.sessions
		// lists it: claude would resume another folder's (or fail on one it
		// does not keep) with this folder as its working directory.
		if _, _, ok := s.sessionFolder(a.SessionID, folder.URI); !ok {
			return nil, invalidParams("claude.run: claude keeps no conversation %s for the folder %s (claude.sessions lists them)", quote.String(a.SessionID), folder.URI)
		}
	}
	spec.ResumeSession = a.SessionID
	return s.runTask(ctx, lspext.CommandRun, "taskId", spec, token)
}

func (s *Server) followUp(ctx context.Context, a lspext.FollowUpArgs, token json.RawMessage) (any, error) {
	session, workspace, roots, err := s.mgr.FollowUpSession(a.TaskID, a.SessionID)
	if err != nil {
		if a.TaskID != "" {
			return nil, argError(lspext.CommandFollowUp, "taskId", a.TaskID, err.Error())
		}
		return nil, argError(lspext.CommandFollowUp, "sessionId", a.SessionID, err.Error())
	}
	if a.WorkspaceFolder != "" {
		f, r, err := s.folderFor(lspext.CommandFollowUp, a.WorkspaceFolder, nil)
		if err != nil {
			return nil, err
		}
		workspace, roots = f.Path, r
	}
	if a.TaskID == "" {
		// A conversation named by its id: one that a workspace folder keeps
		// (workspaceFolder, if named), resumed there, as claude.sessions
		// lists them and claude.transcript reads them. claude would take
		// another folder's and run it here (writing its continuation to the
		// other folder's store), and fail on an id it does not keep.
		f, _, ok := s.sessionFolder(session, a.WorkspaceFolder)
		if !ok {
			return nil, argError(lspext.CommandFollowUp, "sessionId", a.SessionID, "names no conversation: claude keeps no conversation of that id for the workspace folders (claude.sessions lists them)")
		}
		if workspace == "" {
			// A conversation the bridge did not run (one started in a
			// terminal).
			f, r, err := s.folderFor(lspext.CommandFollowUp, f.URI, nil)
			if err != nil {
				return nil, err
			}
			workspace, roots = f.Path, r
		}
	}
	msg, err := userMessage(ctx, lspext.CommandFollowUp, input{a.Prompt, a.Context, a.Images, a.OpenFiles}, workspace, s.bufs.docs)
	if err != nil {
		return nil, err
	}
	model, mode := a.Model, a.PermissionMode
	if prev := s.mgr.Conversation(a.TaskID, session); prev != nil {
		// The mode and model the conversation was switched to go on.
		changedMode, changedModel := prev.Changed()
		if mode == "" {
			mode = lspext.PermissionMode(changedMode)
		}
		if model == "" {
			model = changedModel
		}
	}
	spec := s.spec(a.NewTaskID, msg.Text, workspace, roots, model, mode, a.Review)
	spec.Images = msg.Images
	spec.ResumeSession = session
	return s.runTask(ctx, lspext.CommandFollowUp, "newTaskId", spec, token)
}

// spec is a task's spec: the settings, with the model, the permission
// mode and the review a command gives ("": the configured one;
// lspext.Decode has checked that the mode and the review are ones the
// protocol knows).
func (s *Server) spec(id, prompt, workspace string, roots []string, model string, mode lspext.PermissionMode, review lspext.ReviewMode) runner.Spec {
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	opts := st.defaultOptions()
	if mode != "" {
		opts.PermissionMode = string(mode)
	}
	if model != "" {
		opts.Model = model
	}
	if review == "" {
		review = st.Review
	}
	// runner.Manager.NewTask sets opts.ReviewHooks from the task's review.
	return runner.Spec{ID: id, Prompt: prompt, Workspace: workspace, Roots: roots, Review: string(review), Options: opts}
}

func (s *Server) listTasks() []lspext.TaskInfo {
	infos := s.mgr.Tasks()
	out := make([]lspext.TaskInfo, 0, len(infos))
	for _, in := range infos {
		ti := lspext.TaskInfo{
			TaskID: in.ID, Status: lspext.TaskStatus(in.State), WorkspaceFolder: s.editorURI(in.Workspace),
			Prompt: in.Prompt, SessionID: in.SessionID, StartedAt: in.Created.UTC().Format(time.RFC3339Nano),
		}
		if in.PermissionMode != "" {
			ti.PermissionMode, ti.Model = in.PermissionMode, in.Model
		}
		ti.Review, ti.UnreviewedChanges = lspext.ReviewMode(in.Review), in.Unreviewed
		if !in.Ended.IsZero() {
			ti.EndedAt = in.Ended.UTC().Format(time.RFC3339Nano)
			c := in.CostUSD
			ti.CostUSD = &c
		}
		out = append(out, ti)
	}
	return out
}

// resultOf is the reply for a task's outcome; the caller fills in
// EditedFiles (Server.editedFiles).
func resultOf(out runner.Outcome) *lspext.RunResult {
	return &lspext.RunResult{
		TaskID: out.TaskID, SessionID: out.SessionID, Status: lspext.TaskStatus(out.Status), Result: out.Result,
		IsError: out.IsError, CostUSD: out.CostUSD, DurationMs: out.DurationMs, NumTurns: out.NumTurns,
	}
}

func taskError(err error) error {
	if errors.Is(err, runner.ErrShutdown) {
		return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "%v", err)
	}
	return invalidParams("%v", err)
}

// argError is a -32602 error about a value of a command's arguments that
// decoded (it has the shape the schema states) but that the bridge
// refuses: the command, the JSON path of the value in arguments[0], the
// value as sent (cut short) and why, as a predicate:
// `claude.run: arguments[0].workspaceFolder "file:///etc" is not one of
// the editor's workspace folders (/home/me/proj)`. A problem that already
// starts with the value (fileuri's errors: `"https://x" is a https: URI…`)
// does not repeat it; one that is a sentence of its own (a runner error)
// follows a colon.
func argError(cmd, path, value, problem string) error {
	at := "arguments[0]." + path
	q := quote.String(value)
	switch {
	case strings.HasPrefix(problem, q):
		return invalidParams("%s: %s %s", cmd, at, problem)
	case predicate(problem):
		return invalidParams("%s: %s %s %s", cmd, at, q, problem)
	}
	return invalidParams("%s: %s %s: %s", cmd, at, q, problem)
}

// predicate reports whether a problem reads as a predicate ("is …",
// "names …") rather than a sentence of its own.
func predicate(problem string) bool {
	for _, verb := range []string{"is ", "names ", "has ", "was ", "does "} {
		if strings.HasPrefix(problem, verb) {
			return true
		}
	}
	return false
}
