package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// carryTimeout bounds how long a task's reply waits for its last edits to
// reach the editor's buffers; then what is not carried is reported, and
// nothing of the task is sent after its reply.
const carryTimeout = 15 * time.Second

// taskView is one task as the editor sees it: its claude/event sequence, its
// progress token and the queue of edits to carry into buffers. It is the
// runner.Observer of the task.
type taskView struct {
	s        *Server
	id       string
	root     string
	progress *progress

	emitMu sync.Mutex // guards seq: claude's events and the bridge's own status events interleave
	seq    int64

	edits       chan runner.FileChange
	editsDone   chan struct{}
	drainOnce   sync.Once
	carryCtx    context.Context // the task's carries; ends at its reply at the latest
	carryCancel context.CancelFunc

	mu           sync.Mutex      // guards the fields below
	external     []string        // URIs of files changed on disk by other means during the task, in order
	externalSeen map[string]bool // the same, as a set
	todo         string          // where claude's to-do list is ("3/7 Running the tests"), "" for none
	// ckptDone: the task's checkpoint is finished (its result came);
	// before, the user's saves its checkpoint refused as it was being
	// finished wait in lateSaves (usersaves.go).
	ckptDone  bool
	lateSaves []checkpoint.Write
}

// runTask runs a task for a command (cmd: claude.run, whose arguments name
// the task's id as idField, taskId; claude.followUp, newTaskId) and
// replies when it has ended.
func (s *Server) runTask(ctx context.Context, cmd, idField string, spec runner.Spec, token json.RawMessage) (any, error) {
	v := &taskView{s: s, root: spec.Workspace, edits: make(chan runner.FileChange, 64), editsDone: make(chan struct{}), externalSeen: map[string]bool{}}
	v.carryCtx, v.carryCancel = context.WithCancel(s.connCtx)
	defer v.carryCancel()
	t, err := s.mgr.NewTask(spec, v)
	if err != nil {
		if errors.Is(err, runner.ErrTaskIDTaken) {
			return nil, argError(cmd, idField, spec.ID, "is the id of another task: name a new one, or leave it out")
		}
		return nil, taskError(err)
	}
	v.id = t.ID
	s.startedTask(ctx)
	v.progress = s.beginProgress(ctx, t.ID, token, spec.Prompt)
	s.mu.Lock()
	s.tasks[t.ID] = v
	if v.progress != nil {
		s.tokens[v.progress.key] = t.ID
	}
	s.mu.Unlock()
	go v.carryLoop()
	s.bufs.taskStarted(v)

	out := s.mgr.Run(ctx, t)

	v.checkpointFinished(t.Checkpoint()) // normally done already, at the result event
	v.drainEdits()                       // normally done already, before the result event
	s.bufs.taskEnded(v)
	res := resultOf(out)
	res.EditedFiles = s.editedFiles(out.EditedFiles, v.externalURIs())
	res.Changes = s.taskChanges(s.connCtx, out)
	v.progress.end(out)
	s.mu.Lock()
	delete(s.tasks, t.ID)
	if v.progress != nil {
		delete(s.tokens, v.progress.key)
	}
	s.mu.Unlock()
	return res, nil
}

// drainEdits waits (bounded) until every change of the task has been
// carried into the buffers, so that conflicts and carried edits are
// reported before the task's result.
func (v *taskView) drainEdits() {
	v.drainOnce.Do(func() {
		close(v.edits)
		ctx, cancel := context.WithTimeout(v.s.connCtx, carryTimeout)
		defer cancel()
		stop := context.AfterFunc(ctx, v.carryCancel) // the deadline ends the carries
		defer stop()
		select {
		case <-v.editsDone:
			v.s.bufs.settle(v.carryCtx, v.id)
		case <-ctx.Done():
		}
		if v.s.bufs.finish(ctx, v.id) != nil {
			v.s.log.Warn("edits still being carried when the task ended", zap.String("task", v.id))
		}
		// Cancelled, the carries report what they did not carry and end.
		v.carryCancel()
		<-v.editsDone
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer wcancel()
		_ = v.s.bufs.finish(wctx, v.id)
	})
}

// carryLoop carries the task's file changes into open buffers, one at a
// time and in order, off the runner's read loop.
func (v *taskView) carryLoop() {
	defer close(v.editsDone)
	for ch := range v.edits {
		v.s.bufs.carry(v.carryCtx, v.id, ch)
	}
}

// noteExternal records a file changed on disk during the task by other
// means than claude's file tools (a Bash command).
func (v *taskView) noteExternal(uri string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.externalSeen[uri] {
		v.externalSeen[uri] = true
		v.external = append(v.external, uri)
	}
}

func (v *taskView) externalURIs() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.external...)
}

// Event implements runner.Observer.
func (v *taskView) Event(t *runner.Task, ev runner.Event) {
	if msg := progressMessage(ev, v.root); ev.Kind == runner.EventTodos {
		v.setTodo(msg) // a finished list ("") clears it
		if msg != "" {
			v.progress.report(msg)
		}
	} else if msg != "" {
		v.progress.report(v.withTodo(msg))
	}
	if ev.Kind == runner.EventToolUse {
		v.s.bufs.toolUse(v, ev.ToolUse)
	}
	if ev.Kind == runner.EventToolResult {
		if ev.ToolResult.Change != nil {
			v.edits <- *ev.ToolResult.Change
		}
		v.s.bufs.toolResult(v, ev.ToolResult)
	}
	if ev.Kind == runner.EventResult {
		// The checkpoint is finished (the runner finishes it before the
		// result): the user's saves that came meanwhile go in it, and
		// those the last carries find (drainEdits) go in as they come.
		v.checkpointFinished(t.Checkpoint())
		v.drainEdits()
	}
	v.send(eventOf(ev, v.s.editorURI))
}

// send numbers and sends one claude/event (nil: none). The text event is
// the most frequent: a struct of two strings, encoded by segmentio's
// encoder (lspstream), as cheap as the event can be.
func (v *taskView) send(e lspext.Event) {
	if e == nil {
		return
	}
	v.emitMu.Lock()
	defer v.emitMu.Unlock()
	v.seq++
	v.s.notify(lspext.MethodEvent, lspext.Stamp(e, v.id, v.seq))
}

// status reports something the bridge did for the task, as a status event
// and a progress report.
func (v *taskView) status(msg string) {
	v.progress.report(msg)
	v.send(&lspext.StatusEvent{Message: msg})
}

// AskPermission implements runner.Observer.
func (v *taskView) AskPermission(ctx context.Context, t *runner.Task, req runner.PermissionRequest) (runner.Decision, string) {
	return v.s.askPermission(ctx, v.id, req)
}
