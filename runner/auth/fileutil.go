package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ensureFile makes path hold exactly data with permission bits perm,
// touching the disk only when something differs, so that several bridges
// sharing one helper do not rewrite it (and wake each other's watchers) for
// nothing. A rewrite is atomic: a temporary file in the same directory is
// written, synced and renamed over path, and the directory is synced, so a
// reader (claude running the helper) sees either the old file or the new one,
// never a torn one. The parent directory is created 0700 when missing.
// It reports whether anything changed.
func ensureFile(path string, data []byte, perm fs.FileMode) (changed bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			if fi.Mode().Perm() == perm {
				return false, nil
			}
			// Same content, wrong mode: a chmod is enough and keeps
			// the inode other processes may have open.
			if err := os.Chmod(path, perm); err != nil {
				return false, fmt.Errorf("cannot chmod %s: %w", path, err)
			}
			return true, nil
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		if err = tmp.Chmod(perm); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return false, fmt.Errorf("cannot replace %s: %w", path, err)
	}
	// The rename is durable only once the directory entry is on disk.
	if d, derr := os.Open(dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil && !errors.Is(derr, syscall.EINVAL) {
			return true, fmt.Errorf("cannot sync %s: %w", dir, derr)
		}
	}
	return true, nil
}

// fileState describes a file's ownership and permission bits as the helper
// judges them.
type fileState struct {
	Exists  bool
	Regular bool
	UID     int
	Mode    fs.FileMode // permission bits, plus setuid/setgid/sticky
	Err     error       // a stat error other than "does not exist"
}

// statFile follows symbolic links, as the helper's `ls -L` does.
func statFile(path string) fileState {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fileState{}
		}
		return fileState{Err: err}
	}
	st := fileState{Exists: true, Regular: fi.Mode().IsRegular(), UID: -1, Mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.UID = int(sys.Uid)
	}
	return st
}

// octal renders permission bits the way chmod takes them: 0600, 4755.
func octal(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}
