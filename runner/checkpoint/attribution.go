package checkpoint

import (
	"sort"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/pathid"
)

// Telling a task's changes from those of other tasks running at the same
// time in the same folder. A file tool's write is its task's for certain.
// A Bash command's snapshots see every change made while it ran, another
// task's file tool's too: that write, which the other task reported
// (Task.NoteOther), is kept with the file (File.Others) and the review
// takes it out of this task's changes (server/review folds it into the
// file's Before). Two tasks' Bash commands running at the same time that
// both see a file change cannot be told apart: each task keeps the change
// marked Shared, and a revert leaves it. A task without snapshots (review
// off) reports its Bash commands with no files (Write.Path ""): a file this
// task's own Bash command changed meanwhile may be the other's (Unknown).

// pendingOther is another task's change to one file, as Finish selected
// it for that file.
type pendingOther struct {
	task            string
	before, after   Content
	unknown, shared bool
	user            bool // the user's save from the editor
	end             time.Time
}

// attribution matches other tasks' writes with a checkpoint's files.
type attribution struct {
	others, own []Write
	keys        map[string]string // path → pathid.Key
	afters      map[*Write]resolved
}

type resolved struct {
	c  Content
	ok bool
}

func newAttribution(others, own []Write) *attribution {
	return &attribution{others: others, own: own, keys: map[string]string{}, afters: map[*Write]resolved{}}
}

func (a *attribution) key(path string) string {
	k, ok := a.keys[path]
	if !ok {
		k = pathid.Key(path)
		a.keys[path] = k
	}
	return k
}

// after is what w left (ok false: not known).
func (a *attribution) after(w *Write) (Content, bool) {
	r, seen := a.afters[w]
	if !seen {
		if w.After != nil {
			r.c, r.ok = w.After()
		}
		a.afters[w] = r
	}
	return r.c, r.ok
}

// of returns the other tasks' writes to f after it was captured, in the
// order they ended.
func (a *attribution) of(f File) []pendingOther {
	if len(a.others) == 0 {
		return nil
	}
	k := a.key(f.Path)
	var out []pendingOther
	for i := range a.others {
		w := &a.others[i]
		if !w.End.After(f.Captured) {
			continue // before this task read the file: in its Before already
		}
		if w.Path == "" {
			if a.ownDuring(k, w, true) != nil {
				out = append(out, pendingOther{task: w.Task, unknown: true, shared: true, end: w.End})
			}
			continue
		}
		if a.key(w.Path) != k {
			continue
		}
		after, ok := a.after(w)
		p := pendingOther{task: w.Task, before: w.Before, after: after, user: w.User, end: w.End}
		if !ok || w.Before.IsLink() || after.IsLink() {
			p = pendingOther{task: w.Task, unknown: true, user: w.User, end: w.End}
		}
		if w.Bash {
			if o := a.ownDuring(k, w, false); o != nil {
				if oa, ok := a.after(o); ok && !o.Bash && o.Before.Same(w.Before) && oa.Same(after) {
					continue // this task's own write, as the other's Bash command saw it
				}
				p.shared = true
			}
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].end.Before(out[j].end) })
	return out
}

// ownDuring is a write of this task's own to the file of key k while w
// was made (only Bash ones with bash), or nil.
func (a *attribution) ownDuring(k string, w *Write, bash bool) *Write {
	for i := range a.own {
		o := &a.own[i]
		if (bash && !o.Bash) || o.Path == "" || a.key(o.Path) != k {
			continue
		}
		if !o.Start.After(w.End) && !w.Start.After(o.End) {
			return o
		}
	}
	return nil
}
