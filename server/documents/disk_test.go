package documents

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
)

func TestDiskOf(t *testing.T) {
	cases := []struct {
		name    string
		bytes   string
		decoded bool
		text    string
		enc     Encoding
	}{
		{"empty", "", true, "", UTF8},
		{"UTF-8", "héllo 😀\n", true, "héllo 😀\n", UTF8},
		{"CRLF", "a\r\nb\r\n", true, "a\r\nb\r\n", UTF8},
		{"UTF-8 BOM", "\xef\xbb\xbfx\n", true, "x\n", UTF8BOM},
		{"BOM and CRLF", "\xef\xbb\xbfp\r\nq\r\n", true, "p\r\nq\r\n", UTF8BOM},
		{"only a BOM", "\xef\xbb\xbf", true, "", UTF8BOM},
		{"UTF-16 LE", "\xff\xfea\x00\r\x00\n\x00=\xd8\x00\xde", true, "a\r\n😀", UTF16LE},
		{"UTF-16 BE", "\xfe\xff\x00a\x00\n", true, "a\n", UTF16BE},
		{"UTF-16 odd length", "\xff\xfea\x00b", false, "", ""},
		{"UTF-16 unpaired surrogate", "\xff\xfe=\xd8a\x00", false, "", ""},
		{"Latin-1", "caf\xe9\n", false, "", ""},
		{"Shift-JIS", "\x93\xfa\x96\x7b\x8c\xea\n", false, "", ""},
		{"BOM then Latin-1", "\xef\xbb\xbfcaf\xe9", false, "", ""},
	}
	for _, c := range cases {
		d := DiskOf([]byte(c.bytes))
		if !d.Known || !d.Exists || d.Decoded != c.decoded || d.Text != c.text || d.Encoding != c.enc {
			t.Errorf("%s: DiskOf = %+v", c.name, d)
		}
		if !c.decoded && !strings.Contains(d.Problem, "not UTF-8") {
			t.Errorf("%s: problem %q", c.name, d.Problem)
		}
	}
	// Content that cannot be decoded is still told apart.
	a, b := DiskOf([]byte("caf\xe9\n")), DiskOf([]byte("caf\xe9!\n"))
	if a.Same(b) || !a.Same(DiskOf([]byte("caf\xe9\n"))) {
		t.Error("Same on undecodable content")
	}
	if !DiskOf([]byte("x\n")).Same(DiskOf([]byte("\xef\xbb\xbfx\n"))) {
		t.Error("a byte-order mark alone is no change of the text")
	}
	if NoFile().Same(DiskOf(nil)) || !NoFile().Same(NoFile()) || Unreadable("x").Same(NoFile()) {
		t.Error("Same on absent files")
	}
}

// How each editor shows a file (measured; see EditorText), and that the
// bridge's view of the disk in the editor's representation equals it: an
// unmodified buffer is never taken for a modified one.
func TestEditorText(t *testing.T) {
	cases := []struct {
		name   string
		disk   string // bytes on disk
		buffer string // the text the editor sends for the unmodified file
		want   string // "" with ok=false: not comparable
		ok     bool
	}{
		{"LF", "a\nb\n", "a\nb\n", "a\nb\n", true},
		{"CRLF in VS Code and Neovim dos", "a\r\nb\r\n", "a\r\nb\r\n", "a\r\nb\r\n", true},
		{"mixed in Neovim unix", "a\r\nb\nc\r\n", "a\r\nb\nc\r\n", "a\r\nb\nc\r\n", true},
		{"mixed in VS Code (normalised to CRLF)", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n", "a\r\nb\r\nc\r\n", true},
		{"mixed in VS Code (normalised to LF)", "a\r\nb\nc\n", "a\nb\nc\n", "a\nb\nc\n", true},
		{"BOM (never in the text)", "\xef\xbb\xbfx\ny\n", "x\ny\n", "x\ny\n", true},
		{"BOM and CRLF", "\xef\xbb\xbfp\r\nq\r\n", "p\r\nq\r\n", "p\r\nq\r\n", true},
		{"BOM kept by a raw client", "\xef\xbb\xbfx\n", "\ufeffx\n", "\ufeffx\n", true},
		{"no line break", "x", "x", "x", true},
		{"UTF-16 LE with CRLF", "\xff\xfex\x00\r\x00\n\x00", "x\r\n", "x\r\n", true},
		{"Latin-1 decoded by the editor", "caf\xe9\n", "café\n", "", false},
	}
	for _, c := range cases {
		got, ok := EditorText(DiskOf([]byte(c.disk)), c.buffer)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: EditorText = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	// A change on disk in the buffer's representation: an LF text for a
	// buffer with CRLF (claude's Write writes LF) becomes CRLF, which is
	// what either editor makes of it.
	if got, _ := EditorText(DiskOf([]byte("w1\nw2\n")), "a\r\nb\r\n"); got != "w1\r\nw2\r\n" {
		t.Errorf("LF disk, CRLF buffer: %q", got)
	}
	if got, ok := EditorText(NoFile(), "typed"); !ok || got != "" {
		t.Errorf("no file: %q %v", got, ok)
	}
	if _, ok := EditorText(Disk{}, ""); ok {
		t.Error("an unread file is comparable")
	}
}

// Opened unmodified, every kind of file is clean, with its base = the buffer;
// one the bridge cannot decode is neither clean nor has a base.
func TestOpenUnmodifiedIsClean(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, disk, buffer string
		clean              bool
	}{
		{"LF", "a\nb\n", "a\nb\n", true},
		{"CRLF", "a\r\n", "a\r\n", true},
		{"BOM", "\xef\xbb\xbfx\n", "x\n", true},
		{"BOM CRLF", "\xef\xbb\xbfx\r\ny\r\n", "x\r\ny\r\n", true},
		{"mixed, VS Code", "a\r\nb\n", "a\nb\n", true},
		{"UTF-16", "\xff\xfex\x00\n\x00", "x\n", true},
		{"Latin-1", "caf\xe9\n", "café\n", false},
	}
	s := New()
	for i, c := range cases {
		_, u := writeFile(t, dir, string(rune('a'+i))+".txt", c.disk)
		s.Open(u, "text", 1, c.buffer)
		d, err := s.WaitLoaded(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if d.Dirty == c.clean || d.HasBase != c.clean || c.clean && d.Base != c.buffer {
			t.Errorf("%s: Dirty %v HasBase %v Base %q", c.name, d.Dirty, d.HasBase, d.Base)
		}
	}
}

// Opening a FIFO, a device or a directory never blocks: the document is
// usable at once and its disk is not known, saying why.
func TestOpenSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	s := New()
	s.ReadTimeout = time.Minute // a blocked read would show as a hang
	for path, problem := range map[string]string{fifo: "FIFO", "/dev/zero": "character device", dir: "directory"} {
		u := protocol.DocumentURI(uri.File(path))
		done := make(chan struct{})
		go func() {
			s.Open(u, "text", 1, "")
			if err := s.Change(u, 2, nil); err != nil {
				t.Error(err)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) blocked", path)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d, err := s.WaitLoaded(ctx, u)
		cancel()
		if err != nil || d.Disk.Known || !strings.Contains(d.Disk.Problem, problem) || d.HasBase {
			t.Errorf("%s: %+v, %v", path, d.Disk, err)
		}
	}
	// The same through ReadDisk, which the Watcher uses.
	d, err := ReadDisk(context.Background(), fifo)
	if err != nil || d.Known || !strings.Contains(d.Problem, "FIFO") {
		t.Errorf("ReadDisk(fifo) = %+v, %v", d, err)
	}
}

// A file on a hung mount: the document is usable at once, Find gives up
// waiting after ReadTimeout, and a read that finishes later still counts.
func TestHungRead(t *testing.T) {
	path, u := writeFile(t, t.TempDir(), "slow.txt", "x\n")
	release := make(chan struct{})
	var once sync.Once
	s := New()
	s.ReadTimeout = 50 * time.Millisecond
	s.read = func(p string) Disk {
		<-release
		return readDisk(p)
	}
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	s.Open(u, "text", 1, "x\n")
	if err := s.Change(u, 2, nil); err != nil { // the read loop goes on
		t.Fatal(err)
	}
	if d, _ := s.Get(u); !d.Loading {
		t.Fatalf("not loading: %+v", d)
	}
	start := time.Now()
	docs, err := s.Find(context.Background(), path)
	if err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Find: %v after %v", err, time.Since(start))
	}
	// Its identity is resolved by the stuck read too: found by spelling.
	if len(docs) != 1 || docs[0].Loading || docs[0].Disk.Known || !strings.Contains(docs[0].Disk.Problem, "longer than") || docs[0].HasBase {
		t.Fatalf("after the time limit: %+v", docs)
	}
	// While that read is stuck, the file is not read again: a task's carry
	// (or a second document on it) is told at once instead of waiting again
	// and tying up one more goroutine.
	start = time.Now()
	d, err := ReadDisk(context.Background(), path)
	if !errors.Is(err, fsbound.ErrStuck) || d.Known || !strings.Contains(d.Problem, "an earlier read of it has not finished") || time.Since(start) > time.Second {
		t.Fatalf("a read of a file whose read is stuck: %+v, %v after %v", d, err, time.Since(start))
	}
	once.Do(func() { close(release) })
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, _ := s.Get(u)
		if d.Disk.Known {
			if !d.HasBase || d.Base != "x\n" || d.Dirty {
				t.Fatalf("late read: %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late read was not taken")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Saving a file the bridge cannot decode reads it again (its bytes are the
// editor's encoding of the text), off the caller.
func TestSavedUndecodableIsReadAgain(t *testing.T) {
	path, u := writeFile(t, t.TempDir(), "latin1.txt", "caf\xe9\n")
	s := New()
	s.Open(u, "text", 1, "café\n")
	before, _ := s.WaitLoaded(context.Background(), u)
	if err := os.WriteFile(path, []byte("caf\xe9!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "café!\n"
	s.Saved(u, &text)
	after, err := s.WaitLoaded(context.Background(), u)
	if err != nil || after.Disk.Same(before.Disk) || after.Disk.Decoded || after.Base != text || !after.HasBase {
		t.Fatalf("after save: %+v, %v", after, err)
	}
	if !after.Disk.Same(DiskOf([]byte("caf\xe9!\n"))) {
		t.Fatal("the saved bytes were not read")
	}
}

func TestReadDiskTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if d, _ := ReadDisk(context.Background(), big); d.Known || !strings.Contains(d.Problem, "larger than") {
		t.Errorf("big file: %+v", d)
	}
}

// Neovim's buffer text for a file (measured on 0.7.2, see NeovimText): an
// unmodified buffer is never taken for a modified one, and a buffer written
// with 'fixeol' equals the file it wrote.
func TestNeovimText(t *testing.T) {
	cases := []struct {
		name, disk, buffer, want string
	}{
		{"empty file: one empty line with 'eol'", "", "\n", "\n"},
		{"empty file with noeol", "", "", ""},
		{"empty file in a dos buffer", "", "\r\n", "\r\n"},
		{"no final line break ('eol' off)", "a\nb", "a\nb", "a\nb"},
		{"written with 'fixeol', 'eol' still off", "a\nb\n", "a\nb", "a\nb"},
		{"final line break", "a\nb\n", "a\nb\n", "a\nb\n"},
		{"claude drops the final line break of an 'eol' buffer", "a\nc", "a\nb\n", "a\nc\n"},
		{"claude adds one to a buffer without", "a\nc\n", "a\nb", "a\nc"},
		{"CRLF, 'eol' off after a fixeol write", "a\r\nb\r\n", "a\r\nb", "a\r\nb"},
		{"CRLF dos buffer", "x\r\ny", "a\r\nb\r\n", "x\r\ny\r\n"},
	}
	for _, c := range cases {
		got, ok := Neovim.Text(DiskOf([]byte(c.disk)), c.buffer)
		if !ok || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	if got, ok := Neovim.Text(NoFile(), "\n"); !ok || got != "\n" {
		t.Errorf("a file not created yet: %q, %v", got, ok)
	}
	// In the store: an empty file and a saved file without its final line
	// break are clean in Neovim, and the empty file's base is Neovim's text.
	dir := t.TempDir()
	s := New()
	s.SetEditor(Neovim)
	_, ue := writeFile(t, dir, "empty.txt", "")
	_, un := writeFile(t, dir, "noeol.txt", "a\nb\n") // as 'fixeol' wrote it
	s.Open(ue, "text", 0, "\n")
	s.Open(un, "text", 0, "a\nb")
	for _, u := range []protocol.DocumentURI{ue, un} {
		d, err := s.WaitLoaded(context.Background(), u)
		if err != nil || d.Dirty || d.Modified || d.Base != d.Text {
			t.Errorf("%s: %+v, %v", u, d, err)
		}
	}
}
