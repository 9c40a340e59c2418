package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/claude-bridge/claude-bridge/internal/quote"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// Deferred answers: an editor whose request handlers must return at once
// (Neovim before 0.10) replies to claude/permission, claude/ask,
// claude/plan or claude/reviewEdit with {"deferred": true} and answers
// later with claude.answer.

// deferredQuestions are the calls whose answer may come with claude.answer.
type deferredQuestions struct {
	mu      sync.Mutex // guards waiting
	waiting map[deferredKey]*deferredCall
}

type deferredKey struct{ taskID, toolUseID string }

// deferredCall is a call that may be answered with claude.answer.
type deferredCall struct {
	method string                 // lspext.MethodPermission, MethodAsk, MethodPlan or MethodReviewEdit: which answer it takes
	ctx    context.Context        // the question's: ends when the task is cancelled or claude withdraws it
	answer chan lspext.AnswerArgs // buffered, given at most once
}

// open lets claude.answer answer a call of method (claude/permission,
// claude/ask, claude/plan or claude/reviewEdit), from before the request that may be deferred is sent (an
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
	if given := answerKinds(a); !a.Dismissed && len(given) == 1 && given[0] != answerKind[c.method] {
		return false, invalidParams("claude.answer: %s of task %s is %s: answer with %s, or dismissed, not %s",
			quote.String(a.ToolUseID), quote.String(a.TaskID), askedWhat[c.method], answerKind[c.method], given[0])
	}
	delete(d.waiting, k)
	c.answer <- a // buffered, and given once
	return true, nil
}

// answerKind is the field of claude.answer that answers each deferred
// request; askedWhat says what the request is, for errors.
var (
	answerKind = map[string]string{lspext.MethodPermission: "decision", lspext.MethodAsk: "answers", lspext.MethodPlan: "plan", lspext.MethodReviewEdit: "review"}
	askedWhat  = map[string]string{lspext.MethodPermission: "a permission question (claude/permission)",
		lspext.MethodAsk: "claude's questions (claude/ask)", lspext.MethodPlan: "claude's plan (claude/plan)",
		lspext.MethodReviewEdit: "an edit held for review (claude/reviewEdit)"}
)

// answerKinds are the answering fields a sets, in answerKind's terms.
func answerKinds(a lspext.AnswerArgs) []string {
	var given []string
	if a.Decision != "" {
		given = append(given, "decision")
	}
	if a.Answers != nil {
		given = append(given, "answers")
	}
	if a.Plan != nil {
		given = append(given, "plan")
	}
	if a.Review != nil {
		given = append(given, "review")
	}
	return given
}

// answer is claude.answer (lspext.Decode has checked its shape: ids not
// blank, a plan with its decision).
func (s *Server) answer(_ context.Context, a lspext.AnswerArgs) (*lspext.AnswerResult, error) {
	if a.TaskID == "" || a.ToolUseID == "" {
		return nil, invalidParams("claude.answer needs taskId and toolUseId")
	}
	if given := answerKinds(a); len(given) > 1 {
		return nil, invalidParams("claude.answer: give one of decision (for claude/permission), answers (for claude/ask), plan (for claude/plan) or review (for claude/reviewEdit), not %s", strings.Join(given, " and "))
	}
	if a.Plan != nil && !a.Dismissed && a.Plan.Decision != lspext.PlanApprove && a.Plan.Decision != lspext.PlanKeepPlanning {
		return nil, invalidParams("claude.answer: plan.decision must be approve or keepPlanning")
	}
	if a.Review != nil && !a.Dismissed && a.Review.Decision != lspext.ReviewAccept && a.Review.Decision != lspext.ReviewReject {
		return nil, invalidParams("claude.answer: review.decision must be accept or reject")
	}
	if a.Decision != "" && !a.Dismissed && !slices.Contains(lspext.Decisions, a.Decision) {
		return nil, invalidParams("claude.answer: decision must be allow, allowTask or deny")
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
