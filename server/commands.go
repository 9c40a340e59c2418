package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

func (s *Server) executeCommand(ctx context.Context, cmd string, args []json.RawMessage, token json.RawMessage) (any, error) {
	arg := json.RawMessage("{}")
	if len(args) > 0 && string(args[0]) != "null" {
		arg = args[0]
	}
	switch cmd {
	case lspext.CommandRun:
		var a lspext.RunArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, err
		}
		return s.run(ctx, a, token)
	case lspext.CommandFollowUp:
		var a lspext.FollowUpArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, err
		}
		return s.followUp(ctx, a, token)
	case lspext.CommandCancel:
		var a lspext.CancelArgs
		// The task id as a bare string is accepted too.
		if json.Unmarshal(arg, &a.TaskID) != nil {
			if err := decodeArgs(cmd, arg, &a); err != nil {
				return nil, err
			}
		}
		if a.TaskID == "" {
			return nil, invalidParams("claude.cancel needs {taskId}")
		}
		return s.cancel(a.TaskID)
	case lspext.CommandTasks:
		var a lspext.TasksArgs
		if err := decodeArgs(cmd, arg, &a); err != nil {
			return nil, err
		}
		if !a.Processes {
			return s.listTasks(), nil // the reply old clients know
		}
		st := s.mgr.Stats()
		return &lspext.TasksResult{Tasks: s.listTasks(),
			Processes: lspext.ProcessCounts{Live: st.Live, Running: st.Busy, Stopping: st.Stopping, Idle: st.Idle, Warm: st.Warm, MaxIdle: st.MaxIdle, Slots: st.Slots}}, nil
	case lspext.CommandAuthStatus:
		if err := decodeArgs(cmd, arg, &struct{}{}); err != nil {
			return nil, err
		}
		s.mu.Lock()
		a := s.auth
		s.mu.Unlock()
		if a == nil {
			return &lspext.AuthStatus{Status: lspext.AuthInherit, Mode: lspext.AuthModeInherit, Source: lspext.SourceInherit,
				Message: "claude uses its own login; the bridge manages no key", Claude: s.claudeCLI(ctx)}, nil
		}
		st := a.status()
		st.Claude = s.claudeCLI(ctx)
		return &st, nil
	}
	if res, ok, err := s.conversationCommand(ctx, cmd, arg); ok {
		return res, err
	}
	return nil, invalidParams("unknown command %q (the bridge serves %s)", cmd, strings.Join(lspext.Commands, ", "))
}

// decodeArgs decodes a command's arguments[0] into v strictly
// (lspext.Decode): a field v does not know, a field of the wrong type or a
// required field left out is a -32602 error naming the command and the field.
func decodeArgs(cmd string, raw json.RawMessage, v any) error {
	if err := lspext.Decode(raw, v); err != nil {
		return invalidParams("%s: arguments[0]: %v", cmd, err)
	}
	return nil
}

// cancel is claude.cancel: a task the bridge runs, or one whose claude.run
// is still on its way to starting it.
func (s *Server) cancel(taskID string) (*lspext.CancelResult, error) {
	if s.mgr.Get(taskID) == nil {
		s.mu.Lock()
		cancelStart := s.reservedTasks.get(taskID)
		s.mu.Unlock()
		if cancelStart == nil {
			return nil, invalidParams("no task %q", taskID)
		}
		cancelStart()
		return &lspext.CancelResult{Cancelled: true}, nil
	}
	return &lspext.CancelResult{Cancelled: s.mgr.Cancel(taskID)}, nil
}

func (s *Server) run(ctx context.Context, a lspext.RunArgs, token json.RawMessage) (any, error) {
	if strings.TrimSpace(a.Prompt) == "" {
		return nil, invalidParams("claude.run needs a prompt")
	}
	ctxURIs := make([]string, len(a.Context))
	for i, c := range a.Context {
		ctxURIs[i] = c.URI
	}
	folder, roots, err := s.folderFor(a.WorkspaceFolder, ctxURIs)
	if err != nil {
		return nil, err
	}
	msg, err := userMessage(ctx, lspext.CommandRun, input{a.Prompt, a.Context, a.Images, a.OpenFiles}, folder.Path, s.bufs.docs)
	if err != nil {
		return nil, err
	}
	spec, err := s.spec(a.TaskID, msg.Text, folder.Path, roots, a.Model, a.PermissionMode)
	if err != nil {
		return nil, err
	}
	spec.Images = msg.Images
	spec.ResumeSession = a.SessionID
	return s.runTask(ctx, spec, token)
}

func (s *Server) followUp(ctx context.Context, a lspext.FollowUpArgs, token json.RawMessage) (any, error) {
	if strings.TrimSpace(a.Prompt) == "" {
		return nil, invalidParams("claude.followUp needs a prompt")
	}
	session, workspace, roots, err := s.mgr.FollowUpSession(a.TaskID, a.SessionID)
	if err != nil {
		return nil, invalidParams("%v", err)
	}
	switch {
	case a.WorkspaceFolder != "":
		f, r, err := s.folderFor(a.WorkspaceFolder, nil)
		if err != nil {
			return nil, err
		}
		workspace, roots = f.Path, r
	case workspace == "":
		// A conversation the bridge did not run: in the folder whose
		// conversations claude keeps it with (one started in a terminal).
		requested := ""
		if f, _, ok := s.sessionFolder(session, ""); ok {
			requested = f.URI
		}
		f, r, err := s.folderFor(requested, nil)
		if err != nil {
			return nil, err
		}
		workspace, roots = f.Path, r
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
	spec, err := s.spec(a.NewTaskID, msg.Text, workspace, roots, model, mode)
	if err != nil {
		return nil, err
	}
	spec.Images = msg.Images
	spec.ResumeSession = session
	return s.runTask(ctx, spec, token)
}

func (s *Server) spec(id, prompt, workspace string, roots []string, model string, mode lspext.PermissionMode) (runner.Spec, error) {
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	opts := st.defaultOptions()
	if mode != "" {
		if err := runner.ValidPermissionMode(string(mode)); err != nil {
			return runner.Spec{}, invalidParams("%v", err)
		}
		opts.PermissionMode = string(mode)
	}
	if model != "" {
		opts.Model = model
	}
	return runner.Spec{ID: id, Prompt: prompt, Workspace: workspace, Roots: roots, Options: opts}, nil
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
