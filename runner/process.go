package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one claude child in its own process group, with its stdin
// open for stream-json messages and its stdout and stderr on pipes the
// session reads.
type process struct {
	cmd    *exec.Cmd
	stdout *os.File // read end
	stderr *tailBuffer

	stdinMu sync.Mutex // serialises writes and the close of stdin
	stdin   io.WriteCloser
	closed  bool

	exited chan struct{} // closed once Wait returned
	err    error         // Wait's error, valid after exited
}

// startProcess starts path with args in dir. The child gets its own process
// group so that a cancel can signal claude and everything it started (Bash
// commands) at once, and dies with the bridge (Pdeathsig) if the bridge is
// killed outright.
func startProcess(path string, args []string, dir string, env []string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, err
	}
	cmd.Stdout = outW
	cmd.Stderr = errW
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	// The child holds its own copies of the write ends.
	outW.Close()
	errW.Close()
	p := &process{cmd: cmd, stdout: outR, stdin: stdin, stderr: newTailBuffer(16 << 10), exited: make(chan struct{})}
	stderrDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(p.stderr, errR)
		errR.Close()
		close(stderrDone)
	}()
	go func() {
		p.err = cmd.Wait()
		// Whatever claude started and left behind goes with it: no process
		// outlives its task.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		// Its last words on stderr explain a crash: have them before saying
		// it exited (bounded, should something outside the group hold the pipe).
		select {
		case <-stderrDone:
		case <-time.After(2 * time.Second):
		}
		close(p.exited)
	}()
	return p, nil
}

// pid is the child's process id (and its process group id).
func (p *process) pid() int { return p.cmd.Process.Pid }

// write sends one line to claude's stdin.
func (p *process) write(line []byte) error {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.closed {
		return errors.New("claude's stdin is closed")
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write to claude: %w", err)
	}
	return nil
}

// closeStdin tells claude that no more input comes; it exits after its turn.
func (p *process) closeStdin() {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if !p.closed {
		p.closed = true
		_ = p.stdin.Close()
	}
}

// signal sends sig to the whole process group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop ends the process: close stdin, wait grace, SIGTERM the group, wait
// grace, SIGKILL the group. It returns once the process has exited.
func (p *process) stop(grace time.Duration) {
	p.closeStdin()
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// exitDescription says how the process ended, for error messages.
func (p *process) exitDescription() string {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with code %d", ee.ExitCode())
	}
	if p.err != nil {
		return "failed: " + p.err.Error()
	}
	return "exited with code 0"
}

// tailBuffer keeps the last n bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	n   int
	buf []byte
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.n {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.n:]...)
	}
	return len(b), nil
}

// lastLines returns up to n non-empty trailing lines.
func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			out = append([]string{s}, out...)
		}
	}
	return strings.Join(out, " | ")
}
