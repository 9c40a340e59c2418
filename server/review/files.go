package review

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/claude-bridge/claude-bridge/internal/saferead"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/documents"
)

// ReadNow reads a file as it is now, the safe way (saferead: a regular
// file, at most checkpoint.DefaultMaxFile bytes, within
// documents.DefaultReadTimeout).
func ReadNow(ctx context.Context, path string) (Content, error) {
	rctx, cancel := context.WithTimeout(ctx, documents.DefaultReadTimeout)
	defer cancel()
	b, err := saferead.Read(rctx, path, checkpoint.DefaultMaxFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Content{}, nil
	case err != nil:
		return Content{}, err
	}
	return Content{Exists: true, Data: b}, nil
}

// States analyses the files of a checkpoint (those keep selects; nil: all)
// against the disk now, a few at a time, in the checkpoint's order. A file
// that cannot be read is named in problems.
func States(ctx context.Context, cp *checkpoint.Task, keep func(checkpoint.File) bool) (states []State, problems []string) {
	var files []File
	var sums [][2]string
	var ended []bool
	for i, f := range cp.Manifest().Files {
		if keep != nil && !keep(f) {
			continue
		}
		rf := File{Path: f.Path, Index: f.Index, Reverted: f.Reverted, Mode: f.Mode}
		if rf.Index == 0 {
			rf.Index = i + 1 // the task still runs
		}
		files, sums, ended = append(files, rf), append(sums, [2]string{f.Before, f.After}), append(ended, f.Ended)
	}
	out := make([]*State, len(files))
	errs := make([]string, len(files))
	ForEach(len(files), func(i int) {
		rf := files[i]
		var err error
		if rf.Now, err = ReadNow(ctx, rf.Path); err != nil {
			errs[i] = fmt.Sprintf("%s cannot be read: %v", rf.Path, err)
			return
		}
		if rf.Before, err = stored(cp, sums[i][0]); err == nil {
			rf.After = rf.Now
			if ended[i] {
				rf.After, err = stored(cp, sums[i][1])
			}
		}
		if err != nil {
			errs[i] = err.Error()
			return
		}
		st := Analyze(rf)
		out[i] = &st
	})
	for i := range files {
		if out[i] != nil {
			states = append(states, *out[i])
		} else {
			problems = append(problems, errs[i])
		}
	}
	return states, problems
}

// workers bounds the files read or written at once.
const workers = 8

// ForEach runs f(0) … f(n-1) on at most 8 goroutines of its own (work
// that mostly waits on the disk or the editor) and returns when all have
// returned.
func ForEach(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() { // ends when next is closed
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func stored(cp *checkpoint.Task, sum string) (Content, error) {
	if sum == "" {
		return Content{}, nil
	}
	b, err := cp.Content(sum)
	return Content{Exists: true, Data: b}, err
}

// WriteFile writes a reverted file, or deletes it (c does not exist):
// atomically, through a symbolic link to the file it names, keeping the
// file's mode (mode, when the file is created again: its mode before the
// task).
func WriteFile(path string, c Content, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if !c.Exists {
		err := os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	} else if mode == 0 {
		mode = 0o644
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return checkpoint.WriteAtomic(path, c.Data, mode)
}
