package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
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
// killed; for a process given up on (stuck), whenever the system lets it
// go, or with the bridge) and the stderr copier (ends at EOF of stderr).
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

	// stuck is closed when the process got SIGKILL and was not reaped
	// within reapWait: a thread of it sits in an uninterruptible wait in
	// the kernel (measured: claude's Read tool on a hung FUSE mount; the
	// read ignores SIGKILL until the file system answers). Nobody waits
	// for it from then on (its task ends, its slot frees); the waiter
	// still reaps it whenever the system lets it go, and exited closes
	// then.
	stuck     chan struct{}
	stuckOnce sync.Once
}

// reapWait is how long a process that got SIGKILL may take to be reaped
// before it is given up on (process.stuck). A killed process is normally
// reaped within milliseconds, also with claude's 300 MB to free on a
// loaded machine; one that is not is held by the kernel, for as long as a
// hung mount does not answer.
const reapWait = time.Second

// waitFunc waits for a started command to exit and reaps it: (*exec.Cmd).Wait,
// or in tests one that holds the process unreaped (a stand-in for a process
// the kernel will not let go, which cannot be made without root or FUSE).
type waitFunc func(*exec.Cmd) error

// startProcess starts path with args in dir, tagged with tag. The child
// gets its own process group so that a cancel can signal claude and its
// helpers at once; Bash commands, which claude starts in sessions of their
// own, are found by the tag. proctree.Start makes it die with the bridge
// on Linux (Pdeathsig). wait reaps it (nil: cmd.Wait).
func startProcess(path string, args []string, dir string, env []string, tag proctree.Tag, wait waitFunc) (*process, error) {
	if wait == nil {
		wait = (*exec.Cmd).Wait
	}
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
	p := &process{cmd: cmd, tag: tag, stdout: outR, stderr: newTailBuffer(16 << 10), exited: make(chan struct{}), stuck: make(chan struct{})}
	p.in = newInput(inW, stdinWriteTimeout, func() { p.signal(syscall.SIGKILL) })
	stderrDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(p.stderr, errR)
		errR.Close()
		close(stderrDone)
	}()
	go func() {
		p.err = wait(cmd)
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
// tree is killed, or once the process, killed, was not reaped within
// reapWait and is given up on (stuck; its tagged tree is killed then).
// Whoever waits on exited or stuck learns the end after at most
// 2*grace+reapWait. Several stops may run at once.
func (p *process) stop(grace time.Duration) {
	p.closeStdin()
	if p.ended(grace) {
		return
	}
	p.signal(syscall.SIGTERM)
	if p.ended(grace) {
		return
	}
	p.signal(syscall.SIGKILL)
	if !p.ended(reapWait) {
		p.stuckOnce.Do(func() { close(p.stuck) })
		// What it started goes now (the waiter would only kill it once
		// the system lets claude go); nobody waits for this sweep.
		p.killTagged(0)
	}
}

// ended waits up to d for the process to exit or be given up on; false
// when neither happened.
func (p *process) ended(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-p.stuck:
		return true
	case <-t.C:
		return false
	}
}

// isStuck reports whether the process was given up on and has not exited
// since.
func (p *process) isStuck() bool {
	select {
	case <-p.exited:
		return false
	default:
	}
	select {
	case <-p.stuck:
		return true
	default:
		return false
	}
}

// halted reports whether claude is stopped (SIGSTOP, SIGTSTP, a debugger:
// state T or t in /proc/<pid>/stat) and so would not read its input until
// someone sends SIGCONT. A read of /proc, a few microseconds; false where
// there is no /proc.
func (p *process) halted() bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold anything, the last ')' ends it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	st := b[i+2]
	return st == 'T' || st == 't'
}

// exitDescription says how the process ended, for error messages.
func (p *process) exitDescription() string {
	if p.isStuck() {
		return "was killed but has not exited (the system holds it in an uninterruptible wait, such as a read on a hung mount)"
	}
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
