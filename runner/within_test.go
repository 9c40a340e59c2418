package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// The permission rule "only inside the workspace folders" judges a file by
// its identity: claude names files by their real path (it resolves its
// working directory), the editor's roots may be links, and a link inside a
// root may lead out of it.
func TestWithinByIdentity(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "proj")
	outside := filepath.Join(dir, "elsewhere")
	for _, d := range []string{real, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "link-to-proj")
	if err := os.Symlink(real, root); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(real, "out")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want bool
	}{
		{filepath.Join(root, "main.go"), true},
		{filepath.Join(real, "main.go"), true}, // what claude sends for a root opened through a link
		{filepath.Join(real, "new", "file.go"), true},
		{filepath.Join(root, "out", "x.txt"), false}, // looks local, is not
		{filepath.Join(real, "out", "x.txt"), false},
		{filepath.Join(outside, "x.txt"), false},
		{real + "2/main.go", false},
	}
	for _, c := range cases {
		if got, err := within(c.path, []string{root}); got != c.want || err != nil {
			t.Errorf("within(%s) = %v, want %v", c.path, got, c.want)
		}
	}
	if got := RelPath(filepath.Join(real, "sub", "a.go"), root); got != filepath.Join("sub", "a.go") {
		t.Errorf("RelPath of a real path under a linked root = %q", got)
	}
}
