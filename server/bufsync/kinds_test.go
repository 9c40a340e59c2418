package bufsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Each kind of file, open and unmodified or with an unsaved change away
// from the agent's, gets the agent's change the way the editor shows the
// file: disk bytes as claude 2.1.332 writes them (it keeps CRLF and a
// byte-order mark on Edit, writes Write's content as given, refuses files
// that are not UTF-8), the buffer as VS Code or Neovim 0.7.2 present it.
func TestCarryFileKinds(t *testing.T) {
	cases := []struct {
		name       string
		before     string // bytes on disk when the buffer opens
		buffer     string // the editor's text of them
		oneEOL     bool   // the editor converts inserted line breaks to the buffer's
		typeLine   uint32 // 1-based line the user retypes, unsaved (0: none)
		typed      string
		after      string // bytes on disk after the agent's change
		wantBuffer string
	}{
		{name: "CRLF, Neovim dos", before: "a\r\n", buffer: "a\r\n", oneEOL: true, after: "b\r\n", wantBuffer: "b\r\n"},
		{name: "CRLF, lines added", before: "a\r\nb\r\nc\r\n", buffer: "a\r\nb\r\nc\r\n", oneEOL: true,
			after: "a\r\nB\r\nB2\r\nc\r\n", wantBuffer: "a\r\nB\r\nB2\r\nc\r\n"},
		{name: "CRLF, unsaved change", before: "1\r\n2\r\n3\r\n4\r\n5\r\n", buffer: "1\r\n2\r\n3\r\n4\r\n5\r\n", oneEOL: true,
			typeLine: 1, typed: "one", after: "1\r\n2\r\n3\r\n4\r\nfive\r\n", wantBuffer: "one\r\n2\r\n3\r\n4\r\nfive\r\n"},
		{name: "BOM", before: "\xef\xbb\xbfx\n", buffer: "x\n", after: "\xef\xbb\xbfy\n", wantBuffer: "y\n"},
		{name: "BOM and CRLF, unsaved change", before: "\xef\xbb\xbfp\r\nq\r\nr\r\n", buffer: "p\r\nq\r\nr\r\n", oneEOL: true,
			typeLine: 1, typed: "P", after: "\xef\xbb\xbfp\r\nq\r\nR\r\n", wantBuffer: "P\r\nq\r\nR\r\n"},
		{name: "Write with LF over a CRLF buffer", before: "l1\r\nl2\r\n", buffer: "l1\r\nl2\r\n", oneEOL: true,
			after: "w1\nw2\n", wantBuffer: "w1\r\nw2\r\n"},
		{name: "mixed, Neovim unix, claude makes it LF", before: "a\r\nb\nc\r\nd\n", buffer: "a\r\nb\nc\r\nd\n",
			after: "a\nb\nC\nd\n", wantBuffer: "a\nb\nC\nd\n"},
		{name: "mixed, VS Code normalised it", before: "a\r\nb\nc\nd\n", buffer: "a\nb\nc\nd\n", oneEOL: true,
			after: "a\nb\nC\nd\n", wantBuffer: "a\nb\nC\nd\n"},
		{name: "UTF-16 LE", before: "\xff\xfex\x00\r\x00\n\x00", buffer: "x\r\n", oneEOL: true,
			after: "\xff\xfey\x00\r\x00\n\x00", wantBuffer: "y\r\n"},
		{name: "no final line break", before: "a\r\nb", buffer: "a\r\nb", oneEOL: true, after: "a\r\nbb", wantBuffer: "a\r\nbb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFakeEditor(t, 0)
			e.oneEOL = c.oneEOL
			c2, r := newCarrier(e)
			path := filepath.Join(t.TempDir(), "f.txt")
			if err := os.WriteFile(path, []byte(c.before), 0o644); err != nil {
				t.Fatal(err)
			}
			u := e.openAs(path, c.buffer)
			if d, _ := e.docs.Get(u); d.Dirty {
				t.Fatalf("an unmodified buffer counts as dirty: %+v", d)
			}
			if c.typeLine > 0 {
				e.typeText(u, textedit.ContentChange{Range: lineRange(c.typeLine), Text: c.typed})
			}
			if err := os.WriteFile(path, []byte(c.after), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := c2.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(c.after), Label: "Claude: Edit f.txt"}); err != nil {
				t.Fatal(err)
			}
			if got := e.buffer(u); got != c.wantBuffer {
				t.Fatalf("buffer = %q, want %q (reports %v)", got, c.wantBuffer, r.list())
			}
			if got := r.list(); len(got) != 1 || !strings.HasPrefix(got[0], "carried t") {
				t.Fatalf("reports = %v", got)
			}
			if d, _ := e.docs.Get(u); d.Dirty != (c.typeLine > 0) {
				t.Fatalf("dirty = %v after the carry", d.Dirty)
			}
		})
	}
}

// A file that is not UTF-8 (the editor decoded it as Latin-1): never an edit,
// never a false conflict, and the user is told once to reload it.
func TestCarryNotUTF8(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	path := filepath.Join(t.TempDir(), "latin1.txt")
	if err := os.WriteFile(path, []byte("caf\xe9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := e.openAs(path, "café\n")
	for i, after := range []string{"caf\xe9!\n", "caf\xe9!!\n"} {
		if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := c.carryFromDisk(context.Background(), "t", path, "", fromDisk{}); err != nil {
			t.Fatal(err)
		}
		got := r.list()
		// The buffer is as the editor read it: nothing says it has unsaved
		// changes (the bridge cannot compare a Latin-1 file with it, but
		// the buffer was never edited).
		if len(got) != i+1 || !strings.HasPrefix(got[i], "reload t show="+map[int]string{0: "true", 1: "false"}[i]) ||
			!strings.Contains(got[i], "not UTF-8") || !strings.Contains(got[i], "Reload it") || strings.Contains(got[i], "unsaved") {
			t.Fatalf("reports after change %d = %v", i+1, got)
		}
	}
	// Read again with nothing changed: nothing more.
	if _, err := c.carryFromDisk(context.Background(), "t", path, "", fromDisk{}); err != nil {
		t.Fatal(err)
	}
	if calls, _ := e.stats(); calls != 0 || e.buffer(u) != "café\n" || len(r.list()) != 2 {
		t.Fatalf("calls %d, buffer %q, reports %v", calls, e.buffer(u), r.list())
	}
	// Converted to UTF-8 with the same text (iconv): the buffer already
	// shows it, and later changes carry again.
	if err := os.WriteFile(path, []byte("café!!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.typeText(u, textedit.ContentChange{Range: lineRange(1), Text: "café!!"})
	if _, err := c.carryFromDisk(context.Background(), "t", path, "", fromDisk{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("café!!\nmore\n"), Label: "Claude: Edit latin1.txt"}); err != nil {
		t.Fatal(err)
	}
	if got := e.buffer(u); got != "café!!\nmore\n" {
		t.Fatalf("after conversion: %q (reports %v)", got, r.list())
	}
}

// A failed applyEdit (an error, refusals until the attempts run out, or no
// didChange) is reported, never counted as carried, and leaves the base
// where the buffer is: the next change brings the first one along.
func TestCarryFailedApplyKeepsEdit1(t *testing.T) {
	for _, how := range []string{"error", "refused", "no didChange"} {
		t.Run(how, func(t *testing.T) {
			e := newFakeEditor(t, 0)
			c, r := newCarrier(e)
			c.RetryWait = 10 * time.Millisecond
			c.ChangeWait = 100 * time.Millisecond
			v0 := numbered(10)
			path, u := e.open(t.TempDir(), "a.txt", v0)
			switch how {
			case "error":
				e.fail = errors.New("jsonrpc2: internal error")
			case "refused":
				e.refuse = "the document is read-only"
			case "no didChange":
				e.noDidChange = true
			}
			v1 := replaceLine(v0, 2, "edit 1\n")
			// The task's carries end (its reply is due) while the editor has
			// not reported the edit.
			ctx, cancel := context.WithCancel(context.Background())
			if err := c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr(v1), Label: "Claude: Edit a.txt"}); err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := c.Wait(context.Background(), "t"); err != nil {
				t.Fatal(err)
			}
			got := r.list()
			if len(got) != 1 || !strings.HasPrefix(got[0], "conflict t ") || !strings.Contains(got[0], "a.txt") {
				t.Fatalf("reports = %v", got)
			}
			if d, _ := e.docs.Get(u); d.Base != v0 || d.Disk.Text != v1 {
				t.Fatalf("base moved although the edit did not land: %+v", d)
			}
			// The editor recovers (for "no didChange": the user reloads the
			// buffer, which the editor reports).
			e.fail, e.refuse, e.noDidChange = nil, "", false
			if how == "no didChange" {
				e.mu.Lock()
				e.text[u] = v0
				e.version[u]++
				e.sendLocked(u, e.version[u], []textedit.ContentChange{{Text: v0}})
				e.mu.Unlock()
			}
			v2 := replaceLine(v1, 8, "edit 2\n")
			if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(v2), Label: "Claude: Edit a.txt"}); err != nil {
				t.Fatal(err)
			}
			if got := e.buffer(u); got != v2 {
				t.Fatalf("buffer = %q, want both edits %q (reports %v)", got, v2, r.list())
			}
			if got := r.list(); len(got) != 2 || !strings.HasPrefix(got[1], "carried t") {
				t.Fatalf("reports = %v", got)
			}
		})
	}
}

// An editor that answers applied=true to an edit and never changes the
// buffer (nor sends didChange) costs that edit's report, not the rest of the
// task: the task's next change to the file is carried from the buffer the
// editor reports, and brings the first along.
func TestCarryAfterAnEditorLiedAboutAnEdit(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	c.ChangeWait, c.LateWait = 100*time.Millisecond, 100*time.Millisecond
	v0 := numbered(10)
	path, u := e.open(t.TempDir(), "a.txt", v0)
	e.lieNext = 1
	ctx, cancel := context.WithCancel(context.Background()) // the task's carries: they go on
	defer cancel()
	v1 := replaceLine(v0, 2, "edit 1\n")
	if err := c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr(v1), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	v2 := replaceLine(v1, 8, "edit 2\n")
	done := make(chan error, 1)
	go func() {
		done <- c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr(v2), Label: "Claude: Edit a.txt"})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the next change waits behind the edit the editor lied about (reports %v)", r.list())
	}
	if got := e.buffer(u); got != v2 {
		t.Fatalf("buffer = %q, want both edits %q (reports %v)", got, v2, r.list())
	}
	got := r.list()
	if len(got) != 2 || !strings.HasPrefix(got[0], "conflict t ") || !strings.Contains(got[0], "has not reported the changed buffer") || !strings.HasPrefix(got[1], "carried t") {
		t.Fatalf("reports = %v", got)
	}
	if d, _ := e.docs.Get(u); d.Base != v2 {
		t.Errorf("base = %q, want the buffer with both edits", d.Base)
	}
}

// An editor without workspace.applyEdit gets no edit; the user is told once
// per connection that files change on disk, the task every time.
func TestCarryWithoutApplyEdit(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	c.SetCapabilities(Capabilities{})
	dir := t.TempDir()
	pa, ua := e.open(dir, "a.txt", "a\n")
	pb, _ := e.open(dir, "b.txt", "b\n")
	for _, ch := range []Change{
		{TaskID: "t", Path: pa, After: ptr("A\n"), Label: "Claude: Edit a.txt"},
		{TaskID: "t", Path: pb, After: ptr("B\n"), Label: "Claude: Edit b.txt"},
	} {
		if err := c.Carry(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	got := r.list()
	if calls, _ := e.stats(); calls != 0 || len(got) != 2 || !strings.HasPrefix(got[0], "reload t show=true a.txt changed on disk") ||
		!strings.Contains(got[0], "workspace.applyEdit") || !strings.HasPrefix(got[1], "reload t show=false b.txt") {
		t.Fatalf("calls %d, reports %v", calls, got)
	}
	if d, _ := e.docs.Get(ua); d.Base != "a\n" || !d.Dirty {
		t.Fatalf("doc = %+v", d)
	}
}

// A client without workspaceEdit.documentChanges gets WorkspaceEdit.changes.
func TestCarryWithoutDocumentChanges(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	c.SetCapabilities(Capabilities{ApplyEdit: true})
	path, u := e.open(t.TempDir(), "a.txt", "a\nb\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("a\nB\n"), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	unversioned := e.unversioned
	e.mu.Unlock()
	if e.buffer(u) != "a\nB\n" || unversioned != 1 || !r.has("carried t") {
		t.Fatalf("buffer %q, %d unversioned edits, reports %v", e.buffer(u), unversioned, r.list())
	}
}

// One file open under two names (a link and its target, as VS Code allows):
// both buffers get the change, each reported.
func TestCarryOneFileTwoNames(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	dir := t.TempDir()
	path, ureal := e.open(dir, "real.txt", "x\n")
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink("real.txt", link); err != nil {
		t.Fatal(err)
	}
	ulink := e.openAs(link, "x\n")
	e.typeText(ulink, textedit.ContentChange{Range: lineRange(1), Text: "x"}) // a no-op change: versions differ
	real, _ := filepath.EvalSymlinks(path)
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: real, After: ptr("y\n"), Label: "Claude: Edit real.txt"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(ureal) != "y\n" || e.buffer(ulink) != "y\n" {
		t.Fatalf("buffers %q and %q", e.buffer(ureal), e.buffer(ulink))
	}
	if got := r.list(); len(got) != 2 {
		t.Fatalf("reports = %v", got)
	}
}

// What the bridge takes from an editor's initialize request: Neovim's own
// client answers applied=true for an edit it skipped and never checks
// version 0, so only the plugin's handler (which says so) counts as
// checking versions; the client's name says how it shows files.
func TestClientCapabilities(t *testing.T) {
	cases := []struct {
		name                  string
		applyEdit, docChanges bool
		client                string
		plugin                bool
		checked               bool
		editor                documents.Editor
	}{
		{"VS Code", true, true, "Visual Studio Code", false, true, documents.VSCode},
		{"code-server", true, true, "code-server", false, true, documents.VSCode},
		{"Neovim's own client told documentChanges", true, true, "Neovim", false, false, documents.Neovim},
		{"the Neovim plugin", true, true, "Neovim", true, true, documents.Neovim},
		{"no documentChanges", true, false, "vim-lsc", false, false, documents.AnyEditor},
	}
	for _, c := range cases {
		got := ClientCapabilities(c.applyEdit, c.docChanges, c.client, c.plugin)
		if got.VersionsChecked != c.checked || got.Editor != c.editor || got.DocumentChanges != c.docChanges || got.ApplyEdit != c.applyEdit {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}
