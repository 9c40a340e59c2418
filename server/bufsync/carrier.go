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
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Change is one change of a file on disk.
type Change struct {
	TaskID string
	Path   string // absolute
	// Before is the file before the change (claude's tool_use_result
	// originalFile); nil if unknown, and then the bridge's last view of the
	// disk (documents.Doc.DiskText) is the base.
	Before *string
	After  *string // the file after the change; nil: the file was deleted
	Label  string  // the undo label: "Claude: Edit server/main.go"
}

// Client is the editor connection: workspace/applyEdit.
type Client interface {
	ApplyEdit(ctx context.Context, params *protocol.ApplyWorkspaceEditParams) (applied bool, failureReason string, err error)
}

// Reporter is told what happened to each change that concerned an open
// document. It is called with the document's edit lock held: it must not call
// back into the Carrier for the same document.
type Reporter interface {
	// Conflict: the buffer was left untouched; message names the file and
	// lines and says what to do.
	Conflict(taskID, uri, message string)
	// Deleted: the file was deleted on disk; the buffer was left untouched.
	Deleted(taskID, uri string)
	// Carried: the change is now in the buffer.
	Carried(taskID, uri, label string)
}

// Carrier carries changes into open buffers. Changes to one document are
// serialized (each is computed against the buffer the previous one left);
// changes to different documents proceed in parallel.
//
// The exported fields tune it; set them before the first Carry.
type Carrier struct {
	// ChangeWait bounds the wait, after an applied edit, for the editor's
	// didChange carrying it (Neovim debounces didChange by 150 ms).
	ChangeWait time.Duration
	// RetryWait bounds the wait, after the editor refused an edit, for the
	// didChange that made our version stale.
	RetryWait time.Duration
	// ApplyTimeout bounds one workspace/applyEdit request.
	ApplyTimeout time.Duration
	// MaxAttempts is how many edits one change may send before giving up and
	// reporting a conflict.
	MaxAttempts int
	// Unversioned sends WorkspaceEdit.changes instead of versioned
	// documentChanges, for clients without workspaceEdit.documentChanges.
	Unversioned bool
	// Display turns an absolute path into the name used in messages and
	// labels (say, relative to its workspace folder). Nil: the path itself.
	Display func(path string) string

	docs   *documents.Store
	client Client
	report Reporter
	log    *zap.Logger

	mu    sync.Mutex // guards locks
	locks map[protocol.DocumentURI]*docLock
}

// docLock serializes the edits of one document. It is a channel rather than a
// mutex so that waiting for it honours a context; refs lets the map entry go
// away when nobody holds or waits for it.
type docLock struct {
	ch   chan struct{}
	refs int
}

// NewCarrier returns a Carrier with the default tuning: ChangeWait 2 s,
// RetryWait 1 s, ApplyTimeout 10 s, MaxAttempts 3.
func NewCarrier(docs *documents.Store, client Client, reporter Reporter, logger *zap.Logger) *Carrier {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Carrier{
		ChangeWait:   2 * time.Second,
		RetryWait:    time.Second,
		ApplyTimeout: 10 * time.Second,
		MaxAttempts:  3,
		docs:         docs,
		client:       client,
		report:       reporter,
		log:          logger,
		locks:        map[protocol.DocumentURI]*docLock{},
	}
}

// Carry brings one change of a file into the buffer open on it, if any, and
// records After as the file's disk content. It returns an error only when the
// editor connection failed or ctx ended; conflicts go to the Reporter.
func (c *Carrier) Carry(ctx context.Context, ch Change) error {
	doc, ok := c.docs.ByPath(ch.Path)
	if !ok {
		return nil
	}
	unlock, err := c.lock(ctx, doc.URI)
	if err != nil {
		return err
	}
	defer unlock()
	return c.carryLocked(ctx, doc.URI, ch)
}

// carryFromDisk carries whatever the file at path holds now, if that differs
// from the disk content the bridge last saw for it. The comparison is made
// with the document's edit lock held, so a change Carry has just carried (it
// records After as the disk content first) is recognised and skipped.
func (c *Carrier) carryFromDisk(ctx context.Context, taskID, path string) error {
	doc, ok := c.docs.ByPath(path)
	if !ok {
		return nil
	}
	unlock, err := c.lock(ctx, doc.URI)
	if err != nil {
		return err
	}
	defer unlock()
	if doc, ok = c.docs.Get(doc.URI); !ok {
		return nil
	}
	ch := Change{TaskID: taskID, Path: path, Label: "Claude: " + c.display(path) + " changed on disk"}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !doc.OnDisk {
			return nil
		}
	case err != nil:
		return fmt.Errorf("bufsync: %w", err)
	default:
		after := string(b)
		if doc.OnDisk && after == doc.DiskText {
			return nil
		}
		ch.After = &after
		if doc.OnDisk {
			before := doc.DiskText
			ch.Before = &before
		}
	}
	return c.carryLocked(ctx, doc.URI, ch)
}

// carryLocked does the work of Carry with the document's edit lock held.
//
// It loops with a (base, target) pair: make the buffer hold target, merging
// in whatever the buffer changed relative to base. It starts with base = the
// file before the change and target = after it.
//
// After an applied edit it waits for the editor's didChange and checks that
// the edit landed, because Neovim 0.7 skips an edit whose version is older
// than its buffer (the user typed within its didChange debounce) and still
// answers applied=true. If the user typed meanwhile, merging what was asked
// for into the buffer tells: the merge adds nothing when the edit is in, and
// adds it when it was dropped (then the loop goes round with base = the
// buffer it edited and target = what it asked for). When the typing touches
// the edited lines, the merge cannot tell, and the edit counts as landed if
// the buffer is closer to the edited text than to the old one.
func (c *Carrier) carryLocked(ctx context.Context, u protocol.DocumentURI, ch Change) error {
	doc, ok := c.docs.Get(u)
	if !ok {
		return nil
	}
	uri := string(u)
	name := c.display(doc.Path)
	if ch.After == nil {
		c.docs.SetDiskText(u, nil)
		c.report.Deleted(ch.TaskID, uri)
		return nil
	}
	base := doc.DiskText // "" when the file was not on disk: it is being created
	if ch.Before != nil {
		base = *ch.Before
	}
	target := *ch.After
	// The disk holds After whatever becomes of the buffer; recording it first
	// lets the Watcher recognise this change when its event arrives.
	c.docs.SetDiskText(u, ch.After)

	sent, verifying := 0, false
	lastReason := ""
	for {
		doc, ok = c.docs.Get(u)
		if !ok {
			return nil
		}
		desired := target
		if doc.Text != base && doc.Text != target {
			merged, conflicts := textedit.Merge3(base, doc.Text, target)
			if len(conflicts) > 0 {
				c.report.Conflict(ch.TaskID, uri, conflictMessage(name, conflicts, verifying))
				return nil
			}
			desired = merged
		}
		if desired == doc.Text {
			if sent > 0 {
				c.report.Carried(ch.TaskID, uri, ch.Label)
			}
			return nil
		}
		if sent == c.MaxAttempts {
			reason := ""
			if lastReason != "" {
				reason = " (" + lastReason + ")"
			}
			c.report.Conflict(ch.TaskID, uri, fmt.Sprintf(
				"The editor did not take Claude's change to %s after %d attempts%s. Your buffer was left as it is; the file on disk has Claude's version.",
				name, sent, reason))
			return nil
		}
		sent++
		applied, reason, err := c.apply(ctx, doc, textedit.Diff(doc.Text, desired), ch.Label)
		if err != nil {
			return err
		}
		if !applied {
			// Usually our version was stale: a didChange is on its way.
			lastReason = reason
			c.log.Debug("edit refused", zap.String("uri", uri), zap.Int32("version", doc.Version), zap.String("reason", reason))
			if err := c.waitVersion(ctx, u, doc.Version, c.RetryWait); err != nil && !errors.Is(err, errTimeout) {
				return ignoreNotOpen(err)
			}
			continue
		}
		// Applied: the next computation must see the editor's didChange.
		if err := c.waitVersion(ctx, u, doc.Version, c.ChangeWait); err != nil {
			if errors.Is(err, errTimeout) {
				// No didChange at all: the editor applied nothing we can
				// see, or its notifications are slow. Trust its answer
				// rather than risk applying the edit twice.
				c.log.Warn("no didChange after an applied edit", zap.String("uri", uri), zap.Int32("version", doc.Version))
				c.report.Carried(ch.TaskID, uri, ch.Label)
				return nil
			}
			return ignoreNotOpen(err)
		}
		now, ok := c.docs.Get(u)
		if !ok {
			return nil
		}
		if now.Text == desired {
			c.report.Carried(ch.TaskID, uri, ch.Label)
			return nil
		}
		// The user typed meanwhile. Merging what we asked for into the buffer
		// tells whether the edit is in: the merge adds nothing.
		merged, conflicts := textedit.Merge3(doc.Text, now.Text, desired)
		switch {
		case len(conflicts) == 0 && merged == now.Text:
			c.report.Carried(ch.TaskID, uri, ch.Label)
			return nil
		case len(conflicts) == 0:
			// Dropped: go round and send it again against the new buffer.
			base, target, verifying = doc.Text, desired, true
		case distance(desired, now.Text) <= distance(doc.Text, now.Text):
			// The typing touches the edited lines, so the merge cannot say.
			// The buffer is closer to the edited text than to the old one:
			// the edit is in.
			c.report.Carried(ch.TaskID, uri, ch.Label)
			return nil
		default:
			c.report.Conflict(ch.TaskID, uri, conflictMessage(name, conflicts, true))
			return nil
		}
	}
}

// distance is how many bytes must be deleted and inserted to turn a into b,
// by the minimal edits of textedit.Diff. After an edit, the buffer is either
// the edited text plus the user's typing or the old text plus the typing;
// whichever it is closer to says which.
func distance(a, b string) int {
	ins := 0
	for _, e := range textedit.Diff(a, b) {
		ins += len(e.NewText)
	}
	// deleted - inserted = len(a) - len(b)
	return 2*ins + len(a) - len(b)
}

// apply sends one versioned edit of a document.
func (c *Carrier) apply(ctx context.Context, doc documents.Doc, edits []protocol.TextEdit, label string) (bool, string, error) {
	params := &protocol.ApplyWorkspaceEditParams{Label: label}
	if c.Unversioned {
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
	if err != nil {
		if ctx.Err() != nil {
			return false, "", ctx.Err()
		}
		return false, "", fmt.Errorf("bufsync: applyEdit %s: %w", doc.URI, err)
	}
	return applied, reason, nil
}

var errTimeout = errors.New("bufsync: timed out waiting for the editor")

// waitVersion waits up to d for the document's version to pass after. It
// returns errTimeout when d passes, ctx's error when ctx ends, and
// documents.ErrNotOpen when the document closes.
func (c *Carrier) waitVersion(ctx context.Context, u protocol.DocumentURI, after int32, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := c.docs.WaitVersion(wctx, u, after)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return errTimeout
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

// lock takes the edit lock of one document.
func (c *Carrier) lock(ctx context.Context, u protocol.DocumentURI) (unlock func(), err error) {
	c.mu.Lock()
	l := c.locks[u]
	if l == nil {
		l = &docLock{ch: make(chan struct{}, 1)}
		c.locks[u] = l
	}
	l.refs++
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
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

func (c *Carrier) display(path string) string {
	if c.Display != nil {
		return c.Display(path)
	}
	return path
}

// conflictMessage tells the user which lines collided, in the agent's file
// and in their buffer (1-based, as editors show them).
func conflictMessage(name string, conflicts []textedit.Conflict, verifying bool) string {
	const show = 3
	var theirs, ours []string
	for i, cf := range conflicts {
		if i == show {
			theirs = append(theirs, fmt.Sprintf("and %d more", len(conflicts)-show))
			break
		}
		theirs = append(theirs, cf.Theirs.String())
		ours = append(ours, cf.Ours.String())
	}
	if verifying {
		return fmt.Sprintf(
			"Claude's change to %s (%s) may not have reached your buffer: you were editing %s as it arrived. The file on disk has Claude's version; compare before saving.",
			name, strings.Join(theirs, ", "), strings.Join(ours, ", "))
	}
	return fmt.Sprintf(
		"Claude changed %s (%s) where you have unsaved changes (%s of your buffer). Your buffer was left as it is; the file on disk has Claude's version.",
		name, strings.Join(theirs, ", "), strings.Join(ours, ", "))
}
