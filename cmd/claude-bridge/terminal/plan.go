package terminal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
)

// ReviewPlan implements runner.PlanReviewer: the plan is printed, then
// [a]pprove (accept edits), approve asking [b]efore each edit, or [k]eep
// planning with feedback typed on the next line (empty: none).
func (u *UI) ReviewPlan(ctx context.Context, t *runner.Task, req runner.PlanRequest) runner.PlanDecision {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.beginQuestion()
	plan := strings.TrimRight(req.Plan, "\n")
	if strings.TrimSpace(plan) == "" {
		plan = "(Claude wrote no plan.)"
	}
	fmt.Fprintln(u.err, "── Claude's plan ──────────────────────────────")
	fmt.Fprintln(u.err, plan)
	fmt.Fprintln(u.err, "───────────────────────────────────────────────")
	for {
		a, err := u.readLine(ctx, "? Approve the plan? [a]pprove and accept edits / approve, ask [b]efore edits / [k]eep planning: ")
		switch {
		case errors.Is(err, errInputClosed):
			return runner.PlanDecision{Reason: "the terminal's input is closed"}
		case err != nil:
			return runner.PlanDecision{Reason: "the question was withdrawn"}
		}
		switch strings.ToLower(a) {
		case "a", "approve", "y", "yes":
			return runner.PlanDecision{Approve: true, Mode: "acceptEdits"}
		case "b", "before":
			return runner.PlanDecision{Approve: true, Mode: "default"}
		case "k", "keep", "n", "no":
			fb, err := u.readLine(ctx, "  What should Claude change? (Enter for nothing in particular): ")
			if err != nil && !errors.Is(err, errInputClosed) {
				return runner.PlanDecision{Reason: "the question was withdrawn"}
			}
			return runner.PlanDecision{Feedback: fb}
		}
		fmt.Fprintln(u.err, "Please answer a, b or k.")
	}
}
