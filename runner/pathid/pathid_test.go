package pathid

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tree builds, under a temporary directory:
//
//	real/            a folder with main.go and sub/x.go
//	ws -> real       the folder opened through a link (macOS's /tmp)
//	outside/         a folder outside real
//	real/out -> ../outside        a link inside the workspace that leaves it
//	real/dangling -> ../outside/new.txt   a link to a file that does not exist yet
//	real/loop -> loop             a link to itself
func tree(t *testing.T) (dir string) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "outside"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "real", "main.go"), nil, 0o644))
	must(os.WriteFile(filepath.Join(dir, "real", "sub", "x.go"), nil, 0o644))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "ws")))
	must(os.Symlink("../outside", filepath.Join(dir, "real", "out")))
	must(os.Symlink("../outside/new.txt", filepath.Join(dir, "real", "dangling")))
	must(os.Symlink("loop", filepath.Join(dir, "real", "loop")))
	return dir
}

func TestResolve(t *testing.T) {
	d := tree(t)
	j := func(p ...string) string { return filepath.Join(append([]string{d}, p...)...) }
	cases := []struct{ in, want string }{
		{j("real", "main.go"), j("real", "main.go")},
		{j("ws", "main.go"), j("real", "main.go")},
		{j("ws", "sub", "..", "main.go"), j("real", "main.go")},
		{j("ws", "new", "deeper", "file.go"), j("real", "new", "deeper", "file.go")}, // not created yet
		{j("ws", "out", "secret.txt"), j("outside", "secret.txt")},
		{j("ws", "dangling"), j("outside", "new.txt")}, // a write through it lands outside
		{j("ws", "loop", "x"), j("real", "loop", "x")}, // ELOOP: taken as written from there
		{j("ws"), j("real")},
	}
	for _, c := range cases {
		if got, ok := Resolve(c.in); got != c.want || !ok {
			t.Errorf("Resolve(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestWithinAndRel(t *testing.T) {
	d := tree(t)
	j := func(p ...string) string { return filepath.Join(append([]string{d}, p...)...) }
	ws := j("ws")
	cases := []struct {
		path   string
		within bool
		rel    string
	}{
		{j("ws", "main.go"), true, "main.go"},
		{j("real", "main.go"), true, "main.go"},          // claude's spelling of a file in a linked root
		{j("real", "sub", "new.go"), true, "sub/new.go"}, // not created yet
		{j("ws", "out", "x.txt"), false, ""},             // a link inside that leaves the root
		{j("ws", "dangling"), false, ""},                 // a dangling link that points outside
		{j("outside", "x.txt"), false, ""},               // plainly outside
		{j("ws"), true, "."},                             // the root itself
		{j("wsx", "main.go"), false, ""},                 // a sibling sharing a prefix
		{j("ws", "..", "outside", "x.txt"), false, ""},   // climbing out
		{j("real", "..", "real", "main.go"), true, "main.go"},
	}
	for _, c := range cases {
		if got, err := Within(c.path, ws); got != c.within || err != nil {
			t.Errorf("Within(%s, ws) = %v, want %v", c.path, got, c.within)
		}
		rel, ok := Rel(c.path, ws)
		if c.within && (!ok || rel != filepath.FromSlash(c.rel)) {
			t.Errorf("Rel(%s, ws) = %q, %v; want %q", c.path, rel, ok, c.rel)
		}
	}
	if !Same(j("ws", "main.go"), j("real", "main.go")) || Same(j("ws", "main.go"), j("real", "sub", "x.go")) {
		t.Error("Same")
	}
	if Key(j("ws", "sub", "x.go")) != Key(j("real", "sub", "x.go")) {
		t.Error("Key differs for one file")
	}
}

// A look-up that hangs (a hung network mount) is given up after
// LookupTimeout: Within cannot tell and says so, Key and Rel fall back to
// the spelling, and the next look-up of that path fails at once instead of
// waiting again.
func TestAHungLookUpIsBounded(t *testing.T) {
	d := tree(t)
	hung := filepath.Join(d, "ws", "nfs", "file.go")
	release := make(chan struct{})
	defer close(release)
	lookupHook = func(p string) {
		if p == hung {
			<-release
		}
	}
	defer func() { lookupHook = nil }()
	old := LookupTimeout
	LookupTimeout = 100 * time.Millisecond
	defer func() { LookupTimeout = old }()

	start := time.Now()
	if real, ok := Resolve(hung); ok || real != hung {
		t.Errorf("Resolve of a hung path = %q, %v", real, ok)
	}
	in, err := Within(hung, filepath.Join(d, "ws"))
	if in || !errors.Is(err, ErrUnresolved) {
		t.Errorf("Within of a hung path = %v, %v; want false and ErrUnresolved", in, err)
	}
	if Key(hung) != SpellingKey(hung) {
		t.Errorf("Key of a hung path = %q", Key(hung))
	}
	if rel, ok := Rel(hung, filepath.Join(d, "ws")); !ok || rel != filepath.Join("nfs", "file.go") {
		t.Errorf("Rel by spelling of a hung path = %q, %v", rel, ok)
	}
	if rel, ok := Rel(hung, filepath.Join(d, "real")); ok {
		t.Errorf("Rel by identity of a hung path = %q, want not known", rel)
	}
	// One wait of LookupTimeout at most; the later calls fail at once.
	if el := time.Since(start); el > 10*LookupTimeout {
		t.Errorf("the calls took %v", el)
	}
	// Other paths still resolve.
	if real, ok := Resolve(filepath.Join(d, "ws", "main.go")); !ok || real != filepath.Join(d, "real", "main.go") {
		t.Errorf("a healthy path: %q, %v", real, ok)
	}
}

// Hard links share a file key, which neither Key nor Same can see; a file
// replaced by a rename gets another; a missing file has none.
func TestFileKeyOfHardLinks(t *testing.T) {
	dir := tree(t)
	main := filepath.Join(dir, "real", "main.go")
	hard := filepath.Join(dir, "real", "hard.go")
	if err := os.Link(main, hard); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if Same(main, hard) {
		t.Fatal("Same says two hard links are one path")
	}
	km, ok1 := FileKey(main)
	kh, ok2 := FileKey(hard)
	if !ok1 || !ok2 || km != kh {
		t.Fatalf("FileKey(main) = %q %v, FileKey(hard) = %q %v: want equal", km, ok1, kh, ok2)
	}
	if kl, ok := FileKey(filepath.Join(dir, "ws", "hard.go")); !ok || kl != km {
		t.Errorf("through the linked folder: %q %v", kl, ok)
	}
	if !SameFile(main, hard) || SameFile(main, filepath.Join(dir, "real", "sub", "x.go")) {
		t.Error("SameFile wrong")
	}
	if k, _ := FileKey(main); k == Key(main) || k == SpellingKey(main) {
		t.Error("a file key equals a path key")
	}
	if _, ok := FileKey(filepath.Join(dir, "real", "nothing")); ok {
		t.Error("a missing file has a file key")
	}
	// Saved by a rename over it: main.go is another file now, hard.go the old one.
	tmp := filepath.Join(dir, "real", "main.go.new")
	if err := os.WriteFile(tmp, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, main); err != nil {
		t.Fatal(err)
	}
	if SameFile(main, hard) {
		t.Error("SameFile after main.go was replaced by a rename")
	}
}
