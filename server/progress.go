package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
)

// progress is one task's work-done progress. A nil *progress (the client
// does not support progress) ignores every call.
type progress struct {
	s     *Server
	token json.RawMessage // as the client gave it, or as we created it
	key   string          // token's canonical spelling, for cancel lookups

	mu   sync.Mutex // orders reports and guards last/ended
	last string
	done bool
}

// beginProgress sets up the task's progress: the client's workDoneToken
// when it sent one, else one created with window/workDoneProgress/create.
func (s *Server) beginProgress(ctx context.Context, taskID string, token json.RawMessage, prompt string) *progress {
	s.mu.Lock()
	supported := s.caps.workDoneProgress
	s.mu.Unlock()
	if len(token) == 0 || string(token) == "null" {
		if !supported {
			return nil
		}
		token, _ = json.Marshal("claude-bridge/" + taskID)
		if err := s.call(ctx, "window/workDoneProgress/create", map[string]any{"token": token}, nil); err != nil {
			s.log.Info("the editor refused a progress token; going on without progress", zap.Error(err))
			return nil
		}
	}
	p := &progress{s: s, token: token, key: rawIDKey(token)}
	p.send(map[string]any{"kind": "begin", "title": "Claude", "message": firstLine(prompt, 80), "cancellable": true})
	return p
}

// report sends a report unless it repeats the previous one.
func (p *progress) report(msg string) {
	if p == nil || msg == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || msg == p.last {
		return
	}
	p.last = msg
	p.sendLocked(map[string]any{"kind": "report", "message": msg, "cancellable": true})
}

// end closes the progress with the task's outcome.
func (p *progress) end(out runner.Outcome) {
	if p == nil {
		return
	}
	var msg string
	switch out.Status {
	case runner.StateCompleted:
		msg = "Done: " + firstLine(out.Result, 100)
		if out.Result == "" {
			msg = "Done"
		}
	case runner.StateCancelled:
		msg = "Cancelled"
	default:
		msg = "Failed: " + firstLine(out.Result, 200)
	}
	if out.Status == runner.StateCompleted && out.CostUSD > 0 {
		msg += fmt.Sprintf(" ($%.4f)", out.CostUSD)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.sendLocked(map[string]any{"kind": "end", "message": msg})
}

func (p *progress) send(value map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendLocked(value)
}

func (p *progress) sendLocked(value map[string]any) {
	p.s.notify("$/progress", map[string]any{"token": p.token, "value": value})
}

// cancelProgress handles window/workDoneProgress/cancel: cancel the task
// that owns the token.
func (s *Server) cancelProgress(raw json.RawMessage) {
	var p struct {
		Token json.RawMessage `json:"token"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return
	}
	key := rawIDKey(p.Token)
	s.mu.Lock()
	id := s.tokens[key]
	cancelStart := s.reservedTokens[key]
	s.mu.Unlock()
	switch {
	case id != "":
		s.log.Info("task cancelled from the progress UI", zap.String("task", id))
		s.mgr.Cancel(id)
	case cancelStart != nil:
		// The request that will start the task is still on its way.
		cancelStart()
	}
}
