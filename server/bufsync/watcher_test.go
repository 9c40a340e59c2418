package bufsync

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newWatcher(t *testing.T, c *Carrier, debounce time.Duration) *Watcher {
	w := NewWatcher(c, debounce)
	t.Cleanup(func() { w.Close() })
	return w
}

// writeAtomic replaces a file the way sed -i and most editors do: write a
// temporary file in the same directory, rename it over the original.
func writeAtomic(t *testing.T, path, text string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".sed"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherPicksUpExternalChange(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 20*time.Millisecond)
	before := "package main\r\n\r\n// 😀 héllo\r\nfunc main() {}\r\n"
	path, u := e.open(t.TempDir(), "main.go", before)
	w.Begin("t1")
	time.Sleep(20 * time.Millisecond) // let the loop add the watch

	after := strings.Replace(before, "héllo", "wörld 🎉", 1)
	writeAtomic(t, path, after)
	time.Sleep(60 * time.Millisecond) // past the debounce: still not carried
	if e.buffer(u) != before {
		t.Fatal("carried before the task reported its tool's result")
	}
	// The Bash tool's result, and later events.
	advancing(t, w, "t1", "the buffer to get the change", func() bool { return e.buffer(u) == after })
	eventually(t, "the report", func() bool { return r.has("carried t1 Claude: main.go changed on disk") })
	if d, _ := e.docs.Get(u); d.Disk.Text != after || d.Dirty {
		t.Fatalf("doc = %+v", d)
	}
}

func TestWatcherIgnoresChangeAlreadyCarried(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 20*time.Millisecond)
	before := numbered(10)
	path, u := e.open(t.TempDir(), "a.txt", before)
	w.Begin("t1")
	time.Sleep(20 * time.Millisecond)

	// claude writes the file, then its tool result is carried.
	after := replaceLine(before, 5, "five\n")
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Carry(context.Background(), Change{TaskID: "t1", Path: path, After: ptr(after), Label: "Claude: Edit a.txt"}); err != nil {
		t.Fatal(err)
	}
	w.Advance("t1")
	time.Sleep(150 * time.Millisecond) // well past the debounce
	if calls, _ := e.stats(); calls != 1 {
		t.Fatalf("%d edits, want 1", calls)
	}
	if got := r.list(); len(got) != 1 {
		t.Fatalf("reports = %v", got)
	}
	if e.buffer(u) != after {
		t.Fatal("buffer wrong")
	}
}

func TestWatcherIdleWithoutTasks(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	w := newWatcher(t, c, 10*time.Millisecond)
	path, u := e.open(t.TempDir(), "a.txt", "a\n")
	w.Begin("t1")
	w.End("t1")
	time.Sleep(20 * time.Millisecond)
	writeAtomic(t, path, "user's own work elsewhere\n")
	time.Sleep(100 * time.Millisecond)
	if calls, _ := e.stats(); calls != 0 || e.buffer(u) != "a\n" {
		t.Fatalf("changed while no task ran: calls %d", calls)
	}
}

func TestWatcherDeletionAndNewDocuments(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 20*time.Millisecond)
	w.Begin("t1")
	// Opened after the task began, in a directory not watched before.
	dir := filepath.Join(t.TempDir(), "sub")
	path, u := e.open(dir, "b.txt", "b\n")
	time.Sleep(30 * time.Millisecond)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// A deletion may be a moment of a rewrite: told once it has stayed for
	// the settle time (a second).
	advancing(t, w, "t1", "the deletion report", func() bool { return r.has("deleted t1") })
	if e.buffer(u) != "b\n" {
		t.Fatal("buffer touched")
	}
	// Recreated: carried like a new file (the buffer equals nothing on disk,
	// so it merges against an empty base and conflicts unless trivial).
	if err := os.WriteFile(path, []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	advancing(t, w, "t1", "the disk text", func() bool { d, _ := e.docs.Get(u); return d.Disk.Exists && !d.Dirty })
}

// At the task's end, a change still waiting out its debounce is carried
// at once (Settle), not dropped, and nothing is carried after End.
func TestWatcherSettleFlushes(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, r := newCarrier(e)
	w := newWatcher(t, c, 10*time.Second)
	path, u := e.open(t.TempDir(), "a.txt", "a\n")
	w.Begin("t1")
	time.Sleep(20 * time.Millisecond)
	writeAtomic(t, path, "A\n")
	time.Sleep(50 * time.Millisecond) // the event reaches the loop, debounce pending
	if err := w.Settle(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	w.End("t1")
	if e.buffer(u) != "A\n" || !r.has("carried t1") {
		t.Fatalf("after Settle: buffer %q, reports %v", e.buffer(u), r.list())
	}
	calls, _ := e.stats()
	writeAtomic(t, path, "after the end\n")
	time.Sleep(100 * time.Millisecond)
	if n, _ := e.stats(); n != calls {
		t.Fatal("an edit was sent after the task ended")
	}
}

func TestWatcherRescan(t *testing.T) {
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	w := newWatcher(t, c, time.Hour)
	dir := t.TempDir()
	pa, ua := e.open(dir, "a.txt", "a\n")
	pb, ub := e.open(dir, "b.txt", "b\n")
	if err := os.WriteFile(pa, []byte("A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Begin("t1")
	l := &loop{paths: map[string]bool{pa: true, pb: true}, pending: map[string]*pending{}, timer: time.NewTimer(time.Hour)}
	w.rescan(l)
	w.Advance("t1")
	w.fire(l, time.Now())
	eventually(t, "the rescan", func() bool { return e.buffer(ua) == "A\n" })
	w.End("t1")
	if e.buffer(ub) != "b\n" {
		t.Fatal("an unchanged file was touched")
	}
	if calls, _ := e.stats(); calls != 1 {
		t.Fatalf("%d edits", calls)
	}
}

func TestWatcherCloseLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	e := newFakeEditor(t, 0)
	c, _ := newCarrier(e)
	path, _ := e.open(t.TempDir(), "a.txt", "a\n")
	w := NewWatcher(c, 5*time.Millisecond)
	w.Begin("t1")
	writeAtomic(t, path, "changed\n")
	time.Sleep(30 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close() // twice is fine
	w.Begin("t2")
	// base counted before the fake editor's own goroutine.
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base+1 })
}
