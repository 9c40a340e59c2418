// Package checkpoint keeps what the files a task changes were before the
// task changed them, so that the task can be reviewed and taken back (the
// review setting, README "Reviewing Claude's edits"), from the editor while
// the bridge runs and from a terminal after it is gone
// (`claude-bridge revert TASK`).
//
// A Task's checkpoint is a folder under the Store's directory
// (<state>/checkpoints/<key>/, mode 0700) holding a manifest
// (manifest.json: the task, its folder, and for each file its content
// before the task's first change and at the task's end) and the contents
// themselves, by SHA-256 (blobs/<sum>); every file is mode 0600 and written
// atomically (a temporary file renamed into place), so a crash leaves the
// last manifest whole.
//
// A file is captured the first time the task is about to change it: its
// file tools are caught before they write (Capture, from claude's
// PreToolUse hook), and every other change (a Bash `sed -i`, a formatter,
// new and deleted files) by comparing snapshots of the workspace folder
// taken before and after each Bash command (Snapshots, snapshot.go).
//
// Bounds: a file larger than MaxFile is not captured (the checkpoint says
// so in Uncovered), a task's contents past MaxTask are not either, and the
// Store drops ended checkpoints older than MaxAge, then the oldest ended
// ones while all of them together are larger than MaxTotal (Prune, run as
// each task begins).
package checkpoint

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/claude-bridge/claude-bridge/internal/saferead"
)

// Default bounds (Limits).
const (
	DefaultMaxFile  = 64 << 20  // one file's content
	DefaultMaxTask  = 256 << 20 // one task's contents together
	DefaultMaxTotal = 1 << 30   // every checkpoint together
	DefaultMaxAge   = 30 * 24 * time.Hour
)

// readTimeout bounds one capture's read of a file (a hung mount).
const readTimeout = 5 * time.Second

// Limits bound what the Store keeps; zero fields mean the defaults.
type Limits struct {
	MaxFile  int64
	MaxTask  int64
	MaxTotal int64
	MaxAge   time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxFile <= 0 {
		l.MaxFile = DefaultMaxFile
	}
	if l.MaxTask <= 0 {
		l.MaxTask = DefaultMaxTask
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultMaxTotal
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultMaxAge
	}
	return l
}

// Store is the bridge's checkpoints, under one directory. It is safe for
// concurrent use, by several bridges too (each checkpoint is written by
// the one task that owns it; Prune drops only ended ones).
type Store struct {
	dir    string
	limits Limits
}

// NewStore returns the Store under dir (<state>/checkpoints), created
// (0700) on first use.
func NewStore(dir string, limits Limits) *Store {
	return &Store{dir: dir, limits: limits.withDefaults()}
}

// Dir is the Store's directory.
func (s *Store) Dir() string { return s.dir }

// Manifest is a checkpoint's record (manifest.json).
type Manifest struct {
	// Version is the manifest's format (1).
	Version int `json:"version"`
	// TaskID is the task's id; Key names the checkpoint's folder (unique:
	// an id an editor chose may repeat across bridges).
	TaskID string `json:"taskId"`
	Key    string `json:"key"`
	// Workspace is the task's folder.
	Workspace string `json:"workspace"`
	// Review is the task's review mode.
	Review string `json:"review"`
	// Created and Ended are when the task began and ended (zero while it
	// runs).
	Created time.Time `json:"created"`
	Ended   time.Time `json:"ended,omitzero"`
	// Files are the files the task changed (or was about to), by path.
	Files []File `json:"files"`
	// Uncovered says what could not be checkpointed, one sentence each,
	// naming the files.
	Uncovered []string `json:"uncovered,omitempty"`
}

// File is one file of a checkpoint. What was at its path before the task
// is Before (a regular file, with Mode), Link (a symbolic link) or nothing
// (both ""); when the task ended, After, AfterLink or nothing.
type File struct {
	// Path is the file's absolute path, as claude named it (its real path).
	Path string `json:"path"`
	// Index is the file's place among the task's files when it ended (from
	// 1, in path order); its hunks are named after it (f<Index>h<n>), so
	// it stays when other files are accepted or reverted. 0 until Finish.
	Index int `json:"index,omitempty"`
	// Before is the SHA-256 of the file's content before the task's first
	// change; "" when there was no regular file.
	Before string `json:"before,omitempty"`
	// Mode is the file's permission bits before the task (0 when it did not
	// exist): a revert that creates it again gives it these, and a revert
	// of the whole file puts them back.
	Mode fs.FileMode `json:"mode,omitempty"`
	// Link is the target of the symbolic link that was at the path before
	// the task ("" when there was none).
	Link string `json:"link,omitempty"`
	// After is the SHA-256 of the file's content when the task ended; ""
	// when there was no regular file then. Set by Finish, with AfterMode
	// and AfterLink.
	After     string      `json:"after,omitempty"`
	AfterMode fs.FileMode `json:"afterMode,omitempty"`
	AfterLink string      `json:"afterLink,omitempty"`
	// Ended is true once After is known.
	Ended bool `json:"ended,omitempty"`
	// Reverted are the ids of the task's hunks of this file taken back
	// since (claude.revert).
	Reverted []string `json:"reverted,omitempty"`
	// Captured is when Before was read: changes other tasks made to the
	// file after it (Others) are not this task's.
	Captured time.Time `json:"captured,omitzero"`
	// Others are the changes other tasks running at the same time made to
	// the file after Captured (in the order they ended): what the file
	// went from Before to After through that is not this task's.
	Others []Other `json:"others,omitempty"`
}

// BeforeExists reports whether something was at the path before the task.
func (f File) BeforeExists() bool { return f.Before != "" || f.Link != "" }

// AfterExists reports whether something was at the path when the task
// ended.
func (f File) AfterExists() bool { return f.After != "" || f.AfterLink != "" }

// Other is a change another task made to a file of this task's while both
// ran (Write, as Finish recorded it).
type Other struct {
	// Task is the other task's id.
	Task string `json:"task"`
	// Before and After are the SHA-256 of the file's content before and
	// after the other task's change ("": no file). Empty with Unknown.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Unknown: what the other task changed is not known (a Bash command of
	// a task that keeps no snapshots ran while this task's did, or the
	// content was too large to keep): every change of this task's to the
	// file may be the other's.
	Unknown bool `json:"unknown,omitempty"`
	// Shared: the change was seen by both tasks' Bash commands running at
	// the same time, so it may be this task's as well as the other's.
	Shared bool `json:"shared,omitempty"`
	// User: the change is the user's own, saved in the editor while the
	// task ran (Task empty): never the task's.
	User bool `json:"user,omitempty"`
}

// Write is a change one task made to one file, as the runner saw it: a
// file tool's call (from its start to its result), or a file a Bash
// command changed (between the snapshots before and after it). Tasks tell
// each other their writes (Task.NoteOther), so that a task's checkpoint
// keeps out what another task running at the same time changed.
type Write struct {
	// Task is the id of the task that wrote.
	Task string
	// Path is the file; "" when the files are not known (a Bash command of
	// a task that keeps no snapshots: it may have changed any file).
	Path string
	// Bash: the change was found by comparing snapshots around a Bash
	// command, which sees every change made meanwhile (another task's
	// too); a file tool's change is the task's own for certain.
	Bash bool
	// Start and End bound the moment of the change.
	Start, End time.Time
	// User: the write is the user's, saved from the editor (Task is
	// empty): whatever it changed is not the task's (UserWrite).
	User bool
	// Before is what was at Path before the change; After returns what
	// was there after it (ok false: not known), called by Finish (a file
	// tool's result may still be being read when the write is noted).
	Before Content
	After  func() (c Content, ok bool)
}

// UserWrite is the write of a user who saved path in the editor at the
// moment at: the file went from before (what the editor knew the disk
// held; Exists false with ok false: not known) to after. It is noted with
// every running task's checkpoint (Task.NoteOther): a Bash command running
// meanwhile sees the change, which is not its task's.
func UserWrite(path string, at time.Time, before Content, beforeKnown bool, after Content) Write {
	w := Write{Path: path, User: true, Start: at, End: at, Before: before,
		After: func() (Content, bool) { return after, true }}
	if !beforeKnown {
		w.After = func() (Content, bool) { return Content{}, false }
	}
	return w
}

// maxOthers bounds the bytes of other tasks' writes a checkpoint keeps in
// memory while its task runs; past it they are kept without content (and
// taint the files they touch rather than fold into them).
const maxOthers = 64 << 20

// Task is one task's checkpoint. Its methods are safe for concurrent use.
type Task struct {
	store *Store
	dir   string // "" for a checkpoint that could not be begun (lost says why)

	mu         sync.Mutex // guards the fields below
	m          Manifest
	size       int64           // bytes of blobs written
	seen       map[string]bool // paths captured (or found unchangeable), by path
	others     []Write         // other tasks' writes while this task runs (NoteOther)
	othersSize int64           // bytes of Before contents in others
	own        []Write         // this task's own writes (NoteOwn)
	finishing  bool            // Finish has begun: writes noted now would be lost (NoteOther refuses them)
	lost       string          // why nothing more can be checkpointed ("" while it can)
	recreated  bool            // the checkpoint's folder was deleted while the task ran, and made again
	unsaved    bool            // the manifest could not be saved once (Uncovered says so)
}

// Begin starts the checkpoint of a task in workspace, dropping old ones
// first (Prune). When the checkpoint cannot be written (the state
// directory is full, read-only or gone) it returns a checkpoint that keeps
// nothing and says why in Uncovered, and the error.
func (s *Store) Begin(taskID, workspace, review string) (*Task, error) {
	s.Prune()
	now := time.Now().UTC()
	var r [3]byte
	_, _ = rand.Read(r[:])
	key := now.Format("20060102T150405.000") + "-" + hex.EncodeToString(r[:]) + "-" + SafeName(taskID)
	t := &Task{store: s, dir: filepath.Join(s.dir, key), seen: map[string]bool{},
		m: Manifest{Version: 1, TaskID: taskID, Key: key, Workspace: workspace, Review: review, Created: now, Files: []File{}}}
	err := os.MkdirAll(filepath.Join(t.dir, "blobs"), 0o700)
	if err == nil {
		err = t.saveLocked()
	}
	if err != nil {
		os.RemoveAll(t.dir)
		t.dir = ""
		t.lost = Problem(err, filepath.Dir(s.dir))
		t.m.Uncovered = []string{"Nothing this task changes is checkpointed, so its changes cannot be reviewed or reverted: " + t.lost + "."}
		return t, err
	}
	return t, nil
}

// Key is the checkpoint's name in the Store.
func (t *Task) Key() string { return t.m.Key }

// Manifest returns a copy of the checkpoint's record.
func (t *Task) Manifest() Manifest {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.m
	m.Files = append([]File(nil), t.m.Files...)
	m.Uncovered = append([]string(nil), t.m.Uncovered...)
	return m
}

// Captured reports whether path has been captured.
func (t *Task) Captured(path string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen[path]
}

// Capture records path as it is on disk now, unless it was captured
// before: the moment before the task's first change to it. A file that
// cannot be read (too large, not a regular file, a hung mount) is noted in
// Uncovered instead; an error says the checkpoint could not be written
// (Uncovered says so too).
func (t *Task) Capture(ctx context.Context, path string) error {
	if t.Captured(path) {
		return nil
	}
	at := time.Now()
	c, err := Read(ctx, path, t.store.limits.MaxFile)
	if err != nil {
		t.uncover(path, fmt.Sprintf("%s is not checkpointed: %s.", t.name(path), Unreadable(err)))
		return nil
	}
	return t.CaptureContent(path, c, at)
}

// Unreadable says why a file could not be read, without its path.
func Unreadable(err error) string {
	var nr *saferead.NotRegularError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nr):
		return nr.Error()
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// name is path as the user knows it: relative to the task's folder when it
// is in it.
func (t *Task) name(path string) string {
	if rel, err := filepath.Rel(t.m.Workspace, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// CaptureContent records c as path's content before the task's first
// change, read at the moment at, unless path was captured before. When it
// cannot be written the file is named in Uncovered with the reason, and
// the error returned.
func (t *Task) CaptureContent(path string, c Content, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[path] {
		return nil
	}
	if t.lost != "" {
		t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: %s.", t.name(path), t.lost))
		return nil
	}
	f := File{Path: path, Captured: at}
	switch {
	case c.IsLink():
		f.Link = c.Link
	case c.Exists:
		if int64(len(c.Data)) > t.store.limits.MaxFile {
			t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: it is larger than %d MiB.", t.name(path), t.store.limits.MaxFile>>20))
			return nil
		}
		if t.size+int64(len(c.Data)) > t.store.limits.MaxTask {
			t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: the task's checkpoint would pass %d MiB.", t.name(path), t.store.limits.MaxTask>>20))
			return nil
		}
		sum, err := t.putLocked(c.Data)
		if err != nil {
			t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: %s.", t.name(path), Problem(err, filepath.Dir(t.store.dir))))
			return err
		}
		f.Before, f.Mode = sum, c.Mode
	}
	t.seen[path] = true
	t.m.Files = append(t.m.Files, f)
	sort.Slice(t.m.Files, func(i, j int) bool { return t.m.Files[i].Path < t.m.Files[j].Path })
	return t.saveLocked()
}

// NoteOther records a write of another task (or the user's), made while
// this one runs. It reports false when the task is ending (Finish has
// begun) or has ended: the write is not kept (for a user's save,
// AddUserSave once Finish has returned).
func (t *Task) NoteOther(w Write) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finishing || !t.m.Ended.IsZero() {
		return false
	}
	if t.othersSize+int64(len(w.Before.Data)) > maxOthers {
		w.Before, w.After = Content{}, func() (Content, bool) { return Content{}, false }
	}
	t.othersSize += int64(len(w.Before.Data))
	t.others = append(t.others, w)
	return true
}

// AddUserSave records with the file at path of an ended checkpoint a save
// of the user's (from before to after) made while the task ran but known
// only since it ended (the editor's didSave came late), as Finish records
// the user's saves it knows (File.Others): the review takes the change out
// of the task's. The caller judges that the change is one the checkpoint
// lists as the task's (server/review State.Lists). It reports whether the
// file is in the checkpoint; an error says the manifest could not be
// saved.
func (t *Task) AddUserSave(path string, before, after Content) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.m.Files {
		f := &t.m.Files[i]
		if f.Path != path || !f.Ended {
			continue
		}
		o := Other{User: true}
		if err := t.putOtherLocked(&o, before, after); err != nil {
			return true, err
		}
		f.Others = append(f.Others, o)
		return true, t.saveLocked()
	}
	return false, nil
}

// NoteOwn records a write of this task's own (a file tool's call, a file
// one of its Bash commands changed): another task's Bash command that saw
// the same change at the same time is not taken for the other's.
func (t *Task) NoteOwn(w Write) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m.Ended.IsZero() {
		t.own = append(t.own, w)
	}
}

// Uncover notes something the checkpoint does not cover (once).
func (t *Task) Uncover(note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.uncoverLocked("", note)
}

func (t *Task) uncover(path, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.uncoverLocked(path, note)
}

func (t *Task) uncoverLocked(path, note string) {
	if path != "" {
		t.seen[path] = true
	}
	for _, n := range t.m.Uncovered {
		if n == note {
			return
		}
	}
	t.m.Uncovered = append(t.m.Uncovered, note)
	_ = t.saveLocked()
}

// Finish records what each captured file holds as the task ends, drops the
// files the task left as they were (or whose every change another task
// made), keeps with each file the changes other tasks made to it
// meanwhile, and marks the checkpoint ended. What cannot be recorded is
// named in Uncovered; an error says the manifest could not be saved.
func (t *Task) Finish(ctx context.Context) error {
	t.mu.Lock()
	files := append([]File(nil), t.m.Files...)
	others, own := t.others, t.own
	t.others, t.own = nil, nil
	t.finishing = true
	t.mu.Unlock()
	att := newAttribution(others, own)
	var kept []File
	for _, f := range files {
		now, err := Read(ctx, f.Path, t.store.limits.MaxFile)
		if err != nil {
			t.uncover("", fmt.Sprintf("%s could not be read when the task ended, so its changes cannot be reviewed: %s.", t.name(f.Path), Unreadable(err)))
			continue
		}
		f.AfterMode, f.AfterLink = now.Mode, now.Link
		if now.Exists && !now.IsLink() {
			f.After = sum(now.Data)
		}
		sel := att.of(f)
		before := Content{Exists: f.BeforeExists(), Link: f.Link, Mode: f.Mode}
		lost := false
		if f.Before != "" {
			// Gone (the checkpoint deleted while the task ran): the file is
			// kept, for the review to name it with the reason.
			before.Data, err = t.Content(f.Before)
			lost = err != nil
		}
		if !lost && !t.changedByTask(before, now, sel) {
			continue // unchanged (an edit the user rejected, a file put back), or only by others (the user's saves too)
		}
		if f.Others, err = t.keepOthers(sel); err == nil && f.After != "" && f.After != f.Before {
			t.mu.Lock()
			_, err = t.putLocked(now.Data)
			t.mu.Unlock()
		}
		if err != nil {
			t.uncover("", fmt.Sprintf("%s is not checkpointed as the task left it, so its changes cannot be reviewed: %s.", t.name(f.Path), Problem(err, filepath.Dir(t.store.dir))))
			continue
		}
		f.Ended = true
		f.Index = len(kept) + 1
		kept = append(kept, f)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if kept == nil {
		kept = []File{}
	}
	t.m.Files = kept
	t.m.Ended = time.Now().UTC()
	return t.saveLocked()
}

// changedByTask reports whether the task itself changed what went from
// before to now, given the changes others made meanwhile (sel): not when
// nothing changed, nor when others' changes, one after the other, explain
// all of it. (Changes of others that do not follow one another exactly are
// left to the review, which merges them: server/review.)
func (t *Task) changedByTask(before, now Content, sel []pendingOther) bool {
	base := before
	for _, o := range sel {
		if o.unknown || o.shared {
			return !before.Same(now) || before.Mode != now.Mode
		}
		if o.before.Same(base) {
			base = Content{Exists: o.after.Exists, Data: o.after.Data, Link: o.after.Link, Mode: base.Mode}
		}
	}
	modeChanged := before.Mode != 0 && now.Mode != 0 && before.Mode != now.Mode
	return !base.Same(now) || modeChanged
}

// keepOthers writes the contents of the others' changes and returns their
// records.
func (t *Task) keepOthers(sel []pendingOther) ([]Other, error) {
	var out []Other
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range sel {
		r := Other{Task: o.task, Unknown: o.unknown, Shared: o.shared, User: o.user}
		if !o.unknown {
			if err := t.putOtherLocked(&r, o.before, o.after); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// putOtherLocked writes the contents before and after of a change of
// another's and records them in o (a content that does not exist: "").
func (t *Task) putOtherLocked(o *Other, before, after Content) error {
	for _, c := range []struct {
		c   Content
		sum *string
	}{{before, &o.Before}, {after, &o.After}} {
		if !c.c.Exists {
			continue
		}
		s, err := t.putLocked(c.c.Data)
		if err != nil {
			return err
		}
		*c.sum = s
	}
	return nil
}

// lostBlob says why a content of the checkpoint cannot be read.
func (t *Task) lostBlob(err error) string {
	if missing(err) {
		return "its checkpoint was deleted (" + filepath.Join(t.store.dir, t.m.Key) + " is gone or incomplete)"
	}
	return Problem(err, filepath.Dir(t.store.dir))
}

// ContentError is Content's error: the checkpoint of a file cannot be read.
type ContentError struct {
	Key string
	Err error
}

func (e *ContentError) Error() string { return "checkpoint " + e.Key + ": " + e.Err.Error() }
func (e *ContentError) Unwrap() error { return e.Err }

// Content is the content a File's Before or After (or an Other's) names
// ("": none). A *ContentError when it cannot be read.
func (t *Task) Content(sum string) ([]byte, error) {
	if sum == "" {
		return nil, nil
	}
	if t.dir == "" {
		return nil, &ContentError{Key: t.m.Key, Err: fs.ErrNotExist}
	}
	b, err := os.ReadFile(filepath.Join(t.dir, "blobs", sum))
	if err != nil {
		return nil, &ContentError{Key: t.m.Key, Err: err}
	}
	return b, nil
}

// Why says in a person's words why a content could not be read (Content's
// error) or the checkpoint written.
func (t *Task) Why(err error) string { return t.lostBlob(err) }

// Update changes the records of files (by path: the function edits the
// record; remove true drops it: accepted, or every change taken back) and
// saves the manifest once. A checkpoint whose folder is gone (deleted
// under the bridge) is updated in memory only.
func (t *Task) Update(changes map[string]func(f *File) (remove bool)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.m.Files[:0]
	for _, f := range t.m.Files {
		if fn := changes[f.Path]; fn != nil && fn(&f) {
			continue
		}
		kept = append(kept, f)
	}
	t.m.Files = kept
	return t.saveLocked()
}

// Drop deletes the checkpoint (its task accepted, nothing left).
func (t *Task) Drop() error {
	if t.dir == "" {
		return nil
	}
	return os.RemoveAll(t.dir)
}

func (t *Task) putLocked(data []byte) (string, error) {
	if t.dir == "" {
		return "", errors.New("the checkpoint could not be begun")
	}
	s := sum(data)
	path := filepath.Join(t.dir, "blobs", s)
	if _, err := os.Stat(path); err == nil {
		return s, nil
	}
	err := WriteAtomic(path, data, 0o600)
	if missing(err) && t.remakeLocked() {
		err = WriteAtomic(path, data, 0o600)
	}
	if err != nil {
		return "", err
	}
	t.size += int64(len(data))
	return s, nil
}

// remakeLocked makes the checkpoint's folder again when it was deleted
// while the task runs (by a command of the task's, by hand), saying in
// Uncovered which files' checkpoints were lost with it. false when it is
// not to be made again (the task ended: the checkpoint was dropped) or
// cannot be.
func (t *Task) remakeLocked() bool {
	if t.dir == "" || !t.m.Ended.IsZero() {
		return false
	}
	if _, err := os.Stat(filepath.Join(t.dir, "blobs")); err == nil {
		return false // it is there: the error was something else
	}
	if err := os.MkdirAll(filepath.Join(t.dir, "blobs"), 0o700); err != nil {
		return false
	}
	if !t.recreated {
		t.recreated = true
		var lost []string
		for _, f := range t.m.Files {
			if f.Before != "" {
				lost = append(lost, t.name(f.Path))
			}
		}
		note := "The task's checkpoint was deleted while it ran (" + filepath.Join(t.store.dir, t.m.Key) + "); it was made again for the files changed after that"
		if len(lost) > 0 {
			note += ", but what " + strings.Join(lost, ", ") + " held before the task is lost (not revertible)"
		}
		t.m.Uncovered = append(t.m.Uncovered, note+".")
	}
	return true
}

func (t *Task) saveLocked() error {
	if t.dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(t.m, "", " ")
	if err != nil {
		return err
	}
	path := filepath.Join(t.dir, "manifest.json")
	err = WriteAtomic(path, b, 0o600)
	if missing(err) {
		if !t.remakeLocked() {
			return nil // dropped, or deleted after the task ended: nothing to save into
		}
		if b, err = json.MarshalIndent(t.m, "", " "); err == nil {
			err = WriteAtomic(path, b, 0o600)
		}
	}
	if err != nil && !t.unsaved {
		// The record in memory still serves this bridge.
		t.unsaved = true
		t.m.Uncovered = append(t.m.Uncovered, "The task's checkpoint could not be saved ("+Problem(err, filepath.Dir(t.store.dir))+
			"): its changes can be reviewed and reverted only until the bridge exits.")
	}
	return err
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Find returns the newest checkpoint of taskID whose workspace is one of
// workspaces (any, when workspaces is empty); nil when there is none.
func (s *Store) Find(taskID string, workspaces []string) (*Task, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	suffix := "-" + SafeName(taskID)
	for i := len(entries) - 1; i >= 0; i-- { // names start with the time: newest last
		name := entries[i].Name()
		if !strings.HasSuffix(name, suffix) {
			continue
		}
		t, err := s.open(name)
		if err != nil || t.m.TaskID != taskID {
			continue
		}
		if len(workspaces) == 0 {
			return t, nil
		}
		for _, w := range workspaces {
			if w == t.m.Workspace {
				return t, nil
			}
		}
	}
	return nil, nil
}

// Taken returns a function that reports whether a checkpoint of a task
// with a given id (or an id of the same file name, SafeName) is in the
// Store, as it is now: a bridge gives its new tasks ids no checkpoint on
// disk has, so that `claude-bridge revert t3` and claude.changes find the
// task meant, whichever run it was.
func (s *Store) Taken() func(taskID string) bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		// <time>-<hex>-<SafeName(task id)>; the time has no '-'.
		if parts := strings.SplitN(e.Name(), "-", 3); len(parts) == 3 {
			names[parts[2]] = true
		}
	}
	return func(taskID string) bool { return names[SafeName(taskID)] }
}

// open loads a checkpoint.
func (s *Store) open(key string) (*Task, error) {
	dir := filepath.Join(s.dir, key)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	t := &Task{store: s, dir: dir, seen: map[string]bool{}}
	if err := json.Unmarshal(b, &t.m); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	for _, f := range t.m.Files {
		t.seen[f.Path] = true
	}
	return t, nil
}

// Prune drops ended checkpoints older than MaxAge, then the oldest ended
// ones while all checkpoints together are larger than MaxTotal. A
// checkpoint still being written (its task runs, here or in another
// bridge) is never dropped.
func (s *Store) Prune() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	type cp struct {
		dir   string
		size  int64
		ended time.Time
	}
	var all []cp
	var total int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(s.dir, e.Name())
		var m Manifest
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			// No manifest: a checkpoint being created, or a broken one;
			// drop it only when it has been left for a day.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
				os.RemoveAll(dir)
			}
			continue
		}
		size := dirSize(dir)
		total += size
		if m.Ended.IsZero() {
			continue
		}
		if time.Since(m.Ended) > s.limits.MaxAge || len(m.Files) == 0 {
			os.RemoveAll(dir)
			total -= size
			continue
		}
		all = append(all, cp{dir, size, m.Ended})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ended.Before(all[j].ended) })
	for _, c := range all {
		if total <= s.limits.MaxTotal {
			break
		}
		os.RemoveAll(c.dir)
		total -= c.size
	}
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// SafeName keeps letters, digits, '-', '_' and '.' of s, the others
// turned into '_' (a task or tool use id in a file name).
func SafeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// WriteAtomic writes data to path through a temporary file in the same
// directory, renamed over path: a reader sees the old content or the new,
// never part of it. The file gets perm exactly. (No fsync: as editors save;
// it would cost a revert of many files most of its time.)
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
