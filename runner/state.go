package runner

// State is where a task is in its life. The only moves are:
//
//	queued → starting → running ⇄ waiting → completed | failed | cancelled | interrupted
//
// and any non-terminal state → cancelled or failed. interrupted is a turn
// stopped by Task.Interrupt: its conversation stays for a follow-up. A task reaches exactly
// one terminal state; Task.finish enforces it.
type State string

const (
	StateQueued    State = "queued"
	StateStarting  State = "starting"
	StateRunning   State = "running"
	StateWaiting   State = "waiting" // for a permission answer
	StateCompleted State = "completed"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	// StateInterrupted: the turn was stopped (Task.Interrupt); claude's
	// process is kept for a follow-up, like after a completed turn.
	StateInterrupted State = "interrupted"
)

// Terminal reports whether no further move is possible.
func (s State) Terminal() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled || s == StateInterrupted
}
