package server

import (
	"context"
	"errors"
	"strings"

	"github.com/claude-bridge/claude-bridge/internal/quote"
	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Steering a running task: claude.send, claude.interrupt,
// claude.setPermissionMode, claude.setModel (runner/steer.go).

// runningTask finds a task to steer: -32602 for an unknown id.
func (s *Server) runningTask(cmd, taskID string) (*runner.Task, error) {
	t := s.mgr.Get(taskID)
	if t == nil {
		return nil, argError(cmd, "taskId", taskID, "names no task")
	}
	return t, nil
}

// steerError turns a runner error into the reply's error: a task that is
// not running is a request that is wrong (-32602), anything else claude's
// refusal (-32603) of the value at path.
func steerError(cmd, taskID, path, value string, err error) error {
	if errors.Is(err, runner.ErrNotRunning) {
		return argError(cmd, "taskId", taskID, err.Error()+" (claude.followUp continues a task that ended)")
	}
	return internalError("%s: arguments[0].%s %s: %v", cmd, path, quote.String(value), err)
}

func (s *Server) send(ctx context.Context, a lspext.SendArgs) (*lspext.SendResult, error) {
	t, err := s.runningTask(lspext.CommandSend, a.TaskID)
	if err != nil {
		return nil, err
	}
	msg, err := userMessage(ctx, lspext.CommandSend, input{prompt: a.Prompt, context: a.Context, images: a.Images}, t.Spec.Workspace, s.bufs.docs)
	if err != nil {
		return nil, err
	}
	if err := t.Send(msg); err != nil {
		return nil, steerError(lspext.CommandSend, a.TaskID, "prompt", a.Prompt, err)
	}
	return &lspext.SendResult{Sent: true}, nil
}

func (s *Server) interrupt(_ context.Context, a lspext.InterruptArgs) (*lspext.InterruptResult, error) {
	t, err := s.runningTask(lspext.CommandInterrupt, a.TaskID)
	if err != nil {
		return nil, err
	}
	return &lspext.InterruptResult{Interrupted: t.Interrupt()}, nil
}

func (s *Server) setPermissionMode(ctx context.Context, a lspext.SetPermissionModeArgs) (*lspext.SetPermissionModeResult, error) {
	t, err := s.runningTask(lspext.CommandSetPermissionMode, a.TaskID)
	if err != nil {
		return nil, err
	}
	mode, err := t.SetPermissionMode(ctx, string(a.Mode))
	if err != nil {
		return nil, steerError(lspext.CommandSetPermissionMode, a.TaskID, "mode", string(a.Mode), err)
	}
	return &lspext.SetPermissionModeResult{PermissionMode: lspext.PermissionMode(mode)}, nil
}

func (s *Server) setModel(ctx context.Context, a lspext.SetModelArgs) (*lspext.SetModelResult, error) {
	t, err := s.runningTask(lspext.CommandSetModel, a.TaskID)
	if err != nil {
		return nil, err
	}
	model, err := t.SetModel(ctx, strings.TrimSpace(a.Model))
	if err != nil {
		return nil, steerError(lspext.CommandSetModel, a.TaskID, "model", a.Model, err)
	}
	return &lspext.SetModelResult{Model: model}, nil
}
