package bufsync

import (
	"testing"

	"github.com/claude-bridge/claude-bridge/server/documents"
)

// TestUserSaved: a change found on disk is the user's save when the
// buffer has unsaved changes and the file has every one of them (the
// editor wrote the buffer, and perhaps a command changed other lines
// after): whatever else changed the file is not the user's.
func TestUserSaved(t *testing.T) {
	const known = "l1\nl2\nl3\nl4\nl5\n"
	for _, c := range []struct {
		name, buffer, disk string
		want               bool
	}{
		{"the editor wrote the buffer", "USER1\nl2\nl3\nl4\nl5\n", "USER1\nl2\nl3\nl4\nl5\n", true},
		{"the editor wrote it, then a command changed line 3", "USER1\nl2\nl3\nl4\nl5\n", "USER1\nl2\nL3\nl4\nl5\n", true},
		{"the user's line deleted, and a line inserted", "l1\nl2\nl3\nl5\n", "l1\nl2\nl3\nl5\nnew\n", true},
		{"no unsaved change: a command's change", known, "l1\nl2\nL3\nl4\nl5\n", false},
		{"the file lacks the user's change", "USER1\nl2\nl3\nl4\nl5\n", "l1\nl2\nL3\nl4\nl5\n", false},
		{"the file has one of the user's two changes", "USER1\nl2\nl3\nl4\nUSER5\n", "USER1\nl2\nl3\nl4\nl5\n", false},
		{"a command changed the user's line further", "USER1\nl2\nl3\nl4\nl5\n", "USER1!\nl2\nl3\nl4\nl5\n", false},
		{"the file is as the bridge knew it", "USER1\nl2\nl3\nl4\nl5\n", known, false},
	} {
		doc := documents.Doc{Text: c.buffer, Disk: documents.DiskOf([]byte(known))}
		if got := UserSaved(documents.VSCode, doc, documents.DiskOf([]byte(c.disk))); got != c.want {
			t.Errorf("%s: UserSaved = %v, want %v", c.name, got, c.want)
		}
	}
	if UserSaved(documents.VSCode, documents.Doc{Text: "x\n", Disk: documents.Unreadable("hung")}, documents.DiskOf([]byte("x\n"))) {
		t.Error("a save taken from a disk the bridge did not know")
	}
	if UserSaved(documents.VSCode, documents.Doc{Text: "x\n", Disk: documents.DiskOf([]byte("y\n"))}, documents.NoFile()) {
		t.Error("a deleted file taken for a save")
	}
}

// TestUserSavedComparesAsTheStore: whether the buffer has unsaved changes
// is judged as the store judges it (documents.Editor.Unsaved): a buffer
// that differs from its file only in the editor's representation (Neovim's
// "\n" for an empty file, its final line break, an LF buffer of a CRLF
// file, a kept byte-order mark) has none, and a change found on disk is
// then never the user's save (claude's Write of an empty file open in
// Neovim is carried as claude's).
func TestUserSavedComparesAsTheStore(t *testing.T) {
	for _, c := range []struct {
		name               string
		ed                 documents.Editor
		file, buffer, disk string
		want               bool
	}{
		{"Neovim's empty file, claude writes it", documents.Neovim, "", "\n", "x\ny\n", false},
		{"Neovim's empty file, claude writes an empty line first", documents.Neovim, "", "\n", "\nx\n", false},
		{"Neovim, no final line break, a command appends", documents.Neovim, "a\nb", "a\nb", "a\nb\nc\n", false},
		{"Neovim, no final line break, the editor wrote the change ('fixeol')", documents.Neovim, "a\nb", "a\nB", "a\nB\n", true},
		{"an LF buffer of a CRLF file, a command's change", documents.AnyEditor, "l1\r\nl2\r\n", "l1\nl2\n", "l1\r\nL2\r\n", false},
		{"an LF buffer of a CRLF file, the editor wrote it", documents.AnyEditor, "l1\r\nl2\r\n", "USER1\nl2\n", "USER1\r\nl2\r\n", true},
		{"an LF buffer of a CRLF file, written, then a command", documents.AnyEditor, "l1\r\nl2\r\nl3\r\n", "USER1\nl2\nl3\n", "USER1\r\nl2\r\nL3\r\n", true},
		{"a byte-order mark kept in the buffer, a command's change", documents.AnyEditor, "\ufeffl1\n", "\ufeffl1\n", "\ufeffL1\n", false},
	} {
		doc := documents.Doc{Text: c.buffer, Disk: documents.DiskOf([]byte(c.file))}
		if got := UserSaved(c.ed, doc, documents.DiskOf([]byte(c.disk))); got != c.want {
			t.Errorf("%s: UserSaved = %v, want %v", c.name, got, c.want)
		}
	}
}
