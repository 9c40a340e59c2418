package bufsync

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

func newCarrier(e *fakeEditor) (*Carrier, *fakeReporter) {
	r := &fakeReporter{}
	c := NewCarrier(e.docs, e, r, nil)
	c.ChangeWait = time.Second
	c.RetryWait = 300 * time.Millisecond
	c.Display = filepath.Base
	return c, r
}

func TestCarryClean(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	before := numbered(100)
	path, u := e.open(t.TempDir(), "main.go", before)
	after := replaceLine(before, 50, "line fifty\n")

	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	if got := e.buffer(u); got != after {
		t.Fatalf("buffer = %q", got)
	}
	if got := r.list(); len(got) != 1 || got[0] != "carried t1 Claude: Edit main.go" {
		t.Fatalf("reports = %v", got)
	}
	d, _ := e.docs.Get(u)
	if d.Disk.Text != after || d.Dirty || d.Text != after || d.Base != after {
		t.Fatalf("doc = %+v", d)
	}
	// The same change again: the buffer already has it, nothing is sent.
	calls, _ := e.stats()
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.stats(); n != calls {
		t.Fatalf("a change already in the buffer sent %d edits", n-calls)
	}
}

// The base is the disk content the bridge read when the document opened.
func TestCarryBaseFromOpen(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	before := numbered(10)
	path, u := e.open(t.TempDir(), "a.txt", before)
	e.typeText(u, textedit.ContentChange{Range: lineRange(1), Text: "mine"})
	after := replaceLine(before, 9, "agent\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(after), Label: "Claude: Write a.txt"}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.buffer(u), replaceLine(after, 1, "mine\n"); got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
}

func lineRange(line uint32) *protocol.Range {
	// the whole text of 1-based line `line`, not its line break: a
	// character past the line's end means its end (LSP), however long the
	// line (FuzzCarry found one of over 1000)
	return &protocol.Range{
		Start: protocol.Position{Line: line - 1},
		End:   protocol.Position{Line: line - 1, Character: math.MaxUint32},
	}
}

func TestCarryDirtyMerge(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	before := numbered(20)
	path, u := e.open(t.TempDir(), "main.go", before)
	e.typeText(u, textedit.ContentChange{Range: lineRange(3), Text: "user was here"})
	after := replaceLine(before, 15, "agent was here\n")

	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	want := replaceLine(after, 3, "user was here\n")
	if got := e.buffer(u); got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
	if !r.has("carried t1") {
		t.Fatalf("reports = %v", r.list())
	}
	if d, _ := e.docs.Get(u); !d.Dirty || d.Disk.Text != after || d.Base != after {
		t.Fatalf("the user's change is still unsaved: %+v", d)
	}
}

func TestCarryConflict(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	before := numbered(20)
	path, u := e.open(t.TempDir(), "main.go", before)
	e.typeText(u, textedit.ContentChange{Range: lineRange(10), Text: "user's line 10"})
	buf := e.buffer(u)
	after := replaceLine(before, 10, "agent's line 10\n")
	calls, _ := e.stats()

	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	if got := e.buffer(u); got != buf {
		t.Fatalf("buffer touched: %q", got)
	}
	if n, _ := e.stats(); n != calls {
		t.Fatal("an edit was sent")
	}
	got := r.list()
	if len(got) != 1 || !strings.HasPrefix(got[0], "conflict t1 ") || !strings.Contains(got[0], "main.go") || !strings.Contains(got[0], "line 10") {
		t.Fatalf("reports = %v", got)
	}
	if d, _ := e.docs.Get(u); d.Disk.Text != after || d.Base != before {
		t.Fatalf("after a conflict the disk is Claude's and the base stays where the buffer is: %+v", d)
	}
}

// The editor refuses the first edit because the user typed meanwhile (its
// didChange still on the way): the Carrier waits for it and tries again.
func TestCarryRetryAfterRefusal(t *testing.T) {
	e := newFakeEditor(t, 40*time.Millisecond)
	c, r := newCarrier(e)
	before := numbered(30)
	path, u := e.open(t.TempDir(), "main.go", before)
	typed := false
	e.beforeApply = func(u protocol.DocumentURI) {
		if !typed {
			typed = true
			e.typeText(u, textedit.ContentChange{Range: lineRange(2), Text: "typed just now"})
		}
	}
	after := replaceLine(before, 25, "agent\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.buffer(u), replaceLine(after, 2, "typed just now\n"); got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
	if _, refused := e.stats(); refused != 1 {
		t.Fatalf("refused %d edits, want 1", refused)
	}
	if !r.has("carried t1") {
		t.Fatalf("reports = %v", r.list())
	}
}

func TestCarryRepeatedRefusal(t *testing.T) {
	e := newFakeEditor(t, 0)
	e.refuse = "read-only buffer"
	c, r := newCarrier(e)
	c.RetryWait = 10 * time.Millisecond
	before := numbered(5)
	path, u := e.open(t.TempDir(), "main.go", before)
	after := replaceLine(before, 2, "x\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit main.go"}); err != nil {
		t.Fatal(err)
	}
	if calls, _ := e.stats(); calls != 3 {
		t.Fatalf("%d attempts, want 3", calls)
	}
	got := r.list()
	if len(got) != 1 || !strings.HasPrefix(got[0], "conflict t1") || !strings.Contains(got[0], "read-only buffer") || !strings.Contains(got[0], "main.go") {
		t.Fatalf("reports = %v", got)
	}
	if e.buffer(u) != before {
		t.Fatal("buffer changed")
	}
}

// Neovim 0.7 drops an edit older than its buffer but answers applied=true.
// The Carrier notices after the didChange and sends the edit again.
func TestCarryNeovimSilentSkip(t *testing.T) {
	e := newFakeEditor(t, 60*time.Millisecond) // the didChange debounce
	e.nvim = true
	c, r := newCarrier(e)
	before := numbered(30)
	path, u := e.open(t.TempDir(), "init.lua", before)
	e.typeText(u, textedit.ContentChange{Range: lineRange(1), Text: "typed"}) // not yet reported
	after := replaceLine(before, 20, "agent\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit init.lua"}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.buffer(u), replaceLine(after, 1, "typed\n"); got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
	if calls, _ := e.stats(); calls != 2 {
		t.Fatalf("%d edits sent, want 2 (one skipped, one applied)", calls)
	}
	if !r.has("carried t1") {
		t.Fatalf("reports = %v", r.list())
	}
}

// Back-to-back changes to one document, with a slow didChange: each one is
// computed against the buffer the previous one left, so none is refused.
func TestCarrySequentialWaitsForDidChange(t *testing.T) {
	e := newFakeEditor(t, 50*time.Millisecond)
	c, r := newCarrier(e)
	text := numbered(40)
	path, u := e.open(t.TempDir(), "main.go", text)
	for i := 1; i <= 4; i++ {
		next := replaceLine(text, i*8, "edit\n")
		if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(next), Label: "Claude: Edit main.go"}); err != nil {
			t.Fatal(err)
		}
		text = next
	}
	if e.buffer(u) != text {
		t.Fatalf("buffer = %q", e.buffer(u))
	}
	if calls, refused := e.stats(); calls != 4 || refused != 0 {
		t.Fatalf("calls %d refused %d", calls, refused)
	}
	if n := len(r.list()); n != 4 {
		t.Fatalf("reports = %v", r.list())
	}
}

func TestCarryDeleted(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	path, u := e.open(t.TempDir(), "gone.txt", "still here\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, Label: "Claude: Delete gone.txt"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(u) != "still here\n" {
		t.Fatal("buffer touched")
	}
	if got := r.list(); len(got) != 1 || got[0] != "deleted t1" {
		t.Fatalf("reports = %v", got)
	}
	if d, _ := e.docs.Get(u); d.Disk.Exists || !d.Dirty {
		t.Fatalf("doc = %+v", d)
	}
}

func TestCarryNotOpen(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	dir := t.TempDir()
	e.open(dir, "open.txt", "x\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: filepath.Join(dir, "other.txt"), After: ptr("y\n"), Label: "Claude: Write other.txt"}); err != nil {
		t.Fatal(err)
	}
	if calls, _ := e.stats(); calls != 0 || len(r.list()) != 0 {
		t.Fatalf("calls %d, reports %v", calls, r.list())
	}
}

func TestCarryCRLFAndEmoji(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	before := "héllo 😀 wörld\r\nsecond 日本語\r\nthird 🎉\r\nfourth\r\n"
	path, u := e.open(t.TempDir(), "win.txt", before)
	// the user edits after the emoji on line 1
	e.typeText(u, textedit.ContentChange{Range: &protocol.Range{
		Start: protocol.Position{Line: 0, Character: 9},
		End:   protocol.Position{Line: 0, Character: 9},
	}, Text: "!"})
	if got := e.buffer(u); got != "héllo 😀 !wörld\r\nsecond 日本語\r\nthird 🎉\r\nfourth\r\n" {
		t.Fatalf("typing: %q", got)
	}
	after := "héllo 😀 wörld\r\nsecond 日本語\r\nthird 🎉🎉 party\r\nfourth\r\n"
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit win.txt"}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.buffer(u), "héllo 😀 !wörld\r\nsecond 日本語\r\nthird 🎉🎉 party\r\nfourth\r\n"; got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
	if !r.has("carried") {
		t.Fatalf("reports = %v", r.list())
	}
}

func TestCarryUnversioned(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	c.SetCapabilities(Capabilities{ApplyEdit: true})
	before := numbered(5)
	path, u := e.open(t.TempDir(), "a.txt", before)
	after := replaceLine(before, 3, "three\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(after), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(u) != after {
		t.Fatalf("buffer = %q", e.buffer(u))
	}
}

// A slow editor on one document does not hold up another document.
func TestCarryDocumentsInParallel(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	dir := t.TempDir()
	pa, ua := e.open(dir, "a.txt", "a\n")
	pb, ub := e.open(dir, "b.txt", "b\n")
	release := make(chan struct{})
	e.block = map[protocol.DocumentURI]chan struct{}{ua: release}
	errc := make(chan error, 1)
	go func() {
		errc <- c.Carry(context.Background(), Change{TaskID: "t", Path: pa, After: ptr("A\n"), Label: "Claude: Edit a.txt"})
	}()
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: pb, After: ptr("B\n"), Label: "Claude: Edit b.txt"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(ub) != "B\n" {
		t.Fatal("b not carried while a is blocked")
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if e.buffer(ua) != "A\n" {
		t.Fatal("a not carried")
	}
}

// Cancelling the context ends a Carry blocked on the editor.
func TestCarryCancel(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	path, u := e.open(t.TempDir(), "a.txt", "a\n")
	e.block = map[protocol.DocumentURI]chan struct{}{u: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr("A\n"), Label: "Claude: Edit a.txt"}); err == nil {
		t.Fatal("no error after cancel")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.locks) != 0 {
		t.Fatalf("%d document locks left", len(c.locks))
	}
}

// A file the agent creates while the user has an empty buffer open on it.
func TestCarryCreatedFile(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	path, u := e.open(t.TempDir(), "new.txt", "")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	e.docs.SetDisk(u, documents.NoFile())
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("created\n"), Label: "Claude: Write new.txt"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(u) != "created\n" {
		t.Fatalf("buffer = %q", e.buffer(u))
	}
}

// The user types right after the edit lands: the buffer holds the edit and the
// typing, and nothing is sent again.
func TestCarryTypingAfterApply(t *testing.T) {
	e := newFakeEditor(t, 30*time.Millisecond)
	c, r := newCarrier(e)
	before := numbered(30)
	path, u := e.open(t.TempDir(), "a.txt", before)
	once := false
	e.afterApply = func(u protocol.DocumentURI) {
		if !once {
			once = true
			e.typeText(u, textedit.ContentChange{Range: lineRange(21), Text: "typed on the next line"})
		}
	}
	after := replaceLine(before, 20, "agent\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.buffer(u), replaceLine(after, 21, "typed on the next line\n"); got != want {
		t.Fatalf("buffer = %q, want %q", got, want)
	}
	if calls, _ := e.stats(); calls != 1 {
		t.Fatalf("%d edits sent, want 1", calls)
	}
	if got := r.list(); len(got) != 1 || !strings.HasPrefix(got[0], "carried") {
		t.Fatalf("reports = %v", got)
	}
}

// Neovim dropped the edit and the user was typing on the very line the agent
// changed: the Carrier cannot tell whether its edit is in, so it says so.
func TestCarryNeovimSkipWithOverlappingTyping(t *testing.T) {
	e := newFakeEditor(t, 60*time.Millisecond)
	e.nvim = true
	c, r := newCarrier(e)
	before := numbered(30)
	path, u := e.open(t.TempDir(), "init.lua", before)
	e.typeText(u, textedit.ContentChange{Range: &protocol.Range{
		Start: protocol.Position{Line: 19, Character: 0},
		End:   protocol.Position{Line: 19, Character: 0},
	}, Text: "typed "}) // not yet reported
	typed := e.buffer(u)
	after := replaceLine(before, 20, "agent\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit init.lua"}); err != nil {
		t.Fatal(err)
	}
	if e.buffer(u) != typed {
		t.Fatal("buffer changed")
	}
	got := r.list()
	if len(got) != 1 || !strings.Contains(got[0], "may not have reached your buffer") || !strings.Contains(got[0], "line 20") {
		t.Fatalf("reports = %v", got)
	}
}

// The document closes while the Carrier waits for the editor.
func TestCarryDocumentClosedWhileWaiting(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	c.RetryWait = 5 * time.Second
	path, u := e.open(t.TempDir(), "a.txt", "a\n")
	e.refuseNext = 1
	e.afterApply = nil
	e.beforeApply = func(u protocol.DocumentURI) {
		go func() { time.Sleep(20 * time.Millisecond); e.docs.Close(u) }()
	}
	start := time.Now()
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("A\n"), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("waited for a closed document")
	}
	if len(r.list()) != 0 {
		t.Fatalf("reports = %v", r.list())
	}
	_ = u
}

func TestConflictMessage(t *testing.T) {
	cs := []textedit.Conflict{
		{Ours: textedit.LineRange{Start: 1, End: 3}, Theirs: textedit.LineRange{Start: 1, End: 2}},
		{Ours: textedit.LineRange{Start: 9, End: 9}, Theirs: textedit.LineRange{Start: 8, End: 10}},
		{}, {}, {},
	}
	msg := conflictMessage("main.go", cs, false)
	for _, want := range []string{"main.go", "line 2", "lines 9-10", "and 2 more", "lines 2-3", "before line 10", "Your buffer was left as it is"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
