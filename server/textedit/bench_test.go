package textedit

import (
	"math/rand"
	"strings"
	"testing"
)

// changeLines returns text with n lines, spread evenly, rewritten.
func changeLines(text string, n int) string {
	ls := strings.SplitAfter(text, "\n")
	r := rand.New(rand.NewSource(4))
	for i := 0; i < n; i++ {
		k := (i*len(ls))/n + r.Intn(max(1, len(ls)/n))
		k = min(k, len(ls)-2)
		ls[k] = strings.Replace(ls[k], "compute", "recompute", 1)
	}
	return strings.Join(ls, "")
}

// Target: under 5 ms for diffing a 10,000-line file with one line changed and
// building the edit.
func BenchmarkDiff10kLinesOneChange(b *testing.B) {
	old := bigFile(10000)
	new := changeLines(old, 1)
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if len(Diff(old, new)) != 1 {
			b.Fatal("want one edit")
		}
	}
}

// Target: under 50 ms for a 1 MB file with 100 scattered changes.
func BenchmarkDiff1MB100Changes(b *testing.B) {
	old := bigFile(1 << 20 / 60)
	for len(old) < 1<<20 {
		old += "padding line to reach a megabyte\n"
	}
	new := changeLines(old, 100)
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if len(Diff(old, new)) != 100 {
			b.Fatal("want 100 edits")
		}
	}
}

// The dirty-buffer path: merge the user's change and the agent's, then diff.

func BenchmarkMerge3Diff10kLines(b *testing.B) {
	base := bigFile(10000)
	ls := strings.SplitAfter(base, "\n")
	ls[100] = "user typed here\n"
	ours := strings.Join(ls, "")
	theirs := changeLines(base, 1)
	b.ReportAllocs()
	for b.Loop() {
		merged, c := Merge3(base, ours, theirs)
		if c != nil || len(Diff(ours, merged)) != 1 {
			b.Fatal("want a clean merge and one edit")
		}
	}
}

func BenchmarkPositionAt1MB(b *testing.B) {
	text := bigFile(20000)
	b.ReportAllocs()
	for b.Loop() {
		PositionAt(text, len(text)-10)
	}
}
