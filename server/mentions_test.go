package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

func lines(start, end uint32) *lspext.Range {
	return &lspext.Range{Start: lspext.Position{Line: start - 1}, End: lspext.Position{Line: end - 1, Character: 3}}
}

// The forms claude 2.1.332 resolves (see withMentions), for names with the
// characters that broke the old unquoted form.
func TestMentionQuoting(t *testing.T) {
	cases := []struct {
		rel  string
		r    *lspext.Range
		want string // "" = cannot be mentioned
	}{
		{"main.go", lines(2, 3), "@main.go#L2-3"},
		{"a/b.go", nil, "@a/b.go"},
		{"a b.txt", lines(1, 3), `@"a b.txt#L1-3"`}, // the range inside the quotes: outside, it is ignored
		{"a b.txt", nil, `@"a b.txt"`},
		{"dir with space/in.txt", lines(5, 5), `@"dir with space/in.txt#L5"`},
		{"umläut.txt", lines(1, 2), `@"umläut.txt#L1-2"`},
		{"émoji 😀.txt", nil, `@"émoji 😀.txt"`},
		{"pl+us.txt", lines(1, 2), "@pl+us.txt#L1-2"},
		{"tail+", nil, `@"tail+"`}, // unquoted, claude drops a trailing +
		{"it's a.txt", lines(1, 1), `@"it's a.txt#L1"`},
		{"c,d (1) [x] & y;$z.txt", lines(2, 3), `@"c,d (1) [x] & y;$z.txt#L2-3"`},
		{"a\tb.txt", nil, "@\"a\tb.txt\""},
		{`q"t.txt`, lines(2, 3), `@q"t.txt#L2-3`}, // a quote and no space: unquoted works
		{`q "t.txt`, lines(2, 3), ""},             // a quote and a space: no form works
		{"h#sh.txt", lines(2, 3), ""},             // '#': no form works
		{"new\nline.txt", nil, ""},
		{"/elsewhere/c.go", lines(1, 2), "@/elsewhere/c.go#L1-2"},
	}
	for _, c := range cases {
		got, ok := mention(c.rel, c.r)
		if c.want == "" && ok || c.want != "" && got != c.want {
			t.Errorf("mention(%q) = %q, %v; want %q", c.rel, got, ok, c.want)
		}
	}
}

// A name no mention can express: the selected lines go into the prompt.
func TestUnmentionableContextIsInlined(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h#sh.txt")
	if err := os.WriteFile(path, []byte("one\ntwo\n```fence```\nfour\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := withMentions(context.Background(), "explain", []lspext.ContextRef{
		{URI: fileuri.FromPath(path), Range: lines(2, 3)},
		{URI: fileuri.FromPath(filepath.Join(dir, "a b.txt")), Range: lines(1, 2)},
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "explain\n\n@\"a b.txt#L1-2\"\n\nContext: lines 2-3 of \"h#sh.txt\" (its name cannot be written as an @-mention, so here is its text):\n````\ntwo\n```fence```\n````"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Unreadable: named, for the model to read.
	got, _ = withMentions(context.Background(), "p", []lspext.ContextRef{{URI: fileuri.FromPath(filepath.Join(dir, "gone#.txt"))}}, dir)
	if !strings.HasSuffix(got, `Context: the file "gone#.txt" (its name cannot be written as an @-mention; read it).`) {
		t.Errorf("unreadable: %q", got)
	}
}
