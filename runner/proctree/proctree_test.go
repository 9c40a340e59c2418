package proctree

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// waitNoZombie waits until no child of ours is a zombie.
func waitNoZombie(t *testing.T) {
	t.Helper()
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
	waitNoZombie(t)
}

// processesRunning lists the pids of live processes whose command line
// contains s.
func processesRunning(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(strings.ReplaceAll(string(cmd), "\x00", " "), s) {
			continue
		}
		if p, ok := readStat(atoi(e.Name())); ok && !p.Zombie {
			out = append(out, p.PID)
		}
	}
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// A detached process that keeps exec'ing itself (its environment reads
// empty for a moment at each exec) and outlives its claude is killed at
// the end of the task, every time: it is placed by its session, its
// parent links or as an orphan the bridge adopted, and a sweep that meets
// an empty environment looks again.
func TestEndCatchesAProcessInTheMiddleOfAnExec(t *testing.T) {
	if err := Subreap(); err != nil {
		t.Fatal(err)
	}
	reexec := filepath.Join(t.TempDir(), "reexec.sh")
	if err := os.WriteFile(reexec, []byte("#!/bin/bash\nexec \"$0\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	scope := NewScope()
	for i := 0; i < 50; i++ {
		tag := scope.NewTag()
		cmd := exec.Command("/bin/sh", "-c", "setsid "+reexec+" & sleep 0.05")
		cmd.Env = append(os.Environ(), tag.Env())
		if err := Start(cmd); err != nil {
			t.Fatal(err)
		}
		Track(tag, cmd.Process.Pid)
		_ = cmd.Wait()
		Done(cmd.Process.Pid)
		if _, err := End(tag); err != nil {
			t.Fatal(err)
		}
		if left := processesRunning(reexec); len(left) > 0 {
			time.Sleep(100 * time.Millisecond) // a kill in flight
			if left := processesRunning(reexec); len(left) > 0 {
				for _, pid := range left {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				t.Fatalf("run %d: the re-exec'ing process %v outlived its task", i, left)
			}
		}
	}
}

// At the bridge's exit every orphan it adopted goes, whatever it came
// from: one in a session of its own, one left in its dead parent's process
// group, neither tagged nor tracked.
func TestSweepOrphansEndsEveryAdoptedOrphan(t *testing.T) {
	if err := Subreap(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "setsid sleep 317 & env -i /bin/sleep 318 &")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as every child of the bridge's
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	orphans := func() []int {
		var out []int
		for _, s := range []string{"sleep 317", "sleep 318"} {
			for _, pid := range processesRunning(s) {
				if p, ok := readStat(pid); ok && p.PPID == os.Getpid() {
					out = append(out, pid)
				}
			}
		}
		return out
	}
	waitFor(t, "both sleeps adopted", func() bool { return len(orphans()) == 2 })
	if _, err := SweepOrphans(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the adopted orphans gone", func() bool { return len(orphans()) == 0 })
	waitNoZombie(t)
}
