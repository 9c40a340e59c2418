package textedit

import (
	"strings"

	"go.lsp.dev/protocol"
)

// Hunk is one changed region of a line diff between two texts, in whole
// lines: the lines [Old.Start, Old.End) of old were replaced by the lines
// [New.Start, New.End) of new. It is what a person reviews (a diff view's
// hunk, git's hunk without context), where Diff's edits are what an editor
// applies.
type Hunk struct {
	// OldStart and OldEnd are the hunk's byte offsets in old, at line
	// starts (or the end of the text); NewStart and NewEnd in new.
	OldStart, OldEnd, NewStart, NewEnd int
	// Range is [OldStart, OldEnd) as an LSP range of old (UTF-16).
	Range protocol.Range
	// Old and New are the hunk's lines, 0-based, in old and in new.
	Old, New LineRange
}

// Hunks returns the changed regions between old and new, in order, as
// whole lines. Joining the unchanged text between them and each hunk's new
// text gives new (ApplyHunks with every hunk kept).
//
// It costs what Diff costs: the common head and tail are cut off by memory
// comparison first, so a few changed lines of a long file are cheap.
func Hunks(old, new string) []Hunk {
	if old == new {
		return nil
	}
	pre, aStarts, bStarts, hs := lineHunks(old, new)

	lineShift := countBreaks(old[:pre])
	newShift := countBreaks(new[:pre])
	out := make([]Hunk, 0, len(hs))
	cur := cursor{text: old}
	for _, h := range hs {
		oS, oE := pre+aStarts[h.a0], pre+aStarts[h.a1]
		nS, nE := pre+bStarts[h.b0], pre+bStarts[h.b1]
		start := cur.position(oS)
		end := cur.position(oE)
		out = append(out, Hunk{
			OldStart: oS, OldEnd: oE, NewStart: nS, NewEnd: nE,
			Range: protocol.Range{Start: start, End: end},
			Old:   LineRange{lineShift + h.a0, lineShift + h.a1},
			New:   LineRange{newShift + h.b0, newShift + h.b1},
		})
	}
	return out
}

// ApplyHunks returns old with the hunks for which keep(i) is true replaced
// by their text in new, and the others left as they are. hs must be
// Hunks(old, new).
func ApplyHunks(old, new string, hs []Hunk, keep func(i int) bool) string {
	var b strings.Builder
	b.Grow(max(len(old), len(new)))
	pos := 0
	for i, h := range hs {
		if !keep(i) {
			continue
		}
		b.WriteString(old[pos:h.OldStart])
		b.WriteString(new[h.NewStart:h.NewEnd])
		pos = h.OldEnd
	}
	b.WriteString(old[pos:])
	return b.String()
}

// LineCount counts the lines of a hunk's side: its line breaks, plus one
// for a last line without one.
func LineCount(text string) int {
	n := countBreaks(text)
	if text != "" && !strings.HasSuffix(text, "\n") && !strings.HasSuffix(text, "\r") {
		n++
	}
	return n
}
