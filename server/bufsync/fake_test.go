package bufsync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// fakeEditor is an editor in memory: it owns the buffers, applies
// workspace/applyEdit the way VS Code does (refusing an edit whose version is
// not the buffer's) or the way Neovim 0.7 does (silently skipping an edit
// older than the buffer, answering applied=true), and sends didChange to the
// bridge's document store, after a delay like Neovim's debounce.
type fakeEditor struct {
	t    testing.TB
	docs *documents.Store

	mu          sync.Mutex
	text        map[protocol.DocumentURI]string
	version     map[protocol.DocumentURI]int32
	calls       int
	refused     int
	unversioned int // edits that came as WorkspaceEdit.changes

	// behaviour, set before use
	nvim        bool                                   // Neovim 0.7 version handling
	breaks      textedit.Breaks                        // how its positions count lines
	oneEOL      bool                                   // inserted line breaks become the buffer's (VS Code, Neovim 'fileformat')
	noDidChange bool                                   // applies edits but never sends didChange
	fail        error                                  // answer every applyEdit with this error
	refuse      string                                 // non-empty: refuse every edit with this reason
	refuseNext  int                                    // refuse this many edits first
	lieNext     int                                    // answer applied=true to this many edits first, applying nothing
	beforeApply func(u protocol.DocumentURI)           // runs (unlocked) before each edit is looked at
	afterApply  func(u protocol.DocumentURI)           // runs (unlocked) after an edit was applied
	block       map[protocol.DocumentURI]chan struct{} // ApplyEdit waits for it

	notes chan func() // didChange deliveries, in order
	delay time.Duration
	wg    sync.WaitGroup
}

func newFakeEditor(t testing.TB, delay time.Duration) *fakeEditor {
	e := &fakeEditor{
		t:       t,
		docs:    documents.New(),
		text:    map[protocol.DocumentURI]string{},
		version: map[protocol.DocumentURI]int32{},
		notes:   make(chan func(), 1000),
		delay:   delay,
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for fn := range e.notes {
			fn()
		}
	}()
	t.Cleanup(func() { close(e.notes); e.wg.Wait() })
	return e
}

// open writes a file and opens it in the editor with the same text.
func (e *fakeEditor) open(dir, name, text string) (string, protocol.DocumentURI) {
	e.t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path, e.openAs(path, text)
}

// openAs opens the file at path, as it is on disk, with buffer as the
// editor's text of it (without its byte-order mark, say), and waits until
// the store has read the file.
func (e *fakeEditor) openAs(path, buffer string) protocol.DocumentURI {
	e.t.Helper()
	u := protocol.DocumentURI(uri.File(path))
	e.mu.Lock()
	e.text[u], e.version[u] = buffer, 1
	e.mu.Unlock()
	e.docs.Open(u, "text", 1, buffer)
	if _, err := e.docs.WaitLoaded(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// typeText is the user typing: the buffer changes now, the bridge hears of
// it after the editor's didChange delay.
func (e *fakeEditor) typeText(u protocol.DocumentURI, ch textedit.ContentChange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.text[u] = e.breaks.ApplyChanges(e.text[u], []textedit.ContentChange{ch})
	e.version[u]++
	e.sendLocked(u, e.version[u], []textedit.ContentChange{ch})
}

func (e *fakeEditor) sendLocked(u protocol.DocumentURI, v int32, chs []textedit.ContentChange) {
	if e.delay == 0 { // an editor without debounce, on a fast machine
		if err := e.docs.Change(u, v, chs); err != nil {
			e.t.Errorf("didChange: %v", err)
		}
		return
	}
	due := time.Now().Add(e.delay)
	e.notes <- func() {
		time.Sleep(time.Until(due))
		if err := e.docs.Change(u, v, chs); err != nil {
			e.t.Errorf("didChange: %v", err)
		}
	}
}

func (e *fakeEditor) buffer(u protocol.DocumentURI) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.text[u]
}

func (e *fakeEditor) stats() (calls, refused int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls, e.refused
}

func (e *fakeEditor) ApplyEdit(ctx context.Context, p *protocol.ApplyWorkspaceEditParams) (bool, string, error) {
	var u protocol.DocumentURI
	var version *int32
	var edits []protocol.TextEdit
	switch {
	case len(p.Edit.DocumentChanges) == 1:
		d := p.Edit.DocumentChanges[0]
		u, version, edits = d.TextDocument.URI, d.TextDocument.Version, d.Edits
	case len(p.Edit.Changes) == 1:
		for k, v := range p.Edit.Changes {
			u, edits = k, v
		}
		e.mu.Lock()
		e.unversioned++
		e.mu.Unlock()
	default:
		e.t.Errorf("unexpected workspace edit %+v", p.Edit)
		return false, "bad edit", nil
	}
	if !strings.HasPrefix(p.Label, "Claude: ") {
		e.t.Errorf("label %q", p.Label)
	}
	if e.beforeApply != nil {
		e.beforeApply(u)
	}
	if e.fail != nil {
		e.mu.Lock()
		e.calls++
		e.mu.Unlock()
		return false, "", e.fail
	}
	if ch := e.block[u]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return false, "", ctx.Err()
		}
	}
	applied, reason := e.applyLocked(u, version, edits)
	if applied && e.afterApply != nil {
		e.afterApply(u)
	}
	return applied, reason, nil
}

func (e *fakeEditor) applyLocked(u protocol.DocumentURI, version *int32, edits []protocol.TextEdit) (bool, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.lieNext > 0 {
		e.lieNext--
		return true, ""
	}
	if e.refuse != "" || e.refuseNext > 0 {
		e.refuseNext--
		e.refused++
		return false, e.refuse
	}
	if version != nil && *version != e.version[u] {
		if e.nvim && *version < e.version[u] {
			return true, "" // "Buffer newer than edits", and applied=true
		}
		e.refused++
		return false, "document version mismatch"
	}
	if eol := textedit.LineEnding(e.text[u]); e.oneEOL && eol != "" {
		converted := make([]protocol.TextEdit, len(edits))
		for i, ed := range edits {
			converted[i] = ed
			converted[i].NewText = textedit.ConvertLineEndings(ed.NewText, eol)
		}
		edits = converted
	}
	next, err := e.breaks.ApplyEdits(e.text[u], edits)
	if err != nil {
		e.t.Errorf("edits do not apply: %v", err)
		return false, err.Error()
	}
	// VS Code reports an edit as changes in reverse document order, so each
	// range is still valid when it is applied.
	var chs []textedit.ContentChange
	for i := len(edits) - 1; i >= 0; i-- {
		r := edits[i].Range
		chs = append(chs, textedit.ContentChange{Range: &r, Text: edits[i].NewText})
	}
	e.text[u] = next
	e.version[u]++
	if !e.noDidChange {
		e.sendLocked(u, e.version[u], chs)
	}
	return true, ""
}

// fakeReporter records what the Carrier reports.
type fakeReporter struct {
	mu     sync.Mutex
	events []string
}

func (r *fakeReporter) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *fakeReporter) Conflict(task, u, msg string) { r.add("conflict " + task + " " + msg) }
func (r *fakeReporter) Deleted(task, u string)       { r.add("deleted " + task) }
func (r *fakeReporter) Carried(task, u, label string) {
	r.add("carried " + task + " " + label)
}
func (r *fakeReporter) Reload(task, u, msg string, show bool) {
	r.add(fmt.Sprintf("reload %s show=%v %s", task, show, msg))
}

func (r *fakeReporter) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *fakeReporter) has(prefix string) bool {
	for _, e := range r.list() {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

// eventually polls cond for up to 3 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// advancing polls cond for up to 3 s while the task keeps reporting tool
// events (Watcher.Advance), as a running task does: a change the watcher
// sees after one event is carried at the next.
func advancing(t *testing.T, w *Watcher, task, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		w.Advance(task)
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr(s string) *string { return &s }

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func replaceLine(text string, n int, with string) string {
	ls := strings.SplitAfter(text, "\n")
	ls[n-1] = with
	return strings.Join(ls, "")
}

func sortedStrings(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
