package textedit

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf16"

	"go.lsp.dev/protocol"
)

// applyUTF16 applies edits the way an editor does, independently of this
// package's position code: the text as UTF-16 code units, line starts found in
// that form. Invalid UTF-8 bytes become U+FFFD, as they do on the wire.
func applyUTF16(t testing.TB, old string, edits []protocol.TextEdit) string {
	t.Helper()
	u := utf16.Encode([]rune(old))
	starts := []int{0}
	for i := 0; i < len(u); i++ {
		switch {
		case u[i] == '\r' && i+1 < len(u) && u[i+1] == '\n':
			starts = append(starts, i+2)
			i++
		case u[i] == '\r' || u[i] == '\n':
			starts = append(starts, i+1)
		}
	}
	off := func(p protocol.Position) int {
		if int(p.Line) >= len(starts) {
			t.Fatalf("position %v past the last line (%d lines)", p, len(starts))
		}
		o := starts[p.Line] + int(p.Character)
		end := len(u)
		if int(p.Line)+1 < len(starts) {
			end = starts[p.Line+1]
			for end > starts[p.Line] && (u[end-1] == '\n' || u[end-1] == '\r') {
				end--
			}
		}
		if o > end {
			t.Fatalf("position %v past the end of its line", p)
		}
		if o > 0 && o < len(u) && utf16.IsSurrogate(rune(u[o])) && u[o] >= 0xDC00 {
			t.Fatalf("position %v splits a surrogate pair", p)
		}
		return o
	}
	var out []uint16
	last := 0
	for _, e := range edits {
		s, en := off(e.Range.Start), off(e.Range.End)
		if s < last || en < s {
			t.Fatalf("edits not sorted and disjoint at %v", e.Range)
		}
		out = append(out, u[last:s]...)
		out = append(out, utf16.Encode([]rune(e.NewText))...)
		last = en
	}
	out = append(out, u[last:]...)
	return string(utf16.Decode(out))
}

// checkDiff verifies Diff(old, new) both ways: with ApplyEdits and with the
// independent UTF-16 model.
func checkDiff(t testing.TB, old, new string) []protocol.TextEdit {
	t.Helper()
	edits := Diff(old, new)
	got, err := ApplyEdits(old, edits)
	if err != nil {
		t.Fatalf("Diff(%q, %q) = %v: %v", old, new, edits, err)
	}
	if got != new {
		t.Fatalf("Diff(%q, %q) = %v gives %q", old, new, edits, got)
	}
	if got, want := applyUTF16(t, old, edits), string([]rune(new)); got != want {
		t.Fatalf("Diff(%q, %q) = %v gives %q in UTF-16", old, new, edits, got)
	}
	for i := 1; i < len(edits); i++ {
		p, c := edits[i-1].Range.End, edits[i].Range.Start
		if c.Line < p.Line || (c.Line == p.Line && c.Character < p.Character) {
			t.Fatalf("edits overlap or are unsorted: %v", edits)
		}
	}
	if old == new && len(edits) != 0 {
		t.Fatalf("equal texts gave edits %v", edits)
	}
	return edits
}

func edit(l1, c1, l2, c2 uint32, text string) protocol.TextEdit {
	return protocol.TextEdit{Range: *rng(l1, c1, l2, c2), NewText: text}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []protocol.TextEdit // nil: only check correctness
	}{
		{"equal", "a\nb\n", "a\nb\n", []protocol.TextEdit{}},
		{"both empty", "", "", []protocol.TextEdit{}},
		{"from empty", "", "hello\n", []protocol.TextEdit{edit(0, 0, 0, 0, "hello\n")}},
		{"to empty", "hello\nworld", "", []protocol.TextEdit{edit(0, 0, 1, 5, "")}},
		{"one word", "func main() {\n\tprintln(1)\n}\n", "func main() {\n\tprintln(2)\n}\n",
			[]protocol.TextEdit{edit(1, 9, 1, 10, "2")}},
		{"insert at start", "b\nc\n", "a\nb\nc\n", []protocol.TextEdit{edit(0, 0, 0, 0, "a\n")}},
		{"insert at end", "a\nb\n", "a\nb\nc\n", []protocol.TextEdit{edit(2, 0, 2, 0, "c\n")}},
		{"append to last line without newline", "a\nb", "a\nbc", []protocol.TextEdit{edit(1, 1, 1, 1, "c")}},
		{"add final newline", "a\nb", "a\nb\n", []protocol.TextEdit{edit(1, 1, 1, 1, "\n")}},
		{"remove final newline", "a\nb\n", "a\nb", []protocol.TextEdit{edit(1, 1, 2, 0, "")}},
		{"delete middle line", "a\nb\nc\n", "a\nc\n", []protocol.TextEdit{edit(1, 0, 2, 0, "")}},
		{"two hunks", "1\n2\n3\n4\n5\n", "1\nX\n3\n4\nY\n",
			[]protocol.TextEdit{edit(1, 0, 1, 1, "X"), edit(4, 0, 4, 1, "Y")}},
		{"crlf change", "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", []protocol.TextEdit{edit(1, 0, 1, 1, "B")}},
		{"crlf insert line", "a\r\nc\r\n", "a\r\nb\r\nc\r\n", []protocol.TextEdit{edit(1, 0, 1, 0, "b\r\n")}},
		{"crlf to lf keeps the break whole", "a\r\nb", "a\nb", []protocol.TextEdit{edit(0, 1, 1, 0, "\n")}},
		{"lf to crlf", "a\nb", "a\r\nb", []protocol.TextEdit{edit(0, 1, 1, 0, "\r\n")}},
		{"cr before crlf", "x\r\n", "x\r\r\n", nil},
		{"lone cr", "a\rb\rc", "a\rB\rc", []protocol.TextEdit{edit(1, 0, 1, 1, "B")}},
		{"emoji after emoji", "a😀b\n", "a😀c\n", []protocol.TextEdit{edit(0, 3, 0, 4, "c")}},
		{"emoji sharing leading bytes", "😀\n", "😁\n", []protocol.TextEdit{edit(0, 0, 0, 2, "😁")}},
		{"accent sharing lead byte", "café\n", "cafè\n", []protocol.TextEdit{edit(0, 3, 0, 4, "è")}},
		{"cjk", "日本語\n", "日本人\n", []protocol.TextEdit{edit(0, 2, 0, 3, "人")}},
		{"insert emoji", "ab", "a👍b", []protocol.TextEdit{edit(0, 1, 0, 1, "👍")}},
		{"everything changed", "abc\n", "xyz\n", []protocol.TextEdit{edit(0, 0, 0, 3, "xyz")}},
		{"repeated lines", "a\na\na\n", "a\na\n", nil},
		{"invalid utf8", "a\xffb\n", "a\xfeb\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkDiff(t, tt.old, tt.new)
			if tt.want == nil {
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("Diff(%q, %q)\n got %v\nwant %v", tt.old, tt.new, got, tt.want)
			}
		})
	}
}

func bigFile(lines int) string {
	var b strings.Builder
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "\tline %d: value := compute(%d) // ünïcødé 日本 😀\n", i, i*7)
	}
	return b.String()
}

// One changed line in a big file gives one edit covering only what changed.
func TestDiffMinimal(t *testing.T) {
	old := bigFile(10000)
	lines := strings.SplitAfter(old, "\n")
	lines[5000] = strings.Replace(lines[5000], "compute", "recompute", 1)
	new := strings.Join(lines, "")
	edits := checkDiff(t, old, new)
	want := []protocol.TextEdit{edit(5000, 21, 5000, 21, "re")}
	if fmt.Sprint(edits) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", edits, want)
	}

	// Scattered changes: one small edit each, never a whole-file replace.
	lines = strings.SplitAfter(old, "\n")
	for i := 100; i < 10000; i += 1000 {
		lines[i] = "changed\n"
	}
	edits = checkDiff(t, old, strings.Join(lines, ""))
	if len(edits) != 10 {
		t.Errorf("10 changed lines gave %d edits", len(edits))
	}
	for _, e := range edits {
		if e.Range.End.Line != e.Range.Start.Line || len(e.NewText) > len("changed") {
			t.Errorf("edit too large: %v", e)
		}
	}
}

// Two unrelated big texts must still diff quickly and correctly (the cost cap).
func TestDiffUnrelated(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	gen := func() string {
		var b strings.Builder
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, "%d\n", r.Intn(50))
		}
		return b.String()
	}
	checkDiff(t, gen(), gen())
}

func TestDiffRandom(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	alphabet := []string{"a", "b", "\n", "\r\n", "\r", "é", "😀", "日", "x\n"}
	gen := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 3000; i++ {
		old := gen(r.Intn(30))
		new := old
		switch r.Intn(3) {
		case 0:
			new = gen(r.Intn(30))
		default: // a few local mutations, the common case
			for k := r.Intn(4); k >= 0; k-- {
				at := r.Intn(len(new) + 1)
				cut := min(len(new), at+r.Intn(4))
				new = new[:at] + gen(r.Intn(3)) + new[cut:]
			}
		}
		checkDiff(t, old, new)
	}
}

func FuzzDiff(f *testing.F) {
	seeds := [][2]string{
		{"", ""},
		{"", "a"},
		{"a\nb\nc\n", "a\nB\nc\n"},
		{"a\r\nb\r\n", "a\nb\n"},
		{"x\r", "x\r\n"},
		{"a\rb", "a\r\nb"},
		{"😀😁\n", "😁😀\n"},
		{"café\nnaïve", "cafe\nnaive\n"},
		{"日本語\n中文\n", "日本\n中文字\n"},
		{"no final newline", "no final newline\n"},
		{"\xff\xfe", "\xfe\xff"},
		{"\xf0\x9f\x98", "\xf0\x9f\x98\x80"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, old, new string) {
		checkDiff(t, old, new)
		// The position functions agree with each other on every boundary
		// (quadratic, so only on texts of a reasonable size).
		for i := 0; i <= len(old) && len(old) < 512; i++ {
			if !isBoundary(old, i) {
				continue
			}
			if got := OffsetAt(old, PositionAt(old, i)); got != i {
				t.Fatalf("OffsetAt(PositionAt(%d)) = %d in %q", i, got, old)
			}
		}
	})
}
