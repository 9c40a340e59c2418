package auth

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestEnsureFileAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", ".claude")
	path := filepath.Join(dir, "auth_helper.sh")
	data := []byte("#!/bin/sh\necho one\n")

	changed, err := ensureFile(path, data, 0o700)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s created with mode %v, want 0700", p, fi.Mode().Perm())
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}

	// Unchanged content: no write at all (same inode, same mtime).
	ino, mtime := inode(t, path), fi.ModTime()
	time.Sleep(20 * time.Millisecond)
	if changed, err := ensureFile(path, data, 0o700); err != nil || changed {
		t.Fatalf("rewrite of identical content: changed=%v err=%v", changed, err)
	}
	fi2, _ := os.Stat(path)
	if inode(t, path) != ino || !fi2.ModTime().Equal(mtime) {
		t.Fatal("identical content was rewritten")
	}

	// Same content, wrong mode: fixed in place.
	os.Chmod(path, 0o755)
	if changed, err := ensureFile(path, data, 0o700); err != nil || !changed {
		t.Fatalf("chmod fix: changed=%v err=%v", changed, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o700 || inode(t, path) != ino {
		t.Fatalf("mode %v, inode changed %v", fi.Mode().Perm(), inode(t, path) != ino)
	}

	// New content: a new file renamed into place.
	data2 := []byte("#!/bin/sh\necho two\n")
	if changed, err := ensureFile(path, data2, 0o700); err != nil || !changed {
		t.Fatalf("update: changed=%v err=%v", changed, err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data2) || inode(t, path) == ino {
		t.Fatal("update not written by rename")
	}
	assertNoTemps(t, dir)
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".sh" && e.Name()[0] == '.' {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestEnsureFileConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth_helper.sh")
	data := bytes.Repeat([]byte("echo the same helper content from every bridge\n"), 200)
	// Readers must only ever see the whole file (or none): claude may run
	// the helper while a bridge replaces it.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got, err := os.ReadFile(path); err == nil && !bytes.Equal(got, data) {
				t.Errorf("a reader saw a torn file of %d bytes", len(got))
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := ensureFile(path, data, 0o700); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("final content differs")
	}
	assertNoTemps(t, dir)
}
