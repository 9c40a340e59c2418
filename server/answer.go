package server

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/claude-bridge/claude-bridge/internal/quote"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Deferred answers: an editor whose request handlers must return at once
// (Neovim before 0.10) replies to claude/ask or claude/plan with
// {"deferred": true} and answers later with claude.answer.

// deferredQuestions are the calls whose answer may come with claude.answer.
type deferredQuestions struct {
	mu      sync.Mutex // guards waiting
	waiting map[deferredKey]*deferredCall
}

type deferredKey struct{ taskID, toolUseID string }

// deferredCall is a call that may be answered with claude.answer.
type deferredCall struct {
	method string                 // lspext.MethodAsk or lspext.MethodPlan: which answer it takes
	ctx    context.Context        // the question's: ends when the task is cancelled or claude withdraws it
	answer chan lspext.AnswerArgs // buffered, given at most once
}

// open lets claude.answer answer a call of method (claude/ask or
// claude/plan), from before the request that may be deferred is sent (an
// editor may answer at once), while ctx lasts; close forgets it.
func (d *deferredQuestions) open(ctx context.Context, method, taskID, toolUseID string) (answer <-chan lspext.AnswerArgs, close func()) {
	k := deferredKey{taskID, toolUseID}
	c := &deferredCall{method: method, ctx: ctx, answer: make(chan lspext.AnswerArgs, 1)}
	d.mu.Lock()
	if d.waiting == nil {
		d.waiting = map[deferredKey]*deferredCall{}
	}
	d.waiting[k] = c
	d.mu.Unlock()
	return c.answer, func() {
		d.mu.Lock()
		if d.waiting[k] == c {
			delete(d.waiting, k)
		}
		d.mu.Unlock()
	}
}

// give hands an answer to the call waiting for it: false when none waits
// (any more: a call whose task was cancelled, or that claude withdrew,
// takes no answer, even before its asking has noticed), an error when the
// answer is of the other kind (a plan for a question, answers for a plan).
func (d *deferredQuestions) give(a lspext.AnswerArgs) (bool, error) {
	k := deferredKey{a.TaskID, a.ToolUseID}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.waiting[k]
	if c == nil {
		return false, nil
	}
	if c.ctx.Err() != nil {
		delete(d.waiting, k)
		return false, nil
	}
	if !a.Dismissed {
		switch {
		case c.method == lspext.MethodAsk && a.Plan != nil:
			return false, invalidParams("claude.answer: %s of task %s is claude's questions (claude/ask): answer with answers, or dismissed, not plan", quote.String(a.ToolUseID), quote.String(a.TaskID))
		case c.method == lspext.MethodPlan && a.Answers != nil:
			return false, invalidParams("claude.answer: %s of task %s is claude's plan (claude/plan): answer with plan, or dismissed, not answers", quote.String(a.ToolUseID), quote.String(a.TaskID))
		}
	}
	delete(d.waiting, k)
	c.answer <- a // buffered, and given once
	return true, nil
}

// answer is claude.answer.
func (s *Server) answer(_ context.Context, a lspext.AnswerArgs) (*lspext.AnswerResult, error) {
	if a.TaskID == "" || a.ToolUseID == "" {
		return nil, invalidParams("claude.answer needs taskId and toolUseId")
	}
	if a.Plan != nil && a.Answers != nil {
		return nil, invalidParams("claude.answer: give answers (for claude/ask) or plan (for claude/plan), not both")
	}
	if a.Plan != nil && !a.Dismissed && a.Plan.Decision != lspext.PlanApprove && a.Plan.Decision != lspext.PlanKeepPlanning {
		return nil, invalidParams("claude.answer: plan.decision must be approve or keepPlanning")
	}
	ok, err := s.deferred.give(a)
	if err != nil {
		return nil, err
	}
	return &lspext.AnswerResult{Accepted: ok}, nil
}

// awaitDeferred waits for the claude.answer of a deferred call, at most as
// long as the editor is given to answer the request itself.
func (s *Server) awaitDeferred(ctx context.Context, method string, answer <-chan lspext.AnswerArgs) (lspext.AnswerArgs, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout(method))
	defer cancel()
	select {
	case a := <-answer:
		return a, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return lspext.AnswerArgs{}, fmt.Errorf("%s deferred: %w", method, context.DeadlineExceeded)
		}
		return lspext.AnswerArgs{}, ctx.Err()
	}
}
