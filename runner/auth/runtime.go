package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The private channel for a key the bridge found in its own environment
// (CLAUDE_API_KEY, ANTHROPIC_API_KEY): a per-bridge runtime directory holding
// the key in a 0600 file, whose path (never the key) the managed helper gets
// as an argument. See the package documentation for why.

const (
	runtimeLockName = "lock" // flock'ed by the owning bridge for as long as it runs
	runtimeKeyName  = "key"  // the key, 0600
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
// environment) is an absolute directory of the user's with mode 0700, as the
// XDG base directory spec requires (a tmpfs removed at logout, so the key
// never reaches a disk); else <state>/claude-bridge/run, with <state>
// $XDG_STATE_HOME or ~/.local/state. note explains a rejected
// XDG_RUNTIME_DIR ("" when there is none to explain).
func runtimeBase(environ []string, home string) (base, note string) {
	if x := envValue(environ, "XDG_RUNTIME_DIR"); x != "" {
		switch p := privateDirProblem(x); {
		case !filepath.IsAbs(x):
			note = "XDG_RUNTIME_DIR " + x + " is not an absolute path"
		case p != "":
			note = "XDG_RUNTIME_DIR is not usable: " + p
		default:
			return filepath.Join(x, "claude-bridge"), ""
		}
	}
	state := envValue(environ, "XDG_STATE_HOME")
	if !filepath.IsAbs(state) {
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "claude-bridge", "run"), note
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

// openRuntime makes a new runtime directory under base, after removing the
// directories of bridges that are gone.
func openRuntime(base string) (*runtimeDir, error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, err
	}
	// MkdirAll leaves an existing directory as it was: it must be ours
	// and private, or someone else could read or swap the key.
	if p := privateDirProblem(base); p != "" {
		return nil, fmt.Errorf("%s; run chmod 700 %s, or remove it", p, shQuoteIfNeeded(base))
	}
	cleanStaleRuntime(base)
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
	return &runtimeDir{dir: dir, lock: lock}, nil
}

// cleanStaleRuntime removes the runtime directories of bridges that are no
// longer running: those whose lock file nobody holds (a bridge that was
// killed never removed its own). Liveness is the flock, not a pid, which the
// system may have given to another process since. Errors are ignored: what
// cannot be removed now is tried again at the next start.
func cleanStaleRuntime(base string) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
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
				os.RemoveAll(dir)
			}
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			// Held by nobody: remove it while holding the lock, so no
			// other cleaner works on it at the same time.
			os.RemoveAll(dir)
		}
		lock.Close()
	}
}

// keyPath is where writeKey puts the key.
func (r *runtimeDir) keyPath() string { return filepath.Join(r.dir, runtimeKeyName) }

// writeKey makes the key file hold exactly key, mode 0600, atomically.
func (r *runtimeDir) writeKey(key string) error {
	_, err := ensureFile(r.keyPath(), []byte(key), 0o600)
	return err
}

// removeKey removes the key file, if there is one.
func (r *runtimeDir) removeKey() {
	os.Remove(r.keyPath())
}

// close removes the directory, key first, then releases the lock.
func (r *runtimeDir) close() {
	r.removeKey()
	os.RemoveAll(r.dir)
	r.lock.Close()
}

// shQuoteIfNeeded quotes p for sh only when it needs it.
func shQuoteIfNeeded(p string) string {
	if isShellSafe(p) {
		return p
	}
	return shQuote(p)
}
