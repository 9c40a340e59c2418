package review

import (
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
