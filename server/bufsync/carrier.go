// Package bufsync carries changes of files on disk (made by the claude CLI,
// which writes files itself) into the editor buffers open on those files, as
// small workspace/applyEdit edits merged with the user's unsaved changes,
// never overwriting a keystroke: when the agent's change and the user's
// overlap, the buffer is left alone and the conflict is reported.
//
// Carrier does the carrying for one change; Watcher notices changes made by
// other means (a Bash command such as sed -i) while tasks run, and hands them
// to the Carrier.
package bufsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Change is one change of a file on disk.
//
// It carries no "before" text on purpose: claude's tool_use_result
// originalFile is not a copy of the file (2.1.332 reports it with LF line
// breaks for a CRLF file), and the bridge merges from a base it read itself
// (documents.Doc.Base), which is also right when the file changed by other
// means just before.
type Change struct {
	TaskID string
	Path   string // absolute, in any spelling of the file (claude reports real paths)
	// After is the file's content on disk right after the change, byte for
	// byte; nil: the file was deleted.
	After *string
	// Unread: the file could not be read right after the change (After is
	// nil): the Carrier reads it itself.
	Unread bool
	Label  string // the undo label: "Claude: Edit server/main.go"
	// Reviewed, when set, is what the user accepted in a review of their
	// buffer (review beforeWrite over unsaved changes that touch claude's
	// lines): the buffer gets Accepted, not the disk's change merged in.
	Reviewed *Reviewed
}

// Reviewed is a buffer's text as a review showed it and as the user
// accepted it, both in the buffer's representation.
type Reviewed struct {
	Shown, Accepted string
}

// Client is the editor connection: workspace/applyEdit.
type Client interface {
	ApplyEdit(ctx context.Context, params *protocol.ApplyWorkspaceEditParams) (applied bool, failureReason string, err error)
}

// Capabilities are what the editor said it can do with edits, in the
// workspace capabilities of its initialize request.
type Capabilities struct {
	// ApplyEdit (workspace.applyEdit): without it the bridge sends no edits,
	// and says once that files change on disk only.
	ApplyEdit bool
	// DocumentChanges (workspace.workspaceEdit.documentChanges): versioned
	// edits, which an editor refuses when the buffer moved on. Without it the
	// edit goes as WorkspaceEdit.changes, which clients such as vim-lsc and
	// Neovim's stock client (0.7 to 0.11 do not advertise documentChanges)
	// apply without a version check.
	DocumentChanges bool
	// VersionsChecked: the editor refuses (applied=false) a versioned edit
	// for another version than its buffer's, so applied=true means the edit
	// is in. True for VS Code and the bridge's Neovim plugin (which says so
	// with experimental.claudeBridge.checksEditVersions); false for
	// Neovim's own client, which answers applied=true for an edit it skipped
	// as older than its buffer and never checks an edit for version 0, the
	// version of every freshly opened buffer (0.7.2,
	// util.apply_text_document_edit: `version > 0 and buf_versions[bufnr] >
	// version`). Without it, an edit whose landing the bridge cannot tell
	// from the editor's didChange is reported as possibly not carried.
	VersionsChecked bool
	// Editor: how the editor represents a file in its buffer (Neovim's
	// final line break, see documents.NeovimText) and counts the lines of a
	// position (documents.Editor.Breaks).
	Editor documents.Editor
}

// ClientCapabilities returns the Capabilities of an editor from what its
// initialize request says: workspace.applyEdit,
// workspace.workspaceEdit.documentChanges, clientInfo.name, and whether it
// is the bridge's Neovim plugin (experimental.claudeBridge.checksEditVersions).
func ClientCapabilities(applyEdit, documentChanges bool, clientName string, checksEditVersions bool) Capabilities {
	checked := documentChanges
	if clientName == "Neovim" && !checksEditVersions {
		checked = false
	}
	return Capabilities{ApplyEdit: applyEdit, DocumentChanges: documentChanges, VersionsChecked: checked,
		Editor: documents.EditorNamed(clientName)}
}

// Reporter is told what happened to each change that concerned an open
// document. It is called with the document's edit lock held: it must not call
// back into the Carrier for the same document.
type Reporter interface {
	// Conflict: the change did not reach the buffer (it overlapped unsaved
	// changes, or the editor refused or failed to apply it), and the buffer
	// was left as it was; message names the file and says what to do.
	Conflict(taskID, uri, message string)
	// Deleted: the file was deleted on disk; the buffer was left untouched.
	Deleted(taskID, uri string)
	// Carried: the change is now in the buffer (its didChange showed it).
	Carried(taskID, uri, label string)
	// Reload: the file changed on disk in a way the bridge cannot carry
	// into the buffer (it cannot decode or read the file, or the editor takes
	// no edits); the editor must reload it. show is true when the user
	// should be told now (once per document until it is saved or reopened);
	// otherwise the task's own report is enough.
	Reload(taskID, uri, message string, show bool)
}

// Carrier carries changes into open buffers. Changes to one document are
// serialized (each is computed against the buffer the previous one left);
// changes to different documents proceed in parallel.
//
// The exported fields tune it; set them before the first Carry.
type Carrier struct {
	// ChangeWait is how long a carry waits, after an applied edit, for the
	// editor's didChange before it lets the task's next change go ahead
	// (Neovim debounces didChange by 150 ms): the document's edit lock stays
	// held, and the edit is judged by the buffer its didChange reports
	// whenever that comes, until the task's carries end (Wait; the context
	// given to Carry).
	ChangeWait time.Duration
	// LateWait bounds that wait for a late didChange once another change
	// of the same document waits for its edit lock: past it the editor is
	// taken not to have changed the buffer (it answered applied=true and
	// lied, or lost the edit), the edit is reported, and the next change
	// goes on from the buffer the editor reports.
	LateWait time.Duration
	// RetryWait bounds the wait, after the editor refused an edit, for the
	// didChange that made our version stale.
	RetryWait time.Duration
	// ApplyTimeout bounds one workspace/applyEdit request.
	ApplyTimeout time.Duration
	// ReadTimeout bounds a read of a file the Watcher noticed changing.
	ReadTimeout time.Duration
	// MaxAttempts is how many edits one change may send before giving up and
	// reporting a conflict.
	MaxAttempts int
	// Display turns an absolute path into the name used in messages and
	// labels (say, relative to its workspace folder). Nil: the path itself.
	Display func(path string) string
	// Saved, when set, is told of a save of the user's that the Watcher
	// found on disk (UserSaved): doc is the document as it was, its Disk
	// what the bridge knew the file held before, its Text the buffer the
	// editor wrote. It is called with the document's edit lock held,
	// before anything of the change is carried, and must not call back
	// into the Carrier; the store has not recorded the save yet.
	Saved func(taskID string, doc documents.Doc)

	docs   *documents.Store
	client Client
	report Reporter
	log    *zap.Logger

	mu              sync.Mutex // guards locks, caps, toldNoApplyEdit, work
	locks           map[protocol.DocumentURI]*docLock
	caps            Capabilities
	toldNoApplyEdit bool
	work            map[string]*sync.WaitGroup // task → its carries still running (Wait)
}

// docLock serializes the edits of one document. It is a channel rather than a
// mutex so that waiting for it honours a context; refs lets the map entry go
// away when nobody holds or waits for it.
type docLock struct {
	ch   chan struct{}
	refs int // holders and waiters (guarded by Carrier.mu, as is wanted)
	// wanted is closed when a carry waits for the lock while it is held
	// (a detached carry then stops waiting for a late didChange); a new
	// one comes with each taking.
	wanted chan struct{}
}

// want closes wanted, once. Called with Carrier.mu held.
func (l *docLock) want() {
	select {
	case <-l.wanted:
	default:
		close(l.wanted)
	}
}

// NewCarrier returns a Carrier with the default tuning: ChangeWait 2 s,
// LateWait 2 s, RetryWait 1 s, ApplyTimeout 10 s, ReadTimeout 5 s, MaxAttempts 3, and an
// editor that applies versioned edits (and checks their version) until
// SetCapabilities says otherwise.
func NewCarrier(docs *documents.Store, client Client, reporter Reporter, logger *zap.Logger) *Carrier {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Carrier{
		ChangeWait:   2 * time.Second,
		LateWait:     2 * time.Second,
		RetryWait:    time.Second,
		ApplyTimeout: 10 * time.Second,
		ReadTimeout:  documents.DefaultReadTimeout,
		MaxAttempts:  3,
		docs:         docs,
		client:       client,
		report:       reporter,
		log:          logger,
		locks:        map[protocol.DocumentURI]*docLock{},
		caps:         Capabilities{ApplyEdit: true, DocumentChanges: true, VersionsChecked: true},
		work:         map[string]*sync.WaitGroup{},
	}
}

// SetCapabilities records what the editor can do with edits (from its
// initialize request); it applies to the carries that start afterwards.
func (c *Carrier) SetCapabilities(caps Capabilities) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caps = caps
	c.docs.SetEditor(caps.Editor)
}

func (c *Carrier) capabilities() Capabilities {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caps
}

// Carry brings one change of a file into every buffer open on it (a file
// open under two names has two), and records After as the file's content on
// disk. It returns an error only when ctx ended; everything else goes to
// the Reporter, and so does every buffer the change did not reach because
// ctx ended (the task's time to carry its changes ran out).
//
// A change whose content could not be read after it (Change.Unread) is
// carried from what the disk holds now, read the bounded way.
func (c *Carrier) Carry(ctx context.Context, ch Change) error {
	if ch.Unread {
		_, err := c.carryFromDisk(ctx, ch.TaskID, ch.Path, ch.Label, fromDisk{})
		return err
	}
	docs, err := c.docs.Find(ctx, ch.Path)
	if err != nil {
		c.dropped(ch.TaskID, ch.Path, nil)
		return err
	}
	disk := documents.NoFile()
	if ch.After != nil {
		disk = documents.DiskOf([]byte(*ch.After))
	}
	for i, d := range docs {
		err := c.carryDoc(ctx, ch.TaskID, d.URI, func(detach func() <-chan struct{}) error {
			doc, err := c.docs.WaitLoaded(ctx, d.URI)
			if err != nil {
				return ignoreNotOpen(err)
			}
			if disk.Same(doc.Disk) {
				// Known already: the buffer was opened (or reloaded by the
				// editor, or the change carried by the Watcher) after the
				// file changed. If it holds the change, say so.
				if t, ok := c.docs.EditorText(disk, doc.Text); ok && t == doc.Text && doc.Reopened {
					c.report.Carried(ch.TaskID, string(d.URI), ch.Label)
				}
				return nil
			}
			_, err = c.carryLocked(ctx, doc, ch.TaskID, disk, ch.Label, false, detach, ch.Reviewed)
			return err
		})
		if err != nil {
			c.dropped(ch.TaskID, ch.Path, docs[i:])
			return err
		}
	}
	return nil
}

// fromDisk says how carryFromDisk treats what it finds.
type fromDisk struct {
	// provisional: the file may still be changing (the Watcher saw it
	// quiet for a moment only). A state that looks transient (the file
	// empty or gone) or that would conflict with the user's unsaved changes
	// is left alone (held), to be judged when the file has settled.
	provisional bool
	// skip reports, with the document's edit lock held and the file read,
	// whether another carry will bring this change (a file tool's result).
	skip func(documents.Doc) bool
	// quiet: a file that cannot be read is only logged, not reported (the
	// task's end looks at every open document, changed or not).
	quiet bool
	// saves: the change was found on disk, not reported by a tool, so it
	// may hold a save of the user's (UserSaved): Carrier.Saved is told,
	// and the store records the save, before the rest is carried.
	saves bool
}

// errHeld: a provisional carry left the change alone (see fromDisk).
var errHeld = errors.New("bufsync: change held until the file settles")

// carryFromDisk carries whatever the file at path holds now into the
// buffers open on it whose last known disk content differs, labelled label
// ("" for "Claude: <file> changed on disk"). The comparison is made with
// each document's edit lock held, so a change Carry has just carried (it
// records After as the disk content first) is recognised and skipped.
// held is true when a provisional carry held a change back, or skip said
// so.
func (c *Carrier) carryFromDisk(ctx context.Context, taskID, path, label string, how fromDisk) (held bool, err error) {
	docs, err := c.docs.Find(ctx, path)
	if err != nil {
		c.dropped(taskID, path, nil)
		return false, err
	}
	for i, d := range docs {
		err := c.carryDoc(ctx, taskID, d.URI, func(detach func() <-chan struct{}) error {
			doc, err := c.docs.WaitLoaded(ctx, d.URI)
			if err != nil {
				return ignoreNotOpen(err)
			}
			rctx, cancel := context.WithTimeout(ctx, c.ReadTimeout)
			disk, rerr := documents.ReadDisk(rctx, doc.Path)
			cancel()
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case rerr != nil || !disk.Known:
				c.log.Warn("cannot read a changed file", zap.String("path", doc.Path), zap.String("problem", disk.Problem))
				if !how.quiet {
					c.reload(taskID, doc, fmt.Sprintf("%s may have changed on disk, but the bridge cannot read it to carry the change into your buffer: %s. Reload it in the editor once it can be read.", c.display(doc.Path), disk.Problem))
				}
				return nil
			case disk.Same(doc.Disk):
				return nil
			case how.skip != nil && how.skip(doc):
				held = true
				return nil
			}
			if how.saves && UserSaved(c.docs.Editor(), doc, disk) {
				// The editor wrote the buffer (its didSave may come
				// later): the user's save, then whatever else changed the
				// file, carried from the saved text.
				if c.Saved != nil {
					c.Saved(taskID, doc)
				}
				c.docs.Saved(doc.URI, &doc.Text)
				if doc, err = c.docs.WaitLoaded(ctx, d.URI); err != nil {
					return ignoreNotOpen(err)
				}
				if disk.Same(doc.Disk) {
					return nil
				}
			}
			l := label
			if l == "" {
				l = "Claude: " + c.display(doc.Path) + " changed on disk"
			}
			h, err := c.carryLocked(ctx, doc, taskID, disk, l, how.provisional, detach, nil)
			held = held || h
			return err
		})
		if err != nil {
			c.dropped(taskID, path, docs[i:])
			return held, err
		}
	}
	return held, nil
}

// UserSaved reports whether disk, what the file of doc holds now, is a
// save of the user's: the buffer has unsaved changes (it differs from
// what the bridge last knew the file held, doc.Disk) and the file has
// every one of them, each line as the buffer has it (a three-way merge of
// the buffer into the file, from the known content, adds nothing and
// conflicts nowhere). The editor wrote the buffer, whether or not its
// didSave has come yet: the file equals the buffer, or something changed
// other lines of it after the editor wrote it (a Bash command running
// meanwhile). A change made next to the user's lines, or over them, is a
// conflict of the merge and not taken for a save (the carry then reports
// the conflict). A command that makes exactly the change the user typed
// and has not saved is taken for the user's save too: the buffer holds it
// either way.
func UserSaved(ed documents.Editor, doc documents.Doc, disk documents.Disk) bool {
	if !doc.Disk.Known || !doc.Disk.Exists || !doc.Disk.Decoded || !disk.Known || !disk.Exists || !disk.Decoded || disk.Same(doc.Disk) {
		return false
	}
	// No unsaved change, compared as the store compares a buffer with its
	// file (Neovim's empty file is "\n", a CRLF file's buffer may be LF):
	// whatever the file holds now is not the buffer written.
	if unsaved, ok := ed.Unsaved(doc.Disk, doc.Text); !ok || !unsaved {
		return false
	}
	known, ok1 := ed.Text(doc.Disk, doc.Text)
	now, ok2 := ed.Text(disk, doc.Text)
	if !ok1 || !ok2 {
		return false
	}
	merged, conflicts := textedit.Merge3(known, now, doc.Text)
	return len(conflicts) == 0 && merged == now
}

// carryDoc runs fn with the edit lock of one document held, on a goroutine
// counted as the task's work (Wait). It returns fn's error, or nil as soon
// as fn calls detach: fn then goes on alone (waiting for a late didChange),
// holding the lock, and reports what becomes of the change itself. detach
// returns a channel closed once another carry waits for the lock.
func (c *Carrier) carryDoc(ctx context.Context, taskID string, u protocol.DocumentURI, fn func(detach func() <-chan struct{}) error) error {
	unlock, wanted, err := c.lock(ctx, u)
	if err != nil {
		return err
	}
	wg := c.taskWork(taskID)
	done := make(chan error, 1)
	detached := make(chan struct{})
	var once sync.Once
	go func() { // owned by the task's carries (Wait); ends when fn returns, which every wait in it bounds by ctx
		defer wg.Done()
		defer unlock()
		done <- fn(func() <-chan struct{} {
			once.Do(func() { close(detached) })
			return wanted
		})
	}()
	select {
	case err := <-done:
		return err
	case <-detached:
		return nil
	}
}

// taskWork counts one more carry of the task.
func (c *Carrier) taskWork(taskID string) *sync.WaitGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	wg := c.work[taskID]
	if wg == nil {
		wg = &sync.WaitGroup{}
		c.work[taskID] = wg
	}
	wg.Add(1)
	return wg
}

// Wait returns when every carry of the task has ended (including those
// still judging an edit by a late didChange), or ctx's error when ctx ends
// first. The carries end when the context given to Carry ends: cancel it,
// then Wait, and everything not carried has been reported.
func (c *Carrier) Wait(ctx context.Context, taskID string) error {
	c.mu.Lock()
	wg := c.work[taskID]
	c.mu.Unlock()
	if wg == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { // ends when the task's carries end (bounded by their context)
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		c.mu.Lock()
		if c.work[taskID] == wg {
			delete(c.work, taskID)
		}
		c.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dropped reports that a change of path did not reach the buffers of docs
// (nil: every buffer open on path) because the task's time to carry it ran
// out.
func (c *Carrier) dropped(taskID, path string, docs []documents.Doc) {
	if docs == nil {
		fctx, cancel := context.WithTimeout(context.Background(), time.Second)
		docs, _ = c.docs.Find(fctx, path)
		cancel()
	}
	for _, d := range docs {
		c.notCarried(taskID, d.URI, d.Path)
	}
}

func (c *Carrier) notCarried(taskID string, u protocol.DocumentURI, path string) {
	c.report.Conflict(taskID, string(u), fmt.Sprintf(
		"Claude's change to %s did not reach your buffer before the task ended (the editor did not take it in time). The file on disk has Claude's version; compare before saving.",
		c.display(path)))
}

// carryLocked carries the file's new content disk into the buffer of doc
// (loaded, its edit lock held), merging in what the user typed since the
// buffer's base.
//
// It loops with a (base, want) pair: make the buffer hold want, merging in
// whatever the buffer changed relative to base. It starts with base = the
// buffer's base and want = the new content, both in the editor's
// representation (documents.EditorText: no byte-order mark, the buffer's
// line breaks).
//
// After an applied edit it waits for the editor's didChange and judges by
// the buffer it reports (judge) whether the edit landed: an editor that does
// not check versions (Neovim's own client) may have skipped it while
// answering applied=true. The wait is as long as the task's carries last
// (ctx); after ChangeWait the task's next changes go ahead meanwhile
// (detach), this document's wait for this one, until another change of
// the document has waited LateWait for its edit lock: the editor that said
// applied=true and never reported a changed buffer (one that lies, or lost
// the edit) is then reported, and the next change goes on from the buffer
// the editor reports, bringing this one along (the base has not moved).
//
// Only an edit seen to land moves the buffer's base to the new content. A
// change that did not land (a conflict, a refused or failed applyEdit, no
// didChange) leaves the base where the buffer really is, so the next change
// is merged from there and brings this one along.
//
// provisional: a change that empties or deletes the file, or that
// conflicts with the user's unsaved changes, is left alone (held=true, and
// nothing recorded): it may be a moment of a command that rewrites the file.
//
// reviewed (a review of the buffer itself): the pair is (what the review
// showed, what the user accepted) instead, so that the buffer gets exactly
// what was accepted, its unsaved changes kept as they were shown; the base
// still moves to the disk's content, so that they stay unsaved changes.
func (c *Carrier) carryLocked(ctx context.Context, doc documents.Doc, taskID string, disk documents.Disk, label string, provisional bool, detach func() <-chan struct{}, reviewed *Reviewed) (held bool, err error) {
	u := doc.URI
	uri := string(u)
	name := c.display(doc.Path)
	transient := !disk.Exists || disk.Decoded && disk.Text == ""
	if provisional && disk.Known && transient {
		return true, nil
	}
	if disk.Known && !disk.Exists {
		c.docs.SetDisk(u, disk)
		c.report.Deleted(taskID, uri)
		return false, nil
	}
	from := doc // the base on record, for AdvanceBase
	base, hasBase := doc.Base, doc.HasBase
	if t, ok := c.docs.EditorText(doc.Disk, doc.Text); ok && t == doc.Text {
		// The buffer agrees with the disk as last known: that is its base
		// (after a reload that resolved an earlier conflict, say).
		base, hasBase = t, true
	}
	target, ok := c.docs.EditorText(disk, doc.Text)
	if provisional && ok && hasBase && doc.Text != base && doc.Text != target {
		if _, conflicts := textedit.Merge3(base, doc.Text, target); len(conflicts) > 0 {
			return true, nil
		}
	}
	c.docs.SetDisk(u, disk)
	caps := c.capabilities()
	switch {
	case !ok:
		c.reload(taskID, doc, fmt.Sprintf("%s changed on disk, but the bridge cannot carry the change into your buffer: %s. Reload it in the editor to see the change.", name, disk.Problem))
		return false, nil
	case doc.Text == target:
		c.docs.AdvanceBase(u, from, target)
		return false, nil
	case !hasBase:
		why := doc.Disk.Problem
		if why == "" {
			why = "it was not known"
		}
		c.reload(taskID, doc, fmt.Sprintf("%s changed on disk, but the bridge could not read it when it was opened (%s), so it cannot tell your changes from Claude's. Reload it in the editor to see the change.", name, why))
		return false, nil
	case !caps.ApplyEdit:
		c.noApplyEdit(taskID, doc, name)
		return false, nil
	case !caps.Editor.KnowsLoneCR() && (textedit.HasLoneCR(doc.Text) || textedit.HasLoneCR(target)):
		c.reload(taskID, doc, fmt.Sprintf("%s changed on disk, but it holds a carriage return that does not end a line (\\r without \\n), which editors count differently, so the bridge does not edit your buffer. Reload it in the editor to see the change.", name))
		return false, nil
	}

	want := target
	if reviewed != nil {
		base, want = reviewed.Shown, reviewed.Accepted
	}
	sent, verifying := 0, false
	lastReason := ""
	for {
		doc, ok = c.docs.Get(u)
		if !ok {
			return false, nil
		}
		desired := want
		if doc.Text != base && doc.Text != want {
			merged, conflicts := textedit.Merge3(base, doc.Text, want)
			if len(conflicts) > 0 {
				c.report.Conflict(taskID, uri, conflictMessage(name, conflicts, verifying))
				return false, nil
			}
			desired = merged
		}
		if desired == doc.Text {
			c.landed(from, disk, doc.Text)
			if sent > 0 {
				c.report.Carried(taskID, uri, label)
			}
			return false, nil
		}
		if sent == c.MaxAttempts {
			reason := ""
			if lastReason != "" {
				reason = " (" + lastReason + ")"
			}
			c.report.Conflict(taskID, uri, fmt.Sprintf(
				"The editor did not take Claude's change to %s after %d attempts%s. Your buffer was left as it is; the file on disk has Claude's version.",
				name, sent, reason))
			return false, nil
		}
		edits := caps.Editor.Breaks().Diff(doc.Text, desired)
		if caps.Editor == documents.Neovim && insertsLoneCR(edits) {
			// Neovim's util.apply_text_edits turns every "\r" of an
			// edit's text into a line break (0.7.2: gsub('\r\n?', '\n')).
			c.reload(taskID, doc, fmt.Sprintf("%s changed on disk, but the change puts a carriage return inside a line (\\r without \\n), which Neovim's edits make a line break, so the bridge does not edit your buffer. Reload it in the editor to see the change.", name))
			return false, nil
		}
		sent++
		applied, reason, err := c.apply(ctx, doc, edits, label, caps)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err() // the caller reports it
			}
			c.log.Warn("applyEdit failed", zap.String("uri", uri), zap.Error(err))
			msg := fmt.Sprintf("The editor failed to apply Claude's change to %s (it answered: %v). Your buffer was left as it is; the file on disk has Claude's version.", name, err)
			if errors.Is(err, errNoAnswer) {
				msg = fmt.Sprintf("The editor did not answer the request to apply Claude's change to %s in time, so the bridge cannot tell whether your buffer has it. The file on disk has Claude's version; compare before saving.", name)
			}
			c.report.Conflict(taskID, uri, msg)
			return false, nil
		}
		if !applied {
			// Usually our version was stale: a didChange is on its way.
			lastReason = reason
			c.log.Debug("edit refused", zap.String("uri", uri), zap.Int32("version", doc.Version), zap.String("reason", reason))
			if err := c.waitVersion(ctx, doc, c.RetryWait); err != nil && !errors.Is(err, errTimeout) {
				if errors.Is(err, documents.ErrNotOpen) {
					return c.reopened(ctx, u, taskID, disk, label, detach)
				}
				return false, err
			}
			continue
		}
		// Applied: only the editor's didChange shows what the buffer holds,
		// however late it comes; past ChangeWait the task goes on meanwhile.
		err = c.waitVersion(ctx, doc, c.ChangeWait)
		detached := false
		if errors.Is(err, errTimeout) {
			c.log.Debug("didChange late after an applied edit", zap.String("uri", uri), zap.Int32("version", doc.Version))
			wanted := detach()
			detached = true
			err = c.waitVersionUnlessWanted(ctx, doc, wanted)
		}
		if errors.Is(err, errWanted) {
			c.log.Warn("no didChange after an applied edit; the next change goes on", zap.String("uri", uri), zap.Int32("version", doc.Version))
			c.report.Conflict(taskID, uri, fmt.Sprintf(
				"The editor answered that it applied Claude's change to %s but has not reported the changed buffer, so the change is not counted as carried. The bridge goes on from your buffer as the editor reports it: Claude's next change to the file brings this one along. The file on disk has Claude's version.",
				name))
			return false, nil
		}
		if err != nil {
			if ctx.Err() != nil && detached {
				// Nobody waits for this carry's error: report it here.
				c.log.Warn("no didChange after an applied edit", zap.String("uri", uri), zap.Int32("version", doc.Version))
				c.report.Conflict(taskID, uri, fmt.Sprintf(
					"The editor answered that it applied Claude's change to %s but did not report the changed buffer before the task ended, so the change is not counted as carried. The file on disk has Claude's version; compare before saving.",
					name))
				return false, nil
			}
			if errors.Is(err, documents.ErrNotOpen) {
				return c.reopened(ctx, u, taskID, disk, label, detach)
			}
			return false, err
		}
		now, ok := c.docs.Get(u)
		if !ok {
			return false, nil
		}
		switch judge(doc.Text, desired, now.Text, caps.VersionsChecked && caps.DocumentChanges) {
		case editLanded:
			c.landed(from, disk, now.Text)
			c.report.Carried(taskID, uri, label)
			return false, nil
		case editDropped:
			// Go round and send it again against the new buffer.
			base, want, verifying = doc.Text, desired, true
		default:
			_, conflicts := textedit.Merge3(doc.Text, now.Text, desired)
			c.report.Conflict(taskID, uri, conflictMessage(name, conflicts, true))
			return false, nil
		}
	}
}

// reopened goes on with a change after the editor closed its document, or
// closed and opened it again (reloaded it from the file: the bridge's Neovim
// plugin does once a buffer equals its file): the new buffer has the change
// (it is reported carried), or the change is carried into it from its new
// base.
func (c *Carrier) reopened(ctx context.Context, u protocol.DocumentURI, taskID string, disk documents.Disk, label string, detach func() <-chan struct{}) (bool, error) {
	doc, err := c.docs.WaitLoaded(ctx, u)
	if err != nil {
		return false, ignoreNotOpen(err)
	}
	if t, ok := c.docs.EditorText(disk, doc.Text); ok && t == doc.Text {
		c.docs.AdvanceBase(u, doc, t)
		c.report.Carried(taskID, string(u), label)
		return false, nil
	}
	return c.carryLocked(ctx, doc, taskID, disk, label, false, detach, nil)
}

// insertsLoneCR reports whether an edit's text holds a "\r" that is not
// part of a "\r\n".
func insertsLoneCR(edits []protocol.TextEdit) bool {
	for _, e := range edits {
		if textedit.HasLoneCR(e.NewText) {
			return true
		}
	}
	return false
}

// verdict is what the buffer reported after an applied edit says of it.
type verdict int

const (
	editLanded  verdict = iota // the edit is in the buffer
	editDropped                // the edit is not in the buffer: send it again
	editUnknown                // the user's typing touches the edited lines: nobody can tell
)

// judge tells whether an edit that turned before into want landed, from
// now, the buffer the editor reported after it. checked: the editor
// refuses edits for another version, so having applied it means it landed.
//
// Otherwise (Neovim's own client may skip an edit and answer applied=true;
// a client without documentChanges applies edits wherever the buffer has
// moved to), the buffer must show it: merging what was asked for into the
// buffer adds nothing when the edit is in, and adds it when it was dropped.
// When the typing touches the edited lines the merge cannot tell, and
// neither can anything else (the buffer may hold the edit misplaced): the
// change is then never reported as carried.
func judge(before, want, now string, checked bool) verdict {
	if now == want || textedit.EqualIgnoringLineEndings(now, want) || checked {
		// (An editor that keeps one line break per buffer converts the
		// breaks of inserted text to it.)
		return editLanded
	}
	merged, conflicts := textedit.Merge3(before, now, want)
	switch {
	case len(conflicts) > 0:
		return editUnknown
	case merged == now:
		return editLanded
	}
	return editDropped
}

// landed moves the buffer's base to disk's content, in the representation of
// the buffer as it is now (its line breaks may have changed with the edit).
func (c *Carrier) landed(from documents.Doc, disk documents.Disk, buffer string) {
	if t, ok := c.docs.EditorText(disk, buffer); ok {
		c.docs.AdvanceBase(from.URI, from, t)
	}
}

// reload tells that a change could not be carried and the buffer must be
// reloaded: the user once per document, the task every time.
func (c *Carrier) reload(taskID string, doc documents.Doc, message string) {
	switch {
	case doc.Modified:
		message += " Your buffer has unsaved changes, which reloading discards: save them elsewhere first."
	case doc.Edited:
		message += " If your buffer has unsaved changes, reloading discards them: save them elsewhere first."
	}
	c.report.Reload(taskID, string(doc.URI), message, c.docs.NoticeOnce(doc.URI))
}

// noApplyEdit reports a change not carried because the editor takes no
// edits: the user is told once per connection.
func (c *Carrier) noApplyEdit(taskID string, doc documents.Doc, name string) {
	c.mu.Lock()
	first := !c.toldNoApplyEdit
	c.toldNoApplyEdit = true
	c.mu.Unlock()
	c.report.Reload(taskID, string(doc.URI), fmt.Sprintf(
		"%s changed on disk. This editor does not apply edits from a language server (its client has no workspace.applyEdit), so Claude's changes reach files on disk only: reload the files Claude changes to see them.",
		name), first)
}

// apply sends one edit of a document: versioned when the editor takes
// documentChanges.
func (c *Carrier) apply(ctx context.Context, doc documents.Doc, edits []protocol.TextEdit, label string, caps Capabilities) (bool, string, error) {
	params := &protocol.ApplyWorkspaceEditParams{Label: label}
	if !caps.DocumentChanges {
		params.Edit.Changes = map[protocol.DocumentURI][]protocol.TextEdit{doc.URI: edits}
	} else {
		version := doc.Version
		params.Edit.DocumentChanges = []protocol.TextDocumentEdit{{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: doc.URI},
				Version:                &version,
			},
			Edits: edits,
		}}
	}
	actx, cancel := context.WithTimeout(ctx, c.ApplyTimeout)
	defer cancel()
	applied, reason, err := c.client.ApplyEdit(actx, params)
	switch {
	case err == nil:
		return applied, reason, nil
	case ctx.Err() != nil:
		return false, "", ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return false, "", errNoAnswer
	}
	return false, "", err
}

// errNoAnswer: the editor did not answer a workspace/applyEdit in time (it
// may still apply the edit, or may have).
var errNoAnswer = errors.New("the editor did not answer in time")

var errTimeout = errors.New("bufsync: timed out waiting for the editor")

// waitVersion waits up to d for the document's version to pass doc's. It
// returns errTimeout when d passes, ctx's error when ctx ends, and
// documents.ErrNotOpen when the document closes.
func (c *Carrier) waitVersion(ctx context.Context, doc documents.Doc, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := c.docs.WaitVersion(wctx, doc)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return errTimeout
	}
	return err
}

// errWanted: another carry waits for the document's edit lock.
var errWanted = errors.New("another change of the document waits")

// waitVersionUnlessWanted is documents.Store.WaitVersion that also ends,
// with errWanted, LateWait after wanted closed.
func (c *Carrier) waitVersionUnlessWanted(ctx context.Context, doc documents.Doc, wanted <-chan struct{}) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // ends when the wait is over (cancel), at the latest LateWait after wanted closed
		select {
		case <-wanted:
		case <-wctx.Done():
			return
		}
		t := time.NewTimer(c.LateWait)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-wctx.Done():
		}
	}()
	err := c.docs.WaitVersion(wctx, doc)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return errWanted
	}
	return err
}

// ignoreNotOpen turns "the document was closed" into success: there is no
// buffer left to carry into.
func ignoreNotOpen(err error) error {
	if errors.Is(err, documents.ErrNotOpen) {
		return nil
	}
	return err
}

// lock takes the edit lock of one document. wanted is closed once another
// carry waits for it.
func (c *Carrier) lock(ctx context.Context, u protocol.DocumentURI) (unlock func(), wanted <-chan struct{}, err error) {
	c.mu.Lock()
	l := c.locks[u]
	if l == nil {
		l = &docLock{ch: make(chan struct{}, 1), wanted: make(chan struct{})}
		c.locks[u] = l
	}
	l.refs++
	if l.refs > 1 {
		l.want() // held (or about to be) by another carry
	}
	c.mu.Unlock()

	release := func() {
		c.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(c.locks, u)
		}
		c.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		c.mu.Lock()
		l.wanted = make(chan struct{})
		if l.refs > 1 {
			l.want() // others wait already
		}
		w := l.wanted
		c.mu.Unlock()
		return func() { <-l.ch; release() }, w, nil
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	}
}

func (c *Carrier) display(path string) string {
	if c.Display != nil {
		return c.Display(path)
	}
	return path
}

// conflictMessage tells the user which lines collided: those Claude changed
// in its file and those the user changed in their buffer (1-based, as
// editors show them; changes on adjacent lines conflict too, see
// textedit.Merge3).
func conflictMessage(name string, conflicts []textedit.Conflict, verifying bool) string {
	const show = 3
	var theirs, ours []string
	for i, cf := range conflicts {
		if i == show {
			theirs = append(theirs, fmt.Sprintf("and %d more", len(conflicts)-show))
			break
		}
		theirs = append(theirs, cf.TheirsChanged.String())
		ours = append(ours, cf.OursChanged.String())
	}
	if verifying {
		return fmt.Sprintf(
			"Claude's change to %s (%s) may not have reached your buffer: you were editing %s as it arrived. The file on disk has Claude's version; compare before saving.",
			name, strings.Join(theirs, ", "), strings.Join(ours, ", "))
	}
	return fmt.Sprintf(
		"Claude changed %s (%s) where, or right next to where, you have unsaved changes (%s of your buffer). Your buffer was left as it is; the file on disk has Claude's version.",
		name, strings.Join(theirs, ", "), strings.Join(ours, ", "))
}
