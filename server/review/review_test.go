package review

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

func c(s string) Content { return Content{Exists: true, Data: []byte(s)} }

func ids(s ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func TestRevertOneHunkOfTwo(t *testing.T) {
	f := File{Path: "/w/a", Index: 2, Before: c("a\nb\nc\nd\ne\n"), After: c("a\nB\nc\nd\nE\n"), Now: c("a\nB\nc\nd\nE\n")}
	st := Analyze(f)
	if len(st.Hunks) != 2 || st.Hunks[0].ID != "f2h1" || st.Hunks[1].ID != "f2h2" || !st.Hunks[1].Intact {
		t.Fatalf("hunks %+v", st.Hunks)
	}
	r := st.Revert(ids("f2h2"))
	if string(r.Content.Data) != "a\nB\nc\nd\ne\n" || len(r.Reverted) != 1 || r.Restored {
		t.Errorf("revert f2h2: %q %+v", r.Content.Data, r)
	}
	// The other hunk, reverted later, restores the file.
	f.Now, f.Reverted = r.Content, []string{"f2h2"}
	st = Analyze(f)
	r = st.Revert(nil)
	if string(r.Content.Data) != "a\nb\nc\nd\ne\n" || !r.Restored || len(r.Reverted) != 1 || r.Reverted[0] != "f2h1" {
		t.Errorf("revert the rest: %q %+v", r.Content.Data, r)
	}
}

// TestChangedSinceIsLeftAlone: a hunk whose lines changed after the task
// (or the line next to it) is not reverted; one elsewhere is, in the
// file as it is now (ranges shifted by lines inserted above it).
func TestChangedSinceIsLeftAlone(t *testing.T) {
	f := File{Index: 1, Before: c("1\n2\n3\n4\n5\n6\n7\n"), After: c("1\nTWO\n3\n4\n5\nSIX\n7\n"),
		Now: c("0\n1\nTWO!\n3\n4\n5\nSIX\n7\n")}
	st := Analyze(f)
	if st.Hunks[0].Intact || !st.Hunks[1].Intact || st.Hunks[1].Range.Start.Line != 6 {
		t.Fatalf("hunks %+v", st.Hunks)
	}
	ch := st.Changes("file:///w/a")
	if len(ch.Hunks) != 1 || ch.Hunks[0].ID != "f1h2" || ch.Hunks[0].Range.Start.Line != 6 {
		t.Errorf("changes %+v", ch)
	}
	r := st.Revert(nil)
	if string(r.Content.Data) != "0\n1\nTWO!\n3\n4\n5\n6\n7\n" || len(r.NotReverted) != 1 || r.NotReverted[0].ID != "f1h1" {
		t.Errorf("revert: %q %+v", r.Content.Data, r)
	}
}

func TestAddedDeletedBinaryBOM(t *testing.T) {
	added := Analyze(File{Index: 1, After: c("new\n"), Now: c("new\n")})
	if r := added.Revert(nil); added.Status != lspext.ChangeAdded || r.Content.Exists || !r.Restored {
		t.Errorf("added: %+v", r)
	}
	deleted := Analyze(File{Index: 1, Before: c("\ufeffold\r\n"), After: Content{}, Now: Content{}})
	if r := deleted.Revert(nil); deleted.Status != lspext.ChangeDeleted || string(r.Content.Data) != "\ufeffold\r\n" || !r.Restored {
		t.Errorf("deleted: %q %+v", r.Content.Data, r)
	}
	bin := File{Index: 1, Before: c("\x00\xff1"), After: c("\x00\xff2"), Now: c("\x00\xff2")}
	if r := Analyze(bin).Revert(nil); !Analyze(bin).Binary || string(r.Content.Data) != "\x00\xff1" || !r.Restored {
		t.Errorf("binary: %+v", r)
	}
	bin.Now = c("\x00\xff3")
	if r := Analyze(bin).Revert(nil); r.Changed || r.Reason == "" {
		t.Errorf("binary changed since: %+v", r)
	}
	bom := Analyze(File{Index: 1, Before: c("\ufeffa\r\nb\r\n"), After: c("\ufeffa\r\nB\r\n"), Now: c("\ufeffa\r\nB\r\n")})
	if h := bom.Hunks[0]; h.Range.Start.Line != 1 || h.Range.Start.Character != 0 {
		t.Errorf("BOM hunk range %+v", h.Range)
	}
	if r := bom.Revert(nil); string(r.Content.Data) != "\ufeffa\r\nb\r\n" || !r.Restored {
		t.Errorf("BOM revert %q", r.Content.Data)
	}
}

func TestUnified(t *testing.T) {
	got := Unified("a.txt", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\nTHREE\n4\n5\n6\n7\n8\nnine", 1)
	want := "--- a/a.txt\n+++ b/a.txt\n@@ -2,3 +2,3 @@\n 2\n-3\n+THREE\n 4\n@@ -8,2 +8,2 @@\n 8\n-9\n+nine\n\\ No newline at end of file\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestOthersChangesAreNotTheTasks: another task's change made while the
// task ran, on other lines, is folded into the file's before: not listed,
// and kept by a revert; one on the task's own lines, or one both tasks'
// Bash commands saw, leaves the hunk it touches to a revert with a note.
func TestOthersChangesAreNotTheTasks(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\n"
	// The task changed b, then the other task d (its Edit saw the task's b).
	f := File{Index: 1, Before: c(before), After: c("a\nB\nc\nD\ne\nf\ng\n"), Now: c("a\nB\nc\nD\ne\nf\ng\n"),
		Others: []Other{{Task: "t2", Before: c("a\nB\nc\nd\ne\nf\ng\n"), After: c("a\nB\nc\nD\ne\nf\ng\n")}}}
	st := Analyze(f)
	if len(st.Hunks) != 1 || st.Hunks[0].NewText != "B\n" || st.Hunks[0].Note != "" {
		t.Fatalf("hunks %+v", st.Hunks)
	}
	if r := st.Revert(nil); string(r.Content.Data) != "a\nb\nc\nD\ne\nf\ng\n" || !r.Restored {
		t.Errorf("revert %q %+v", r.Content.Data, r)
	}
	// The other task changed the task's own line again (B → BB), and f.
	f.After = c("a\nBB\nc\nd\ne\nF\ng\n")
	f.Now = f.After
	f.Others = []Other{{Task: "t2", Before: c("a\nB\nc\nd\ne\nf\ng\n"), After: c("a\nBB\nc\nd\ne\nF\ng\n")}}
	st = Analyze(f)
	if len(st.Hunks) != 2 || st.Hunks[0].Note == "" || !strings.Contains(st.Hunks[0].Note, "task t2") || st.Hunks[1].Note == "" {
		t.Fatalf("hunks %+v", st.Hunks)
	}
	if r := st.Revert(nil); r.Changed || len(r.NotReverted) != 2 || !strings.Contains(r.NotReverted[0].Reason, "would undo its work") {
		t.Errorf("revert %+v", r)
	}
	// Shared: a Bash command of each saw e change.
	f.After, f.Now = c("a\nB\nc\nd\nE\nf\ng\n"), c("a\nB\nc\nd\nE\nf\ng\n")
	f.Others = []Other{{Task: "t3", Shared: true, Before: c(before), After: c("a\nb\nc\nd\nE\nf\ng\n")}}
	st = Analyze(f)
	if len(st.Hunks) != 2 || st.Hunks[0].Note != "" || !strings.Contains(st.Hunks[1].Note, "may be t3's") {
		t.Fatalf("shared hunks %+v", st.Hunks)
	}
	if r := st.Revert(nil); string(r.Content.Data) != "a\nb\nc\nd\nE\nf\ng\n" || len(r.NotReverted) != 1 {
		t.Errorf("shared revert %q %+v", r.Content.Data, r)
	}
	// Another task's change alone: nothing of the task's.
	only := File{Index: 1, Before: c(before), After: c("a\nb\nC\nd\ne\nf\ng\n"), Now: c("a\nb\nC\nd\ne\nf\ng\n"),
		Others: []Other{{Task: "t2", Before: c(before), After: c("a\nb\nC\nd\ne\nf\ng\n")}}}
	if st := Analyze(only); !st.NotTheTasks || st.Pending() || st.Revert(nil).Changed {
		t.Errorf("another task's change alone: %+v", st)
	}
	// The user's save alone, which another running task's Bash command saw
	// too (a shared change it cannot tell apart): nothing of the task's
	// either, not a file listed without hunks that keeps the task
	// unreviewed.
	saved := c("a\nb\nc\nd\ne\nf\nUSER\n")
	user := File{Index: 1, Before: c(before), After: saved, Now: saved,
		Others: []Other{{User: true, Before: c(before), After: saved}, {Task: "t1", Shared: true, Before: c(before), After: saved}}}
	if st := Analyze(user); !st.NotTheTasks || st.Pending() || len(st.Hunks) != 0 || st.Revert(nil).Changed {
		t.Errorf("the user's save alone: %+v", st)
	}
}

// TestModesAndLinks: permission bits the task changed are a change (its
// note says so) put back by a revert; a symbolic link is reverted whole.
func TestModesAndLinks(t *testing.T) {
	mode := func(s string, m uint32) Content { x := c(s); x.Mode = fs.FileMode(m); return x }
	st := Analyze(File{Index: 1, Before: mode("x\n", 0o644), After: mode("x\n", 0o755), Now: mode("x\n", 0o755)})
	if !st.ModeChanged || !st.Pending() || st.Note() != "permissions 0644 → 0755" {
		t.Fatalf("chmod: %+v %q", st, st.Note())
	}
	if r := st.Revert(nil); !r.Changed || !r.Restored || r.Content.Mode != 0o644 {
		t.Errorf("chmod revert %+v", r)
	}
	link := Content{Exists: true, Link: "real.txt"}
	st = Analyze(File{Index: 1, Before: link, After: mode("plain\n", 0o644), Now: mode("plain\n", 0o644)})
	if !st.Link || !strings.Contains(st.Note(), "a symbolic link to real.txt") {
		t.Fatalf("link: %+v %q", st, st.Note())
	}
	if r := st.Revert(nil); !r.Restored || r.Content.Link != "real.txt" {
		t.Errorf("link revert %+v", r)
	}
}

// TestDeletionBetweenLinesDeletedSince: the task deleted line 5; since,
// lines 4 and 6 on either side of it were deleted (one change of the
// file as the task left it, around the deletion's point). The deletion
// has no lines to have changed: it is still the task's, and its revert
// puts line 5 back where lines 4 and 6 were, between lines 3 and 7. Lines
// written there instead (not only deleted) leave its place unknown: it is
// left, as changed since.
func TestDeletionBetweenLinesDeletedSince(t *testing.T) {
	f := File{Index: 1, Before: c("1\n2\n3\n4\n5\n6\n7\n8\n"), After: c("1\n2\n3\n4\n6\n7\n8\n"), Now: c("1\n2\n3\n7\n8\n")}
	st := Analyze(f)
	if len(st.Hunks) != 1 || !st.Hunks[0].Intact || st.Hunks[0].Range.Start.Line != 3 || st.Hunks[0].Range.End.Line != 3 {
		t.Fatalf("hunks %+v", st.Hunks)
	}
	if r := st.Revert(nil); string(r.Content.Data) != "1\n2\n3\n5\n7\n8\n" || len(r.Reverted) != 1 || len(r.NotReverted) != 0 {
		t.Errorf("revert: %q %+v", r.Content.Data, r)
	}
	f.Now = c("1\n2\n3\nX\n7\n8\n")
	st = Analyze(f)
	if r := st.Revert(nil); st.Hunks[0].Intact || string(r.Content.Data) != "1\n2\n3\nX\n7\n8\n" || len(r.NotReverted) != 1 {
		t.Errorf("lines written over the deletion's point: %+v, revert %q %+v", st.Hunks, r.Content.Data, r)
	}
}
