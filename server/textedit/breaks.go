package textedit

import (
	"strings"

	"go.lsp.dev/protocol"
)

// Breaks is which characters end a line when an editor counts the lines of
// a position. It matters only for a text holding a "\r" that is not part of
// a "\r\n".
type Breaks uint8

const (
	// LSPBreaks: "\n", "\r\n" and a lone "\r" each end a line, as LSP 3.16
	// specifies. VS Code's texts never hold a lone "\r" (it makes one a line
	// break of the document's kind when it loads the file).
	LSPBreaks Breaks = iota
	// LFBreaks: only "\n" ends a line; a "\r" is a character of its line,
	// even before the "\n" (where it counts after the line's last
	// character, which no position of a CRLF line reaches). Measured on
	// Neovim 0.7.2: a file "x\ry\nzed\n" opens with 'fileformat' unix as two
	// lines, the first "x\ry", and didChange positions count so.
	LFBreaks
)

// OffsetAt is OffsetAt with these line breaks.
func (b Breaks) OffsetAt(text string, pos protocol.Position) int {
	if b == LSPBreaks {
		return OffsetAt(text, pos)
	}
	off := 0
	for line := uint32(0); line < pos.Line; line++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	end := len(text)
	if i := strings.IndexByte(text[off:], '\n'); i >= 0 {
		end = off + i
	}
	return off + utf16ToByte(text[off:end], pos.Character)
}

// PositionAt is PositionAt with these line breaks.
func (b Breaks) PositionAt(text string, offset int) protocol.Position {
	if b == LSPBreaks {
		return PositionAt(text, offset)
	}
	offset = clampOffset(text, offset)
	seg := text[:offset]
	line := strings.Count(seg, "\n")
	start := strings.LastIndexByte(seg, '\n') + 1
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(seg[start:]))}
}

// ApplyChanges is ApplyChanges with these line breaks.
func (b Breaks) ApplyChanges(text string, changes []ContentChange) string {
	for _, ch := range changes {
		if ch.Range == nil {
			text = ch.Text
			continue
		}
		start := b.OffsetAt(text, ch.Range.Start)
		end := b.OffsetAt(text, ch.Range.End)
		if end < start {
			start, end = end, start
		}
		text = text[:start] + ch.Text + text[end:]
	}
	return text
}

// Diff is Diff with positions in these line breaks.
func (b Breaks) Diff(old, new string) []protocol.TextEdit {
	edits := Diff(old, new)
	if b == LSPBreaks || !strings.Contains(old, "\r") {
		return edits // without a "\r" both count the same lines
	}
	// Recount each boundary: Diff's offsets are exact, only its line
	// numbers count a lone "\r".
	for i := range edits {
		edits[i].Range.Start = b.PositionAt(old, OffsetAt(old, edits[i].Range.Start))
		edits[i].Range.End = b.PositionAt(old, OffsetAt(old, edits[i].Range.End))
	}
	return edits
}

// ApplyEdits is ApplyEdits with these line breaks.
func (b Breaks) ApplyEdits(text string, edits []protocol.TextEdit) (string, error) {
	if b == LSPBreaks || !strings.Contains(text, "\r") {
		return ApplyEdits(text, edits)
	}
	conv := make([]protocol.TextEdit, len(edits))
	for i, e := range edits {
		conv[i] = e
		conv[i].Range.Start = PositionAt(text, b.OffsetAt(text, e.Range.Start))
		conv[i].Range.End = PositionAt(text, b.OffsetAt(text, e.Range.End))
	}
	return ApplyEdits(text, conv)
}

// HasLoneCR reports whether text holds a "\r" that is not part of a "\r\n":
// the one character editors disagree on.
func HasLoneCR(text string) bool {
	return strings.Count(text, "\r") != strings.Count(text, "\r\n")
}
