// Package saferead reads a file someone else named (an editor's document,
// a path in claude's tool result) so that nothing about the file can hang
// or flood the reader: only a regular file is read (its type is checked
// before a non-blocking open and again on the open file, so a FIFO or a
// device swapped in between is neither blocked on nor read), at most a
// size cap is read, and a caller can stop waiting (a read stuck in the
// kernel on a hung network mount cannot be interrupted: it finishes on a
// goroutine of its own, holding one of a few read slots meanwhile).
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
)

// maxReads bounds the reads in progress at once. A read stuck on a hung
// mount (NFS, SMB, FUSE) keeps its goroutine and its slot for as long as
// the kernel blocks it; past maxReads stuck reads, new reads wait for a
// slot (within their own time limit) instead of piling up threads.
const maxReads = 16

var readSlots = make(chan struct{}, maxReads)

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

// Read is Regular in a read slot, off the caller's goroutine: it gives up
// when ctx ends and then returns ctx's error (the read, if stuck, finishes
// on its own).
func Read(ctx context.Context, path string, max int64) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	done := Bounded(func() { b, err = Regular(path, max) })
	select {
	case <-done:
		return b, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Bounded runs fn on a goroutine of its own once a read slot is free and
// closes the returned channel when fn has returned. The goroutine belongs
// to whoever waits on the channel, and ends with fn (which, stuck in a read
// on a hung mount, may be never: it holds its slot meanwhile).
func Bounded(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		readSlots <- struct{}{}
		defer func() { <-readSlots }()
		defer close(done)
		fn()
	}()
	return done
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
