package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/documents"
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
	}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "explain\n\n@\"a b.txt#L1-2\"\n\nContext: lines 2-3 of \"h#sh.txt\" (its name cannot be written as an @-mention, so here is its text):\n````\ntwo\n```fence```\n````"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Unreadable: named, for the model to read.
	got, _ = withMentions(context.Background(), "p", []lspext.ContextRef{{URI: fileuri.FromPath(filepath.Join(dir, "gone#.txt"))}}, dir, nil)
	if !strings.HasSuffix(got, `Context: the file "gone#.txt" (its name cannot be written as an @-mention; read it).`) {
		t.Errorf("unreadable: %q", got)
	}
}

// What the model gets for a selection is what the user selected: from the
// buffer when it has unsaved changes (claude would read the disk), with the
// editor's line count when claude counts lines differently (a file of lone
// "\r" line breaks), and never an empty block.
func TestContextIsWhatTheUserSelected(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dirty := write("d.txt", "L1\nL2\nL3\nL4\n")
	clean := write("c.txt", "C1\nC2\nC3\n")
	cr := write("cr.txt", "R1\rR2\rR3\rR4\r")
	hashCR := write("h#cr.txt", "S1\rS2\rS3\rS4\r")
	short := write("h#short.txt", "only\n")

	docs := documents.New()
	open := func(path, text string) {
		u := protocol.DocumentURI(fileuri.FromPath(path))
		docs.Open(u, "text", 1, text)
		if _, err := docs.WaitLoaded(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	open(dirty, "new1\nnew2\nL1\nL2\nL3\nL4\n") // two unsaved lines at the top
	open(clean, "C1\nC2\nC3\n")

	ref := func(path string, from, to uint32) lspext.ContextRef {
		return lspext.ContextRef{URI: fileuri.FromPath(path), Range: lines(from, to)}
	}
	got, err := withMentions(context.Background(), "look", []lspext.ContextRef{
		ref(dirty, 3, 4), ref(clean, 2, 3), ref(cr, 2, 3), ref(hashCR, 2, 3), ref(short, 5, 6),
	}, dir, docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"@c.txt#L2-3", // clean and mentionable: claude attaches the lines itself
		"Context: lines 3-4 of \"d.txt\" (its unsaved text in the editor, which differs from the file on disk, so here is its text):\n```\nL1\nL2\n```",
		"Context: lines 2-3 of \"cr.txt\" (its line breaks are counted differently by Claude, so here is its text):\n```\nR2\rR3\r\n```",
		"Context: lines 2-3 of \"h#cr.txt\" (its name cannot be written as an @-mention, so here is its text):\n```\nS2\rS3\r\n```",
		"Context: lines 5-6 of \"h#short.txt\" (its name cannot be written as an @-mention): past its end, it has 1 lines.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "@d.txt") || strings.Contains(got, "@cr.txt") || strings.Contains(got, "```\n```") {
		t.Errorf("a mention of the disk's lines or an empty block:\n%s", got)
	}
}

// A context entry for a document that is no file (VS Code's untitled: for a
// new unsaved document, git: for a version from source control) reaches the
// prompt from the text the editor sent; one the editor never opened is
// refused, saying so.
func TestContextOfADocumentThatIsNoFile(t *testing.T) {
	docs := documents.New()
	docs.Open("untitled:Untitled-1", "plaintext", 1, "U1\nU2 selected\nU3\n")
	docs.Open("git:/w/main.go?%7B%22ref%22%3A%22HEAD%22%7D", "go", 1, "package old\n")
	got, err := withMentions(context.Background(), "look", []lspext.ContextRef{
		{URI: "untitled:Untitled-1", Range: &lspext.Range{Start: lspext.Position{Line: 1}, End: lspext.Position{Line: 2}}},
		{URI: "git:/w/main.go?%7B%22ref%22%3A%22HEAD%22%7D"},
	}, t.TempDir(), docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Context: line 2 of \"Untitled-1\" (an unsaved new document, open only in the editor, so here is its text):\n```\nU2 selected\n```",
		"Context: the file \"git:/w/main.go?%7B%22ref%22%3A%22HEAD%22%7D\" (a document open in the editor, not a file on disk, so here is its text):\n```\npackage old\n```",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	_, err = withMentions(context.Background(), "look", []lspext.ContextRef{{URI: "untitled:Untitled-2"}}, t.TempDir(), docs)
	if err == nil || !strings.Contains(err.Error(), "no document with that URI is open in the editor") {
		t.Errorf("a context entry for an untitled document not open: %v", err)
	}
}
