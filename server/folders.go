package server

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner/pathid"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
)

// Folder is one of the editor's workspace folders.
type Folder struct {
	URI  string // as the editor sent it
	Path string // as the editor spells it (it may lead through symbolic links)
	Name string
}

func pathToURI(p string) string { return fileuri.FromPath(p) }

func folderOf(u, name string) (Folder, error) {
	p, err := fileuri.ToPath(u)
	if err != nil {
		return Folder{}, err
	}
	if name == "" {
		name = filepath.Base(p)
	}
	return Folder{URI: u, Path: p, Name: name}, nil
}

// foldersFromInit reads initialize's workspace folders: workspaceFolders,
// else rootUri, else rootPath (deprecated, but clients still send it, and
// it is the fallback when rootUri is unusable). A folder that cannot be used
// is skipped and named in problems; the bridge still initializes, because
// refusing initialize leaves the editor with a server that answers nothing.
func foldersFromInit(wf []protocol.WorkspaceFolder, rootURI, rootPath string) (folders []Folder, problems []string) {
	seen := map[string]bool{}
	add := func(f Folder) {
		if k := pathid.SpellingKey(f.Path); !seen[k] {
			seen[k] = true
			folders = append(folders, f)
		}
	}
	for _, w := range wf {
		f, err := folderOf(w.URI, w.Name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("workspace folder %s: %v", w.Name, err))
			continue
		}
		add(f)
	}
	if len(folders) == 0 && rootURI != "" {
		f, err := folderOf(rootURI, "")
		if err != nil {
			problems = append(problems, fmt.Sprintf("rootUri: %v", err))
		} else {
			add(f)
		}
	}
	if len(folders) == 0 && rootPath != "" {
		if filepath.IsAbs(rootPath) {
			p := filepath.Clean(rootPath)
			add(Folder{URI: pathToURI(p), Path: p, Name: filepath.Base(p)})
		} else {
			problems = append(problems, fmt.Sprintf("rootPath %q is not an absolute path", rootPath))
		}
	}
	return folders, problems
}

// didChangeWorkspaceFolders updates the folders. It runs on the read loop,
// so folders are compared by spelling only (no file system look-up): the
// editor removes a folder by the URI it added it with.
func (s *Server) didChangeWorkspaceFolders(raw json.RawMessage) {
	var p protocol.DidChangeWorkspaceFoldersParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return
	}
	defer s.warmFolders() // after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range p.Event.Removed {
		rp, err := fileuri.ToPath(r.URI)
		if err != nil {
			continue
		}
		for i, f := range s.folders {
			if pathid.SpellingKey(f.Path) == pathid.SpellingKey(rp) {
				s.folders = append(s.folders[:i], s.folders[i+1:]...)
				break
			}
		}
	}
	for _, a := range p.Event.Added {
		f, err := folderOf(a.URI, a.Name)
		if err != nil {
			s.log.Warn("workspace folder ignored: " + err.Error())
			continue
		}
		dup := false
		for _, o := range s.folders {
			dup = dup || pathid.SpellingKey(o.Path) == pathid.SpellingKey(f.Path)
		}
		if !dup {
			s.folders = append(s.folders, f)
		}
	}
}

func (s *Server) folderList() []Folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Folder(nil), s.folders...)
}

// folderFor picks the folder a command (cmd) works in: the one asked for
// (its workspaceFolder, which must be one of the editor's, in any spelling
// of it), else the one holding the first context file, else the first
// folder. Its errors are -32602 naming the command and the value.
func (s *Server) folderFor(cmd, requested string, contextURIs []string) (Folder, []string, error) {
	folders := s.folderList()
	roots := make([]string, len(folders))
	for i, f := range folders {
		roots[i] = f.Path
	}
	if requested != "" {
		rp, err := fileuri.ToPath(requested)
		if err != nil {
			return Folder{}, nil, argError(cmd, "workspaceFolder", requested, err.Error())
		}
		for _, f := range folders {
			if pathid.Same(f.Path, rp) {
				return f, roots, nil
			}
		}
		if len(folders) == 0 {
			return Folder{}, nil, argError(cmd, "workspaceFolder", requested, "is not one of the editor's workspace folders (the editor opened none)")
		}
		return Folder{}, nil, argError(cmd, "workspaceFolder", requested, "is not one of the editor's workspace folders ("+strings.Join(roots, ", ")+")")
	}
	if len(folders) == 0 {
		return Folder{}, nil, invalidParams("%s: no workspace folder: open a folder in the editor or pass workspaceFolder", cmd)
	}
	if len(contextURIs) > 0 {
		if cp, err := fileuri.ToPath(contextURIs[0]); err == nil {
			if f, _, ok := containing(folders, cp); ok {
				return f, roots, nil
			}
		}
	}
	return folders[0], roots, nil
}

// containing finds the innermost folder holding path, by spelling or else by
// identity (claude reports real paths; the editor may have opened the folder
// through a link), and path relative to it.
func containing(folders []Folder, path string) (Folder, string, bool) {
	best, bestRel, found := Folder{}, "", false
	for _, f := range folders {
		if rel, ok := pathid.Rel(path, f.Path); ok && (!found || depth(rel) < depth(bestRel)) {
			best, bestRel, found = f, rel, true
		}
	}
	return best, bestRel, found
}

// depth counts the components of a relative path ("." has none).
func depth(rel string) int {
	if rel == "." {
		return 0
	}
	return strings.Count(rel, string(filepath.Separator)) + 1
}

// editorPath spells path the way the editor does: a file under the real
// path of a folder the editor opened through a symbolic link is named under
// the folder's spelling. Other paths stay as they are.
func (s *Server) editorPath(path string) string {
	if f, rel, ok := containing(s.folderList(), path); ok {
		return filepath.Join(f.Path, rel)
	}
	return path
}

// editorURI is the URI the editor knows path by: the URI it sent for a
// workspace folder, the URI of a document open on that file (the first by
// URI when it is open under two names), else the file URI of editorPath.
func (s *Server) editorURI(path string) string {
	for _, f := range s.folderList() {
		if pathid.SpellingKey(f.Path) == pathid.SpellingKey(path) {
			return f.URI
		}
	}
	parent := s.connCtx
	if parent == nil { // not serving (tests of parts)
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, documents.DefaultReadTimeout)
	defer cancel()
	if docs, err := s.bufs.docs.Find(ctx, path); err == nil && len(docs) > 0 {
		sort.Slice(docs, func(i, j int) bool { return docs[i].URI < docs[j].URI })
		return string(docs[0].URI)
	}
	return pathToURI(s.editorPath(path))
}

// editedFiles is a task's editedFiles: the files claude's tools changed
// (real paths) and those changed by other means (the URIs of open documents),
// each file once whatever its spelling, as the editor knows it.
func (s *Server) editedFiles(paths []string, uris []string) []string {
	out := []string{}
	seen := map[string]bool{}
	add := func(path, uri string) {
		k := uri
		if path != "" {
			k = pathid.Key(path)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, uri)
		}
	}
	for _, p := range paths {
		add(p, s.editorURI(p))
	}
	for _, u := range uris {
		add(documents.PathOf(protocol.DocumentURI(u)), u)
	}
	return out
}
