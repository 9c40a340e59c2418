package server

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Folder is one of the editor's workspace folders.
type Folder struct {
	URI  string
	Path string
	Name string
}

// uriToPath turns a file:// URI into a clean absolute path.
func uriToPath(u string) (string, error) {
	if !strings.HasPrefix(u, "file://") {
		return "", fmt.Errorf("not a file URI: %q", u)
	}
	p := uri.URI(u).Filename()
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("not an absolute file URI: %q", u)
	}
	return filepath.Clean(p), nil
}

func pathToURI(p string) string { return string(uri.File(p)) }

func foldersFromInit(wf []protocol.WorkspaceFolder, rootURI, rootPath string) ([]Folder, error) {
	var out []Folder
	for _, f := range wf {
		p, err := uriToPath(f.URI)
		if err != nil {
			return nil, fmt.Errorf("workspace folder: %v", err)
		}
		out = append(out, Folder{URI: pathToURI(p), Path: p, Name: f.Name})
	}
	if len(out) == 0 && rootURI != "" {
		p, err := uriToPath(rootURI)
		if err != nil {
			return nil, fmt.Errorf("rootUri: %v", err)
		}
		out = append(out, Folder{URI: pathToURI(p), Path: p, Name: filepath.Base(p)})
	}
	if len(out) == 0 && rootPath != "" && filepath.IsAbs(rootPath) {
		p := filepath.Clean(rootPath)
		out = append(out, Folder{URI: pathToURI(p), Path: p, Name: filepath.Base(p)})
	}
	return out, nil
}

func (s *Server) didChangeWorkspaceFolders(raw json.RawMessage) {
	var p protocol.DidChangeWorkspaceFoldersParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range p.Event.Removed {
		rp, err := uriToPath(r.URI)
		if err != nil {
			continue
		}
		for i, f := range s.folders {
			if f.Path == rp {
				s.folders = append(s.folders[:i], s.folders[i+1:]...)
				break
			}
		}
	}
	for _, a := range p.Event.Added {
		ap, err := uriToPath(a.URI)
		if err != nil {
			continue
		}
		dup := false
		for _, f := range s.folders {
			dup = dup || f.Path == ap
		}
		if !dup {
			s.folders = append(s.folders, Folder{URI: pathToURI(ap), Path: ap, Name: a.Name})
		}
	}
}

// folderFor picks the task's folder: the one asked for (which must be one
// of the editor's), else the one holding the first context file, else the
// first folder.
func (s *Server) folderFor(requested string, contextURIs []string) (Folder, []string, error) {
	s.mu.Lock()
	folders := append([]Folder(nil), s.folders...)
	s.mu.Unlock()
	roots := make([]string, len(folders))
	names := make([]string, len(folders))
	for i, f := range folders {
		roots[i] = f.Path
		names[i] = f.Path
	}
	if requested != "" {
		rp, err := uriToPath(requested)
		if err != nil {
			return Folder{}, nil, invalidParams("workspaceFolder: %v", err)
		}
		for _, f := range folders {
			if f.Path == rp {
				return f, roots, nil
			}
		}
		if len(folders) == 0 {
			return Folder{}, nil, invalidParams("workspaceFolder %s is not one of the editor's workspace folders (the editor opened none)", rp)
		}
		return Folder{}, nil, invalidParams("workspaceFolder %s is not one of the editor's workspace folders (%s)", rp, strings.Join(names, ", "))
	}
	if len(folders) == 0 {
		return Folder{}, nil, invalidParams("no workspace folder: open a folder in the editor or pass workspaceFolder")
	}
	if len(contextURIs) > 0 {
		if cp, err := uriToPath(contextURIs[0]); err == nil {
			if f, ok := containing(folders, cp); ok {
				return f, roots, nil
			}
		}
	}
	return folders[0], roots, nil
}

// containing finds the innermost folder holding path.
func containing(folders []Folder, path string) (Folder, bool) {
	best, found := Folder{}, false
	for _, f := range folders {
		if path == f.Path || strings.HasPrefix(path, f.Path+string(filepath.Separator)) {
			if !found || len(f.Path) > len(best.Path) {
				best, found = f, true
			}
		}
	}
	return best, found
}
