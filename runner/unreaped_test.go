package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// taskEvents is an Observer that hands each event to a channel.
type taskEvents struct{ ch chan Event }

func (o *taskEvents) Event(_ *Task, ev Event) {
	select {
	case o.ch <- ev:
	default: // nobody listens for more
	}
}

func (o *taskEvents) AskPermission(context.Context, *Task, PermissionRequest) (Decision, string) {
	return Deny, "no"
}

// unreapedClaude is a claude stand-in: a prompt that says "hang" gets an
// init line and then nothing (sleep holds stdout open, as claude stuck in
// a read does); any other prompt gets its result at once.
const unreapedClaude = `#!/bin/sh
read -r init
read -r prompt
case "$prompt" in
*hang*)
	echo '{"type":"system","subtype":"init","session_id":"s-hang"}'
	exec sleep 600 ;;
esac
echo '{"type":"system","subtype":"init","session_id":"s-ok"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"answered","session_id":"s-ok","total_cost_usd":0,"duration_ms":1,"num_turns":1}'
exec cat >/dev/null
`

// A cancelled task whose claude got SIGKILL but cannot be reaped (claude's
// Read tool on a hung mount holds it in the kernel; here an injected
// waiter holds the killed process as a zombie, which needs neither root
// nor FUSE) ends cancelled within its stop sequence, frees its slot for
// the next task (one slot here), is counted as stopping until it is
// reaped, does not hold up Shutdown, and is reaped once the system lets it
// go.
func TestUnreapedClaudeHoldsNeitherTheReplyNorTheSlot(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(fake, []byte(unreapedClaude), 0o755); err != nil {
		t.Fatal(err)
	}
	var first atomic.Bool
	hold := make(chan struct{})
	var release sync.Once
	defer release.Do(func() { close(hold) })
	heldPid := make(chan int, 1)
	wait := func(cmd *exec.Cmd) error {
		if first.CompareAndSwap(false, true) {
			heldPid <- cmd.Process.Pid
			<-hold
		}
		return cmd.Wait()
	}
	const grace = 200 * time.Millisecond
	m := NewManager(Config{ClaudePath: fake, MaxConcurrent: 1, FollowUpIdle: -1, StopGrace: grace, wait: wait})
	deadline := 30 * time.Second // generous: the stop sequence is 2*grace+reapWait and an interrupt's grace

	obs := &taskEvents{ch: make(chan Event, 64)}
	task, err := m.NewTask(Spec{Prompt: "hang", Workspace: t.TempDir()}, obs)
	if err != nil {
		t.Fatal(err)
	}
	outs := make(chan Outcome, 1)
	go func() { outs <- m.Run(context.Background(), task) }()
	for started := false; !started; {
		select {
		case ev := <-obs.ch:
			started = ev.Kind == EventStarted
		case <-time.After(deadline):
			t.Fatal("the task never started")
		}
	}
	if !task.Cancel() {
		t.Fatal("Cancel of a running task = false")
	}
	var out Outcome
	select {
	case out = <-outs:
	case <-time.After(deadline):
		t.Fatalf("no outcome %s after the cancel of a task whose claude cannot be reaped", deadline)
	}
	if out.Status != StateCancelled {
		t.Fatalf("outcome = %+v, want cancelled", out)
	}
	pid := <-heldPid
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// It got SIGKILL: a zombie nobody has reaped, not a live process.
		if f := strings.Fields(string(st)); len(f) < 3 || f[2] != "Z" {
			t.Errorf("the held claude is %q, not a zombie: it was not killed", f[2])
		}
	}
	if st := m.Stats(); st.Stopping != 1 || st.Live != 1 || st.Busy != 0 {
		t.Errorf("stats while the killed claude is not reaped = %+v, want 1 live, 1 stopping, 0 busy", st)
	}

	// The slot is free: the next task runs now.
	task2, err := m.NewTask(Spec{Prompt: "answer", Workspace: t.TempDir()}, &taskEvents{ch: make(chan Event)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { outs <- m.Run(context.Background(), task2) }()
	select {
	case out = <-outs:
	case <-time.After(deadline):
		t.Fatal("the next task never ran: the unreaped claude holds the only slot")
	}
	if out.Status != StateCompleted || out.Result != "answered" {
		t.Fatalf("next task = %+v", out)
	}

	// Shutdown does not wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an unreaped claude = %v", err)
	}
	if st := m.Stats(); st.Stopping != 1 {
		t.Errorf("stats after Shutdown = %+v, want the unreaped claude still counted", st)
	}

	// The system lets it go: it is reaped and no longer counted.
	release.Do(func() { close(hold) })
	end := time.After(deadline)
	for {
		m.pool.mu.Lock()
		n, ch := len(m.pool.unreaped), m.pool.changed
		m.pool.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ch:
		case <-end:
			t.Fatal("the claude let go was never reaped")
		}
	}
	if st := m.Stats(); st.Live != 0 || st.Stopping != 0 {
		t.Errorf("stats after it was reaped = %+v", st)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Errorf("process %d is still there after it was let go", pid)
	}
}
