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

// helperDirProblem checks the directory holding helperFile the way ssh
// checks ~/.ssh and the directories above it: each directory, from the
// helper's own up to the home directory (or up to / for a helper outside
// it), must be owned by the user or by root and not writable by group or
// others, since whoever can write a directory can replace what is in it.
// A parent with the sticky bit (such as /tmp) is allowed to be writable:
// there nobody can rename or remove another user's entries. The helper's own
// directory gets no such exception. It returns nil when all is well, or when
// the directory does not exist (the missing helper is reported elsewhere).
func helperDirProblem(cfg resolved, helperFile string) *pathProblem {
	own, err := filepath.EvalSymlinks(filepath.Dir(helperFile))
	if err != nil {
		return nil
	}
	home, err := filepath.EvalSymlinks(cfg.home)
	if err != nil {
		home = cfg.home
	}
	me := os.Getuid()
	for d := own; ; d = filepath.Dir(d) {
		what := cfg.display(d) + ", a parent of the key helper's directory,"
		if d == own {
			what = cfg.display(d) + ", the key helper's directory,"
		}
		uid, mode, err := lstatOwner(d)
		if err != nil {
			return &pathProblem{Text: fmt.Sprintf("cannot inspect %s: %v", what, err), Fix: "ls -ld " + cfg.shellWord(d)}
		}
		if uid != me && uid != 0 {
			return &pathProblem{
				Text: fmt.Sprintf("%s is owned by uid %d, not by you (uid %d) or root, who could replace the helper and take your key", what, uid, me),
				Fix:  fmt.Sprintf("chown %d %s", me, cfg.shellWord(d)),
			}
		}
		if mode.Perm()&0o022 != 0 && (d == own || mode&fs.ModeSticky == 0) {
			return &pathProblem{
				Text: fmt.Sprintf("%s has mode %s: others can replace the helper in it and take your key", what, octal(mode)),
				Fix:  "chmod go-w " + cfg.shellWord(d),
			}
		}
		if d == home || d == filepath.Dir(d) {
			return nil
		}
	}
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
	want := helperScript(cfg)
	data, err := io.ReadAll(io.LimitReader(f, int64(len(want))+1))
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	if !bytes.Equal(data, want) {
		return "is not the bridge's own script (its content differs)"
	}
	return ""
}
