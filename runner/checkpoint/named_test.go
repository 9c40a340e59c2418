package checkpoint

import "testing"

// TestNamed: which files a Bash command names (the others it changed may
// be another program's: attribution.go).
func TestNamed(t *testing.T) {
	ws := "/w"
	for _, c := range []struct {
		command, path string
		want          bool
	}{
		{"sed -i s/a/A/ t.txt", "/w/t.txt", true},
		{"sleep 5; sed -i s/a/A/ t.txt", "/w/ext.txt", false},
		{"rm -r build", "/w/build/out.o", true},
		{"sed -i s/x/y/ *.txt", "/w/a.txt", true},
		{"gofmt -w 'src/*.go'", "/w/src/main.go", true},
		{"gofmt -w 'src/*.go'", "/w/doc/notes.md", false},
		{"echo x >> link.txt", "/elsewhere/outside.txt", true},
		{"", "/w/any.txt", true},
	} {
		if got := Named(c.command, c.path, ws); got != c.want {
			t.Errorf("Named(%q, %q) = %v, want %v", c.command, c.path, got, c.want)
		}
	}
}
