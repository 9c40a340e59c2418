package proctree

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// WatchdogArg is the hidden first argument that runs the bridge binary as
// a watchdog (see RunWatchdog).
const WatchdogArg = "__watchdog"

// Watchdog is the running watchdog of a scope, seen from the bridge.
type Watchdog struct {
	pid  int
	pipe *os.File // write end: held, never written; its closing is the signal
}

// PID is the watchdog's process id.
func (w *Watchdog) PID() int { return w.pid }

// StartWatchdog starts exe (the bridge binary) as the scope's watchdog:
// `exe __watchdog <token>` in a process group of its own (a signal to the
// bridge's group, Ctrl-C say, does not reach it), with its stdin on a pipe
// the bridge holds. When the bridge ends, however it ends, the pipe
// breaks and the watchdog kills every process that carries the scope's
// tag, then exits. The bridge must keep the returned value reachable.
func StartWatchdog(exe string, scope *Scope) (*Watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, WatchdogArg, scope.Token())
	cmd.Stdin = r
	// It needs nothing from the bridge's environment, which may hold an API
	// key (CLAUDE_API_KEY): no process below the bridge gets one.
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	go func() { _ = cmd.Wait() }() // reaped whenever it ends
	return &Watchdog{pid: cmd.Process.Pid, pipe: w}, nil
}

// Close lets the watchdog go: it sweeps the scope and exits.
func (w *Watchdog) Close() error { return w.pipe.Close() }

// RunWatchdog is the watchdog's main: it waits until stdin ends (the
// bridge is gone), then kills every process tagged with the scope's token
// and returns the exit code. Signals that would end it before its sweep
// (a hang-up, Ctrl-C, SIGTERM) are ignored: it ends with the bridge.
func RunWatchdog(token string, stdin io.Reader) int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	_, _ = io.Copy(io.Discard, stdin)
	scope := ScopeOf(token)
	// Twice, a moment apart: a process forking while the first sweep ran.
	for i := 0; i < 2; i++ {
		if _, err := Kill(scope.Owns, 0); err != nil {
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0
}
