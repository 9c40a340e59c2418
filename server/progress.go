package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
)

// progress is one task's work-done progress. A nil *progress (the client
// does not support progress) ignores every call.
//
// When the bridge has to create the token (window/workDoneProgress/create),
// neither the task nor its reply waits for the editor's answer: reports
// made meanwhile are kept (the last maxPending) and sent after begin once
// the token exists (with end, if the task is over by then); an editor
// that never answers leaves the task without progress.
type progress struct {
	s     *Server
	token json.RawMessage // as the client gave it, or as we created it
	key   string          // token's canonical spelling, for cancel lookups

	// mu orders this token's messages. It is held across a send, which
	// waits only for room in the output queue and never past its Close.
	mu      sync.Mutex
	state   progressState
	begin   *protocol.WorkDoneProgressBegin
	pending []string // reports made while the token was being created
	last    string
	endMsg  string // set once the task ended
	done    bool
}

type progressState int

const (
	progressCreating progressState = iota
	progressActive
	progressOff
)

// maxPending bounds the reports kept while the token is being created.
const maxPending = 64

// beginProgress sets up the task's progress: the client's workDoneToken
// when it sent one, else one created with window/workDoneProgress/create
// in the background.
func (s *Server) beginProgress(ctx context.Context, taskID string, token json.RawMessage, prompt string) *progress {
	s.mu.Lock()
	supported := s.caps.workDoneProgress
	s.mu.Unlock()
	begin := &protocol.WorkDoneProgressBegin{Kind: protocol.WorkDoneProgressKindBegin, Title: "Claude", Message: firstLine(prompt, 80), Cancellable: true}
	if len(token) > 0 && string(token) != "null" {
		p := &progress{s: s, token: token, key: rawIDKey(token), state: progressActive, begin: begin}
		p.send(begin)
		return p
	}
	if !supported {
		return nil
	}
	token, _ = json.Marshal("claude-bridge/" + taskID)
	p := &progress{s: s, token: token, key: rawIDKey(token), begin: begin}
	go p.create(ctx) // ends when the editor answers or progressCreateTimeout passes
	return p
}

// create asks the editor for the token, then sends begin and what was
// reported meanwhile (and end, if the task is over already).
func (p *progress) create(ctx context.Context) {
	err := p.s.call(context.WithoutCancel(ctx), "window/workDoneProgress/create", &progressCreateParams{Token: p.token}, nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.s.log.Info("no progress for the task: the editor refused or did not answer window/workDoneProgress/create", zap.Error(err))
		p.state = progressOff
		return
	}
	p.state = progressActive
	p.sendLocked(p.begin)
	for _, msg := range p.pending {
		p.sendLocked(reportOf(msg))
	}
	p.pending = nil
	if p.done {
		p.sendLocked(&protocol.WorkDoneProgressEnd{Kind: protocol.WorkDoneProgressKindEnd, Message: p.endMsg})
	}
}

// report sends a report unless it repeats the previous one.
func (p *progress) report(msg string) {
	if p == nil || msg == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || msg == p.last || p.state == progressOff {
		return
	}
	p.last = msg
	if p.state == progressCreating {
		if len(p.pending) == maxPending {
			p.pending = p.pending[1:]
		}
		p.pending = append(p.pending, msg)
		return
	}
	p.sendLocked(reportOf(msg))
}

func reportOf(msg string) *protocol.WorkDoneProgressReport {
	return &protocol.WorkDoneProgressReport{Kind: protocol.WorkDoneProgressKindReport, Message: msg, Cancellable: true}
}

// end closes the progress with the task's outcome. It never waits for
// the editor: with the token still being created, end goes out after
// begin once the editor answers (a 0.03 s task's reply used to wait up to
// progressCreateTimeout for an editor that never answers).
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
	if !p.done {
		p.done, p.endMsg = true, msg
		if p.state == progressActive {
			p.sendLocked(&protocol.WorkDoneProgressEnd{Kind: protocol.WorkDoneProgressKindEnd, Message: msg})
		}
	}
	p.mu.Unlock()
}

func (p *progress) send(value any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendLocked(value)
}

// sendLocked sends a $/progress: value is a WorkDoneProgressBegin, Report
// or End.
func (p *progress) sendLocked(value any) {
	p.s.notify("$/progress", &progressParams{Token: p.token, Value: value})
}

// progressParams is LSP's ProgressParams, and progressCreateParams its
// WorkDoneProgressCreateParams, with the token kept as the editor spelled
// it: protocol.ProgressToken holds a number only as an int32 (a larger one
// would be another token) and marshals through a pointer receiver.
type progressParams struct {
	Token json.RawMessage `json:"token"`
	Value any             `json:"value"`
}

type progressCreateParams struct {
	Token json.RawMessage `json:"token"`
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
	cancelStart := s.reservedTokens.get(key)
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
