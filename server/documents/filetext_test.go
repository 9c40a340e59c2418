package documents

import (
	"context"
	"testing"
)

// TestFileText: the file an editor writes when it saves a buffer is the
// buffer in the file's own representation (line breaks, byte-order mark,
// Neovim's final line break and empty file), and a buffer without unsaved
// changes is the file as it is (issue 13).
func TestFileText(t *testing.T) {
	for _, c := range []struct {
		name   string
		ed     Editor
		file   string
		buffer string
		want   string
	}{
		{"an LF buffer of a CRLF file", AnyEditor, "a\r\nb\r\n", "A\nb\n", "A\r\nb\r\n"},
		{"a CRLF buffer of a CRLF file (VS Code)", VSCode, "a\r\nb\r\n", "A\r\nb\r\n", "A\r\nb\r\n"},
		{"an LF buffer of an LF file", VSCode, "a\nb\n", "A\nb\n", "A\nb\n"},
		{"a buffer with a byte-order mark of a BOM file", AnyEditor, "\ufeffa\n", "\ufeffA\n", "A\n"},
		{"Neovim's empty buffer of an empty file", Neovim, "", "\n", ""},
		{"Neovim's unchanged buffer of a file without a final line break", Neovim, "a\nb", "a\nb", "a\nb"},
		{"Neovim's changed buffer of a file without a final line break ('fixeol')", Neovim, "a\nb", "a\nB", "a\nB\n"},
		{"Neovim's 'fileformat' dos buffer", Neovim, "a\r\nb\r\n", "A\r\nb\r\n", "A\r\nb\r\n"},
		{"Neovim's 'fileformat' unix buffer of a file with some CRLF lines", Neovim, "a\r\nb\n", "A\r\nb\n", "A\r\nb\n"},
		{"a one-line file keeps the buffer's breaks", AnyEditor, "a", "a\nb\n", "a\nb\n"},
		// The user changed the line break and saved: Neovim and VS Code write
		// their buffer's ('fileformat' unix over a CRLF file, dos over LF).
		{"Neovim's 'fileformat' set to unix over a CRLF file", Neovim, "a\r\nb\r\n", "A\nb\n", "A\nb\n"},
		{"Neovim's 'fileformat' set to dos over an LF file", Neovim, "a\nb\n", "A\r\nb\r\n", "A\r\nb\r\n"},
		{"VS Code's EOL set to LF over a CRLF file", VSCode, "a\r\nb\r\n", "A\nb\n", "A\nb\n"},
	} {
		d := DiskOf([]byte(c.file))
		if got := c.ed.FileText(d, c.buffer); got != c.want {
			t.Errorf("%s: FileText = %q, want %q", c.name, got, c.want)
		}
		if text, _ := c.ed.Text(d, c.buffer); text == c.buffer {
			if u, ok := c.ed.Unsaved(d, c.buffer); !ok || u {
				t.Errorf("%s: Unsaved = %v %v for a buffer that holds its file", c.name, u, ok)
			}
		}
	}
	if got := Neovim.FileText(NoFile(), "x\n"); got != "x\n" {
		t.Errorf("a file not on disk: %q", got)
	}
}

// TestSavedRecordsTheFile: after a save the store's record of the disk is
// the file as the editor wrote it, not the buffer's representation: a read
// of the file finds the same (no phantom change of the file), and the
// buffer has no unsaved change.
func TestSavedRecordsTheFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name         string
		ed           Editor
		file, buffer string
		written      string
	}{
		{"Neovim's empty file", Neovim, "", "\n", ""},
		{"an LF buffer of a CRLF file", AnyEditor, "l1\r\nl2\r\n", "USER1\nl2\n", "USER1\r\nl2\r\n"},
		{"a BOM kept in the buffer", AnyEditor, "\ufeffl1\n", "\ufeffUSER1\n", "\ufeffUSER1\n"},
	} {
		_, u := writeFile(t, dir, c.name+".txt", c.file)
		s := New()
		s.SetEditor(c.ed)
		s.Open(u, "text", 1, c.buffer)
		if _, err := s.WaitLoaded(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		s.Saved(u, nil)
		d, _ := s.Get(u)
		if !d.Disk.Same(DiskOf([]byte(c.written))) || d.Modified || d.Dirty {
			t.Errorf("%s: after the save the store has the disk %q (dirty %v), the file is %q", c.name, d.Disk.Text, d.Dirty, c.written)
		}
	}
}
