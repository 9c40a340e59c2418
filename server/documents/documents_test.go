package documents

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/claude-bridge/claude-bridge/server/textedit"
)

func writeFile(t *testing.T, dir, name, text string) (string, protocol.DocumentURI) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, protocol.DocumentURI(uri.File(p))
}

func change(l1, c1, l2, c2 uint32, text string) textedit.ContentChange {
	return textedit.ContentChange{Range: &protocol.Range{
		Start: protocol.Position{Line: l1, Character: c1},
		End:   protocol.Position{Line: l2, Character: c2},
	}, Text: text}
}

func TestOpenChangeSaveClose(t *testing.T) {
	dir := t.TempDir()
	path, u := writeFile(t, dir, "main.go", "package main\n")
	s := New()
	s.Open(u, "go", 1, "package main\n")

	d, err := s.WaitLoaded(context.Background(), u)
	if err != nil || d.Path != path || d.Version != 1 || d.Dirty || !d.Disk.Exists || d.Disk.Text != "package main\n" || d.LanguageID != "go" ||
		!d.HasBase || d.Base != "package main\n" {
		t.Fatalf("after open: %+v, %v", d, err)
	}
	if err := s.Change(u, 2, []textedit.ContentChange{change(1, 0, 1, 0, "// 😀\n")}); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Get(u)
	if d.Text != "package main\n// 😀\n" || d.Version != 2 || !d.Dirty {
		t.Fatalf("after change: %+v", d)
	}
	// Get returns a copy.
	d.Text = "scribble"
	if d2, _ := s.Get(u); d2.Text == "scribble" {
		t.Fatal("Get shares state")
	}

	saved := "package main\n// 😀\n"
	s.Saved(u, &saved)
	if d, _ = s.Get(u); d.Dirty || d.Disk.Text != saved || d.Base != saved {
		t.Fatalf("after save with text: %+v", d)
	}

	// Saved without text: the buffer is what the editor wrote. The file is
	// not read back (it could already hold an agent's next write).
	if err := s.Change(u, 3, []textedit.ContentChange{change(0, 0, 0, 0, "// top\n")}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("an agent's write, not yet carried\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Saved(u, nil)
	if d, _ = s.Get(u); d.Disk.Text != "// top\n"+saved || d.Base != d.Text || d.Dirty {
		t.Fatalf("after save without text: %+v", d)
	}

	if docs, err := s.Find(context.Background(), path); err != nil || len(docs) != 1 || docs[0].URI != u {
		t.Fatalf("Find: %+v %v", docs, err)
	}
	if got := s.Paths(); len(got) != 1 || got[0] != path {
		t.Fatalf("Paths = %v", got)
	}
	s.Close(u)
	if _, ok := s.Get(u); ok {
		t.Fatal("still open after Close")
	}
	if docs, _ := s.Find(context.Background(), path); len(docs) != 0 {
		t.Fatal("Find finds a closed document")
	}
	if err := s.Change(u, 3, nil); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("Change after close: %v", err)
	}
}

func TestNotOnDiskAndOtherSchemes(t *testing.T) {
	s := New()
	dir := t.TempDir()
	missing := protocol.DocumentURI(uri.File(filepath.Join(dir, "new.go")))
	s.Open(missing, "go", 1, "")
	if d, _ := s.WaitLoaded(context.Background(), missing); !d.Disk.Known || d.Disk.Exists || !d.Dirty || !d.HasBase || d.Base != "" {
		t.Fatalf("missing file: %+v", d)
	}
	if docs, _ := s.Find(context.Background(), filepath.Join(dir, "new.go")); len(docs) != 1 {
		t.Fatal("a file not yet on disk is still found by path")
	}
	untitled := protocol.DocumentURI("untitled:Untitled-1")
	s.Open(untitled, "plaintext", 1, "hello")
	if d, ok := s.Get(untitled); !ok || d.Path != "" {
		t.Fatalf("untitled: %+v", d)
	}
	if got := s.Paths(); len(got) != 1 {
		t.Fatalf("Paths = %v, want only the file", got)
	}
	if !s.SetDisk(untitled, NoFile()) {
		t.Fatal("SetDisk on an open document")
	}
}

func TestPathOf(t *testing.T) {
	tests := map[protocol.DocumentURI]string{
		"file:///home/me/a%20b/x.go":            "/home/me/a b/x.go",
		"file:///home/me/./proj/../x":           "/home/me/x",
		"untitled:Untitled-1":                   "",
		"vscode-notebook-cell:/x#y":             "",
		"file://%zz":                            "",
		"file:/home/me/x.go":                    "/home/me/x.go",
		"file://localhost/home/me/%C3%A4%2B.go": "/home/me/ä+.go",
	}
	for u, want := range tests {
		if got := PathOf(u); got != filepath.FromSlash(want) {
			t.Errorf("PathOf(%q) = %q, want %q", u, got, want)
		}
	}
}

func TestFindThroughSymlink(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, u := writeFile(t, real, "f.txt", "x")
	s := New()
	s.Open(u, "text", 1, "x")
	if docs, _ := s.Find(ctx, filepath.Join(link, "f.txt")); len(docs) != 1 || docs[0].URI != u {
		t.Fatalf("through link: %v", docs)
	}
	// And the other way round: opened through the link, reported by real path.
	s2 := New()
	lu := protocol.DocumentURI(uri.File(filepath.Join(link, "f.txt")))
	s2.Open(lu, "text", 1, "x")
	if docs, _ := s2.Find(ctx, filepath.Join(real, "f.txt")); len(docs) != 1 || docs[0].URI != lu {
		t.Fatalf("real path of a doc opened through a link: %v", docs)
	}
	// Open under both names: both are found, by either name.
	s2.Open(u, "text", 1, "x")
	for _, p := range []string{filepath.Join(real, "f.txt"), filepath.Join(link, "f.txt")} {
		if docs, _ := s2.Find(ctx, p); len(docs) != 2 {
			t.Fatalf("Find(%s) = %d documents, want both names", p, len(docs))
		}
	}
	s2.Close(lu)
	if docs, _ := s2.Find(ctx, filepath.Join(link, "f.txt")); len(docs) != 1 || docs[0].URI != u {
		t.Fatalf("after closing one name: %v", docs)
	}
}

func TestWaitVersion(t *testing.T) {
	s := New()
	u := protocol.DocumentURI("untitled:x")
	s.Open(u, "text", 5, "a")
	ctx := context.Background()
	at := func(v int32) Doc { d, _ := s.Get(u); d.Version = v; return d }
	if err := s.WaitVersion(ctx, at(4)); err != nil {
		t.Fatalf("already past: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitVersion(ctx, at(5)) }()
	select {
	case err := <-done:
		t.Fatalf("returned before a change: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := s.Change(u, 6, []textedit.ContentChange{{Text: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("after change: %v", err)
	}

	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.WaitVersion(tctx, at(6)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}

	// Closed and opened again (an editor reloading the file): its versions
	// start over, and a wait for the old opening ends.
	old := at(6)
	go func() { done <- s.WaitVersion(ctx, old) }()
	time.Sleep(5 * time.Millisecond)
	s.Close(u)
	s.Open(u, "text", 0, "b")
	if err := <-done; !errors.Is(err, ErrNotOpen) {
		t.Fatalf("after close: %v", err)
	}
	if err := s.Change(u, 7, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitVersion(ctx, old); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("reopened, a later version: %v", err)
	}
	s.Close(u)
	if err := s.WaitVersion(ctx, old); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("not open: %v", err)
	}
}

func TestSubscribe(t *testing.T) {
	s := New()
	var mu sync.Mutex
	var got []string
	cancel := s.Subscribe(func(path string, open bool) {
		mu.Lock()
		defer mu.Unlock()
		if open {
			got = append(got, "open "+path)
		} else {
			got = append(got, "close "+path)
		}
	})
	p := filepath.Join(t.TempDir(), "a.txt")
	u := protocol.DocumentURI(uri.File(p))
	s.Open(u, "text", 1, "")
	s.Open("untitled:1", "text", 1, "") // no file: no call
	s.Close(u)
	cancel()
	s.Open(u, "text", 1, "")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "open "+p || got[1] != "close "+p {
		t.Fatalf("calls: %v", got)
	}
}

func TestDidChangeParamsKeepsFullChanges(t *testing.T) {
	var p DidChangeParams
	raw := `{"textDocument":{"uri":"untitled:x","version":3},"contentChanges":[{"text":"all new"}]}`
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	s := New()
	s.Open(p.TextDocument.URI, "text", 2, "old")
	if err := s.Change(p.TextDocument.URI, p.TextDocument.Version, p.ContentChanges); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Get(p.TextDocument.URI); d.Text != "all new" || d.Version != 3 {
		t.Fatalf("%+v", d)
	}
}

// Many goroutines at once: run with -race.
func TestConcurrentUse(t *testing.T) {
	s := New()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		_, u := writeFile(t, dir, string(rune('a'+i))+".txt", "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Open(u, "text", 0, "")
			for v := int32(1); v <= 100; v++ {
				_ = s.Change(u, v, []textedit.ContentChange{change(0, 0, 0, 0, "x")})
				s.Get(u)
				_, _ = s.Find(context.Background(), PathOf(u))
				s.Paths()
			}
			s.Close(u)
		}()
	}
	wg.Wait()
}

// A file open under the name of a hard link is found by the other name (the
// one claude reports), and no longer once the link is broken.
func TestFindThroughHardLink(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p, _ := writeFile(t, dir, "f.txt", "x")
	other := filepath.Join(dir, "other.txt")
	if err := os.Link(p, other); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	s := New()
	ou := protocol.DocumentURI(uri.File(other))
	s.Open(ou, "text", 1, "x")
	if docs, _ := s.Find(ctx, p); len(docs) != 1 || docs[0].URI != ou {
		t.Fatalf("Find(%s) with its hard link open = %v", p, docs)
	}
	// f.txt replaced by a rename (the link is broken): other.txt is
	// another file now.
	if err := os.WriteFile(p+".new", []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	if docs, _ := s.Find(ctx, p); len(docs) != 0 {
		t.Fatalf("Find after the link was broken = %v", docs)
	}
}
