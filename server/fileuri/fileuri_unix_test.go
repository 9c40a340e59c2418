//go:build !windows

package fileuri

import (
	"strings"
	"testing"
)

// A path survives the round trip through its URI, whatever its characters.
func TestFromPathRoundTrip(t *testing.T) {
	for _, p := range []string{"/home/me/a.go", "/tmp/a b.txt", `/tmp/q"t.txt`, "/tmp/h#sh?.txt", "/tmp/ümläut/😀.txt", "/tmp/c++/a+b%20.txt", "/"} {
		u := FromPath(p)
		if strings.ContainsAny(strings.TrimPrefix(u, "file://"), " #?\"") {
			t.Errorf("FromPath(%q) = %q is not encoded", p, u)
		}
		back, err := ToPath(u)
		if err != nil || back != p {
			t.Errorf("ToPath(FromPath(%q)) = %q (%s), %v", p, back, u, err)
		}
	}
	if got := FromPath("/tmp/a b.txt"); got != "file:///tmp/a%20b.txt" {
		t.Errorf("FromPath = %q", got)
	}
}
