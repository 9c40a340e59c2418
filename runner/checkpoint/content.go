package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/claude-bridge/claude-bridge/internal/saferead"
)

// Content is what is at a path at one moment: a regular file's bytes and
// permission bits, a symbolic link's target, or nothing.
type Content struct {
	// Exists is false when there is nothing at the path (or a file where a
	// folder of the path should be: `rm -r d && echo x > d` leaves no d/f).
	Exists bool
	// Data is a regular file's content.
	Data []byte
	// Mode is a regular file's permission bits; 0 when unknown.
	Mode fs.FileMode
	// Link is the target of a symbolic link, as it is written (relative or
	// absolute); "" for a regular file. A link's Data is empty.
	Link string
}

// Same reports whether c and o hold the same thing, permission bits aside.
func (c Content) Same(o Content) bool {
	return c.Exists == o.Exists && c.Link == o.Link && bytes.Equal(c.Data, o.Data)
}

// IsLink reports whether c is a symbolic link.
func (c Content) IsLink() bool { return c.Exists && c.Link != "" }

// Read reads what is at path now without following a symbolic link at the
// path itself (a link's target is read as the link's content; links in the
// folders above it are followed): a regular file of at most max bytes,
// within readTimeout. Nothing at the path, a folder there (`rm f && mkdir
// f`: no file f), or a file where one of its folders should be (ENOTDIR)
// is Content{} without an error; anything else that is not a regular file
// or a link (a FIFO, a device) is an error (saferead.NotRegularError), as
// is a file over max (ErrTooLarge).
func Read(ctx context.Context, path string, max int64) (Content, error) {
	fi, err := os.Lstat(path)
	switch {
	case missing(err):
		return Content{}, nil
	case err != nil:
		return Content{}, err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if missing(err) {
			return Content{}, nil
		}
		if err != nil {
			return Content{}, err
		}
		return Content{Exists: true, Link: target}, nil
	case fi.IsDir():
		return Content{}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	data, err := saferead.Read(rctx, path, max)
	if missing(err) {
		return Content{}, nil
	}
	if err != nil {
		return Content{}, err
	}
	return Content{Exists: true, Data: data, Mode: fi.Mode().Perm()}, nil
}

// missing reports whether err says there is no file at a path: it does not
// exist, or one of its folders is a file now.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Problem says in a person's words why the state directory (dir) could
// not be written or read: no paths of temporary files, no content sums.
func Problem(err error, dir string) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Sprintf("the disk of the bridge's state directory (%s) is full", dir)
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("the bridge's state directory (%s) is on a read-only file system", dir)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Sprintf("a file stands where a folder of the bridge's state directory (%s) should be", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("the bridge's state directory (%s) cannot be written (permission denied)", dir)
	case missing(err):
		return fmt.Sprintf("the checkpoints in the bridge's state directory (%s) were deleted", dir)
	}
	// The innermost error, without the path a *PathError carries.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("the bridge's state directory (%s) cannot be used: %s %v", dir, pe.Op, pe.Err)
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return fmt.Sprintf("the bridge's state directory (%s) cannot be used: %s", dir, msg)
}
