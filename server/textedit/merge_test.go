package textedit

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// lines builds a text from one-letter lines: lines("abc") = "a\nb\nc\n".
func lines(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestMerge3(t *testing.T) {
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string // when no conflict is expected
		conflicts          []Conflict
	}{
		{name: "nothing changed", base: lines("abc"), ours: lines("abc"), theirs: lines("abc"), want: lines("abc")},
		{name: "only theirs changed", base: lines("abc"), ours: lines("abc"), theirs: lines("aXc"), want: lines("aXc")},
		{name: "only ours changed", base: lines("abc"), ours: lines("aXc"), theirs: lines("abc"), want: lines("aXc")},
		{name: "disjoint", base: lines("abcdefg"), ours: lines("aXcdefg"), theirs: lines("abcdeYg"), want: lines("aXcdeYg")},
		{name: "disjoint with one line between", base: lines("abcde"), ours: lines("aXcde"), theirs: lines("abcYe"), want: lines("aXcYe")},
		{name: "identical on both sides", base: lines("abcd"), ours: lines("aXcd"), theirs: lines("aXcd"), want: lines("aXcd")},
		{name: "identical plus a disjoint change", base: lines("abcdef"), ours: lines("aXcdeZ"), theirs: lines("aXcdef"), want: lines("aXcdeZ")},
		{name: "overlapping", base: lines("abc"), ours: lines("aXc"), theirs: lines("aYc"),
			conflicts: []Conflict{{Base: LineRange{1, 2}, Ours: LineRange{1, 2}, Theirs: LineRange{1, 2}}}},
		{name: "adjacent lines conflict", base: lines("abcd"), ours: lines("aXcd"), theirs: lines("abYd"),
			conflicts: []Conflict{{Base: LineRange{1, 3}, Ours: LineRange{1, 3}, Theirs: LineRange{1, 3}}}},
		{name: "insertions at the same point", base: lines("ab"), ours: lines("aXb"), theirs: lines("aYb"),
			conflicts: []Conflict{{Base: LineRange{1, 1}, Ours: LineRange{1, 2}, Theirs: LineRange{1, 2}}}},
		{name: "insertion touching a change", base: lines("abc"), ours: lines("aXbc"), theirs: lines("aYc"),
			conflicts: []Conflict{{Base: LineRange{1, 2}, Ours: LineRange{1, 3}, Theirs: LineRange{1, 2}}}},
		{name: "deletion vs edit", base: lines("abc"), ours: lines("ac"), theirs: lines("aBc"),
			conflicts: []Conflict{{Base: LineRange{1, 2}, Ours: LineRange{1, 1}, Theirs: LineRange{1, 2}}}},
		{name: "deletions on both sides, disjoint", base: lines("abcdef"), ours: lines("acdef"), theirs: lines("abcdf"), want: lines("acdf")},
		{name: "same deletion on both sides", base: lines("abcd"), ours: lines("abd"), theirs: lines("abd"), want: lines("abd")},
		{name: "insertion at start and at end", base: lines("bcd"), ours: lines("abcd"), theirs: lines("bcde"), want: lines("abcde")},
		{name: "both insert at start, differently", base: lines("bc"), ours: lines("Xbc"), theirs: lines("Ybc"),
			conflicts: []Conflict{{Base: LineRange{0, 0}, Ours: LineRange{0, 1}, Theirs: LineRange{0, 1}}}},
		{name: "both append at end, differently", base: lines("ab"), ours: lines("abX"), theirs: lines("abY"),
			conflicts: []Conflict{{Base: LineRange{2, 2}, Ours: LineRange{2, 3}, Theirs: LineRange{2, 3}}}},
		{name: "empty base, one side adds", base: "", ours: "", theirs: lines("new"), want: lines("new")},
		{name: "empty base, both add differently", base: "", ours: "x\n", theirs: "y\n",
			conflicts: []Conflict{{Base: LineRange{0, 0}, Ours: LineRange{0, 1}, Theirs: LineRange{0, 1}}}},
		{name: "theirs empties the file", base: lines("abc"), ours: lines("abc"), theirs: "", want: ""},
		{name: "no final newline, change elsewhere", base: "a\nb\nc", ours: "A\nb\nc", theirs: "a\nb\nc!", want: "A\nb\nc!"},
		{name: "crlf disjoint", base: "a\r\nb\r\nc\r\nd\r\n", ours: "A\r\nb\r\nc\r\nd\r\n", theirs: "a\r\nb\r\nc\r\nD\r\n", want: "A\r\nb\r\nc\r\nD\r\n"},
		{name: "emoji lines", base: "😀\nx\ny\n🎉\n", ours: "😀 hi\nx\ny\n🎉\n", theirs: "😀\nx\ny\n🎉 bye\n", want: "😀 hi\nx\ny\n🎉 bye\n"},
		{name: "user typed, agent replaced a function elsewhere",
			base:   "package p\n\nfunc a() {\n\treturn\n}\n\nfunc b() {\n\treturn\n}\n",
			ours:   "package p\n\nfunc a() {\n\treturn // user\n}\n\nfunc b() {\n\treturn\n}\n",
			theirs: "package p\n\nfunc a() {\n\treturn\n}\n\nfunc b() {\n\tprintln(\"agent\")\n\treturn\n}\n",
			want:   "package p\n\nfunc a() {\n\treturn // user\n}\n\nfunc b() {\n\tprintln(\"agent\")\n\treturn\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, conflicts := Merge3(tt.base, tt.ours, tt.theirs)
			regions := make([]Conflict, len(conflicts)) // the regions only: what each side changed is checked below
			for k, c := range conflicts {
				regions[k] = Conflict{Base: c.Base, Ours: c.Ours, Theirs: c.Theirs}
			}
			if fmt.Sprint(regions) != fmt.Sprint(tt.conflicts) {
				t.Fatalf("conflicts = %v, want %v", conflicts, tt.conflicts)
			}
			if len(tt.conflicts) == 0 && got != tt.want {
				t.Errorf("merged = %q, want %q", got, tt.want)
			}
		})
	}
}

// Changes on adjacent lines conflict, by design (see Merge3), and each side
// of the conflict names only the lines it changed itself, with the prefix
// all three share counted.
func TestMerge3ConflictNamesWhatEachSideChanged(t *testing.T) {
	_, cs := Merge3(lines("0abcd"), lines("0aXcd"), lines("0abYd"))
	if len(cs) != 1 {
		t.Fatalf("conflicts = %v", cs)
	}
	c := cs[0]
	if c.Theirs.String() != "lines 3-4" || c.TheirsChanged.String() != "line 4" || c.OursChanged.String() != "line 3" {
		t.Errorf("region %v, theirs changed %v, ours changed %v", c.Theirs, c.TheirsChanged, c.OursChanged)
	}
	// An insertion touching an edit: the inserting side changed no line of
	// base, it added one.
	_, cs = Merge3(lines("abc"), lines("aXbc"), lines("aYc"))
	if len(cs) != 1 || cs[0].OursChanged.String() != "line 2" || cs[0].TheirsChanged.String() != "line 2" {
		t.Errorf("insertion touching an edit: %+v", cs)
	}
}

// Properties that hold for any inputs: a side that did not change gives the
// other side; identical sides give that side; a clean merge of changes made on
// far-apart lines contains both.
func TestMerge3Random(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	gen := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abc\n"[r.Intn(4)]
		}
		return string(b)
	}
	for i := 0; i < 2000; i++ {
		base, other := gen(r.Intn(40)), gen(r.Intn(40))
		if got, c := Merge3(base, base, other); got != other || c != nil {
			t.Fatalf("ours unchanged: %q %v", got, c)
		}
		if got, c := Merge3(base, other, base); got != other || c != nil {
			t.Fatalf("theirs unchanged: %q %v", got, c)
		}
		if got, c := Merge3(base, other, other); got != other || c != nil {
			t.Fatalf("same both sides: %q %v", got, c)
		}
	}
	// Far-apart edits of a long file always merge, and in the right places.
	base := bigFile(300)
	for i := 0; i < 200; i++ {
		ls := strings.SplitAfter(base, "\n")
		o, th := r.Intn(140), 150+r.Intn(140)
		ours := strings.Join(append(append(append([]string{}, ls[:o]...), "ours\n"), ls[o:]...), "")
		ls[th] = "theirs\n"
		theirs := strings.Join(ls, "")
		got, c := Merge3(base, ours, theirs)
		if c != nil {
			t.Fatalf("conflict %v", c)
		}
		ls = strings.SplitAfter(base, "\n")
		ls[th] = "theirs\n"
		want := strings.Join(append(append(append([]string{}, ls[:o]...), "ours\n"), ls[o:]...), "")
		if got != want {
			t.Fatalf("merge at %d/%d wrong", o, th)
		}
	}
}

func TestLineRangeString(t *testing.T) {
	for r, want := range map[LineRange]string{{3, 3}: "before line 4", {3, 4}: "line 4", {3, 6}: "lines 4-6"} {
		if got := r.String(); got != want {
			t.Errorf("%v: got %q, want %q", r, got, want)
		}
	}
}
