package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/pathid"
	"github.com/claude-bridge/claude-bridge/server/review"
)

// revertCmd is `claude-bridge revert TASK [FILE]...`: takes back what a
// task changed (review afterTurn or beforeWrite, in the editor or with
// claude-bridge run), from its checkpoint under the state directory. Only
// what is still the task's is reverted: a hunk changed since is left and
// reported. Exit 0 when everything asked for was reverted (or the task
// has nothing left to revert), 1 when something was not, 2 for bad usage,
// no such task, or FILEs the task has nothing left to revert in.
func revertCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("revert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state-dir", stateDir(), "the bridge's state directory (where checkpoints are)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: claude-bridge revert [--state-dir DIR] TASK [FILE]...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	taskID, files := fs.Arg(0), fs.Args()[1:]
	store := checkpoint.NewStore(filepath.Join(*state, "checkpoints"), checkpoint.Limits{})
	cp, err := store.Find(taskID, nil)
	if err != nil {
		fmt.Fprintln(stderr, "claude-bridge revert:", err)
		return 2
	}
	if cp == nil {
		fmt.Fprintf(stderr, "claude-bridge revert: no checkpoint of task %q in %s (it ran with review off, or its changes were accepted, reverted or dropped)\n", taskID, store.Dir())
		return 2
	}
	m := cp.Manifest()
	if m.Ended.IsZero() {
		fmt.Fprintf(stderr, "claude-bridge revert: task %q has not ended yet\n", taskID)
		return 2
	}
	var keep func(checkpoint.File) bool
	if len(files) > 0 {
		keys := map[string]bool{}
		for _, f := range files {
			abs, err := filepath.Abs(f)
			if err != nil {
				fmt.Fprintln(stderr, "claude-bridge revert:", err)
				return 2
			}
			keys[pathid.Key(abs)] = true
		}
		keep = func(f checkpoint.File) bool { return keys[pathid.Key(f.Path)] }
	}
	states, problems := review.States(context.Background(), cp, keep)
	code := 0
	name := func(path string) string {
		if rel, err := filepath.Rel(m.Workspace, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return path
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "✗ %s: not reverted: %s\n", name(p.Path), p.Reason)
		code = 1
	}
	if len(states) == 0 && len(problems) == 0 {
		if len(files) > 0 {
			fmt.Fprintf(stderr, "claude-bridge revert: task %s has nothing left to revert in %s (it did not change them, or they were reverted or accepted)\n", taskID, strings.Join(files, ", "))
			return 2
		}
		fmt.Fprintf(stdout, "task %s has nothing left to revert\n", taskID)
		return 0
	}
	rs := make([]review.Revert, len(states))
	errs := make([]error, len(states))
	for i, st := range states {
		rs[i] = st.Revert(nil)
	}
	review.InPhases(rs, func(i int) { errs[i] = review.WriteFile(states[i].File.Path, rs[i].Content) })
	for i, st := range states {
		r, n := rs[i], name(st.File.Path)
		if st.NotTheTasks {
			continue
		}
		if errs[i] != nil {
			fmt.Fprintf(stderr, "✗ %s: not reverted: it could not be written: %s\n", n, checkpoint.Unreadable(errs[i]))
			code = 1
			continue
		}
		if r.Changed {
			_ = cp.Update(map[string]func(*checkpoint.File) bool{st.File.Path: func(f *checkpoint.File) bool {
				f.Reverted = append(f.Reverted, r.Reverted...)
				return r.Restored
			}})
		}
		switch {
		case r.Reason != "":
			fmt.Fprintf(stderr, "✗ %s: not reverted: %s\n", n, r.Reason)
			code = 1
		case len(r.NotReverted) > 0:
			fmt.Fprintf(stdout, "%s: %d %s reverted\n", n, len(r.Reverted), plural(len(r.Reverted), "hunk", "hunks"))
			for _, nr := range r.NotReverted {
				fmt.Fprintf(stdout, "  not %s: %s\n", nr.ID, nr.Reason)
			}
			code = 1
		case r.Restored:
			fmt.Fprintf(stdout, "%s: restored as it was before the task\n", n)
		case r.Changed && len(r.Reverted) == 0:
			fmt.Fprintf(stdout, "%s: permissions put back\n", n)
		case r.Changed:
			fmt.Fprintf(stdout, "%s: %d %s reverted\n", n, len(r.Reverted), plural(len(r.Reverted), "hunk", "hunks"))
		default:
			fmt.Fprintf(stdout, "%s: nothing left to revert\n", n)
		}
	}
	return code
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
