package textedit

import (
	"testing"

	"go.lsp.dev/protocol"
)

func pos(line, char uint32) protocol.Position {
	return protocol.Position{Line: line, Character: char}
}

func TestPositionRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		offset int
		want   protocol.Position
	}{
		{"start", "abc\ndef", 0, pos(0, 0)},
		{"ascii mid", "abc\ndef", 5, pos(1, 1)},
		{"end no final newline", "abc\ndef", 7, pos(1, 3)},
		{"end after final newline", "abc\n", 4, pos(1, 0)},
		{"before newline", "abc\n", 3, pos(0, 3)},
		{"empty", "", 0, pos(0, 0)},
		{"accent 2 bytes 1 unit", "é=x", 2, pos(0, 1)},
		{"accent after", "aé\nb", 3, pos(0, 2)},
		{"cjk 3 bytes 1 unit", "日本語x", 9, pos(0, 3)},
		{"emoji 4 bytes 2 units", "a😀b", 5, pos(0, 3)},
		{"emoji then line", "😀\n😀x", 9, pos(1, 2)},
		{"crlf line 2", "ab\r\ncd", 4, pos(1, 0)},
		{"crlf before break", "ab\r\ncd", 2, pos(0, 2)},
		{"crlf end", "ab\r\n", 4, pos(1, 0)},
		{"lone cr", "ab\rcd", 4, pos(1, 1)},
		{"cr cr lf", "a\r\r\nb", 4, pos(2, 0)},
		{"mixed breaks", "a\nb\r\nc\rd", 8, pos(3, 1)},
		{"combining mark", "e\u0301x", 3, pos(0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PositionAt(tt.text, tt.offset); got != tt.want {
				t.Errorf("PositionAt(%q, %d) = %v, want %v", tt.text, tt.offset, got, tt.want)
			}
			if got := OffsetAt(tt.text, tt.want); got != tt.offset {
				t.Errorf("OffsetAt(%q, %v) = %d, want %d", tt.text, tt.want, got, tt.offset)
			}
			idx := newLineIndex(tt.text)
			if got := idx.offset(tt.want); got != tt.offset {
				t.Errorf("lineIndex.offset(%q, %v) = %d, want %d", tt.text, tt.want, got, tt.offset)
			}
		})
	}
}

func TestPositionClamps(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		offset int
		want   protocol.Position
	}{
		{"negative", "abc", -3, pos(0, 0)},
		{"past end", "abc\nd", 99, pos(1, 1)},
		{"inside utf8 sequence", "aé", 2, pos(0, 1)},
		{"inside emoji", "a😀b", 3, pos(0, 1)},
		{"between cr and lf", "ab\r\ncd", 3, pos(0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PositionAt(tt.text, tt.offset); got != tt.want {
				t.Errorf("PositionAt(%q, %d) = %v, want %v", tt.text, tt.offset, got, tt.want)
			}
		})
	}
}

func TestOffsetClamps(t *testing.T) {
	tests := []struct {
		name string
		text string
		pos  protocol.Position
		want int
	}{
		{"line past end", "abc\ndef", pos(5, 2), 7},
		{"line just past end, final newline", "abc\n", pos(2, 0), 4},
		{"char past line end", "abc\ndef", pos(0, 99), 3},
		{"char past crlf line end", "abc\r\ndef", pos(0, 4), 3},
		{"char past end of last line", "abc\ndef", pos(1, 10), 7},
		{"char inside surrogate pair", "a😀b", pos(0, 2), 1},
		{"char after surrogate pair", "a😀b", pos(0, 3), 5},
		{"empty text", "", pos(3, 3), 0},
		{"lone cr line", "a\rbc", pos(1, 1), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OffsetAt(tt.text, tt.pos); got != tt.want {
				t.Errorf("OffsetAt(%q, %v) = %d, want %d", tt.text, tt.pos, got, tt.want)
			}
			if got := newLineIndex(tt.text).offset(tt.pos); got != tt.want {
				t.Errorf("lineIndex.offset(%q, %v) = %d, want %d", tt.text, tt.pos, got, tt.want)
			}
		})
	}
}

func TestUTF16Len(t *testing.T) {
	tests := map[string]int{"": 0, "abc": 3, "é": 1, "日本": 2, "😀": 2, "a😀é": 4, "\xff": 1, "\xe6\x97": 2}
	for s, want := range tests {
		if got := utf16Len(s); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}
