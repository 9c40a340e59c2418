package server

import (
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/pathid"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/review"
)

// The user's saves and the tasks' checkpoints (issue 13). A save is the
// user's own change of a file, never a task's: the running tasks keep it
// with their checkpoints as it comes (runner.Manager.NoteUserWrite), so
// that a Bash command that saw it does not take it for its own. A save
// reaches the bridge by the editor's didSave, or earlier, when a carry
// finds the editor's write on disk (bufsync.UserSaved). One made while a
// task ran can reach it only as the task ends, or after (a didSave that
// came late): it is folded into the ended task's checkpoint when that
// lists the change as the task's (review.State.Lists,
// checkpoint.Task.AddUserSave).

// userSaves orders those late folds with what reads the checkpoints.
// The folds run on goroutines of their own: a didSave on the read loop
// must not wait on the disk, and a carry that finds a save holds its
// document's edit lock, which a revert (holding reviewMu) may be waiting
// for. claude.changes, claude.revert, claude.accept and a task's reply
// wait for the folds started before them (wait), so that they see every
// save the bridge had received.
type userSaves struct {
	mu      sync.Mutex // guards pending and idle
	pending int        // folds running
	idle    *sync.Cond // broadcast when pending drops to 0 (on mu)
}

func (u *userSaves) add() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pending++
}

func (u *userSaves) done() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pending--
	if u.pending == 0 && u.idle != nil {
		u.idle.Broadcast()
	}
}

// wait returns once no fold runs.
func (u *userSaves) wait() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.idle == nil {
		u.idle = sync.NewCond(&u.mu)
	}
	for u.pending > 0 {
		u.idle.Wait()
	}
}

// noteUserSave hands the user's save w to the tasks. fromBuffer: the
// saved text is the editor's buffer (a didSave without text, or with the
// buffer's; a write a carry found): only such a save is folded into an
// ended task's checkpoint. A task whose checkpoint is being finished
// keeps it until it is (taskView.holdSave); into those of the others
// that have ended it is folded on a goroutine (userSaves).
func (s *Server) noteUserSave(w checkpoint.Write, fromBuffer bool) {
	ended := s.mgr.NoteUserWrite(w)
	if !fromBuffer || len(ended) == 0 {
		return
	}
	var now []*checkpoint.Task
	for id, cp := range ended {
		s.mu.Lock()
		v := s.tasks[id]
		s.mu.Unlock()
		if v != nil && v.holdSave(w) {
			continue
		}
		now = append(now, cp)
	}
	if len(now) == 0 {
		return
	}
	s.saves.add()
	go func() { // owned by the server; ends with the folds (reads bounded by DefaultReadTimeout)
		defer s.saves.done()
		for _, cp := range now {
			s.foldUserSave(cp, w)
		}
	}()
}

// foldUserSave folds the user's save w into the ended checkpoint cp, in
// each of its files w's file is (by identity), when the file lists w's
// change as the task's.
func (s *Server) foldUserSave(cp *checkpoint.Task, w checkpoint.Write) {
	after, ok := w.After()
	if !ok || !w.Before.Exists {
		return
	}
	ctx, cancel := context.WithTimeout(s.connCtx, documents.DefaultReadTimeout)
	defer cancel()
	if !writtenBy(ctx, w.Path, cp.Manifest().Ended) {
		return
	}
	reviewMu.Lock()
	defer reviewMu.Unlock()
	key := ""
	states, _ := review.States(ctx, cp, func(f checkpoint.File) bool {
		if !f.Ended {
			return false
		}
		if f.Path == w.Path {
			return true
		}
		if key == "" {
			key = pathid.Key(w.Path)
		}
		return pathid.Key(f.Path) == key
	})
	for _, st := range states {
		if !st.Lists(w.Before, after) {
			continue
		}
		if _, err := cp.AddUserSave(st.File.Path, w.Before, after); err != nil {
			s.log.Warn("the user's save not recorded with the task's checkpoint", zap.String("path", st.File.Path), zap.Error(err))
		}
	}
}

// writtenBy reports whether the file at path was last written no later
// than end (a checkpoint's end): its modification time, read now, is that
// of the save being folded or of a later write of the file. Only a save
// whose write happened while the task ran belongs in its checkpoint; one
// made after the task ended is never folded, even when it happens to
// equal the task's change (the user put back the task's line after
// undoing it). A later write hides an earlier save whose didSave is late
// (the save is then not folded: the task keeps the change, as it would
// without the fold), and the file system's clock may lag the bridge's by a
// tick (a save within a few milliseconds after the end may count as
// before it). A file that cannot be stat'ed is not folded.
func writtenBy(ctx context.Context, path string, end time.Time) bool {
	if end.IsZero() {
		return false
	}
	var fi os.FileInfo
	var err error
	if ferr := fsbound.Do(ctx, path, func() { fi, err = os.Stat(path) }); ferr != nil || err != nil {
		return false
	}
	return !fi.ModTime().After(end)
}

// waitUserSaves waits for the folds of saves already received.
func (s *Server) waitUserSaves() { s.saves.wait() }

// holdSave keeps the user's save w until the task's checkpoint is
// finished (checkpointFinished), and reports whether it did: false once it
// is.
func (v *taskView) holdSave(w checkpoint.Write) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ckptDone {
		return false
	}
	v.lateSaves = append(v.lateSaves, w)
	return true
}

// checkpointFinished folds into the task's finished checkpoint cp the
// saves held for it; later ones are folded as they come.
func (v *taskView) checkpointFinished(cp *checkpoint.Task) {
	v.mu.Lock()
	v.ckptDone = true
	held := v.lateSaves
	v.lateSaves = nil
	v.mu.Unlock()
	if cp == nil {
		return
	}
	for _, w := range held {
		v.s.foldUserSave(cp, w)
	}
}
