package review

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/documents"
)

// ReadNow reads what is at path now, the safe way (checkpoint.Read: a
// symbolic link is read as a link, a regular file of at most
// checkpoint.DefaultMaxFile bytes, within documents.DefaultReadTimeout).
func ReadNow(ctx context.Context, path string) (Content, error) {
	rctx, cancel := context.WithTimeout(ctx, documents.DefaultReadTimeout)
	defer cancel()
	return checkpoint.Read(rctx, path, checkpoint.DefaultMaxFile)
}

// Problem is a file of a checkpoint that cannot be reviewed or reverted
// now, and why, in a person's words ("its checkpoint was deleted (…)").
type Problem struct {
	Path   string
	Reason string
}

// States analyses the files of a checkpoint (those keep selects; nil: all)
// against the disk now, a few at a time, in the checkpoint's order. A file
// that cannot be read, or whose checkpoint is gone, is a Problem.
func States(ctx context.Context, cp *checkpoint.Task, keep func(checkpoint.File) bool) (states []State, problems []Problem) {
	m := cp.Manifest()
	var files []checkpoint.File
	for i, f := range m.Files {
		if keep != nil && !keep(f) {
			continue
		}
		if f.Index == 0 {
			f.Index = i + 1 // the task still runs
		}
		files = append(files, f)
	}
	out := make([]*State, len(files))
	errs := make([]string, len(files))
	ForEach(len(files), func(i int) {
		f := files[i]
		rf := File{Path: f.Path, Index: f.Index, Reverted: f.Reverted}
		var err error
		if rf.Now, err = ReadNow(ctx, f.Path); err != nil {
			errs[i] = "it cannot be read now: " + checkpoint.Unreadable(err)
			return
		}
		if rf.Before, err = stored(cp, f.Before, f.Mode, f.Link); err == nil {
			rf.After = rf.Now
			if f.Ended {
				rf.After, err = stored(cp, f.After, f.AfterMode, f.AfterLink)
			}
		}
		for _, o := range f.Others {
			if err != nil {
				break
			}
			ro := Other{Task: o.Task, Unknown: o.Unknown, Shared: o.Shared, User: o.User}
			if !o.Unknown {
				if ro.Before, err = stored(cp, o.Before, 0, ""); err == nil {
					ro.After, err = stored(cp, o.After, 0, "")
				}
			}
			rf.Others = append(rf.Others, ro)
		}
		if err != nil {
			errs[i] = cp.Why(err)
			return
		}
		st := Analyze(rf)
		out[i] = &st
	})
	for i, f := range files {
		if out[i] != nil {
			states = append(states, *out[i])
		} else {
			problems = append(problems, Problem{Path: f.Path, Reason: errs[i]})
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

// stored is the content a checkpoint keeps by sum (with the permission
// bits mode), or the symbolic link to link; nothing when both are "".
func stored(cp *checkpoint.Task, sum string, mode fs.FileMode, link string) (Content, error) {
	switch {
	case link != "":
		return Content{Exists: true, Link: link}, nil
	case sum == "":
		return Content{}, nil
	}
	b, err := cp.Content(sum)
	return Content{Exists: true, Data: b, Mode: mode}, err
}

// WriteFile puts c at path: a file's content written atomically with c's
// permission bits (0: the file's own, else 0644), a symbolic link made,
// or what is there deleted (c does not exist). What stands in the way is
// replaced: a symbolic link where a file goes (not followed: the link
// itself is the file the task changed), an empty folder.
func WriteFile(path string, c Content) error {
	fi, lerr := os.Lstat(path)
	isLink := lerr == nil && fi.Mode()&fs.ModeSymlink != 0
	if lerr == nil && fi.IsDir() {
		if !c.Exists {
			return nil // a folder where the task left nothing: not the task's
		}
		if err := os.Remove(path); err != nil { // only an empty one
			return fmt.Errorf("a folder is there now: %w", err)
		}
		lerr = fs.ErrNotExist
	}
	switch {
	case !c.Exists:
		err := os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	case c.IsLink():
		if lerr == nil {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.Symlink(c.Link, path)
	}
	mode := c.Mode
	if mode == 0 {
		mode = 0o644
		if lerr == nil && !isLink {
			mode = fi.Mode().Perm()
		}
	}
	if isLink {
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return checkpoint.WriteAtomic(path, c.Data, mode)
}

// InPhases runs write(i) for the reverts rs (those that change a file), a
// few at a time: what they delete first, then what they write, so that a
// file where a folder was (`rm -r d && echo x > d`) is gone before the
// folder's files come back, and a folder where a file was is emptied
// before the file comes back.
func InPhases(rs []Revert, write func(i int)) {
	for _, deletes := range []bool{true, false} {
		var these []int
		for i, r := range rs {
			if r.Changed && !r.Content.Exists == deletes {
				these = append(these, i)
			}
		}
		ForEach(len(these), func(k int) { write(these[k]) })
	}
}
