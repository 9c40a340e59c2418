package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
)

// ContextRef is a file (and optionally a range of it) sent along with a prompt.
type ContextRef struct {
	URI   string          `json:"uri"`
	Range *protocol.Range `json:"range,omitempty"`
}

// RunArgs are claude.run's arguments.
type RunArgs struct {
	Prompt          string       `json:"prompt"`
	WorkspaceFolder string       `json:"workspaceFolder,omitempty"`
	Context         []ContextRef `json:"context,omitempty"`
	Model           string       `json:"model,omitempty"`
	PermissionMode  string       `json:"permissionMode,omitempty"`
	SessionID       string       `json:"sessionId,omitempty"`
	TaskID          string       `json:"taskId,omitempty"`
}

// FollowUpArgs are claude.followUp's arguments.
type FollowUpArgs struct {
	TaskID         string       `json:"taskId,omitempty"`
	SessionID      string       `json:"sessionId,omitempty"`
	Prompt         string       `json:"prompt"`
	Context        []ContextRef `json:"context,omitempty"`
	Model          string       `json:"model,omitempty"`
	PermissionMode string       `json:"permissionMode,omitempty"`
	NewTaskID      string       `json:"newTaskId,omitempty"`
}

// RunResult is the reply of claude.run and claude.followUp.
type RunResult struct {
	TaskID      string   `json:"taskId"`
	SessionID   string   `json:"sessionId"`
	Status      string   `json:"status"`
	Result      string   `json:"result"`
	IsError     bool     `json:"isError"`
	CostUSD     float64  `json:"costUsd"`
	DurationMs  int64    `json:"durationMs"`
	NumTurns    int      `json:"numTurns"`
	EditedFiles []string `json:"editedFiles"`
}

// TaskInfo is one entry of claude.tasks.
type TaskInfo struct {
	TaskID          string   `json:"taskId"`
	Status          string   `json:"status"`
	WorkspaceFolder string   `json:"workspaceFolder"`
	Prompt          string   `json:"prompt"`
	SessionID       string   `json:"sessionId,omitempty"`
	StartedAt       string   `json:"startedAt"`
	EndedAt         string   `json:"endedAt,omitempty"`
	CostUSD         *float64 `json:"costUsd,omitempty"`
}

// TasksReply is claude.tasks' reply when asked for {"processes": true}.
type TasksReply struct {
	Tasks     []TaskInfo    `json:"tasks"`
	Processes ProcessCounts `json:"processes"`
}

// ProcessCounts counts the bridge's claude processes.
type ProcessCounts struct {
	Live    int `json:"live"`    // every claude process not yet gone
	Running int `json:"running"` // running a task
	Idle    int `json:"idle"`    // kept after a task for a follow-up
	Warm    int `json:"warm"`    // started ahead of need and ready for a task (prewarm)
	MaxIdle int `json:"maxIdle"` // the idle budget (maxIdleProcesses): idle and warm ones together
	Slots   int `json:"slots"`   // live processes at most (maxConcurrentTasks)
}

func (s *Server) executeCommand(ctx context.Context, cmd string, args []json.RawMessage, token json.RawMessage) (any, error) {
	arg := json.RawMessage("{}")
	if len(args) > 0 && string(args[0]) != "null" {
		arg = args[0]
	}
	switch cmd {
	case "claude.run":
		var a RunArgs
		if err := strictDecode(arg, &a); err != nil {
			return nil, invalidParams("claude.run: %v", err)
		}
		return s.run(ctx, a, token)
	case "claude.followUp":
		var a FollowUpArgs
		if err := strictDecode(arg, &a); err != nil {
			return nil, invalidParams("claude.followUp: %v", err)
		}
		return s.followUp(ctx, a, token)
	case "claude.cancel":
		var a struct {
			TaskID string `json:"taskId"`
		}
		if err := json.Unmarshal(arg, &a); err != nil || a.TaskID == "" {
			// A bare string argument is accepted too.
			if json.Unmarshal(arg, &a.TaskID) != nil || a.TaskID == "" {
				return nil, invalidParams("claude.cancel needs {taskId}")
			}
		}
		if s.mgr.Get(a.TaskID) == nil {
			// Its claude.run may still be on its way to starting it.
			s.mu.Lock()
			cancelStart := s.reservedTasks.get(a.TaskID)
			s.mu.Unlock()
			if cancelStart == nil {
				return nil, invalidParams("no task %q", a.TaskID)
			}
			cancelStart()
			return map[string]bool{"cancelled": true}, nil
		}
		return map[string]bool{"cancelled": s.mgr.Cancel(a.TaskID)}, nil
	case "claude.tasks":
		var a struct {
			Processes bool `json:"processes"`
		}
		_ = json.Unmarshal(arg, &a)
		if !a.Processes {
			return s.listTasks(), nil // the reply old clients know
		}
		st := s.mgr.Stats()
		return TasksReply{Tasks: s.listTasks(), Processes: ProcessCounts{Live: st.Live, Running: st.Busy, Idle: st.Idle, Warm: st.Warm, MaxIdle: st.MaxIdle, Slots: st.Slots}}, nil
	case "claude.authStatus":
		s.mu.Lock()
		a := s.auth
		s.mu.Unlock()
		if a == nil {
			return map[string]any{"mode": "inherit", "status": "inherit", "message": "claude uses its own login; the bridge manages no key"}, nil
		}
		return a.Status(), nil
	}
	return nil, invalidParams("unknown command %q (the bridge serves %s)", cmd, strings.Join(Commands, ", "))
}

func strictDecode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return err
	}
	return nil
}

func (s *Server) run(ctx context.Context, a RunArgs, token json.RawMessage) (any, error) {
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
	prompt, err := withMentions(ctx, a.Prompt, a.Context, folder.Path)
	if err != nil {
		return nil, err
	}
	spec, err := s.spec(a.TaskID, prompt, folder.Path, roots, a.Model, a.PermissionMode)
	if err != nil {
		return nil, err
	}
	spec.ResumeSession = a.SessionID
	return s.runTask(ctx, spec, token)
}

func (s *Server) followUp(ctx context.Context, a FollowUpArgs, token json.RawMessage) (any, error) {
	if strings.TrimSpace(a.Prompt) == "" {
		return nil, invalidParams("claude.followUp needs a prompt")
	}
	session, workspace, roots, err := s.mgr.FollowUpSession(a.TaskID, a.SessionID)
	if err != nil {
		return nil, invalidParams("%v", err)
	}
	if workspace == "" {
		f, r, err := s.folderFor("", nil)
		if err != nil {
			return nil, err
		}
		workspace, roots = f.Path, r
	}
	prompt, err := withMentions(ctx, a.Prompt, a.Context, workspace)
	if err != nil {
		return nil, err
	}
	spec, err := s.spec(a.NewTaskID, prompt, workspace, roots, a.Model, a.PermissionMode)
	if err != nil {
		return nil, err
	}
	spec.ResumeSession = session
	return s.runTask(ctx, spec, token)
}

func (s *Server) spec(id, prompt, workspace string, roots []string, model, mode string) (runner.Spec, error) {
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	if mode != "" {
		if err := runner.ValidPermissionMode(mode); err != nil {
			return runner.Spec{}, invalidParams("%v", err)
		}
	} else {
		mode = st.PermissionMode
	}
	if model == "" {
		model = st.Model
	}
	return runner.Spec{
		ID: id, Prompt: prompt, Workspace: workspace, Roots: roots,
		Options: runner.Options{Model: model, PermissionMode: mode, AllowedTools: st.AllowedTools, DisallowedTools: st.DisallowedTools},
	}, nil
}

func (s *Server) listTasks() []TaskInfo {
	infos := s.mgr.Tasks()
	out := make([]TaskInfo, 0, len(infos))
	for _, in := range infos {
		ti := TaskInfo{
			TaskID: in.ID, Status: string(in.State), WorkspaceFolder: s.editorURI(in.Workspace),
			Prompt: in.Prompt, SessionID: in.SessionID, StartedAt: in.Created.UTC().Format(time.RFC3339Nano),
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
func resultOf(out runner.Outcome) RunResult {
	return RunResult{
		TaskID: out.TaskID, SessionID: out.SessionID, Status: string(out.Status), Result: out.Result,
		IsError: out.IsError, CostUSD: out.CostUSD, DurationMs: out.DurationMs, NumTurns: out.NumTurns,
	}
}

func taskError(err error) error {
	if errors.Is(err, runner.ErrShutdown) {
		return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "%v", err)
	}
	return invalidParams("%v", err)
}
