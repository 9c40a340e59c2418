package server

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/pathid"
	"github.com/claude-bridge/claude-bridge/server/bufsync"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// A task's changes against its checkpoint (review afterTurn and
// beforeWrite): claude/changes when it ends, claude.changes, claude.revert
// and claude.accept.

// reviewMu serialises reverts and accepts: each reads a checkpoint, the
// files, and writes both.
var reviewMu sync.Mutex

// checkpointOf finds the checkpoint of a task: this bridge's task, else the
// newest checkpoint of that id in one of the workspace folders (a task of
// an earlier run). running is true when the task has not ended.
func (s *Server) checkpointOf(taskID string) (cp *checkpoint.Task, running bool, err error) {
	if t := s.mgr.Get(taskID); t != nil {
		if cp := t.Checkpoint(); cp != nil {
			return cp, !t.State().Terminal(), nil
		}
	}
	var folders []string
	for _, f := range s.folderList() {
		folders = append(folders, f.Path)
	}
	cp, err = s.checkpoints.Find(taskID, folders)
	if err != nil {
		return nil, false, internalError("reading the checkpoints: %v", err)
	}
	if cp == nil {
		return nil, false, invalidParams("no checkpoint of task %q: it ran with review off, or its changes were accepted or dropped", taskID)
	}
	return cp, false, nil
}

// changesOf is claude/changes for a checkpoint: the files with changes
// still the task's, ranges in the files as they are now; what cannot be
// reviewed is named in uncovered with the reason.
func (s *Server) changesOf(ctx context.Context, taskID string, cp *checkpoint.Task) *lspext.ChangesParams {
	states, problems := review.States(ctx, cp, nil)
	ch := &lspext.ChangesParams{TaskID: taskID, Files: []lspext.FileChanges{}, Uncovered: append(cp.Manifest().Uncovered, s.problemNotes(problems)...)}
	for _, st := range states {
		if st.NotTheTasks {
			continue // every change of it was another task's
		}
		// A file whose hunks all changed since is listed without hunks: its
		// checkpoint is kept until it is accepted.
		ch.Files = append(ch.Files, st.Changes(s.editorURI(st.File.Path)))
	}
	return ch
}

// problemNotes are the sentences of uncovered for files that cannot be
// reviewed.
func (s *Server) problemNotes(problems []review.Problem) []string {
	var out []string
	for _, p := range problems {
		out = append(out, s.displayPath(p.Path)+" cannot be reviewed or reverted: "+p.Reason+".")
	}
	return out
}

// taskChanges sends claude/changes for a task that ended with a
// checkpoint, and returns it for the reply (nil when there is nothing).
// Files whose every change another task made are dropped from the
// checkpoint.
func (s *Server) taskChanges(ctx context.Context, out runner.Outcome) *lspext.ChangesParams {
	if out.Checkpoint == nil {
		return nil
	}
	s.waitUserSaves() // the saves the task's last carries found are in
	s.dropOthers(ctx, out.Checkpoint)
	ch := s.changesOf(ctx, out.TaskID, out.Checkpoint)
	if len(ch.Files) == 0 && len(ch.Uncovered) == 0 {
		return nil
	}
	s.notify(lspext.MethodChanges, ch)
	return ch
}

// dropOthers removes from a checkpoint the files nothing of whose change
// is the task's (other tasks' changes, merged: review.State.NotTheTasks).
func (s *Server) dropOthers(ctx context.Context, cp *checkpoint.Task) {
	reviewMu.Lock()
	defer reviewMu.Unlock()
	states, _ := review.States(ctx, cp, nil)
	drop := map[string]func(*checkpoint.File) bool{}
	for _, st := range states {
		if st.NotTheTasks {
			drop[st.File.Path] = func(*checkpoint.File) bool { return true }
		}
	}
	if len(drop) > 0 {
		if err := cp.Update(drop); err != nil {
			s.log.Warn("checkpoint not updated", zap.Error(err))
		}
	}
}

// changes is claude.changes.
func (s *Server) changes(ctx context.Context, a lspext.ChangesArgs) (*lspext.ChangesParams, error) {
	if a.TaskID == "" {
		return nil, invalidParams("claude.changes needs taskId")
	}
	s.waitUserSaves() // a save the editor sent before this request is in
	cp, _, err := s.checkpointOf(a.TaskID)
	if err != nil {
		return nil, err
	}
	return s.changesOf(ctx, a.TaskID, cp), nil
}

// selectFiles is the filter of a revert or accept: the file uri names (by
// identity), or every file.
func selectFiles(uri string) (func(checkpoint.File) bool, error) {
	if uri == "" {
		return nil, nil
	}
	path, err := fileuri.ToPath(uri)
	if err != nil {
		return nil, invalidParams("uri: %v", err)
	}
	key := pathid.Key(path)
	return func(f checkpoint.File) bool { return pathid.Key(f.Path) == key }, nil
}

// endedCheckpoint is the checkpoint a revert or accept works on (with
// reviewMu held): the task's, once it has ended, and the filter of uri.
func (s *Server) endedCheckpoint(cmd, taskID, uri string) (*checkpoint.Task, func(checkpoint.File) bool, error) {
	if taskID == "" {
		return nil, nil, invalidParams("%s needs taskId", cmd)
	}
	keep, err := selectFiles(uri)
	if err != nil {
		return nil, nil, err
	}
	cp, running, err := s.checkpointOf(taskID)
	if err != nil {
		return nil, nil, err
	}
	if running {
		return nil, nil, invalidParams("%s: task %q is still running: cancel it, or wait until it has ended", cmd, taskID)
	}
	return cp, keep, nil
}

// accept is claude.accept: the files' checkpoints are dropped.
func (s *Server) accept(ctx context.Context, a lspext.AcceptArgs) (*lspext.AcceptResult, error) {
	s.waitUserSaves() // a save the editor sent before this request is in
	reviewMu.Lock()
	defer reviewMu.Unlock()
	cp, keep, err := s.endedCheckpoint(lspext.CommandAccept, a.TaskID, a.URI)
	if err != nil {
		return nil, err
	}
	res := &lspext.AcceptResult{Accepted: []string{}}
	drop := map[string]func(*checkpoint.File) bool{}
	for _, f := range cp.Manifest().Files {
		if keep != nil && !keep(f) {
			continue
		}
		drop[f.Path] = func(*checkpoint.File) bool { return true }
		res.Accepted = append(res.Accepted, s.editorURI(f.Path))
	}
	if err := cp.Update(drop); err != nil {
		return nil, internalError("claude.accept: the checkpoint could not be updated: %s", cp.Why(err))
	}
	if len(cp.Manifest().Files) == 0 {
		if err := cp.Drop(); err != nil {
			s.log.Warn("checkpoint not dropped", zap.Error(err))
		}
	}
	return res, nil
}

// revertPlan is what a revert does to one file: computed first for every
// file, then written, deletions first (review.Phase).
type revertPlan struct {
	st     review.State
	r      review.Revert
	out    lspext.RevertedFile
	failed bool // the file could not be written
}

// revert is claude.revert.
func (s *Server) revert(ctx context.Context, a lspext.RevertArgs) (*lspext.RevertResult, error) {
	var want map[string]bool // nil: every hunk
	if a.Hunks != nil {
		want = map[string]bool{}
		for _, id := range a.Hunks {
			want[id] = true
		}
	}
	s.waitUserSaves() // a save the editor sent before this request is in
	reviewMu.Lock()
	defer reviewMu.Unlock()
	cp, keep, err := s.endedCheckpoint(lspext.CommandRevert, a.TaskID, a.URI)
	if err != nil {
		return nil, err
	}
	states, problems := review.States(ctx, cp, keep)
	var plans []*revertPlan
	for _, st := range states {
		if st.NotTheTasks {
			continue
		}
		var ids map[string]bool // nil: the whole file
		if want != nil {
			ids = map[string]bool{}
			prefix := fmt.Sprintf("f%dh", st.File.Index)
			for id := range want {
				if strings.HasPrefix(id, prefix) {
					ids[id] = true
				}
			}
			if len(ids) == 0 {
				continue // none of this file's hunks was named
			}
		}
		plans = append(plans, &revertPlan{st: st})
		plans[len(plans)-1].plan(ctx, s, ids)
	}
	// Files are independent: written a few at a time (mostly waiting on the
	// disk and the editor), what a revert deletes first.
	rs := make([]review.Revert, len(plans))
	for i, p := range plans {
		rs[i] = p.r
	}
	review.InPhases(rs, func(i int) { s.applyRevert(ctx, a.TaskID, plans[i]) })
	// Reported in path order, and recorded in the checkpoint at once.
	res := &lspext.RevertResult{Files: []lspext.RevertedFile{}}
	changes := map[string]func(*checkpoint.File) bool{}
	for _, p := range plans {
		res.Files = append(res.Files, p.out)
		if p.r.Changed && !p.failed {
			r := p.r
			changes[p.st.File.Path] = func(f *checkpoint.File) bool {
				f.Reverted = append(f.Reverted, r.Reverted...)
				return r.Restored
			}
		}
	}
	for _, pr := range problems {
		res.Files = append(res.Files, lspext.RevertedFile{URI: s.editorURI(pr.Path), Reverted: []string{}, NotReverted: []lspext.NotReverted{},
			Message: fmt.Sprintf("%s: not reverted: %s", s.displayPath(pr.Path), pr.Reason)})
	}
	if len(changes) > 0 {
		if err := cp.Update(changes); err != nil {
			s.log.Warn("checkpoint not updated", zap.Error(err))
		}
	}
	if want != nil {
		s.unknownHunks(res, want)
	}
	return res, nil
}

// plan computes the revert of the hunks ids of one file (nil: all of it),
// except those that overlap unsaved changes of an open buffer.
func (p *revertPlan) plan(ctx context.Context, s *Server, ids map[string]bool) {
	st := p.st
	p.out = lspext.RevertedFile{URI: s.editorURI(st.File.Path), Reverted: []string{}, NotReverted: []lspext.NotReverted{}}
	// A hunk that overlaps what the user typed and has not saved is left
	// alone: the buffer would get a conflict, and the disk a change the
	// buffer does not show.
	if !st.Whole() {
		if ids == nil {
			ids = map[string]bool{}
			for _, h := range st.Hunks {
				ids[h.ID] = true
			}
		}
		for _, busy := range s.unsavedOverlaps(ctx, st, ids) {
			delete(ids, busy.ID)
			p.out.NotReverted = append(p.out.NotReverted, busy)
		}
	}
	p.r = st.Revert(ids)
	p.out.NotReverted = append(p.out.NotReverted, p.r.NotReverted...)
	p.out.Reverted = append(p.out.Reverted, p.r.Reverted...)
	p.out.Restored = p.r.Restored
	p.out.Message = revertMessage(s.displayPath(st.File.Path), p.out, p.r)
}

// applyRevert writes a planned revert and carries it into the buffers.
func (s *Server) applyRevert(ctx context.Context, taskID string, p *revertPlan) {
	path, name := p.st.File.Path, s.displayPath(p.st.File.Path)
	if err := review.WriteFile(path, p.r.Content); err != nil {
		p.failed = true
		for _, id := range p.r.Reverted {
			p.out.NotReverted = append(p.out.NotReverted, lspext.NotReverted{ID: id, Reason: "the file could not be written: " + checkpoint.Unreadable(err)})
		}
		p.out.Reverted, p.out.Restored = []string{}, false
		p.out.Message = fmt.Sprintf("%s: not reverted: it could not be written: %s", name, checkpoint.Unreadable(err))
		return
	}
	if p.r.Content.IsLink() {
		return // no buffer shows a link itself
	}
	var after *string
	if p.r.Content.Exists {
		t := string(p.r.Content.Data)
		after = &t
	}
	if err := s.bufs.carrier.Carry(ctx, bufsync.Change{TaskID: taskID, Path: path, After: after, Label: "Claude: revert " + name}); err != nil {
		s.log.Warn("revert not carried into the buffer", zap.String("path", path), zap.Error(err))
	}
}

// revertMessage says what a revert did to a file, for a person.
func revertMessage(name string, out lspext.RevertedFile, r review.Revert) string {
	switch {
	case r.Reason != "":
		return fmt.Sprintf("%s: not reverted: %s", name, r.Reason)
	case r.Restored:
		return fmt.Sprintf("%s: restored as it was before the task", name)
	case r.Changed && len(out.Reverted) == 0:
		return fmt.Sprintf("%s: permissions put back", name)
	}
	return fmt.Sprintf("%s: %d %s reverted, %d not", name, len(out.Reverted), plural(len(out.Reverted), "hunk", "hunks"), len(out.NotReverted))
}

// unknownHunks reports hunk ids of the request that name no hunk of the
// task's (a typo, a hunk reverted before).
func (s *Server) unknownHunks(res *lspext.RevertResult, want map[string]bool) {
	seen := map[string]bool{}
	for _, f := range res.Files {
		for _, id := range f.Reverted {
			seen[id] = true
		}
		for _, n := range f.NotReverted {
			seen[n.ID] = true
		}
	}
	var unknown []string
	for id := range want {
		if !seen[id] {
			unknown = append(unknown, id)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		res.Files = append(res.Files, lspext.RevertedFile{URI: "", Reverted: []string{}, NotReverted: unknownEntries(unknown),
			Message: "no such hunk of the task's left to revert: " + strings.Join(unknown, ", ")})
	}
}

func unknownEntries(ids []string) []lspext.NotReverted {
	out := make([]lspext.NotReverted, len(ids))
	for i, id := range ids {
		out[i] = lspext.NotReverted{ID: id, Reason: "the task has no such hunk left to revert"}
	}
	return out
}

// unsavedOverlaps are the hunks (of ids) whose revert would collide with
// unsaved changes in a buffer open on the file: merged into the buffer on
// their own, they conflict.
func (s *Server) unsavedOverlaps(ctx context.Context, st review.State, ids map[string]bool) []lspext.NotReverted {
	docs, err := s.bufs.docs.Find(ctx, st.File.Path)
	if err != nil || len(docs) == 0 {
		return nil
	}
	var out []lspext.NotReverted
	for _, h := range st.Hunks {
		if !ids[h.ID] || !h.Intact || h.Note != "" {
			continue
		}
		reverted := st.RevertText(map[string]bool{h.ID: true})
		for _, d := range docs {
			if !d.Dirty || !d.HasBase {
				continue
			}
			theirs := textedit.ConvertLineEndings(reverted, textedit.LineEnding(d.Text))
			if _, conflicts := textedit.Merge3(d.Base, d.Text, theirs); len(conflicts) > 0 {
				out = append(out, lspext.NotReverted{ID: h.ID, Reason: fmt.Sprintf("overlaps your unsaved changes (%s of your buffer): save or undo them, then revert again", conflicts[0].Ours)})
				break
			}
		}
	}
	return out
}
