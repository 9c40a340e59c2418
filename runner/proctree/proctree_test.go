package proctree

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// waitFor polls cond (bounded): the kernel needs a moment to show a
// change in the process table.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func tagged(t *testing.T, tag Tag) []Proc {
	t.Helper()
	ps, err := Tagged(func(s string) bool { return s == string(tag) })
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// A tagged shell leaves a process behind in a session of its own (the way
// a Bash command of claude's backgrounds one): orphaned, it is re-parented
// to us. Kill finds and ends it while keeping the shell's own tree, then
// everything, and nothing is left as a zombie of ours.
func TestKillFindsDetachedDescendants(t *testing.T) {
	if err := Subreap(); err != nil {
		t.Fatal(err)
	}
	scope := NewScope()
	tag := scope.NewTag()
	cmd := exec.Command("/bin/sh", "-c", "(setsid sleep 301 &) ; sleep 302 & wait")
	cmd.Env = append(os.Environ(), tag.Env())
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three tagged processes", func() bool { return len(tagged(t, tag)) == 3 })
	for _, p := range tagged(t, tag) {
		if p.PPID != cmd.Process.Pid && p.PPID != os.Getpid() {
			t.Errorf("process %d has parent %d: not re-parented to the subreaper", p.PID, p.PPID)
		}
	}

	// Keep the shell's own tree: only the detached sleep goes.
	if _, err := Kill(scope.Owns, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the detached sleep gone", func() bool { return len(tagged(t, tag)) == 2 })

	if _, err := Kill(scope.Owns, 0); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("the shell was not killed")
	}
	Done(cmd.Process.Pid)
	waitFor(t, "every tagged process gone", func() bool { return len(tagged(t, tag)) == 0 })
	waitFor(t, "no zombie child left", func() bool {
		all, _ := List()
		for _, p := range all {
			if p.PPID == os.Getpid() && p.Zombie {
				return false
			}
		}
		return true
	})
}
