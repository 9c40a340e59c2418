package review

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
// against the disk now. A file that cannot be read is named in problems.
func States(ctx context.Context, cp *checkpoint.Task, keep func(checkpoint.File) bool) (states []State, problems []string) {
	m := cp.Manifest()
	for i, f := range m.Files {
		if keep != nil && !keep(f) {
			continue
		}
		rf := File{Path: f.Path, Index: f.Index, Reverted: f.Reverted, Mode: f.Mode}
		if rf.Index == 0 {
			rf.Index = i + 1 // the task still runs
		}
		var err error
		if rf.Now, err = ReadNow(ctx, f.Path); err != nil {
			problems = append(problems, fmt.Sprintf("%s cannot be read: %v", f.Path, err))
			continue
		}
		if rf.Before, err = stored(cp, f.Before); err == nil {
			rf.After = rf.Now
			if f.Ended {
				rf.After, err = stored(cp, f.After)
			}
		}
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		states = append(states, Analyze(rf))
	}
	return states, problems
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
