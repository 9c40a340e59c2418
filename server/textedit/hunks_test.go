package textedit

import (
	"math/rand"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func TestHunksAreWholeLines(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\n"
	new := "a\nB\nc\nd\nE\ne2\nf\n"
	hs := Hunks(old, new)
	if len(hs) != 2 {
		t.Fatalf("hunks %+v", hs)
	}
	if got := old[hs[0].OldStart:hs[0].OldEnd]; got != "b\n" {
		t.Errorf("first hunk old %q", got)
	}
	if got := new[hs[1].NewStart:hs[1].NewEnd]; got != "E\ne2\n" {
		t.Errorf("second hunk new %q", got)
	}
	want := protocol.Range{Start: protocol.Position{Line: 4}, End: protocol.Position{Line: 5}}
	if hs[1].Range != want || hs[1].Old != (LineRange{4, 5}) || hs[1].New != (LineRange{4, 6}) {
		t.Errorf("second hunk %+v", hs[1])
	}
	if got := ApplyHunks(old, new, hs, func(i int) bool { return i == 0 }); got != "a\nB\nc\nd\ne\nf\n" {
		t.Errorf("first hunk only: %q", got)
	}
}

// TestHunksRoundTrip: on random texts (CRLF, no final line break, text
// beyond the BMP), keeping every hunk gives new, keeping none gives old,
// and each range addresses the hunk's bytes of old.
func TestHunksRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	words := []string{"a", "b", "𝄞x", "é", "", "c"}
	gen := func() string {
		var b strings.Builder
		eol := []string{"\n", "\r\n"}[r.Intn(2)]
		for i := r.Intn(12); i > 0; i-- {
			b.WriteString(words[r.Intn(len(words))])
			b.WriteString(eol)
		}
		if r.Intn(3) == 0 {
			b.WriteString(words[r.Intn(len(words))])
		}
		return b.String()
	}
	for i := 0; i < 3000; i++ {
		old, new := gen(), gen()
		hs := Hunks(old, new)
		if got := ApplyHunks(old, new, hs, func(int) bool { return true }); got != new {
			t.Fatalf("all hunks of %q → %q give %q", old, new, got)
		}
		if got := ApplyHunks(old, new, hs, func(int) bool { return false }); got != old {
			t.Fatalf("no hunk gives %q", got)
		}
		for _, h := range hs {
			if OffsetAt(old, h.Range.Start) != h.OldStart || OffsetAt(old, h.Range.End) != h.OldEnd {
				t.Fatalf("range %+v does not address [%d,%d) of %q", h.Range, h.OldStart, h.OldEnd, old)
			}
			if !isLineStart(old, h.OldStart) || !isLineStart(new, h.NewStart) {
				t.Fatalf("hunk %+v does not start a line", h)
			}
		}
	}
}

func TestLineCount(t *testing.T) {
	for s, n := range map[string]int{"": 0, "a": 1, "a\n": 1, "a\r\nb": 2, "a\nb\n": 2} {
		if got := LineCount(s); got != n {
			t.Errorf("LineCount(%q) = %d, want %d", s, got, n)
		}
	}
}
