package textedit

import (
	"strings"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// utf16Len is the length of s in UTF-16 code units. Runes above U+FFFF take
// two units; an invalid byte takes one (it is sent to editors as U+FFFD).
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// utf16ToByte returns the byte offset in line of the UTF-16 column ch. A column
// past the end clamps to len(line); a column in the middle of a surrogate pair
// moves back before the pair, as VS Code validates positions.
func utf16ToByte(line string, ch uint32) int {
	units := uint32(0)
	for i := 0; i < len(line); {
		if units >= ch {
			return i
		}
		c := line[i]
		if c < utf8.RuneSelf {
			units++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		w := uint32(1)
		if r >= 0x10000 {
			w = 2
		}
		if units+w > ch {
			return i
		}
		units += w
		i += size
	}
	return len(line)
}

// nextBreak finds the first line break at or after i: brk is where it starts
// and next where the following line starts. Without one, both are len(s).
func nextBreak(s string, i int) (brk, next int) {
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\n':
			return j, j + 1
		case '\r':
			if j+1 < len(s) && s[j+1] == '\n' {
				return j, j + 2
			}
			return j, j + 1
		}
	}
	return len(s), len(s)
}

// isLineStart reports whether a line starts at byte offset i of s.
func isLineStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case '\n':
		return true
	case '\r':
		return i == len(s) || s[i] != '\n'
	}
	return false
}

// isBoundary reports whether byte offset i of s may start or end an edit: it
// is not inside a UTF-8 sequence (hence not inside a surrogate pair) and not
// between the "\r" and "\n" of a CRLF.
func isBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	if s[i-1] == '\r' && s[i] == '\n' {
		return false
	}
	return alignRune(s, i) == i
}

// alignRune moves offset i back to the start of the UTF-8 sequence it falls
// inside. Invalid bytes are sequences of one, so they never move it.
func alignRune(s string, i int) int {
	if i <= 0 || i >= len(s) || utf8.RuneStart(s[i]) {
		return i
	}
	for j := i - 1; j >= 0 && j >= i-(utf8.UTFMax-1); j-- {
		if utf8.RuneStart(s[j]) {
			if _, size := utf8.DecodeRuneInString(s[j:]); j+size > i {
				return j
			}
			return i
		}
	}
	return i
}

// countBreaks counts the line breaks in s, a CRLF counting once.
func countBreaks(s string) int {
	n := strings.Count(s, "\n")
	if cr := strings.Count(s, "\r"); cr > 0 {
		n += cr - strings.Count(s, "\r\n")
	}
	return n
}

// PositionAt converts a byte offset of text to an LSP position. Offsets outside
// the text clamp to its ends; an offset inside a UTF-8 sequence or between the
// bytes of a CRLF moves back so nothing is split.
func PositionAt(text string, offset int) protocol.Position {
	var c cursor
	c.text = text
	return c.position(clampOffset(text, offset))
}

// clampOffset brings offset into [0, len(text)] and onto a boundary.
func clampOffset(text string, offset int) int {
	if offset < 0 {
		return 0
	}
	if offset > len(text) {
		return len(text)
	}
	offset = alignRune(text, offset)
	if offset > 0 && offset < len(text) && text[offset-1] == '\r' && text[offset] == '\n' {
		offset--
	}
	return offset
}

// OffsetAt converts an LSP position to a byte offset of text, clamping the way
// editors do: a line past the last one means the end of the text, a character
// past the end of its line means the end of that line (before its line break),
// and a character inside a surrogate pair moves before the pair.
func OffsetAt(text string, pos protocol.Position) int {
	off := 0
	for line := uint32(0); line < pos.Line; line++ {
		brk, next := nextBreak(text, off)
		if brk == len(text) {
			return len(text)
		}
		off = next
	}
	brk, _ := nextBreak(text, off)
	return off + utf16ToByte(text[off:brk], pos.Character)
}

// cursor converts increasing byte offsets of one text to positions in a single
// forward pass, so converting many edit boundaries costs O(len(text)) in all.
// Every offset given to it must be a boundary (see isBoundary).
type cursor struct {
	text string
	off  int // last offset converted
	line uint32
	char uint32 // UTF-16 column of off
}

// position returns the position of offset, which must not be before the
// previous offset given to this cursor.
func (c *cursor) position(offset int) protocol.Position {
	seg := c.text[c.off:offset]
	if n := countBreaks(seg); n > 0 {
		last := strings.LastIndexAny(seg, "\r\n")
		c.line += uint32(n)
		c.char = uint32(utf16Len(seg[last+1:]))
	} else {
		c.char += uint32(utf16Len(seg))
	}
	c.off = offset
	return protocol.Position{Line: c.line, Character: c.char}
}
