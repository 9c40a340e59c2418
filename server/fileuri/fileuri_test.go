package fileuri

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFor(t *testing.T) {
	cases := []struct {
		uri     string
		windows bool
		want    string // "" = an error
		errHas  string
	}{
		// The spellings editors send for one file.
		{uri: "file:///home/me/a.go", want: "/home/me/a.go"},
		{uri: "file:/home/me/a.go", want: "/home/me/a.go"},            // RFC 8089 short form (LSP4E, Java)
		{uri: "file://localhost/home/me/a.go", want: "/home/me/a.go"}, // with the local host named
		{uri: "file://LOCALHOST/home/me/a.go", want: "/home/me/a.go"},
		{uri: "FILE:///home/me/a.go", want: "/home/me/a.go"},
		{uri: "file:///home/me/./proj/../a.go", want: "/home/me/a.go"},
		// Percent-encoding, and the characters editors leave as they are.
		{uri: "file:///home/me/a%20b.txt", want: "/home/me/a b.txt"},
		{uri: "file:///home/me/a b.txt", want: "/home/me/a b.txt"},
		{uri: "file:///home/me/%C3%A4.txt", want: "/home/me/ä.txt"},
		{uri: "file:///home/me/ä.txt", want: "/home/me/ä.txt"},
		{uri: "file:///home/me/c%2B%2B/a+b.txt", want: "/home/me/c++/a+b.txt"}, // + is never a space in a path
		{uri: "file:///home/me/h%23sh%3F.txt", want: "/home/me/h#sh?.txt"},
		{uri: "file:///home/me/it's%20(1).txt", want: "/home/me/it's (1).txt"},
		// Windows, parsed the same on every system.
		{uri: "file:///c%3A/Users/me/a%20b.go", windows: true, want: `c:\Users\me\a b.go`}, // VS Code
		{uri: "file:///C:/Users/me/a.go", windows: true, want: `C:\Users\me\a.go`},
		{uri: "file:/C:/Users/me/a.go", windows: true, want: `C:\Users\me\a.go`},
		{uri: "file://localhost/C:/Users/me/x/../a.go", windows: true, want: `C:\Users\me\a.go`},
		{uri: "file://server/share/dir/a.go", windows: true, want: `\\server\share\dir\a.go`},
		{uri: "file:///c%3A", windows: true, want: `c:\`},
		{uri: "file:///Users/me/a.go", windows: true, errHas: "drive letter"},
		// And what a file URI is not.
		{uri: "untitled:Untitled-1", errHas: "untitled"},
		{uri: "vscode-notebook-cell:/x.ipynb#W1", errHas: "vscode-notebook-cell"},
		{uri: "/home/me/a.go", errHas: "not a URI"},
		{uri: "file:relative/a.go", errHas: "not an absolute"},
		{uri: "file://server/share/a.go", errHas: "host server"},
		{uri: "file:///home/me/a.go#L3", errHas: "percent-encoded"},
		{uri: "file:///home/me/a.go?x", errHas: "percent-encoded"},
		{uri: "file:///home/me/100%.txt", errHas: "not a valid URI"},
		{uri: "file://", errHas: "no absolute path"},
	}
	for _, c := range cases {
		got, err := ParseFor(c.uri, c.windows)
		switch {
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("ParseFor(%q, %v) = %q, %v; want %q", c.uri, c.windows, got, err, c.want)
		case c.want == "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("ParseFor(%q, %v) = %q, %v; want an error saying %q", c.uri, c.windows, got, err, c.errHas)
		}
	}
	if _, err := ParseFor("untitled:x", false); !errors.Is(err, ErrNotFile) {
		t.Errorf("another scheme: %v, want ErrNotFile", err)
	}
}
