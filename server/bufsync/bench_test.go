package bufsync

import (
	"context"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Carry of one changed line into a clean 10,000-line buffer: diff, the edit,
// the (in-memory) editor applying it and its didChange, the verification.
func BenchmarkCarry10kLinesClean(b *testing.B) {
	e := newFakeEditor(b, 0)
	c := NewCarrier(e.docs, e, &fakeReporter{}, nil)
	texts := [2]string{numbered(10000), ""}
	texts[1] = replaceLine(texts[0], 5000, "changed\n")
	path, _ := e.open(b.TempDir(), "big.go", texts[0])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		after := texts[(i+1)%2]
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: &after, Label: "Claude: Edit big.go"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// The same into a buffer with an unsaved change far away: a three-way merge
// first.
func BenchmarkCarry10kLinesDirty(b *testing.B) {
	e := newFakeEditor(b, 0)
	c := NewCarrier(e.docs, e, &fakeReporter{}, nil)
	texts := [2]string{numbered(10000), ""}
	texts[1] = replaceLine(texts[0], 5000, "changed\n")
	path, u := e.open(b.TempDir(), "big.go", texts[0])
	e.typeText(u, textedit.ContentChange{Range: lineRange(10), Text: "unsaved"})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		after := texts[(i+1)%2]
		if err := c.Carry(context.Background(), Change{TaskID: "t", Path: path, After: &after, Label: "Claude: Edit big.go"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if !strings.Contains(e.buffer(u), "unsaved") {
		b.Fatal("lost the unsaved change")
	}
}
