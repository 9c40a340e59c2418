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

	d, ok := s.Get(u)
	if !ok || d.Path != path || d.Version != 1 || d.Dirty || !d.OnDisk || d.DiskText != "package main\n" || d.LanguageID != "go" {
		t.Fatalf("after open: %+v", d)
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
	if d, _ = s.Get(u); d.Dirty || d.DiskText != saved {
		t.Fatalf("after save with text: %+v", d)
	}

	// Saved without text reads the file.
	if err := os.WriteFile(path, []byte("on disk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Saved(u, nil)
	if d, _ = s.Get(u); d.DiskText != "on disk\n" || !d.Dirty {
		t.Fatalf("after save without text: %+v", d)
	}

	if d, ok := s.ByPath(path); !ok || d.URI != u {
		t.Fatalf("ByPath: %+v %v", d, ok)
	}
	if got := s.Paths(); len(got) != 1 || got[0] != path {
		t.Fatalf("Paths = %v", got)
	}
	s.Close(u)
	if _, ok := s.Get(u); ok {
		t.Fatal("still open after Close")
	}
	if _, ok := s.ByPath(path); ok {
		t.Fatal("ByPath finds a closed document")
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
	if d, _ := s.Get(missing); d.OnDisk || !d.Dirty {
		t.Fatalf("missing file: %+v", d)
	}
	if _, ok := s.ByPath(filepath.Join(dir, "new.go")); !ok {
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
	if s.SetDiskText(untitled, nil) != true {
		t.Fatal("SetDiskText on an open document")
	}
}

func TestPathOf(t *testing.T) {
	tests := map[protocol.DocumentURI]string{
		"file:///home/me/a%20b/x.go":  "/home/me/a b/x.go",
		"file:///home/me/./proj/../x": "/home/me/x",
		"untitled:Untitled-1":         "",
		"vscode-notebook-cell:/x#y":   "",
		"file://%zz":                  "",
	}
	for u, want := range tests {
		if got := PathOf(u); got != filepath.FromSlash(want) {
			t.Errorf("PathOf(%q) = %q, want %q", u, got, want)
		}
	}
}

func TestByPathThroughSymlink(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	_, u := writeFile(t, real, "f.txt", "x")
	s := New()
	s.Open(u, "text", 1, "x")
	if d, ok := s.ByPath(filepath.Join(link, "f.txt")); !ok || d.URI != u {
		t.Fatalf("through link: %v", ok)
	}
	// And the other way round: opened through the link, reported by real path.
	s2 := New()
	lu := protocol.DocumentURI(uri.File(filepath.Join(link, "f.txt")))
	s2.Open(lu, "text", 1, "x")
	if d, ok := s2.ByPath(filepath.Join(real, "f.txt")); !ok || d.URI != lu {
		t.Fatalf("real path of a doc opened through a link: %v", ok)
	}
}

func TestWaitVersion(t *testing.T) {
	s := New()
	u := protocol.DocumentURI("untitled:x")
	s.Open(u, "text", 5, "a")
	ctx := context.Background()
	if err := s.WaitVersion(ctx, u, 4); err != nil {
		t.Fatalf("already past: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitVersion(ctx, u, 5) }()
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
	if err := s.WaitVersion(tctx, u, 6); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}

	go func() { done <- s.WaitVersion(ctx, u, 6) }()
	time.Sleep(5 * time.Millisecond)
	s.Close(u)
	if err := <-done; !errors.Is(err, ErrNotOpen) {
		t.Fatalf("after close: %v", err)
	}
	if err := s.WaitVersion(ctx, u, 0); !errors.Is(err, ErrNotOpen) {
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
				s.ByPath(PathOf(u))
				s.Paths()
			}
			s.Close(u)
		}()
	}
	wg.Wait()
}
