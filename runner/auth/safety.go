package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// pathProblem is something about the helper or where it lives that lets
// another user change what claude runs: Text says what and why, Fix is the
// shell command that mends it.
type pathProblem struct {
	Text string
	Fix  string
}

func (p *pathProblem) Error() string { return p.Text + "; run " + p.Fix }

// lstatOwner reads a path's owner and mode without following a final
// symbolic link. A variable so that tests can stand in for files owned by
// another user, which only root could make.
var lstatOwner = func(path string) (uid int, mode fs.FileMode, err error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return -1, 0, err
	}
	return fileUID(fi), fi.Mode(), nil
}

// helperPathProblem checks, the way ssh checks ~/.ssh and the directories
// above it, every directory through which someone could change what claude
// runs as the helper at runPath: for runPath and for each target of a
// symbolic link on the way to the file (~/.claude/auth_helper.sh ->
// ../dotfiles/helper.sh), the directory holding it and each one above it up
// to the home directory (or up to / outside it), both as written and with
// symbolic links resolved. Each must be owned by the user or by root and
// not writable by group or others: whoever can write a directory can
// replace what is in it. A parent with the sticky bit (such as /tmp) may be
// writable, since there nobody can rename or remove another user's
// entries; a directory holding the helper or one of its links gets no such
// exception. It returns nil when all is well, or when a directory does not
// exist (the missing helper is reported elsewhere).
func helperPathProblem(cfg resolved, runPath string) *pathProblem {
	chain := linkChain(runPath)
	for i, p := range chain {
		role := "the key helper's directory"
		if i > 0 {
			role = fmt.Sprintf("the directory of %s (where the key helper %s links)", cfg.display(p), cfg.display(runPath))
		}
		if pr := dirChainProblem(cfg, filepath.Dir(p), role); pr != nil {
			return pr
		}
	}
	return nil
}

// linkChain is path followed by the target of each symbolic link on the way
// to what it names (relative targets resolved against the link's
// directory), at most 40 of them as the kernel allows.
func linkChain(path string) []string {
	chain := []string{filepath.Clean(path)}
	for len(chain) <= 40 {
		p := chain[len(chain)-1]
		target, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		chain = append(chain, filepath.Clean(target))
	}
	return chain
}

// dirChainProblem checks dir and the directories above it up to the home
// directory (or /): first as written, where a component that is itself a
// symbolic link is not judged by its own (meaningless) mode but its parent
// is; then with symbolic links resolved. role says what dir is, for
// messages.
func dirChainProblem(cfg resolved, dir, role string) *pathProblem {
	home := cfg.home
	if h, err := filepath.EvalSymlinks(home); err == nil {
		home = h
	}
	walk := func(start string) *pathProblem {
		for d := start; ; d = filepath.Dir(d) {
			if pr := dirProblem(cfg, d, d == start, role); pr != nil {
				return pr
			}
			if d == cfg.home || d == home || d == filepath.Dir(d) {
				return nil
			}
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if pr := walk(filepath.Clean(dir)); pr != nil {
		return pr
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	if real == filepath.Clean(dir) {
		return nil
	}
	return walk(real)
}

// dirProblem judges one directory d: own says it directly holds the helper
// or one of its links (no sticky-bit exception then), else it is a parent
// of the directory role describes.
func dirProblem(cfg resolved, d string, own bool, role string) *pathProblem {
	what := cfg.display(d) + ", a parent of " + role + ","
	if own {
		what = cfg.display(d) + ", " + role + ","
	}
	uid, mode, err := lstatOwner(d)
	switch {
	case err != nil:
		return &pathProblem{Text: fmt.Sprintf("cannot inspect %s: %v", what, err), Fix: "ls -ld " + cfg.shellWord(d)}
	case mode&fs.ModeSymlink != 0:
		// The link itself cannot be changed but through its parent,
		// which the walk looks at next; where it leads is walked
		// separately.
		return nil
	case uid != os.Getuid() && uid != 0:
		return &pathProblem{
			Text: fmt.Sprintf("%s is owned by uid %d, not by you (uid %d) or root, who could replace the helper and take your key", what, uid, os.Getuid()),
			Fix:  fmt.Sprintf("chown %d %s", os.Getuid(), cfg.shellWord(d)),
		}
	case mode.Perm()&0o022 != 0 && (own || mode&fs.ModeSticky == 0):
		return &pathProblem{
			Text: fmt.Sprintf("%s has mode %s: others can replace the helper in it and take your key", what, octal(mode)),
			Fix:  "chmod go-w " + cfg.shellWord(d),
		}
	}
	return nil
}

// ownHelperProblem checks a user's own helper (auth.manageHelper false) as
// claude will run it: a regular executable file (symbolic links followed),
// owned by the user or root and not writable by group or others. It returns
// nil when claude may run it.
func ownHelperProblem(cfg resolved) error {
	shown := cfg.display(cfg.helperPath)
	word := cfg.shellWord(cfg.helperPath)
	st := statFile(cfg.helperPath)
	switch {
	case st.Err != nil:
		return fmt.Errorf("cannot inspect the key helper %s: %v", shown, st.Err)
	case !st.Exists:
		return fmt.Errorf("the key helper %s does not exist (auth.manageHelper is false, so the bridge does not create it): create it, or set auth.manageHelper to true", shown)
	case !st.Regular:
		return fmt.Errorf("the key helper %s is not a regular file; point auth.helperPath at a sh script that prints the key", shown)
	case st.Mode&0o100 == 0:
		// claude runs the helper as a command, not as a script argument.
		return fmt.Errorf("the key helper %s is not executable (claude runs it as a command); run chmod 700 %s", shown, word)
	case st.UID != os.Getuid() && st.UID != 0:
		return &pathProblem{Text: fmt.Sprintf("the key helper %s is owned by uid %d, not by you (uid %d) or root, who could make it print their key or copy yours", shown, st.UID, os.Getuid()), Fix: fmt.Sprintf("chown %d %s", os.Getuid(), word)}
	case st.Mode.Perm()&0o022 != 0:
		return &pathProblem{Text: fmt.Sprintf("the key helper %s has mode %s: others could make it print their key or copy yours", shown, octal(st.Mode)), Fix: "chmod go-w " + word}
	}
	return nil
}

// managedHelperProblem says how the file at the helper path differs from the
// managed helper for cfg ("" when it is exactly that: a regular file, not a
// symbolic link, owned by the user, mode 0700, with the managed content).
func managedHelperProblem(cfg resolved) string {
	// Opened without following a symbolic link, then judged by the open
	// file itself, so what is checked is what was read.
	f, err := os.OpenFile(cfg.helperPath, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, syscall.ELOOP):
		return "is a symbolic link, not the bridge's own file"
	case err != nil:
		return "cannot be read: " + err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return "cannot be inspected: " + err.Error()
	case !fi.Mode().IsRegular():
		return "is not a regular file"
	case fileUID(fi) != os.Getuid():
		return fmt.Sprintf("is owned by uid %d, not by you", fileUID(fi))
	case fi.Mode().Perm() != 0o700 || fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0:
		return "has mode " + octal(fi.Mode()) + ", not 0700"
	}
	want := helperScript()
	data, err := io.ReadAll(io.LimitReader(f, int64(len(want))+1))
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	if !bytes.Equal(data, want) {
		return "is not the bridge's own script (its content differs)"
	}
	return ""
}
