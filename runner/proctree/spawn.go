package proctree

import (
	"os/exec"
	"sync"
)

// spawned are the children started through Start and not yet waited for:
// their exit status belongs to their exec.Cmd, never to a reaper.
var (
	spawnedMu sync.Mutex // guards spawned
	spawned   = map[int]bool{}
)

// Start starts cmd the way every claude is started: on Linux from one OS
// thread that never exits, with Pdeathsig SIGKILL, so that claude dies
// with the bridge (Linux sends the signal when the parent *thread* ends,
// and a Go program's goroutines move between threads). Call Done with the
// pid once cmd.Wait has returned.
func Start(cmd *exec.Cmd) error {
	if err := start(cmd); err != nil {
		return err
	}
	spawnedMu.Lock()
	spawned[cmd.Process.Pid] = true
	spawnedMu.Unlock()
	return nil
}

// Done forgets a child started with Start, once it has been waited for.
func Done(pid int) {
	spawnedMu.Lock()
	delete(spawned, pid)
	spawnedMu.Unlock()
}

func isSpawned(pid int) bool {
	spawnedMu.Lock()
	defer spawnedMu.Unlock()
	return spawned[pid]
}
