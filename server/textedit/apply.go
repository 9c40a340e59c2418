package textedit

import (
	"fmt"
	"sort"
	"strings"

	"go.lsp.dev/protocol"
)

// ContentChange is one entry of didChange's contentChanges. It has the same
// JSON shape as protocol.TextDocumentContentChangeEvent, but its Range is a
// pointer: LSP tells a full-text change from an incremental one only by the
// absence of "range", and the protocol package's non-pointer Range decodes both
// an absent range and an insertion at 0:0 to the same zero value. Decode
// didChange params into this type to keep that difference.
type ContentChange struct {
	// Range is the replaced range; nil means Text is the whole new document.
	Range *protocol.Range `json:"range,omitempty"`
	// RangeLength is deprecated in LSP and ignored here.
	RangeLength uint32 `json:"rangeLength,omitempty"`
	Text        string `json:"text"`
}

// FromEvents converts already-decoded protocol events, treating each one as
// incremental. That is right for clients that honour the incremental sync the
// bridge registers (VS Code, Neovim), which always send a range; it is wrong
// for a full-text event, which is why ContentChange exists.
func FromEvents(events []protocol.TextDocumentContentChangeEvent) []ContentChange {
	out := make([]ContentChange, len(events))
	for i := range events {
		r := events[i].Range
		out[i] = ContentChange{Range: &r, Text: events[i].Text}
	}
	return out
}

// ApplyChanges applies didChange content changes to text in order, each one to
// the result of the previous, as LSP specifies. Ranges clamp like OffsetAt; a
// range whose end is before its start is read backwards.
func ApplyChanges(text string, changes []ContentChange) string {
	for _, ch := range changes {
		if ch.Range == nil {
			text = ch.Text
			continue
		}
		start := OffsetAt(text, ch.Range.Start)
		end := OffsetAt(text, ch.Range.End)
		if end < start {
			start, end = end, start
		}
		text = text[:start] + ch.Text + text[end:]
	}
	return text
}

// ApplyEdits applies the edits of one TextDocumentEdit to text with LSP
// semantics: every range refers to the original text, ranges must not overlap,
// and edits inserting at the same position keep their order. It is what an
// editor does with Diff's output; the bridge uses it in tests and to predict a
// buffer after an edit.
func ApplyEdits(text string, edits []protocol.TextEdit) (string, error) {
	if len(edits) == 0 {
		return text, nil
	}
	type span struct {
		start, end int
		text       string
	}
	spans := make([]span, len(edits))
	idx := newLineIndex(text)
	for i, e := range edits {
		s, t := idx.offset(e.Range.Start), idx.offset(e.Range.End)
		if t < s {
			return "", fmt.Errorf("textedit: edit %d ends before it starts", i)
		}
		spans[i] = span{s, t, e.NewText}
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for i, sp := range spans {
		if sp.start < last {
			return "", fmt.Errorf("textedit: edit %d overlaps the previous one", i)
		}
		b.WriteString(text[last:sp.start])
		b.WriteString(sp.text)
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// lineIndex holds the start offset of every line of a text, so that many
// positions convert without rescanning the text from its start.
type lineIndex struct {
	text   string
	starts []int
}

func newLineIndex(text string) lineIndex {
	starts := make([]int, 1, countBreaks(text)+1)
	for off := 0; ; {
		brk, next := nextBreak(text, off)
		if brk == len(text) {
			break
		}
		starts = append(starts, next)
		off = next
	}
	return lineIndex{text: text, starts: starts}
}

// offset is OffsetAt using the index.
func (x lineIndex) offset(pos protocol.Position) int {
	if int(pos.Line) >= len(x.starts) {
		return len(x.text)
	}
	start := x.starts[pos.Line]
	brk, _ := nextBreak(x.text, start)
	return start + utf16ToByte(x.text[start:brk], pos.Character)
}
