package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/bufsync"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
)

// buffers keeps the editor's open documents (text sync) and carries agent
// edits into them: claude stays the only writer of the disk, and each of
// its changes reaches the open buffer as a minimal workspace/applyEdit,
// merged with what the user typed and has not saved.
type buffers struct {
	s       *Server
	docs    *documents.Store
	carrier *bufsync.Carrier
	watcher *bufsync.Watcher

	mu       sync.Mutex                   // guards accepted
	accepted map[string]*bufsync.Reviewed // what the user accepted in a review of their buffer, by tool use id, until carried
}

// reviewed keeps what the user accepted in a review of the buffer itself
// (review.Proposal.AgainstBuffer) for the carry of that tool call's change.
func (b *buffers) reviewed(toolUseID string, r bufsync.Reviewed) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.accepted == nil {
		b.accepted = map[string]*bufsync.Reviewed{}
	}
	b.accepted[toolUseID] = &r
}

// takeReviewed returns (and forgets) what reviewed kept for a tool call.
func (b *buffers) takeReviewed(toolUseID string) *bufsync.Reviewed {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.accepted[toolUseID]
	delete(b.accepted, toolUseID)
	return r
}

func newBuffers(s *Server) *buffers {
	b := &buffers{s: s, docs: documents.New()}
	b.carrier = bufsync.NewCarrier(b.docs, editorClient{s}, reporter{s}, s.log.Named("bufsync"))
	b.carrier.Display = s.displayPath
	// A save of the user's a carry found on disk (its didSave may come
	// later): the tasks keep it out of their changes.
	b.carrier.Saved = func(_ string, d documents.Doc) { s.noteUserSave(userWrite(b.docs.Editor(), d, nil), true) }
	b.watcher = bufsync.NewWatcher(b.carrier, 0)
	return b
}

// displayPath shows a path relative to the workspace folder holding it (by
// identity: claude's real path of a file in a folder opened through a link
// shows relative too).
func (s *Server) displayPath(path string) string {
	if _, rel, ok := containing(s.folderList(), path); ok && rel != "." {
		return rel
	}
	return path
}

func (b *buffers) didOpen(raw json.RawMessage) {
	var p protocol.DidOpenTextDocumentParams
	if err := json.Unmarshal(raw, &p); err != nil {
		b.s.log.Warn("bad didOpen", zap.Error(err))
		return
	}
	b.docs.Open(p.TextDocument.URI, string(p.TextDocument.LanguageID), p.TextDocument.Version, p.TextDocument.Text)
}

func (b *buffers) didChange(raw json.RawMessage) {
	// documents.DidChangeParams, not protocol's: its Range is a pointer, so a
	// full-text change is told from an insertion at 0:0.
	var p documents.DidChangeParams
	if err := json.Unmarshal(raw, &p); err != nil {
		b.s.log.Warn("bad didChange", zap.Error(err))
		return
	}
	if err := b.docs.Change(p.TextDocument.URI, p.TextDocument.Version, p.ContentChanges); err != nil {
		b.s.log.Warn("didChange not applied", zap.String("uri", string(p.TextDocument.URI)), zap.Error(err))
	}
}

func (b *buffers) didClose(raw json.RawMessage) {
	var p protocol.DidCloseTextDocumentParams
	if err := json.Unmarshal(raw, &p); err == nil {
		b.docs.Close(p.TextDocument.URI)
	}
}

func (b *buffers) didSave(raw json.RawMessage) {
	var p struct {
		TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
		Text         *string                         `json:"text"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return
	}
	d, open := b.docs.Get(p.TextDocument.URI)
	b.docs.Saved(p.TextDocument.URI, p.Text)
	if !open || d.Path == "" {
		return
	}
	w := userWrite(b.docs.Editor(), d, p.Text)
	if after, ok := w.After(); ok && w.Before.Same(after) {
		// The bridge knew the disk held the saved text already: a save
		// a carry found before this didSave came (bufsync.UserSaved),
		// noted then, or a save of an unchanged buffer.
		return
	}
	b.s.noteUserSave(w, p.Text == nil || *p.Text == d.Text)
}

// userWrite is the save of document d (text: the saved text the editor
// sent, nil: its buffer) as the runner's checkpoints take it: the user's
// own write of the file, from what the bridge knew the disk held to the
// saved text, in the file's encoding. A running task's Bash command that
// sees the change does not take it for its own (runner/checkpoint).
func userWrite(ed documents.Editor, d documents.Doc, text *string) checkpoint.Write {
	saved := d.Text
	if text != nil {
		saved = *text
	}
	// The file as the editor wrote it (the file's line breaks, Neovim's
	// final line break), not the buffer: a save of an LF buffer over a
	// CRLF file changes the lines the user changed, no more.
	saved = ed.FileText(d.Disk, saved)
	enc := d.Disk.Encoding
	if enc == "" {
		enc = documents.UTF8
	}
	var before checkpoint.Content
	known := d.Disk.Known && (d.Disk.Decoded || !d.Disk.Exists)
	if known && d.Disk.Exists {
		before = checkpoint.Content{Exists: true, Data: review.Encode(d.Disk.Text, enc)}
	}
	after := checkpoint.Content{Exists: true, Data: review.Encode(saved, enc)}
	return checkpoint.UserWrite(d.Path, time.Now(), before, known, after)
}

func (b *buffers) taskStarted(v *taskView) { b.watcher.Begin(v.id) }
func (b *buffers) taskEnded(v *taskView)   { b.watcher.End(v.id) }

// toolUse: a file tool's change is carried by its result, not by the
// directory watcher (which would label it "changed on disk").
func (b *buffers) toolUse(v *taskView, tu *runner.ToolUse) {
	if p, ok := runner.FileToolPath(*tu, v.root); ok {
		b.watcher.Hold(v.id, tu.ID, p)
	}
	b.watcher.Advance(v.id)
}

// toolResult: a result without a change to carry ends its tool's hold at
// once; one with a change, once carried (carry).
func (b *buffers) toolResult(v *taskView, res *runner.ToolResult) {
	if res.Change == nil {
		b.watcher.Release(res.ToolUseID)
		b.takeReviewed(res.ToolUseID) // nothing to carry
	}
	b.watcher.Advance(v.id)
}

// carry brings one agent change into the open buffer of its file, if any.
// It blocks on the editor (applyEdit, then its didChange): call it from the
// task's carry loop, never from the read loop.
func (b *buffers) carry(ctx context.Context, taskID string, ch runner.FileChange) {
	// ch.Before (claude's originalFile) is not used: see bufsync.Change.
	after, aerr := ch.After(ctx)
	if aerr != nil && ctx.Err() != nil {
		b.watcher.Release(ch.ToolUseID)
		return
	}
	// Not a regular file, too large, or a read that never finished: the
	// carrier looks at the disk itself, and reports what it cannot carry.
	unread := aerr != nil
	if unread {
		b.s.log.Warn("the changed file could not be read after the tool", zap.String("path", ch.Path), zap.Error(aerr))
	}
	err := b.carrier.Carry(ctx, bufsync.Change{TaskID: taskID, Path: ch.Path, After: after, Unread: unread, Label: ch.Label, Reviewed: b.takeReviewed(ch.ToolUseID)})
	b.watcher.Release(ch.ToolUseID)
	if err != nil && ctx.Err() == nil {
		b.s.log.Warn("edit not carried into the buffer", zap.String("path", ch.Path), zap.Error(err))
	}
}

// finish waits until the task's carries (an edit still judged by a late
// didChange) have ended, or ctx ends.
func (b *buffers) finish(ctx context.Context, taskID string) error {
	return b.carrier.Wait(ctx, taskID)
}

// settle carries into the buffers what changed on disk during the task by
// other means than claude's file tools (a Bash sed -i), before its result.
func (b *buffers) settle(ctx context.Context, taskID string) {
	if err := b.watcher.Settle(ctx, taskID); err != nil {
		b.s.log.Warn("changes on disk not carried", zap.String("task", taskID), zap.Error(err))
	}
}

func (b *buffers) close() { _ = b.watcher.Close() }

// editorClient sends workspace/applyEdit.
type editorClient struct{ s *Server }

func (c editorClient) ApplyEdit(ctx context.Context, params *protocol.ApplyWorkspaceEditParams) (bool, string, error) {
	var res protocol.ApplyWorkspaceEditResponse
	if err := c.s.call(ctx, "workspace/applyEdit", params, &res); err != nil {
		return false, "", err
	}
	return res.Applied, res.FailureReason, nil
}

// reporter tells the editor what happened to each carried change.
type reporter struct{ s *Server }

func (r reporter) Conflict(taskID, uri, message string) {
	r.s.notify(lspext.MethodEditConflict, &lspext.EditConflictParams{TaskID: taskID, URI: uri, Message: message})
	r.s.ShowMessage(protocol.MessageTypeWarning, "Claude: "+message)
	r.taskStatus(taskID, uri, message)
}

func (r reporter) Deleted(taskID, uri string) {
	msg := fmt.Sprintf("%s was deleted on disk; its buffer was kept", r.s.displayPath(documents.PathOf(protocol.DocumentURI(uri))))
	r.s.ShowMessage(protocol.MessageTypeWarning, "Claude: "+msg)
	r.taskStatus(taskID, uri, msg)
}

func (r reporter) Carried(taskID, uri, label string) {
	r.taskStatus(taskID, uri, "Applied to the open buffer: "+label)
}

func (r reporter) Reload(taskID, uri, message string, show bool) {
	if show {
		r.s.ShowMessage(protocol.MessageTypeWarning, "Claude: "+message)
	}
	r.taskStatus(taskID, uri, message)
}

// taskStatus reports on the task's event stream and notes the file as
// edited by the task (a Bash command's change has no tool result).
func (r reporter) taskStatus(taskID, uri, msg string) {
	r.s.mu.Lock()
	v := r.s.tasks[taskID]
	r.s.mu.Unlock()
	if v == nil {
		return
	}
	v.noteExternal(uri)
	v.status(msg)
}
