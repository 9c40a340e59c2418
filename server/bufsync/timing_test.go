package bufsync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// An editor whose didChange comes later than ChangeWait (a long debounce):
// the task's next changes go on meanwhile, and the edit is judged by the
// buffer the didChange reports when it comes (within LateWait of the next
// change of the document); the next change of that document is computed
// from it.
func TestCarryLateDidChangeIsJudgedWhenItComes(t *testing.T) {
	e := newFakeEditor(t, 400*time.Millisecond)
	c, r := newCarrier(e)
	c.ChangeWait, c.LateWait = 50*time.Millisecond, 10*time.Second
	v0 := numbered(10)
	path, u := e.open(t.TempDir(), "a.txt", v0)
	v1 := replaceLine(v0, 2, "edit 1\n")
	start := time.Now()
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(v1), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 350*time.Millisecond {
		t.Errorf("Carry waited %v for the late didChange", el)
	}
	v2 := replaceLine(v1, 8, "edit 2\n")
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr(v2), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	if got := e.buffer(u); got != v2 {
		t.Fatalf("buffer = %q, want %q", got, v2)
	}
	got := r.list()
	if len(got) != 2 || !strings.HasPrefix(got[0], "carried t") || !strings.HasPrefix(got[1], "carried t") {
		t.Fatalf("reports = %v", got)
	}
	if calls, refused := e.stats(); calls != 2 || refused != 0 {
		t.Fatalf("calls %d refused %d: the second edit was computed on a stale buffer", calls, refused)
	}
	if d, _ := e.docs.Get(u); d.Base != v2 {
		t.Fatalf("base %q", d.Base)
	}
}

// The judgement of an edit by the buffer after it never says "landed" when
// the buffer cannot tell: typing on the edited line leaves it open unless
// the editor checks versions.
func TestJudge(t *testing.T) {
	before := "aaaa\nbbbb\ncccc\ndddd\neeee\n"
	want := "aaaa\nBBBB\ncccc\ndddd\neeee\n"
	cases := []struct {
		name, now string
		checked   bool
		verdict   verdict
	}{
		{"exactly in", want, false, editLanded},
		{"in, line breaks converted", strings.ReplaceAll(want, "\n", "\r\n"), false, editLanded},
		{"in, typing elsewhere", "aaaa\nBBBB\ncccc\ndddd\neeee typed\n", false, editLanded},
		{"dropped, typing elsewhere", "aaaa\nbbbb\ncccc\ndddd\neeee typed\n", false, editDropped},
		// The same number of bytes away from both texts (the old tie):
		// nobody can tell, so it is not counted as carried.
		{"typing on the edited line", "aaaa\nBBBBb\ncccc\ndddd\neeee\n", false, editUnknown},
		{"typing on the edited line, dropped", "aaaa\nbbXbb\ncccc\ndddd\neeee\n", false, editUnknown},
		{"typing on the edited line, checked", "aaaa\nBBBBb\ncccc\ndddd\neeee\n", true, editLanded},
	}
	for _, c := range cases {
		if got := judge(before, want, c.now, c.checked); got != c.verdict {
			t.Errorf("%s: %v, want %v", c.name, got, c.verdict)
		}
	}
}

// A client without documentChanges applies an edit wherever the buffer has
// moved to. The user types on the edited line just before the edit
// arrives: the edit lands misplaced, and the bridge must not report it as
// carried.
func TestCarryUnversionedRaceIsNeverReportedApplied(t *testing.T) {
	e := newFakeEditor(t, 60*time.Millisecond)
	c, r := newCarrier(e)
	c.SetCapabilities(ClientCapabilities(true, false, "vim-lsc", false))
	before := "aaaa\nbbbb\ncccc\n"
	path, u := e.open(t.TempDir(), "a.txt", before)
	e.typeText(u, textedit.ContentChange{Range: &protocol.Range{Start: protocol.Position{Line: 1, Character: 2}, End: protocol.Position{Line: 1, Character: 2}}, Text: "X"})
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("aaaa\nBBBB\ncccc\n"), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	got := r.list()
	if len(got) != 1 || !strings.HasPrefix(got[0], "conflict t") || !strings.Contains(got[0], "may not have reached your buffer") {
		t.Fatalf("buffer %q, reports %v", e.buffer(u), got)
	}
}

// An editor that does not answer an applyEdit within ApplyTimeout: the
// report says so in the user's words (no internal error text), and does
// not claim the buffer was left as it was (the edit may land yet).
func TestCarryApplyEditUnanswered(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	c.ApplyTimeout = 50 * time.Millisecond
	path, u := e.open(t.TempDir(), "a.txt", "a\nb\n")
	e.block = map[protocol.DocumentURI]chan struct{}{u: make(chan struct{})}
	if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("A\nb\n"), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	got := r.list()
	if len(got) != 1 || !strings.Contains(got[0], "The editor did not answer the request to apply Claude's change to") ||
		strings.Contains(got[0], "bufsync") || strings.Contains(got[0], "deadline") || strings.Contains(got[0], "left as it is") {
		t.Fatalf("reports = %v", got)
	}
}

// An editor that never answers applyEdit: when the task's time to carry
// ends (its context), the change is reported as not carried, the carries
// end at once, and nothing more is sent.
func TestCarryEndsWithTheTask(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	path, u := e.open(t.TempDir(), "a.txt", "a\nb\n")
	e.block = map[protocol.DocumentURI]chan struct{}{u: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr("A\nb\n"), Label: "Claude: Edit a.txt"})
	}()
	eventually(t, "the applyEdit", func() bool { calls, _ := e.stats(); return calls == 0 && len(done) == 0 })
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Carry did not end with its context")
	}
	if err := c.Wait(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	// A change queued behind it is reported too, without being sent.
	if err := c.Carry(ctx, Change{TaskID: "t", Path: path, After: ptr("A\nB\n"), Label: "Claude: Edit a.txt"}); err == nil {
		t.Fatal("a carry after the end did not fail")
	}
	got := r.list()
	if len(got) != 2 || !strings.Contains(got[0], "did not reach your buffer before the task ended") || !strings.Contains(got[1], "did not reach your buffer before the task ended") {
		t.Fatalf("reports = %v", got)
	}
	if calls, _ := e.stats(); calls != 0 {
		t.Fatalf("%d edits applied", calls)
	}
}

// A file tool changing a file (its tool use seen, its result not yet): the
// watcher leaves the file alone, and the tool's result carries the change
// with the tool's label, however late the bridge reads claude's output.
func TestWatcherLeavesAFileToolsChangeToItsResult(t *testing.T) {
	for _, late := range []bool{false, true} {
		name := map[bool]string{false: "tool use read first", true: "tool use read after the write"}[late]
		t.Run(name, func(t *testing.T) {
			e := newFakeEditor(t, 0)
			c, r := newCarrier(e)
			w := newWatcher(t, c, 20*time.Millisecond)
			before := numbered(10)
			dir := t.TempDir()
			path, u := e.open(dir, "a.txt", before)
			w.Begin("t1")
			time.Sleep(30 * time.Millisecond)
			after := replaceLine(before, 5, "five\n")
			if !late {
				w.Hold("t1", "toolu_1", path)
				w.Advance("t1")
			}
			writeAtomic(t, path, after) // claude's Edit
			time.Sleep(100 * time.Millisecond)
			if late {
				// The bridge reads the tool_use line only now (a busy machine).
				w.Hold("t1", "toolu_1", filepath.Join(dir, ".", "a.txt"))
				w.Advance("t1")
				time.Sleep(100 * time.Millisecond)
			}
			if calls, _ := e.stats(); calls != 0 {
				t.Fatal("the watcher carried a file tool's change")
			}
			if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit a.txt"}); err != nil {
				t.Fatal(err)
			}
			w.Release("toolu_1")
			w.Advance("t1") // the tool result
			time.Sleep(100 * time.Millisecond)
			if err := w.Settle(context.Background(), "t1"); err != nil {
				t.Fatal(err)
			}
			w.End("t1")
			if got := r.list(); len(got) != 1 || got[0] != "carried t1 Claude: Edit a.txt" || e.buffer(u) != after {
				t.Fatalf("reports %v, buffer %q", got, e.buffer(u))
			}
		})
	}
}

// A command that truncates a file and then writes it (`: > f; printf ... >
// f`), with unsaved changes in the buffer: the empty moment is not judged
// (no conflict), the settled content is carried and the user's line stays.
func TestWatcherJudgesTheSettledState(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 20*time.Millisecond)
	before := numbered(8)
	path, u := e.open(t.TempDir(), "f.txt", before)
	e.typeText(u, textedit.ContentChange{Range: lineRange(1), Text: "line 1 USER"})
	w.Begin("t1")
	time.Sleep(30 * time.Millisecond)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // the loop sees the event before the tool's result
	w.Advance("t1")
	time.Sleep(300 * time.Millisecond) // longer than the debounce, shorter than the settle time
	after := replaceLine(before, 7, "LINE 7\n")
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
	advancing(t, w, "t1", "the change", func() bool { return e.buffer(u) == replaceLine(after, 1, "line 1 USER\n") })
	time.Sleep(1200 * time.Millisecond) // past the settle time of the empty state
	if err := w.Settle(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	w.End("t1")
	for _, rep := range r.list() {
		if strings.HasPrefix(rep, "conflict") || strings.HasPrefix(rep, "deleted") {
			t.Fatalf("reports = %v", r.list())
		}
	}
	if e.buffer(u) != replaceLine(after, 1, "line 1 USER\n") {
		t.Fatalf("buffer %q", e.buffer(u))
	}
}

// A file that changed and cannot be read is reported (a dropped carry is
// never silent); an open document that cannot be read and did not change is
// not reported at every task's end.
func TestWatcherReportsAChangeItCannotRead(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 20*time.Millisecond)
	dir := t.TempDir()
	path, _ := e.open(dir, "a.txt", "a\n")
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	e.openAs(fifo, "")
	w.Begin("t1")
	time.Sleep(30 * time.Millisecond)
	// A command swaps the file for a FIFO.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	advancing(t, w, "t1", "the report", func() bool {
		return r.has("reload t1 show=true a.txt may have changed on disk, but the bridge cannot read it")
	})
	if err := w.Settle(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	w.End("t1")
	for _, rep := range r.list() {
		if strings.Contains(rep, "pipe") {
			t.Fatalf("an unchanged unreadable document was reported: %v", r.list())
		}
	}
}

// A file with a carriage return inside a line ("x\ry\nzed\n"): Neovim 0.7.2
// keeps it in the line ('fileformat' unix, two lines), LSP counts it as a
// line break. Carried into Neovim the edit lands on Neovim's line, and the
// user's didChanges land where Neovim meant them; a client the bridge knows
// nothing of gets no edit but a message; an edit that would put a lone "\r"
// into a Neovim buffer is not sent (Neovim would make it a line break).
func TestCarryLoneCR(t *testing.T) {
	t.Run("Neovim", func(t *testing.T) {
		e := newFakeEditor(t, 0)
		e.breaks = textedit.LFBreaks
		c, r := newCarrier(e)
		c.SetCapabilities(ClientCapabilities(true, true, "Neovim", true))
		path, u := e.open(t.TempDir(), "cr.txt", "x\ry\nzed\nmid\nlast\n")
		// The user types on Neovim's second line ("zed").
		e.typeText(u, textedit.ContentChange{Range: &protocol.Range{Start: protocol.Position{Line: 1, Character: 3}, End: protocol.Position{Line: 1, Character: 3}}, Text: "!"})
		if d, _ := e.docs.Get(u); d.Text != "x\ry\nzed!\nmid\nlast\n" {
			t.Fatalf("the bridge's copy of the buffer: %q", d.Text)
		}
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("x\ry\nzed\nmid\nLAST\n"), Label: "Claude: Edit cr.txt"}); err != nil {
			t.Fatal(err)
		}
		if got := e.buffer(u); got != "x\ry\nzed!\nmid\nLAST\n" {
			t.Fatalf("buffer %q, reports %v", got, r.list())
		}
		// A change that puts a lone "\r" into a line.
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("x\ry\nzed\nmid\nLA\rST\n"), Label: "Claude: Edit cr.txt"}); err != nil {
			t.Fatal(err)
		}
		if got := r.list(); len(got) != 2 || !strings.Contains(got[1], "carriage return inside a line") || e.buffer(u) != "x\ry\nzed!\nmid\nLAST\n" {
			t.Fatalf("reports %v, buffer %q", got, e.buffer(u))
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		e := newFakeEditor(t, 0)
		c, r := newCarrier(e)
		c.SetCapabilities(ClientCapabilities(true, true, "some-editor", false))
		path, u := e.open(t.TempDir(), "cr.txt", "x\ry\nzed\n")
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: ptr("x\ry\nZED\n"), Label: "Claude: Edit cr.txt"}); err != nil {
			t.Fatal(err)
		}
		if got := r.list(); len(got) != 1 || !strings.Contains(got[0], "carriage return that does not end a line") || e.buffer(u) != "x\ry\nzed\n" {
			t.Fatalf("reports %v, buffer %q", got, e.buffer(u))
		}
	})
}
