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
