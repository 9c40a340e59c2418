package textedit

import (
	"encoding/json"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func rng(l1, c1, l2, c2 uint32) *protocol.Range {
	return &protocol.Range{Start: pos(l1, c1), End: pos(l2, c2)}
}

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		changes []ContentChange
		want    string
	}{
		{"insert at start", "abc", []ContentChange{{Range: rng(0, 0, 0, 0), Text: "x"}}, "xabc"},
		{"full replace", "abc", []ContentChange{{Text: "new"}}, "new"},
		{"type after emoji", "😀\n", []ContentChange{{Range: rng(0, 2, 0, 2), Text: "!"}}, "😀!\n"},
		{"delete emoji", "a😀b", []ContentChange{{Range: rng(0, 1, 0, 3), Text: ""}}, "ab"},
		{"join crlf lines", "a\r\nb", []ContentChange{{Range: rng(0, 1, 1, 0), Text: ""}}, "ab"},
		{"sequential changes", "abc", []ContentChange{
			{Range: rng(0, 3, 0, 3), Text: "\nd"},
			{Range: rng(1, 1, 1, 1), Text: "e"},
			{Range: rng(0, 0, 0, 1), Text: "A"},
		}, "Abc\nde"},
		{"full then incremental", "old", []ContentChange{{Text: "x\ny"}, {Range: rng(1, 0, 1, 1), Text: "z"}}, "x\nz"},
		{"reversed range", "abcdef", []ContentChange{{Range: rng(0, 4, 0, 1), Text: "-"}}, "a-ef"},
		{"clamped past end", "ab\n", []ContentChange{{Range: rng(9, 0, 9, 0), Text: "c"}}, "ab\nc"},
		{"cjk", "日本語", []ContentChange{{Range: rng(0, 1, 0, 2), Text: "x"}}, "日x語"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ApplyChanges(tt.text, tt.changes); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A full-text change and an insertion at 0:0 must decode differently; with
// protocol.TextDocumentContentChangeEvent they do not.
func TestContentChangeJSON(t *testing.T) {
	var cs []ContentChange
	raw := `[{"text":"whole"},{"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"text":">"}]`
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		t.Fatal(err)
	}
	if cs[0].Range != nil || cs[1].Range == nil {
		t.Fatalf("ranges decoded as %v, %v", cs[0].Range, cs[1].Range)
	}
	if got := ApplyChanges("old", cs); got != ">whole" {
		t.Errorf("got %q", got)
	}
	evs := []protocol.TextDocumentContentChangeEvent{{Range: *rng(0, 0, 0, 0), Text: ">"}}
	if got := ApplyChanges("old", FromEvents(evs)); got != ">old" {
		t.Errorf("FromEvents: got %q", got)
	}
}

func TestApplyEdits(t *testing.T) {
	text := "one\ntwo\nthree\n"
	got, err := ApplyEdits(text, []protocol.TextEdit{
		{Range: *rng(2, 0, 2, 5), NewText: "3"},
		{Range: *rng(0, 0, 0, 0), NewText: "a"},
		{Range: *rng(0, 0, 0, 0), NewText: "b"},
		{Range: *rng(1, 0, 2, 0), NewText: ""},
	})
	if err != nil || got != "abone\n3\n" {
		t.Errorf("got %q, %v", got, err)
	}
	_, err = ApplyEdits(text, []protocol.TextEdit{
		{Range: *rng(0, 0, 1, 2), NewText: "x"},
		{Range: *rng(1, 1, 1, 3), NewText: "y"},
	})
	if err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping edits: err = %v", err)
	}
}
