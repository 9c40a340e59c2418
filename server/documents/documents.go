// Package documents is the bridge's store of the documents the editor has
// open: their text and version as the editor last told us (didOpen,
// didChange); what the bridge knows of their file on disk (Disk), which says
// whether a buffer has unsaved changes; and the base of each buffer, the
// last content of the file the buffer agreed with, from which an agent's
// change of the file is merged into it.
//
// Nothing here blocks the caller on the file system: a document's file is
// read on a goroutine after didOpen (and after a didSave without text), with
// a time limit; the document is usable meanwhile, and Find waits for the
// read.
//
// Memory is proportional to the open documents: a document's entry (three
// strings and small bookkeeping) goes away when the editor closes it.
package documents

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
	"github.com/claude-bridge/claude-bridge/runner/pathid"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// ErrNotOpen is returned for a document the editor has not opened, or has
// closed while a caller waited on it.
var ErrNotOpen = errors.New("documents: document not open")

// DefaultReadTimeout is how long a document's file may take to be read
// before the bridge gives up on knowing it (Store.ReadTimeout).
const DefaultReadTimeout = 5 * time.Second

// Doc is a copy of one open document; changing it changes nothing in the
// store.
type Doc struct {
	URI        protocol.DocumentURI
	Path       string // cleaned absolute file path, as the editor spells it; "" for a URI that is not a file
	LanguageID string
	Version    int32
	Text       string // the editor's buffer
	// Disk is what the bridge last knew of the file on disk: read when the
	// document was opened, the saved text when it was saved, then kept up to
	// date by the code that carries changes of the file into the buffer.
	Disk Disk
	// Base is the text the buffer is known to descend from: the last content
	// of the file the buffer agreed with, in the editor's representation
	// (EditorText). It is what the bridge read from disk when the document
	// was opened, the text the editor saved, or a change of the file the
	// editor has been seen to take. A change of the file is merged into the
	// buffer from Base. HasBase is false when there is no such text (the
	// file could not be read or decoded when it was opened).
	Base    string
	HasBase bool
	// Dirty: the buffer differs from the file on disk, or the bridge cannot
	// tell (the file is missing, unreadable or not decodable).
	Dirty bool
	// Modified: the buffer is known to differ from the file on disk (Dirty,
	// and the two could be compared).
	Modified bool
	// Edited: the editor changed the buffer (didChange) since it was opened
	// or last saved. A buffer never Edited holds the file as the editor
	// read it, whether or not the bridge can compare the two.
	Edited bool
	// Loading: the file is being read; Disk and Base are not settled yet.
	Loading bool
	// Opening tells this opening of the document from a later one (the
	// editor closing and opening it again, as when it reloads the file):
	// versions start over with each.
	Opening uint64
	// Reopened: the editor had closed this document just before opening it
	// again (it reloaded the file), so its text came from the file.
	Reopened bool
}

// DidChangeParams decodes textDocument/didChange params without losing the
// difference between a full-text change and an insertion at 0:0 (see
// textedit.ContentChange). Use it instead of protocol.DidChangeTextDocumentParams.
type DidChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []textedit.ContentChange                 `json:"contentChanges"`
}

// Store holds the open documents. All its methods are safe for concurrent
// use, and none waits on the file system except Find.
//
// One mutex, mu, guards every field below it; it is held only for map and
// field updates, never during file I/O or callbacks, so the LSP read loop
// (didOpen, didChange) never waits on a disk read.
type Store struct {
	// ReadTimeout bounds the wait for a document's file to be read (a hung
	// mount); then its Disk is not Known and carries into it are refused.
	// A read that finishes later still counts. Set it before the first Open.
	ReadTimeout time.Duration
	// read reads a document's file; tests replace it to simulate a hung
	// mount.
	read func(path string) Disk

	mu     sync.Mutex
	editor Editor // how the editor represents files in buffers
	docs   map[protocol.DocumentURI]*entry
	byKey  map[string][]*entry // a key of the document's file (see entry.keys) → the documents open on it
	subs   map[int]func(path string, open bool)
	nextID int
	opened uint64 // counts Open calls (Doc.Opening)
	// lastClosed is the document closed last, for Doc.Reopened: an editor
	// reloading a file closes and opens it in a row.
	lastClosed protocol.DocumentURI
}

type entry struct {
	doc     Doc           // Dirty is computed on copy-out
	keys    []string      // pathid.SpellingKey of doc.Path, and its pathid.Key and pathid.FileKey once looked up
	changed chan struct{} // closed and replaced whenever Version changes or the doc closes
	loaded  chan struct{} // closed when doc.Loading turns false
	// gen counts the settings of doc.Disk: a read started at an older gen
	// does not overwrite what was set since.
	gen uint64
	// noticed: the user was told this buffer must be reloaded (NoticeOnce).
	noticed bool
}

// New returns an empty store.
func New() *Store {
	return &Store{
		ReadTimeout: DefaultReadTimeout,
		read:        readDisk,
		docs:        map[protocol.DocumentURI]*entry{},
		byKey:       map[string][]*entry{},
		subs:        map[int]func(string, bool){},
	}
}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Open records a document the editor opened (didOpen) and starts reading its
// file, if it has one. Opening a URI that is already open replaces it.
func (s *Store) Open(u protocol.DocumentURI, languageID string, version int32, text string) {
	path := PathOf(u)
	e := &entry{
		doc:     Doc{URI: u, Path: path, LanguageID: languageID, Version: version, Text: text},
		changed: make(chan struct{}),
		loaded:  closed,
	}
	if path != "" {
		e.doc.Loading = true
		e.loaded = make(chan struct{})
	}

	s.mu.Lock()
	s.opened++
	e.doc.Opening = s.opened
	e.doc.Reopened = s.lastClosed == u
	s.lastClosed = ""
	if old := s.docs[u]; old != nil {
		s.removeLocked(old)
	}
	s.docs[u] = e
	if path != "" {
		s.addKeyLocked(e, pathid.SpellingKey(path))
	}
	subs := s.subsLocked()
	s.mu.Unlock()

	if path != "" {
		s.load(e, 0, true)
		for _, fn := range subs {
			fn(path, true)
		}
	}
}

// load reads e's file on a goroutine. opening: also resolve the file's
// identity and take the text read as the buffer's base. It gives up waiting
// after ReadTimeout (Loading ends, Disk not Known) but still takes a result
// that arrives later, unless the disk state was set meanwhile. A file whose
// earlier read is still stuck is not read again (fsbound.ErrStuck).
func (s *Store) load(e *entry, gen uint64, opening bool) {
	path := e.doc.Path
	go func() { // owned by the Store; ends when the read returns or is given up
		var keys []string
		if opening {
			// Its resolved path, and the file's own identity, which its
			// hard links share (each bounded by pathid.LookupTimeout).
			keys = append(keys, pathid.Key(path))
			if fk, ok := pathid.FileKey(path); ok {
				keys = append(keys, fk)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.ReadTimeout)
		defer cancel()
		var mu sync.Mutex // guards got, read, late
		var got Disk
		read, late := false, false
		err := fsbound.Do(ctx, path, func() {
			d := s.read(path)
			mu.Lock()
			defer mu.Unlock()
			if late {
				s.loaded(e, gen, keys, d, opening) // it still counts
				return
			}
			got, read = d, true
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !read {
			late = true
			s.giveUp(e, gen, keys, hungProblem(err, s.ReadTimeout))
			return
		}
		s.loaded(e, gen, keys, got, opening)
	}()
}

// giveUp ends the wait for a read that takes too long, unless the disk
// state was set since it began (and then the wait has ended already).
func (s *Store) giveUp(e *entry, gen uint64, keys []string, problem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[e.doc.URI] != e {
		return
	}
	for _, k := range keys {
		s.addKeyLocked(e, k)
	}
	if e.gen == gen {
		e.doc.Disk = Unreadable(problem)
		s.doneLoadingLocked(e)
	}
}

func (s *Store) loaded(e *entry, gen uint64, keys []string, d Disk, opening bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[e.doc.URI] != e {
		return // closed or replaced meanwhile
	}
	for _, k := range keys {
		s.addKeyLocked(e, k)
	}
	if e.gen != gen {
		return // set since; a newer read, if any, ends the loading
	}
	e.doc.Disk = d
	if opening {
		// The buffer was loaded from the file: it descends from what is on
		// disk. (If it had unsaved changes already, they show as the
		// difference from this base, which is the best knowledge there is.)
		e.doc.Base, e.doc.HasBase = s.editor.Text(d, e.doc.Text)
	}
	s.doneLoadingLocked(e)
}

func (s *Store) addKeyLocked(e *entry, key string) {
	for _, k := range e.keys {
		if k == key {
			return
		}
	}
	e.keys = append(e.keys, key)
	s.byKey[key] = append(s.byKey[key], e)
}

func (s *Store) doneLoadingLocked(e *entry) {
	if e.doc.Loading {
		e.doc.Loading = false
		close(e.loaded)
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
	e.doc.Text = s.editor.Breaks().ApplyChanges(e.doc.Text, changes)
	e.doc.Version = version
	e.doc.Edited = true
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
	s.lastClosed = u
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
		list := s.byKey[k]
		for i, o := range list {
			if o == e {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.byKey, k)
		} else {
			s.byKey[k] = list
		}
	}
	close(e.changed)
	s.doneLoadingLocked(e)
}

// Saved records that the editor saved a document (didSave). text is the
// saved content when the editor sent it (includeText), else the buffer as
// the store has it, which is what the editor wrote: either way the buffer
// now agrees with the disk, and the saved text becomes its base.
//
// The disk state is taken from the saved text rather than read back: a read
// a moment later could already see the agent's next write and make the
// bridge believe the buffer has it. Only a file the bridge cannot decode
// (its bytes are the editor's encoding of the text) is read again, on a
// goroutine.
func (s *Store) Saved(u protocol.DocumentURI, text *string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil || e.doc.Path == "" {
		return
	}
	saved := e.doc.Text
	if text != nil {
		saved = *text
	}
	e.doc.Base, e.doc.HasBase = saved, true
	e.doc.Edited = false
	e.noticed = false
	e.gen++
	prev := e.doc.Disk
	if prev.Known && prev.Decoded {
		// The file as the editor wrote it (its line breaks, a Neovim
		// buffer's final line break), not the buffer's representation:
		// the record of the disk is compared with what a read finds.
		e.doc.Disk = Disk{Known: true, Exists: true, Decoded: true, Encoding: prev.Encoding, Text: s.editor.FileText(prev, saved)}
		s.doneLoadingLocked(e)
		return
	}
	if !e.doc.Loading {
		e.doc.Loading = true
		e.loaded = make(chan struct{})
	}
	s.load(e, e.gen, false)
}

// SetDisk records what the document's file now holds on disk. It reports
// whether the document is open.
func (s *Store) SetDisk(u protocol.DocumentURI, d Disk) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil {
		return false
	}
	e.doc.Disk = d
	e.gen++
	s.doneLoadingLocked(e)
	return true
}

// AdvanceBase records that the buffer now descends from to, a content of the
// file the editor was seen to take, if its base is still from: a save in
// between (which set the base to the saved text) wins. It reports whether
// the base moved.
func (s *Store) AdvanceBase(u protocol.DocumentURI, from Doc, to string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil || e.doc.HasBase != from.HasBase || e.doc.Base != from.Base {
		return false
	}
	e.doc.Base, e.doc.HasBase = to, true
	return true
}

// NoticeOnce reports whether the user should be told now that the buffer
// must be reloaded: true the first time after the document was opened or
// saved, false after that.
func (s *Store) NoticeOnce(u protocol.DocumentURI) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.docs[u]
	if e == nil || e.noticed {
		return false
	}
	e.noticed = true
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
	return e.copy(s.editor), true
}

// WaitLoaded waits until the document's file has been read (or the read
// given up), and returns the document then.
func (s *Store) WaitLoaded(ctx context.Context, u protocol.DocumentURI) (Doc, error) {
	for {
		s.mu.Lock()
		e := s.docs[u]
		if e == nil {
			s.mu.Unlock()
			return Doc{}, ErrNotOpen
		}
		if !e.doc.Loading {
			d := e.copy(s.editor)
			s.mu.Unlock()
			return d, nil
		}
		ch := e.loaded
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Doc{}, ctx.Err()
		case <-ch:
		}
	}
}

// Find returns copies of every open document on the file at path, whatever
// either side's spelling: claude reports real paths, the editor may have
// opened the file through a symbolic link or a hard link of another name,
// or under two names (all are returned). It waits for the documents still being read, whose identity is
// not known yet (at most ReadTimeout), and resolves path: call it off the
// LSP read loop.
func (s *Store) Find(ctx context.Context, path string) ([]Doc, error) {
	if path == "" {
		return nil, nil
	}
	for {
		var wait chan struct{}
		s.mu.Lock()
		for _, e := range s.docs {
			if e.doc.Loading {
				wait = e.loaded
				break
			}
		}
		s.mu.Unlock()
		if wait == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait:
		}
	}
	keys := []string{pathid.SpellingKey(path), pathid.Key(path)}
	fk, hasFK := pathid.FileKey(path)
	s.mu.Lock()
	var out, byFile []Doc
	seen := map[*entry]bool{}
	for _, k := range keys {
		for _, e := range s.byKey[k] {
			if !seen[e] {
				seen[e] = true
				out = append(out, e.copy(s.editor))
			}
		}
	}
	if hasFK {
		for _, e := range s.byKey[fk] {
			if !seen[e] {
				seen[e] = true
				byFile = append(byFile, e.copy(s.editor))
			}
		}
	}
	s.mu.Unlock()
	// Found only as the same file (a hard link under another name): still
	// so now? The document's file may have been replaced since it was
	// opened, and its old inode number reused.
	for _, d := range byFile {
		if k, ok := pathid.FileKey(d.Path); ok && k == fk {
			out = append(out, d)
		}
	}
	return out, nil
}

// Paths returns the file paths of the open documents, as the editor spells
// them (a file open under two names is there twice).
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

// WaitVersion blocks until the editor's version of the document d (as Get or
// Find returned it) is greater than d.Version, and returns nil then. It
// returns ErrNotOpen if the document is not open or gets closed, or was
// closed and opened again since d (an editor reloading the file: its
// versions start over), and ctx's error if ctx ends first.
//
// An editor answers workspace/applyEdit before its didChange for that edit
// arrives (Neovim debounces didChange), so code that edits a buffer twice
// waits here to compute the second edit against the right text.
func (s *Store) WaitVersion(ctx context.Context, d Doc) error {
	for {
		s.mu.Lock()
		e := s.docs[d.URI]
		if e == nil || e.doc.Opening != d.Opening {
			s.mu.Unlock()
			return ErrNotOpen
		}
		if e.doc.Version > d.Version {
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

// SetEditor records how the editor represents files in its buffers (from
// its initialize request).
func (s *Store) SetEditor(ed Editor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.editor = ed
}

// Editor is how the editor represents files (SetEditor).
func (s *Store) Editor() Editor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.editor
}

// EditorText is the file's text d as the editor would hold it in buffer
// (Editor.Text for this store's editor).
func (s *Store) EditorText(d Disk, buffer string) (string, bool) {
	s.mu.Lock()
	ed := s.editor
	s.mu.Unlock()
	return ed.Text(d, buffer)
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

func (e *entry) copy(ed Editor) Doc {
	d := e.doc
	unsaved, ok := ed.Unsaved(d.Disk, d.Text)
	d.Dirty = !ok || !d.Disk.Exists || unsaved
	d.Modified = unsaved
	return d
}

// PathOf returns the cleaned file path of a file URI (any spelling
// fileuri.ToPath accepts), or "" for any other scheme (untitled:,
// vscode-notebook-cell:, ...), whose documents are kept but never matched to
// files.
func PathOf(u protocol.DocumentURI) string {
	p, err := fileuri.ToPath(string(u))
	if err != nil {
		return ""
	}
	return p
}
