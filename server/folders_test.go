package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func TestFoldersFromInit(t *testing.T) {
	cases := []struct {
		name     string
		wf       []protocol.WorkspaceFolder
		rootURI  string
		rootPath string
		want     []string // folder paths
		problems []string // what each problem mentions
	}{
		{name: "rootUri, RFC 8089 short form", rootURI: "file:/tmp/x", want: []string{"/tmp/x"}},
		{name: "rootUri with localhost", rootURI: "file://localhost/tmp/x", want: []string{"/tmp/x"}},
		{name: "rootUri percent-encoded", rootURI: "file:///tmp/a%20b/c%2B%2B/%C3%A4", want: []string{"/tmp/a b/c++/ä"}},
		{name: "workspaceFolders win over rootUri", wf: []protocol.WorkspaceFolder{{URI: "file:///w/one", Name: "one"}, {URI: "file:/w/two"}},
			rootURI: "file:///w/one", want: []string{"/w/one", "/w/two"}},
		{name: "a bad workspace folder is skipped", wf: []protocol.WorkspaceFolder{{URI: "vscode-vfs://github/x", Name: "remote"}, {URI: "file:///w/ok"}},
			want: []string{"/w/ok"}, problems: []string{"remote"}},
		{name: "unusable rootUri, rootPath used", rootURI: "file:///tmp/100%", rootPath: "/tmp/100%", want: []string{"/tmp/100%"}, problems: []string{"rootUri"}},
		{name: "rootUri of another scheme, rootPath used", rootURI: "untitled:x", rootPath: "/tmp/y/", want: []string{"/tmp/y"}, problems: []string{"untitled"}},
		{name: "relative rootPath", rootPath: "proj", problems: []string{"not an absolute path"}},
		{name: "duplicates once", wf: []protocol.WorkspaceFolder{{URI: "file:///w/a"}, {URI: "file:/w/a/"}}, want: []string{"/w/a"}},
		{name: "nothing", want: nil},
	}
	for _, c := range cases {
		folders, problems := foldersFromInit(c.wf, c.rootURI, c.rootPath)
		var got []string
		for _, f := range folders {
			got = append(got, f.Path)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") || len(problems) != len(c.problems) {
			t.Errorf("%s: folders %v, problems %v; want %v, %d problems", c.name, got, problems, c.want, len(c.problems))
			continue
		}
		for i, p := range c.problems {
			if !strings.Contains(problems[i], p) {
				t.Errorf("%s: problem %q lacks %q", c.name, problems[i], p)
			}
		}
	}
	// The editor's own URI is kept for what is sent back.
	f, _ := foldersFromInit(nil, "file:/tmp/x", "")
	if f[0].URI != "file:/tmp/x" || f[0].Name != "x" {
		t.Errorf("folder = %+v", f[0])
	}
}

// A folder opened through a symbolic link: claude's real paths belong to it
// and are spelled the editor's way back.
func TestFolderIdentity(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	s.folders = []Folder{{URI: pathToURI(link), Path: link, Name: "link"}, {URI: pathToURI(filepath.Join(link, "sub")), Path: filepath.Join(link, "sub"), Name: "sub"}}

	if got := s.editorPath(filepath.Join(real, "main.go")); got != filepath.Join(link, "main.go") {
		t.Errorf("editorPath = %s", got)
	}
	if got := s.editorPath(filepath.Join(real, "sub", "x.go")); got != filepath.Join(link, "sub", "x.go") {
		t.Errorf("editorPath in the inner folder = %s", got)
	}
	if got := s.editorPath("/elsewhere/y.go"); got != "/elsewhere/y.go" {
		t.Errorf("editorPath outside = %s", got)
	}
	if f, rel, ok := containing(s.folders, filepath.Join(real, "sub", "x.go")); !ok || f.Name != "sub" || rel != "x.go" {
		t.Errorf("containing = %+v %q %v (want the innermost)", f, rel, ok)
	}
	if got := s.displayPath(filepath.Join(real, "a.go")); got != "a.go" {
		t.Errorf("displayPath = %s", got)
	}
	// The folder asked for by its real path is the editor's folder.
	f, roots, err := s.folderFor("claude.run", pathToURI(real), nil)
	if err != nil || f.Path != link || len(roots) != 2 {
		t.Errorf("folderFor(real path) = %+v %v %v", f, roots, err)
	}
	// editedFiles: the same file once, as the editor spells it.
	got := s.editedFiles([]string{filepath.Join(real, "main.go"), filepath.Join(real, "b.go")}, []string{pathToURI(filepath.Join(link, "main.go"))})
	if strings.Join(got, " ") != pathToURI(filepath.Join(link, "main.go"))+" "+pathToURI(filepath.Join(link, "b.go")) {
		t.Errorf("editedFiles = %v", got)
	}
}
