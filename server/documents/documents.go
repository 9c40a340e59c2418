// Package documents is the bridge's store of the documents the editor has
// open: their text and version as the editor last told us (didOpen,
// didChange), and the last content of their file on disk that the bridge saw,
// which says whether a buffer has unsaved changes and is the base for merging
// an agent's change into it.
//
// Memory is proportional to the open documents: a document's entry (two
// strings and small bookkeeping) goes away when the editor closes it.
package documents

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// ErrNotOpen is returned for a document the editor has not opened, or has
// closed while a caller waited on it.
var ErrNotOpen = errors.New("documents: document not open")

// Doc is a copy of one open document; changing it changes nothing in the
// store.
type Doc struct {
	URI        protocol.DocumentURI
	Path       string // cleaned absolute file path; "" for a URI that is not file://
	LanguageID string
	Version    int32
	Text       string // the editor's buffer
	// DiskText is the last content of the file on disk the bridge saw: read
	// when the document was opened and saved, then kept up to date by the
	// code that carries agent changes into the buffer.
	DiskText string
	OnDisk   bool // the file existed when DiskText was read or set
	Dirty    bool // the buffer differs from DiskText (always true when !OnDisk)
}

// DidChangeParams decodes textDocument/didChange params without losing the
// difference between a full-text change and an insertion at 0:0 (see
// textedit.ContentChange). Use it instead of protocol.DidChangeTextDocumentParams.
type DidChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []textedit.ContentChange                 `json:"contentChanges"`
}

// Store holds the open documents. All its methods are safe for concurrent use.
//
// One mutex, mu, guards every field below it; it is held only for map and
// field updates, never during file I/O or callbacks, so the LSP read loop
// (didOpen, didChange) never waits on a disk read made elsewhere.
type Store struct {
	mu     sync.Mutex
	docs   map[protocol.DocumentURI]*entry
	byPath map[string]*entry // pathKey of Path, and of its resolved symlinks
	subs   map[int]func(path string, open bool)
	nextID int
}

type entry struct {
	doc     Doc // Dirty is computed on copy-out
	keys    []string
	changed chan struct{} // closed and replaced whenever Version changes or the doc closes
}

// New returns an empty store.
func New() *Store {
	return &Store{
		docs:   map[protocol.DocumentURI]*entry{},
		byPath: map[string]*entry{},
		subs:   map[int]func(string, bool){},
	}
}

// Open records a document the editor opened (didOpen) and reads its file, if
// it has one, as DiskText. Opening a URI that is already open replaces it.
func (s *Store) Open(u protocol.DocumentURI, languageID string, version int32, text string) {
	path := PathOf(u)
	e := &entry{
		doc:     Doc{URI: u, Path: path, LanguageID: languageID, Version: version, Text: text},
		changed: make(chan struct{}),
	}
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			e.doc.DiskText, e.doc.OnDisk = string(b), true
		}
		e.keys = pathKeys(path)
	}

	s.mu.Lock()
	old := s.docs[u]
	if old != nil {
		s.removeLocked(old)
	}
	s.docs[u] = e
	for _, k := range e.keys {
		s.byPath[k] = e
	}
	subs := s.subsLocked()
	s.mu.Unlock()

	if path != "" {
		for _, fn := range subs {
			fn(path, true)
		}
	}
}

// Change applies didChange content changes to a document's buffer and moves
// it to version, waking WaitVersion callers.
func (s *Store) Change(u protocol.DocumentURI, version int32, changes []textedit.ContentChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil {
		return ErrNotOpen
	}
	e.doc.Text = textedit.ApplyChanges(e.doc.Text, changes)
	e.doc.Version = version
	close(e.changed)
	e.changed = make(chan struct{})
	return nil
}

// Close forgets a document the editor closed (didClose).
func (s *Store) Close(u protocol.DocumentURI) {
	s.mu.Lock()
	e := s.docs[u]
	if e == nil {
		s.mu.Unlock()
		return
	}
	s.removeLocked(e)
	subs := s.subsLocked()
	s.mu.Unlock()

	if e.doc.Path != "" {
		for _, fn := range subs {
			fn(e.doc.Path, false)
		}
	}
}

// removeLocked drops e from the maps and wakes its waiters.
func (s *Store) removeLocked(e *entry) {
	delete(s.docs, e.doc.URI)
	for _, k := range e.keys {
		if s.byPath[k] == e {
			delete(s.byPath, k)
		}
	}
	close(e.changed)
}

// Saved records that the editor saved a document (didSave). text is the
// saved content when the editor sent it (includeText): it is exactly what the
// editor wrote, whereas a read of the file a moment later could already see
// the agent's next write and make the bridge believe the buffer has it. When
// text is nil the file is read.
func (s *Store) Saved(u protocol.DocumentURI, text *string) {
	s.mu.Lock()
	e := s.docs[u]
	s.mu.Unlock()
	if e == nil || e.doc.Path == "" {
		return
	}
	disk := text
	if disk == nil {
		if b, err := os.ReadFile(e.doc.Path); err == nil {
			str := string(b)
			disk = &str
		}
	}
	s.SetDiskText(u, disk)
}

// SetDiskText records what the document's file now holds on disk; nil means
// the file does not exist. It reports whether the document is open.
func (s *Store) SetDiskText(u protocol.DocumentURI, text *string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil {
		return false
	}
	if text == nil {
		e.doc.DiskText, e.doc.OnDisk = "", false
	} else {
		e.doc.DiskText, e.doc.OnDisk = *text, true
	}
	return true
}

// Get returns a copy of an open document.
func (s *Store) Get(u protocol.DocumentURI) (Doc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil {
		return Doc{}, false
	}
	return e.copy(), true
}

// ByPath returns a copy of the open document whose file is path (claude
// reports absolute paths). It also finds it through symbolic links, so a path
// under /tmp matches a document opened as /private/tmp on macOS.
func (s *Store) ByPath(path string) (Doc, bool) {
	if path == "" {
		return Doc{}, false
	}
	s.mu.Lock()
	e := s.byPath[pathKey(path)]
	s.mu.Unlock()
	if e == nil {
		// Resolving links costs system calls: only on a miss, and unlocked.
		real, ok := resolve(path)
		if !ok || pathKey(real) == pathKey(path) {
			return Doc{}, false
		}
		s.mu.Lock()
		e = s.byPath[pathKey(real)]
		s.mu.Unlock()
		if e == nil {
			return Doc{}, false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[e.doc.URI] != e { // closed meanwhile
		return Doc{}, false
	}
	return e.copy(), true
}

// Paths returns the file paths of the open documents.
func (s *Store) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.docs))
	for _, e := range s.docs {
		if e.doc.Path != "" {
			out = append(out, e.doc.Path)
		}
	}
	return out
}

// WaitVersion blocks until the editor's version of the document is greater
// than after, and returns nil then. It returns ErrNotOpen if the document is
// not open or gets closed, and ctx's error if ctx ends first.
//
// An editor answers workspace/applyEdit before its didChange for that edit
// arrives (Neovim debounces didChange), so code that edits a buffer twice
// waits here to compute the second edit against the right text.
func (s *Store) WaitVersion(ctx context.Context, u protocol.DocumentURI, after int32) error {
	for {
		s.mu.Lock()
		e := s.docs[u]
		if e == nil {
			s.mu.Unlock()
			return ErrNotOpen
		}
		if e.doc.Version > after {
			s.mu.Unlock()
			return nil
		}
		ch := e.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Subscribe calls fn with a document's file path each time one is opened
// (open=true) or closed. fn runs on the caller of Open or Close (the LSP read
// loop), outside the store's lock: it must be quick and must not block. The
// returned function unsubscribes.
func (s *Store) Subscribe(fn func(path string, open bool)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	s.subs[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

func (s *Store) subsLocked() []func(string, bool) {
	out := make([]func(string, bool), 0, len(s.subs))
	for _, fn := range s.subs {
		out = append(out, fn)
	}
	return out
}

func (e *entry) copy() Doc {
	d := e.doc
	d.Dirty = !d.OnDisk || d.Text != d.DiskText
	return d
}

// PathOf returns the cleaned file path of a file:// URI, or "" for any other
// scheme (untitled:, vscode-notebook-cell:, ...), whose documents are kept but
// never matched to files.
func PathOf(u protocol.DocumentURI) (path string) {
	if !strings.HasPrefix(string(u), uri.FileScheme+"://") {
		return ""
	}
	defer func() {
		// uri.Filename panics on a URI it cannot parse.
		if recover() != nil {
			path = ""
		}
	}()
	p := uri.URI(u).Filename()
	if p == "" || !filepath.IsAbs(p) {
		return ""
	}
	return filepath.Clean(p)
}

// pathKey is the map key for a path: cleaned, and case-folded on Windows,
// where editors and claude spell drive letters differently (c: and C:).
func pathKey(path string) string {
	path = filepath.Clean(path)
	if runtime.GOOS == "windows" {
		path = strings.ToLower(path)
	}
	return path
}

// pathKeys are the keys a document is found by: its path and, when symbolic
// links lead elsewhere, the real path.
func pathKeys(path string) []string {
	keys := []string{pathKey(path)}
	if real, ok := resolve(path); ok && pathKey(real) != keys[0] {
		keys = append(keys, pathKey(real))
	}
	return keys
}

// resolve follows symbolic links in path. For a file that does not exist
// (not created yet, or just deleted) it resolves the directory.
func resolve(path string) (string, bool) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real, true
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, filepath.Base(path)), true
}
