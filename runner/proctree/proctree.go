// Package proctree keeps track of every process a claude task starts, so
// that none outlives its task or the bridge.
//
// claude runs Bash tool commands in sessions of their own (setsid), so a
// signal to claude's process group misses them, and once claude is gone
// their parent is someone else. The package therefore marks each claude
// with a tag in its environment (CLAUDE_BRIDGE_SCOPE=<bridge token>/<n>),
// which every descendant inherits, and finds the tagged processes by
// reading the process table (/proc on Linux, sysctl kern.procargs2 on
// macOS). A tag cannot always be read (a non-dumpable process such as
// ssh-agent, for a bridge that is not root; a process in the middle of an
// exec reads empty), so a sweep (sweep.go) also takes what is below a
// tagged process, the members of process groups and sessions a tagged
// process led, and looks again when it met an environment it could not
// read. On Linux the bridge is also a child subreaper, so orphans of a
// task are re-parented to the bridge (not to init): the registry
// (registry.go: Track, Busy, Idle, End) knows when each claude lived and
// had a turn in flight, which places an orphan that nothing else does;
// every adopted orphan is reaped, and SweepOrphans kills them all when the
// bridge exits. A watchdog process (the bridge binary in a hidden mode) holds a pipe to
// the bridge and sweeps the bridge's tag when the pipe breaks: the bridge
// was killed outright (SIGKILL) and could not clean up itself.
//
// Goroutines: the orphan reaper (Subreap; process-wide, lives as long as
// the process) and the spawner thread (Start; process-wide, locked to its
// OS thread so that Pdeathsig, which Linux ties to the parent *thread*,
// fires only when the bridge itself dies).
package proctree

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// EnvVar is the environment variable that carries a process's tag.
const EnvVar = "CLAUDE_BRIDGE_SCOPE"

// ErrUnsupported is returned where the platform cannot list processes
// with their environment.
var ErrUnsupported = errors.New("listing processes is not supported on this platform")

// Scope is one bridge's set of tags: its token, and a counter for the
// tags of the processes it starts.
type Scope struct {
	token string
	seq   atomic.Int64
}

// NewScope makes a scope with a fresh token ("<pid>.<random>").
func NewScope() *Scope {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Scope{token: fmt.Sprintf("%d.%s", os.Getpid(), hex.EncodeToString(b))}
}

// ScopeOf rebuilds a scope from its token (for the watchdog).
func ScopeOf(token string) *Scope { return &Scope{token: token} }

// Token identifies the scope.
func (s *Scope) Token() string { return s.token }

// NewTag returns a tag no other process of the scope has.
func (s *Scope) NewTag() Tag { return Tag(fmt.Sprintf("%s/%d", s.token, s.seq.Add(1))) }

// Owns reports whether tag belongs to the scope.
func (s *Scope) Owns(tag string) bool { return strings.HasPrefix(tag, s.token+"/") }

// Tag marks one claude process and everything it starts.
type Tag string

// Env is the environment entry that carries the tag.
func (t Tag) Env() string { return EnvVar + "=" + string(t) }

// Proc is one process as the process table shows it.
type Proc struct {
	PID, PPID, PGID int
	SID             int      // 0 where the platform does not say
	Zombie          bool     // exited, not yet reaped
	Start           uint64   // start time in the platform's unit: tells a pid's reuse apart
	Tag             string   // the value of EnvVar in its environment, "" if none (or unknown: see Env)
	Env             EnvState // whether its environment could be read
	kernel          bool     // a kernel thread (never listed)
}

// EnvState says what reading a process's environment gave.
type EnvState uint8

const (
	EnvRead       EnvState = iota // read: Tag is the tag, "" if it has none
	EnvEmpty                      // read empty: the process is in the middle of an exec
	EnvUnreadable                 // not readable: another user's process, or a non-dumpable one (ssh-agent)
)

// List returns every process the caller may inspect, with its tag.
func List() ([]Proc, error) { return list() }

// Tagged returns the live processes whose tag match accepts.
func Tagged(match func(tag string) bool) ([]Proc, error) {
	all, err := list()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, p := range all {
		if p.Tag != "" && !p.Zombie && match(p.Tag) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Kill sends SIGKILL to every live process whose tag match accepts and to
// everything that belongs with them (see sweep), except keep and its
// descendants (keep <= 0: none kept), in rounds until none is left, and
// reaps those that end up as the caller's children. It returns how many it
// killed. The watchdog sweeps a whole scope with it.
func Kill(match func(tag string) bool, keep int) (int, error) {
	return sweep(sweepSpec{match: match, keep: keep, since: selfStart()})
}
