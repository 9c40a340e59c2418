package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
	"github.com/claude-bridge/claude-bridge/internal/saferead"
)

// MaxChangeSize is the largest changed file whose content a FileChange
// reads (the largest file server/documents reads, 64 MiB); changeReadTime
// bounds the read (a file on a hung network mount).
const (
	MaxChangeSize  = 64 << 20
	changeReadTime = 5 * time.Second
)

// fileRead is the read of a changed file's content, started when claude
// reported the change.
type fileRead struct {
	done chan struct{} // closed when text and err are set
	text *string       // nil: the file no longer exists
	err  error
}

// readChanged starts reading path off the caller's goroutine (claude's
// read loop must never wait on a file): a regular file only, at most
// MaxChangeSize bytes, for at most changeReadTime. Its goroutine ends with
// the read or the time limit (a read stuck in the kernel then finishes on
// its own; see internal/fsbound).
func readChanged(path string) *fileRead {
	r := &fileRead{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		ctx, cancel := context.WithTimeout(context.Background(), changeReadTime)
		defer cancel()
		b, err := saferead.Read(ctx, path, MaxChangeSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, fsbound.ErrStuck):
			r.err = fmt.Errorf("cannot read %s: an earlier read of it has not finished (a hung network mount?)", path)
		case errors.Is(err, fsbound.ErrHung), errors.Is(err, context.DeadlineExceeded):
			r.err = fmt.Errorf("reading %s took longer than %s (a hung network mount?)", path, changeReadTime)
		case err != nil:
			r.err = fmt.Errorf("cannot read %s: %w", path, err)
		default:
			s := string(b)
			r.text = &s
		}
	}()
	return r
}

// readKnown is a read whose content is already known (text; nil: no file):
// what the bridge itself wrote.
func readKnown(text *string) *fileRead {
	r := &fileRead{done: make(chan struct{}), text: text}
	close(r.done)
	return r
}

// After is the file's content on disk right after the change (read when
// claude reported it), nil when the file no longer exists. It waits for
// that read (bounded: see MaxChangeSize) or ctx. Its error says why the
// content is not known: not a regular file, too large, a read that did not
// finish in time, or ctx's error.
func (c *FileChange) After(ctx context.Context) (*string, error) {
	if c.after == nil {
		return nil, errors.New("the changed file's content was not read")
	}
	select {
	case <-c.after.done:
		return c.after.text, c.after.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
