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
	// task ids repeat across bridges).
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
	// Uncovered says what could not be checkpointed, one sentence each.
	Uncovered []string `json:"uncovered,omitempty"`
}

// File is one file of a checkpoint.
type File struct {
	// Path is the file's absolute path, as claude named it (its real path).
	Path string `json:"path"`
	// Index is the file's place among the task's files when it ended (from
	// 1, in path order); its hunks are named after it (f<Index>h<n>), so
	// it stays when other files are accepted or reverted. 0 until Finish.
	Index int `json:"index,omitempty"`
	// Before is the SHA-256 of the file's content before the task's first
	// change; "" when the file did not exist.
	Before string `json:"before,omitempty"`
	// Mode is the file's permission bits before the task (0 when it did not
	// exist): a revert that creates it again gives it these.
	Mode fs.FileMode `json:"mode,omitempty"`
	// After is the SHA-256 of the file's content when the task ended; ""
	// when it did not exist then. Set by Finish.
	After string `json:"after,omitempty"`
	// Ended is true once After is known.
	Ended bool `json:"ended,omitempty"`
	// Reverted are the ids of the task's hunks of this file taken back
	// since (claude.revert).
	Reverted []string `json:"reverted,omitempty"`
}

// Task is one task's checkpoint. Its methods are safe for concurrent use.
type Task struct {
	store *Store
	dir   string

	mu   sync.Mutex // guards m, size and seen
	m    Manifest
	size int64           // bytes of blobs written
	seen map[string]bool // paths captured (or found unchangeable), by path
}

// Begin starts the checkpoint of a task in workspace, dropping old ones
// first (Prune).
func (s *Store) Begin(taskID, workspace, review string) (*Task, error) {
	s.Prune()
	now := time.Now().UTC()
	var r [3]byte
	_, _ = rand.Read(r[:])
	key := now.Format("20060102T150405.000") + "-" + hex.EncodeToString(r[:]) + "-" + SafeName(taskID)
	t := &Task{store: s, dir: filepath.Join(s.dir, key), seen: map[string]bool{},
		m: Manifest{Version: 1, TaskID: taskID, Key: key, Workspace: workspace, Review: review, Created: now, Files: []File{}}}
	if err := os.MkdirAll(filepath.Join(t.dir, "blobs"), 0o700); err != nil {
		return nil, err
	}
	if err := t.saveLocked(); err != nil {
		return nil, err
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
// Uncovered instead; only a failure to write the checkpoint is an error.
func (t *Task) Capture(ctx context.Context, path string) error {
	if t.Captured(path) {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	data, err := saferead.Read(rctx, path, t.store.limits.MaxFile)
	cancel()
	var mode fs.FileMode
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return t.CaptureContent(path, false, nil, 0)
	case err != nil:
		t.uncover(path, fmt.Sprintf("%s is not checkpointed: %v.", path, err))
		return nil
	}
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return t.CaptureContent(path, true, data, mode)
}

// CaptureContent records data (exists false: no file) as path's content
// before the task's first change, unless path was captured before.
func (t *Task) CaptureContent(path string, exists bool, data []byte, mode fs.FileMode) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[path] {
		return nil
	}
	f := File{Path: path}
	if exists {
		if int64(len(data)) > t.store.limits.MaxFile {
			t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: it is larger than %d MiB.", path, t.store.limits.MaxFile>>20))
			return nil
		}
		if t.size+int64(len(data)) > t.store.limits.MaxTask {
			t.uncoverLocked(path, fmt.Sprintf("%s is not checkpointed: the task's checkpoint would pass %d MiB.", path, t.store.limits.MaxTask>>20))
			return nil
		}
		sum, err := t.putLocked(data)
		if err != nil {
			return err
		}
		f.Before, f.Mode = sum, mode
	}
	t.seen[path] = true
	t.m.Files = append(t.m.Files, f)
	sort.Slice(t.m.Files, func(i, j int) bool { return t.m.Files[i].Path < t.m.Files[j].Path })
	return t.saveLocked()
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
// files the task left as they were, and marks the checkpoint ended.
func (t *Task) Finish(ctx context.Context) error {
	t.mu.Lock()
	files := append([]File(nil), t.m.Files...)
	t.mu.Unlock()
	var kept []File
	for _, f := range files {
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		data, err := saferead.Read(rctx, f.Path, t.store.limits.MaxFile)
		cancel()
		after := ""
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			t.uncover("", fmt.Sprintf("%s could not be read when the task ended: %v.", f.Path, err))
			continue
		default:
			after = sum(data)
			if after != f.Before {
				t.mu.Lock()
				_, err = t.putLocked(data)
				t.mu.Unlock()
				if err != nil {
					return err
				}
			}
		}
		if after == f.Before {
			continue // unchanged (an edit the user rejected, a file put back)
		}
		f.After, f.Ended = after, true
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

// Content is the content a File's Before or After names ("" : none).
func (t *Task) Content(sum string) ([]byte, error) {
	if sum == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(t.dir, "blobs", sum))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", t.m.Key, err)
	}
	return b, nil
}

// Update changes the records of files (by path: the function edits the
// record; remove true drops it: accepted, or every change taken back) and
// saves the manifest once.
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
func (t *Task) Drop() error { return os.RemoveAll(t.dir) }

func (t *Task) putLocked(data []byte) (string, error) {
	s := sum(data)
	path := filepath.Join(t.dir, "blobs", s)
	if _, err := os.Stat(path); err == nil {
		return s, nil
	}
	if err := WriteAtomic(path, data, 0o600); err != nil {
		return "", err
	}
	t.size += int64(len(data))
	return s, nil
}

func (t *Task) saveLocked() error {
	b, err := json.MarshalIndent(t.m, "", " ")
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(t.dir, "manifest.json"), b, 0o600)
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
