package runner

import (
	"context"
	"sync/atomic"
	"testing"
)

// A question open when its task ends is told why in words that fit the end:
// a task whose claude died failed, it was not cancelled (issue 16).
func TestEndReason(t *testing.T) {
	cases := []struct {
		name   string
		causes []error // in order: the first stays
		want   string
	}{
		{"claude died", []error{endCause(Outcome{Status: StateFailed, Result: "claude exited unexpectedly (signal: killed).\nstderr: …"})},
			"the task failed: claude exited unexpectedly (signal: killed)"},
		{"failed without words", []error{endCause(Outcome{Status: StateFailed})}, "the task failed"},
		{"cancelled, then ended", []error{errTaskCancelled, endCause(Outcome{Status: StateCancelled})}, "the task was cancelled"},
		{"cancel before a failure", []error{errTaskCancelled, endCause(Outcome{Status: StateFailed, Result: "x"})}, "the task was cancelled"},
		{"interrupted", []error{endCause(Outcome{Status: StateInterrupted})}, "the task was interrupted"},
		{"plain cancel", []error{nil}, "the task was cancelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			call, done := context.WithCancel(context.WithValue(task, withdrawnKey{}, new(atomic.Bool)))
			defer done()
			for _, e := range c.causes {
				cancel(e)
			}
			if got := EndReason(call); got != c.want {
				t.Fatalf("EndReason = %q, want %q", got, c.want)
			}
		})
	}
	if got := sentence("the task failed: claude exited"); got != "The task failed: claude exited." {
		t.Fatalf("sentence = %q", got)
	}
}

func TestSentenceKeepsClaudesName(t *testing.T) {
	if got := sentence("claude stopped waiting for the answer (the turn was interrupted)"); got != "claude stopped waiting for the answer (the turn was interrupted)." {
		t.Fatalf("sentence = %q", got)
	}
}
