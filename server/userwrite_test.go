package server

import (
	"testing"

	"github.com/claude-bridge/claude-bridge/server/documents"
)

// TestUserWriteIsTheFileAsWritten: the user's save, as the tasks'
// checkpoints take it, goes to the file as the editor wrote it (the
// file's line breaks and byte-order mark), not the buffer's text: a save
// of an LF buffer over a CRLF file changes line 1 alone, and the task's
// change after it is its own lines alone (issue 13).
func TestUserWriteIsTheFileAsWritten(t *testing.T) {
	for _, c := range []struct {
		name         string
		ed           documents.Editor
		file, buffer string
		want         string
	}{
		{"an LF buffer of a CRLF file", documents.AnyEditor, "l1\r\nl2\r\n", "USER1\nl2\n", "USER1\r\nl2\r\n"},
		{"a buffer keeping the byte-order mark", documents.AnyEditor, "\ufeffl1\n", "\ufeffUSER1\n", "\ufeffUSER1\n"},
		{"Neovim, a file without a final line break ('fixeol')", documents.Neovim, "l1\nl2", "USER1\nl2", "USER1\nl2\n"},
		{"VS Code, CRLF", documents.VSCode, "l1\r\nl2\r\n", "USER1\r\nl2\r\n", "USER1\r\nl2\r\n"},
	} {
		d := documents.Doc{Path: "/ws/f.txt", Text: c.buffer, Disk: documents.DiskOf([]byte(c.file))}
		w := userWrite(c.ed, d, nil)
		after, ok := w.After()
		if !ok || string(after.Data) != c.want || string(w.Before.Data) != c.file {
			t.Errorf("%s: the save goes from %q to %q, want %q to %q", c.name, w.Before.Data, after.Data, c.file, c.want)
		}
	}
}
