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
// reported. Exit 0 when everything asked for was reverted, 1 when
// something was not, 2 for bad usage or no such task.
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
	for _, p := range problems {
		fmt.Fprintln(stderr, "✗ "+p)
		code = 1
	}
	if len(states) == 0 && len(problems) == 0 {
		fmt.Fprintf(stderr, "claude-bridge revert: task %s changed none of %s\n", taskID, strings.Join(files, ", "))
		return 2
	}
	for _, st := range states {
		name := st.File.Path
		if rel, err := filepath.Rel(m.Workspace, name); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
		r := st.Revert(nil)
		if r.Changed {
			if err := review.WriteFile(st.File.Path, r.Content, st.File.Mode); err != nil {
				fmt.Fprintf(stderr, "✗ %s: not reverted: %v\n", name, err)
				code = 1
				continue
			}
			_ = cp.Update(map[string]func(*checkpoint.File) bool{st.File.Path: func(f *checkpoint.File) bool {
				f.Reverted = append(f.Reverted, r.Reverted...)
				return r.Restored
			}})
		}
		switch {
		case r.Reason != "":
			fmt.Fprintf(stderr, "✗ %s: not reverted: %s\n", name, r.Reason)
			code = 1
		case len(r.NotReverted) > 0:
			var ids []string
			for _, n := range r.NotReverted {
				ids = append(ids, n.ID)
			}
			fmt.Fprintf(stdout, "%s: %d %s reverted; not %s: %s\n", name, len(r.Reverted), plural(len(r.Reverted), "hunk", "hunks"), strings.Join(ids, ", "), review.ChangedSince)
			code = 1
		case r.Restored:
			fmt.Fprintf(stdout, "%s: restored as it was before the task\n", name)
		case r.Changed:
			fmt.Fprintf(stdout, "%s: %d %s reverted\n", name, len(r.Reverted), plural(len(r.Reverted), "hunk", "hunks"))
		default:
			fmt.Fprintf(stdout, "%s: nothing left to revert\n", name)
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
