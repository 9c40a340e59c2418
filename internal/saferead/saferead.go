// Package saferead reads a file someone else named (an editor's document,
// a path in claude's tool result) so that nothing about the file can hang
// or flood the reader: only a regular file is read (its type is checked
// before a non-blocking open and again on the open file, so a FIFO or a
// device swapped in between is neither blocked on nor read), at most a
// size cap is read, and a caller can stop waiting (a read stuck in the
// kernel on a hung network mount cannot be interrupted: it finishes on a
// goroutine of its own, and internal/fsbound keeps the file from being
// read again until it has).
//
// It is shared by server/documents and runner, which must not import
// each other.
package saferead

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
)

// ErrTooLarge is returned (wrapped) for a file larger than the cap.
var ErrTooLarge = errors.New("file too large")

// NotRegularError is returned for a path that is not a regular file.
type NotRegularError struct {
	Type string // "a FIFO", "a character device", "a directory", ...
}

func (e *NotRegularError) Error() string {
	if e.Type == "" {
		return "it is not a regular file"
	}
	return "it is not a regular file (" + e.Type + ")"
}

// Regular reads the file at path, on the caller's goroutine, if it is a
// regular file of at most max bytes. Errors: fs.ErrNotExist (errors.Is)
// when there is no such file, *NotRegularError, ErrTooLarge (errors.Is),
// or the operating system's.
func Regular(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, &NotRegularError{Type: FileType(fi.Mode())}
	case fi.Size() > max:
		return nil, tooLarge(max)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, &NotRegularError{}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	switch {
	case err != nil:
		return nil, err
	case int64(len(b)) > max:
		return nil, tooLarge(max)
	}
	return b, nil
}

// tooLargeError says how large a file may be; it is ErrTooLarge.
type tooLargeError struct{ max int64 }

func (e tooLargeError) Error() string {
	if e.max >= 1<<20 && e.max%(1<<20) == 0 {
		return fmt.Sprintf("it is larger than %d MiB", e.max>>20)
	}
	return fmt.Sprintf("it is larger than %d bytes", e.max)
}

func (e tooLargeError) Is(target error) bool { return target == ErrTooLarge }

func tooLarge(max int64) error { return tooLargeError{max} }

// Read is Regular off the caller's goroutine, through fsbound.Do: it gives
// up when ctx ends (an error matching fsbound.ErrHung; the read, if stuck
// in the kernel, finishes on its own and the file is not read again until
// it has), and fails at once for a file or mount with reads stuck.
func Read(ctx context.Context, path string, max int64) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if herr := fsbound.Do(ctx, path, func() { b, err = Regular(path, max) }); herr != nil {
		return nil, herr
	}
	return b, err
}

// FileType names a file's type for messages ("a FIFO").
func FileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}
