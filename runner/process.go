package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/proctree"
)

// process is one claude child in its own process group, tagged (see
// proctree) so that everything it starts can be found, with its stdin open
// for stream-json messages and its stdout and stderr on pipes the session
// reads.
//
// Goroutines: the waiter (ends when claude has exited and its tree is
// killed) and the stderr copier (ends at EOF of stderr).
type process struct {
	cmd    *exec.Cmd
	tag    proctree.Tag
	stdout *os.File // read end
	stderr *tailBuffer

	in *input // stdin: writes never block (stdin.go)

	// exited is closed once claude has exited (Wait returned), every
	// process carrying its tag has been killed and reaped, and its stderr
	// is read (bounded).
	exited chan struct{}
	err    error // Wait's error, valid after exited
}

// startProcess starts path with args in dir, tagged with tag. The child
// gets its own process group so that a cancel can signal claude and its
// helpers at once; Bash commands, which claude starts in sessions of their
// own, are found by the tag. proctree.Start makes it die with the bridge
// on Linux (Pdeathsig).
func startProcess(path string, args []string, dir string, env []string, tag proctree.Tag) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(env[:len(env):len(env)], tag.Env())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
	// stdin on a pipe of our own, not StdinPipe's: its write end takes
	// write deadlines (os.Pipe files are non-blocking).
	inR, inW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, err
	}
	cmd.Stdin = inR
	cmd.Stdout = outW
	cmd.Stderr = errW
	if err := proctree.Start(cmd); err != nil {
		for _, f := range []*os.File{outR, outW, errR, errW, inR, inW} {
			f.Close()
		}
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	// The child holds its own copies of the ends it uses.
	outW.Close()
	errW.Close()
	inR.Close()
	proctree.Track(tag, cmd.Process.Pid)
	p := &process{cmd: cmd, tag: tag, stdout: outR, stderr: newTailBuffer(16 << 10), exited: make(chan struct{})}
	p.in = newInput(inW, stdinWriteTimeout, func() { p.signal(syscall.SIGKILL) })
	stderrDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(p.stderr, errR)
		errR.Close()
		close(stderrDone)
	}()
	go func() {
		p.err = cmd.Wait()
		proctree.Done(cmd.Process.Pid)
		// Whatever claude started and left behind goes with it, its group,
		// every process carrying its tag (Bash commands in sessions of
		// their own) and the orphans the bridge adopted from its tree: no
		// process outlives its task.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_, _ = proctree.End(tag)
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

// write queues one line for claude's stdin; it never waits (see input).
func (p *process) write(line []byte) error { return p.in.write(line) }

// closeStdin tells claude, once what is queued is written, that no more
// input comes; it exits after its turn. It never waits.
func (p *process) closeStdin() { p.in.close() }

// killTagged kills what claude started except keep's tree (keep <= 0: all
// of it; see proctree.Sweep).
func (p *process) killTagged(keep int) { _, _ = proctree.Sweep(p.tag, keep) }

// killLeftovers kills what the turn left behind outside claude's own tree
// (a Bash command's background job, an ssh-agent it started), while claude
// itself stays, parked.
func (p *process) killLeftovers() {
	p.idle()
	p.killTagged(p.pid())
}

// idle tells proctree that claude waits for a turn and starts nothing
// meanwhile (a warm claude once ready; a parked one is told by
// killLeftovers).
func (p *process) idle() { proctree.Idle(p.tag) }

// busy tells proctree that claude begins a turn: orphans adopted from now
// on may be its.
func (p *process) busy() { proctree.Busy(p.tag) }

// signal sends sig to the whole process group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop ends the process: close stdin, wait grace, SIGTERM the group, wait
// grace, SIGKILL the group. It returns once the process has exited and its
// tree is killed.
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
	if why := p.in.killedFor(); why != nil {
		return why.Error()
	}
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

// contains reports whether what is kept holds sub.
func (t *tailBuffer) contains(sub string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Contains(t.buf, []byte(sub))
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
