package saferead

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Only a regular file within the cap is read; a FIFO nobody writes, a
// device and a directory are refused without blocking, a file past the cap
// without being read, a missing file is fs.ErrNotExist.
func TestOnlyRegularFilesWithinTheCapAreRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Regular(small, 2<<20); err != nil || string(b) != "hello" {
		t.Errorf("small: %q %v", b, err)
	}
	var nr *NotRegularError
	for _, p := range []string{fifo, "/dev/zero", dir} {
		if _, err := Read(context.Background(), p, 2<<20); !errors.As(err, &nr) {
			t.Errorf("%s: %v, want NotRegularError", p, err)
		}
	}
	if _, err := Regular(big, 2<<20); !errors.Is(err, ErrTooLarge) || err.Error() != "it is larger than 2 MiB" {
		t.Errorf("big: %v", err)
	}
	if _, err := Regular(filepath.Join(dir, "none"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// Read gives up when its context ends, whatever the read is doing.
func TestReadGivesUpWithItsContext(t *testing.T) {
	release := make(chan struct{})
	for i := 0; i < maxReads; i++ { // every slot held by a stuck read
		Bounded(func() { <-release })
	}
	defer close(release)
	for deadline := time.Now().Add(10 * time.Second); len(readSlots) < maxReads; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stuck reads never took their slots")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Read(ctx, "/etc/hostname", 1<<20); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read with every slot stuck: %v", err)
	}
}
