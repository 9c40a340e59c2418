package proctree

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

var subreapOnce sync.Once

// Subreap makes the process a child subreaper (PR_SET_CHILD_SUBREAPER):
// processes orphaned below it (a Bash command whose claude is gone) become
// its children instead of init's, so they can be found, killed and
// reaped. It also starts the orphan reaper. Safe to call more than once.
func Subreap() error {
	var err error
	subreapOnce.Do(func() {
		if err = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGCHLD)
		go func() {
			for range ch {
				reapOrphans()
			}
		}()
	})
	return err
}

// reapOrphans reaps every adopted orphan that has exited (see adopted):
// zombies of a Bash command's session, and of claude's process group once
// claude is gone. The exit status of a child the bridge started itself
// (claude, the key helper, the watchdog, npm) belongs to its exec.Cmd and
// is never taken here.
func reapOrphans() {
	self := os.Getpid()
	me, ok := readStat(self)
	if !ok {
		return
	}
	all, err := listStats()
	if err != nil {
		return
	}
	for _, p := range all {
		if p.Zombie && adopted(p, me) {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(p.PID, &ws, syscall.WNOHANG, nil)
		}
	}
}

// reap waits (bounded) until each killed process is gone, reaping those
// that end up as our zombie children (orphans re-parented to us). A
// process is only reaped if it still is the one that was killed (same
// start time) and is not a child started through Start.
func reap(victims []Proc) {
	self := os.Getpid()
	deadline := time.Now().Add(2 * time.Second)
	left := victims
	for len(left) > 0 && time.Now().Before(deadline) {
		var next []Proc
		for _, v := range left {
			p, ok := readStat(v.PID)
			if !ok || p.Start != v.Start || isSpawned(p.PID) {
				continue // gone, the pid is another process's now, or its exec.Cmd reaps it
			}
			if p.Zombie && p.PPID == self {
				var ws syscall.WaitStatus
				if pid, _ := syscall.Wait4(p.PID, &ws, syscall.WNOHANG, nil); pid == p.PID {
					continue
				}
			}
			next = append(next, v)
		}
		left = next
		if len(left) > 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// listStats is list without reading environments.
func listStats() ([]Proc, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	out := make([]Proc, 0, len(names))
	for _, name := range names {
		pid := 0
		for _, c := range name {
			if c < '0' || c > '9' {
				pid = -1
				break
			}
			pid = pid*10 + int(c-'0')
		}
		if pid <= 0 {
			continue
		}
		if p, ok := readStat(pid); ok {
			out = append(out, p)
		}
	}
	return out, nil
}
