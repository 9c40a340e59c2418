package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A bridge's private runtime directory: the per-bridge channel to the
// shared helper (its configuration, and a key the bridge found in its own
// environment, CLAUDE_API_KEY or ANTHROPIC_API_KEY, in a 0600 file) and the
// settings file claude is started with. See the package documentation for
// why.

const (
	runtimeLockName = "lock" // flock'ed by the owning bridge for as long as it runs
	runtimeKeyName  = "key"  // the key from the bridge's environment, 0600
	// runtimeNewPrefix marks an instance directory still being set up: it
	// gets its lock before it is renamed to its final name, so a final name
	// without a held lock always means a dead bridge.
	runtimeNewPrefix = ".new-"
	// runtimeNewStale is how old a half-made directory must be before
	// another bridge removes it (its maker died in the microseconds between
	// mkdir and rename).
	runtimeNewStale = 10 * time.Minute
)

// runtimeBase is the directory holding every bridge's runtime directory:
// $XDG_RUNTIME_DIR/claude-bridge when XDG_RUNTIME_DIR (from the bridge's
// environment) is an absolute path to a directory of the user's with mode
// 0700, as the XDG base directory spec requires (a symbolic link to one is
// followed, and the directory it names is used); else
// <state>/claude-bridge/run, with <state> $XDG_STATE_HOME or
// ~/.local/state. note explains a rejected XDG_RUNTIME_DIR ("" when there is
// none to explain).
func runtimeBase(environ []string, home string) (base, note string) {
	if x := envValue(environ, "XDG_RUNTIME_DIR"); x != "" {
		if dir, problem := xdgRuntimeDir(x); problem != "" {
			note = problem
		} else {
			return filepath.Join(dir, "claude-bridge"), ""
		}
	}
	return stateRuntimeBase(environ, home), note
}

// xdgRuntimeDir resolves XDG_RUNTIME_DIR x to the private directory it
// names, or says why it is not usable.
func xdgRuntimeDir(x string) (dir, problem string) {
	if !filepath.IsAbs(x) {
		return "", "XDG_RUNTIME_DIR " + x + " is not an absolute path"
	}
	real, err := filepath.EvalSymlinks(x)
	if err != nil {
		return "", "XDG_RUNTIME_DIR is not usable: " + err.Error()
	}
	if p := privateDirProblem(real); p != "" {
		if real != filepath.Clean(x) {
			p = x + " links to " + p
		}
		return "", "XDG_RUNTIME_DIR is not usable: " + p
	}
	return real, ""
}

// stateRuntimeBase is the fallback base: <state>/claude-bridge/run.
func stateRuntimeBase(environ []string, home string) string {
	state := envValue(environ, "XDG_STATE_HOME")
	if !filepath.IsAbs(state) {
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "claude-bridge", "run")
}

// runtimeBases are the places a bridge's runtime directory can be: the XDG
// one (when XDG_RUNTIME_DIR names a usable directory; without
// XDG_RUNTIME_DIR, systemd's /run/user/<uid>, where it would point) and the
// state directory's. A bridge cleans them all, since one started with
// another environment (a desktop session's, an ssh session's) may have used
// another.
func runtimeBases(environ []string, home string) []string {
	var bases []string
	x := envValue(environ, "XDG_RUNTIME_DIR")
	if x == "" {
		x = filepath.Join(systemdRuntimeDirs, strconv.Itoa(os.Getuid()))
	}
	if dir, problem := xdgRuntimeDir(x); problem == "" {
		bases = append(bases, filepath.Join(dir, "claude-bridge"))
	}
	return append(bases, stateRuntimeBase(environ, home))
}

// systemdRuntimeDirs holds the users' runtime directories on systemd
// systems; a variable so that tests can point it elsewhere.
var systemdRuntimeDirs = "/run/user"

// cleanStaleRuntimes removes what bridges that are gone left in every
// runtime base, and returns how many directories it removed.
func cleanStaleRuntimes(environ []string, home string) int {
	n := 0
	for _, b := range runtimeBases(environ, home) {
		n += cleanStaleRuntime(b)
	}
	return n
}

// privateDirProblem says why dir is not a private directory of the user's
// (a directory, not a symbolic link, owned by the user, no group or other
// permission bits), or "" when it is.
func privateDirProblem(dir string) string {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err.Error()
	}
	if !fi.IsDir() {
		return dir + " is not a directory"
	}
	if uid := fileUID(fi); uid != os.Getuid() {
		return fmt.Sprintf("%s is owned by uid %d, not by you (uid %d)", dir, uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("%s has mode %s, not 0700", dir, octal(fi.Mode()))
	}
	return ""
}

// fileUID is the owner of fi, or -1 when the platform does not say.
func fileUID(fi fs.FileInfo) int {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}

// runtimeDir is one bridge's private directory, base/<pid>-<random>/,
// holding a lock file the bridge keeps flock'ed while it runs and the key
// file. Its methods are not safe for concurrent use: the Manager guards it
// with rtMu.
type runtimeDir struct {
	dir  string
	lock *os.File // holds the flock; closed (and so released) by close
}

// openRuntime makes a new runtime directory under base (Start has removed
// the directories of bridges that are gone).
func openRuntime(base string) (*runtimeDir, error) {
	if strings.ContainsAny(base, "\n\r") {
		// The helper's configuration names files in it, one per line.
		return nil, fmt.Errorf("%q contains a line break", base)
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, err
	}
	// MkdirAll leaves an existing directory as it was: it must be ours
	// and private, or someone else could read or swap the key.
	if p := privateDirProblem(base); p != "" {
		return nil, fmt.Errorf("%s; run chmod 700 %s, or remove it", p, shQuoteIfNeeded(base))
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	tmp := filepath.Join(base, runtimeNewPrefix+name)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(tmp, runtimeLockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("cannot lock %s: %w", tmp, err)
	}
	// The lock belongs to the open file, not its name: it survives the
	// rename.
	dir := filepath.Join(base, name)
	if err := os.Rename(tmp, dir); err != nil {
		lock.Close()
		os.RemoveAll(tmp)
		return nil, err
	}
	rt := &runtimeDir{dir: dir, lock: lock}
	liveRuntimes.add(rt)
	return rt, nil
}

// cleanStaleRuntime removes the runtime directories of bridges that are no
// longer running from base: those whose lock file nobody holds (a bridge
// that was killed never removed its own). Liveness is the flock, not a pid,
// which the system may have given to another process since. A base that is
// not a private directory of the user's is left alone. Errors are ignored:
// what cannot be removed now is tried again at the next start. It returns
// how many directories it removed.
func cleanStaleRuntime(base string) int {
	if privateDirProblem(base) != "" {
		return 0
	}
	ents, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		if strings.HasPrefix(e.Name(), runtimeNewPrefix) {
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < runtimeNewStale {
				continue
			}
		}
		lock, err := os.OpenFile(filepath.Join(dir, runtimeLockName), os.O_RDWR|syscall.O_NOFOLLOW, 0)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				// A final name without a lock: its bridge is gone (it
				// removes the directory on its way out, lock last).
				if os.RemoveAll(dir) == nil {
					n++
				}
			}
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			// Held by nobody: remove it while holding the lock, so no
			// other cleaner works on it at the same time.
			if os.RemoveAll(dir) == nil {
				n++
			}
		}
		lock.Close()
	}
	return n
}

// Files in a runtime directory besides the lock.
const (
	runtimeConfigName = "helper.conf" // the managed helper's configuration (helperConfig)
)

// path is the file name in the runtime directory.
func (r *runtimeDir) path(name string) string { return filepath.Join(r.dir, name) }

// keyPath is where writeKey puts the key.
func (r *runtimeDir) keyPath() string { return r.path(runtimeKeyName) }

// writeFile makes the file name hold exactly data, mode 0600, atomically,
// and returns its path.
func (r *runtimeDir) writeFile(name string, data []byte) (string, error) {
	p := r.path(name)
	_, err := ensureFile(p, data, 0o600)
	return p, err
}

// writeKey makes the key file hold exactly key, mode 0600, atomically.
func (r *runtimeDir) writeKey(key string) error {
	_, err := r.writeFile(runtimeKeyName, []byte(key))
	return err
}

// removeKey removes the key file, if there is one.
func (r *runtimeDir) removeKey() {
	os.Remove(r.keyPath())
}

// close removes the directory, key first, then releases the lock.
func (r *runtimeDir) close() {
	liveRuntimes.forget(r)
	r.remove()
	r.lock.Close()
}

// remove removes the directory, key first. It is safe to call from a
// signal handler's goroutine while the owner still holds the lock.
func (r *runtimeDir) remove() {
	r.removeKey()
	os.RemoveAll(r.dir)
}

// liveRuntimes are the runtime directories of this process, for
// RemoveRuntimeDirs.
var liveRuntimes runtimeSet

type runtimeSet struct {
	mu  sync.Mutex // guards dirs
	set map[*runtimeDir]struct{}
}

func (s *runtimeSet) add(r *runtimeDir) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[*runtimeDir]struct{}{}
	}
	s.set[r] = struct{}{}
}

func (s *runtimeSet) forget(r *runtimeDir) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, r)
}

// RemoveRuntimeDirs removes every runtime directory this process made,
// keys and all, without waiting for the Managers that own them. The binary
// calls it on a signal it is about to die of (SIGQUIT and the like), when
// no Close will run. The directories' locks are released when the process
// exits.
func RemoveRuntimeDirs() {
	liveRuntimes.mu.Lock()
	defer liveRuntimes.mu.Unlock()
	for r := range liveRuntimes.set {
		r.remove()
	}
}

// shQuoteIfNeeded quotes p for sh only when it needs it.
func shQuoteIfNeeded(p string) string {
	if isShellSafe(p) {
		return p
	}
	return shQuote(p)
}
