package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Deferred answers: an editor whose request handlers must return at once
// (Neovim before 0.10) replies to claude/permission, claude/ask,
// claude/plan or claude/reviewEdit with {"deferred": true} and answers
// later with claude.answer.

// deferredQuestions are the calls whose answer may come with claude.answer.
type deferredQuestions struct {
	mu      sync.Mutex // guards waiting
	waiting map[deferredKey]chan lspext.AnswerArgs
}

type deferredKey struct{ taskID, toolUseID string }

// open lets claude.answer answer a call, from before the request that may
// be deferred is sent (an editor may answer at once); close forgets it.
func (d *deferredQuestions) open(taskID, toolUseID string) (answer <-chan lspext.AnswerArgs, close func()) {
	k := deferredKey{taskID, toolUseID}
	ch := make(chan lspext.AnswerArgs, 1)
	d.mu.Lock()
	if d.waiting == nil {
		d.waiting = map[deferredKey]chan lspext.AnswerArgs{}
	}
	d.waiting[k] = ch
	d.mu.Unlock()
	return ch, func() {
		d.mu.Lock()
		if d.waiting[k] == ch {
			delete(d.waiting, k)
		}
		d.mu.Unlock()
	}
}

// give hands an answer to the call waiting for it; false when none waits.
func (d *deferredQuestions) give(a lspext.AnswerArgs) bool {
	d.mu.Lock()
	ch := d.waiting[deferredKey{a.TaskID, a.ToolUseID}]
	delete(d.waiting, deferredKey{a.TaskID, a.ToolUseID})
	d.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- a // buffered, and given once
	return true
}

// answer is claude.answer.
func (s *Server) answer(_ context.Context, a lspext.AnswerArgs) (*lspext.AnswerResult, error) {
	if a.TaskID == "" || a.ToolUseID == "" {
		return nil, invalidParams("claude.answer needs taskId and toolUseId")
	}
	if a.Plan != nil && !a.Dismissed && a.Plan.Decision != lspext.PlanApprove && a.Plan.Decision != lspext.PlanKeepPlanning {
		return nil, invalidParams("claude.answer: plan.decision must be approve or keepPlanning")
	}
	if a.Review != nil && !a.Dismissed && a.Review.Decision != lspext.ReviewAccept && a.Review.Decision != lspext.ReviewReject {
		return nil, invalidParams("claude.answer: review.decision must be accept or reject")
	}
	if a.Decision != "" && !slices.Contains(lspext.Decisions, a.Decision) {
		return nil, invalidParams("claude.answer: decision must be allow, allowTask or deny")
	}
	return &lspext.AnswerResult{Accepted: s.deferred.give(a)}, nil
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
