package textedit

import (
	"testing"

	"go.lsp.dev/protocol"
)

// A lone "\r" ends a line in LSP, not in Neovim (measured on 0.7.2: "x\ry"
// is one line of a 'fileformat' unix buffer), and a "\r" before "\n" is a
// character of a Neovim unix line: positions and edits land on the editor's
// own line either way.
func TestBreaks(t *testing.T) {
	text := "x\ry\nzed\na\r\nb\n"
	cases := []struct {
		b    Breaks
		pos  protocol.Position
		want int
	}{
		{LSPBreaks, pos(1, 0), 2}, // "y"
		{LFBreaks, pos(1, 0), 4},  // "zed"
		{LFBreaks, pos(0, 2), 2},  // inside "x\ry"
		{LSPBreaks, pos(2, 0), 4},
		{LFBreaks, pos(2, 1), 9},  // before the "\r" of "a\r"
		{LFBreaks, pos(2, 2), 10}, // after it (Neovim unix: a character)
		{LSPBreaks, pos(3, 2), 9}, // past the end of "a": before its CRLF
		{LFBreaks, pos(9, 0), len(text)},
	}
	for _, c := range cases {
		if got := c.b.OffsetAt(text, c.pos); got != c.want {
			t.Errorf("%v OffsetAt(%v) = %d, want %d", c.b, c.pos, got, c.want)
		}
		if c.want < len(text) && c.want != 10 && !(c.b == LSPBreaks && c.pos.Line == 3) {
			if p := c.b.PositionAt(text, c.want); p != c.pos {
				t.Errorf("%v PositionAt(%d) = %v, want %v", c.b, c.want, p, c.pos)
			}
		}
	}
	// A didChange of Neovim's second line lands on "zed", not on "y".
	got := LFBreaks.ApplyChanges(text, []ContentChange{{Range: &protocol.Range{Start: pos(1, 0), End: pos(1, 3)}, Text: "ZED"}})
	if got != "x\ry\nZED\na\r\nb\n" {
		t.Errorf("ApplyChanges = %q", got)
	}
	// An edit computed for Neovim changes "zed" and applies the same way.
	edits := LFBreaks.Diff(text, "x\ry\nZED\na\r\nb\n")
	if len(edits) != 1 || edits[0].Range.Start.Line != 1 {
		t.Fatalf("Diff = %+v", edits)
	}
	if after, err := LFBreaks.ApplyEdits(text, edits); err != nil || after != "x\ry\nZED\na\r\nb\n" {
		t.Errorf("ApplyEdits = %q, %v", after, err)
	}
	if !HasLoneCR("a\rb") || HasLoneCR("a\r\nb") || HasLoneCR("ab") {
		t.Error("HasLoneCR")
	}
}
