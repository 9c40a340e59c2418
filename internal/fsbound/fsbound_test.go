package fsbound

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testMounts makes the first path component the mount: /m1/x is on /m1.
func testMounts(t *testing.T) {
	state.mu.Lock()
	mountOfHook = func(p string) string {
		parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)
		return "/" + parts[0]
	}
	state.mu.Unlock()
	t.Cleanup(func() {
		state.mu.Lock()
		mountOfHook = nil
		state.mu.Unlock()
	})
}

// hang returns a call that blocks until release is called.
func hang() (fn func(), release func()) {
	ch := make(chan struct{})
	return func() { <-ch }, func() { close(ch) }
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 500 && Stuck(path); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if Stuck(path) {
		t.Fatalf("%s still stuck", path)
	}
}

func short() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 50*time.Millisecond)
}

// A call that hangs times out; the file is then skipped at once until the
// call returns, and tried again afterwards.
func TestAHungFileIsSkippedUntilItAnswers(t *testing.T) {
	testMounts(t)
	fn, release := hang()
	ctx, cancel := short()
	defer cancel()
	if err := Do(ctx, "/m1/a", fn); !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrHung) {
		t.Fatalf("hung call: %v", err)
	}
	called := false
	start := time.Now()
	err := Do(context.Background(), "/m1/a", func() { called = true })
	if !errors.Is(err, ErrStuck) || !errors.Is(err, ErrHung) || called || time.Since(start) > time.Second {
		t.Fatalf("second call on a stuck file: %v, called %v after %v", err, called, time.Since(start))
	}
	// Another file of the same mount is still tried.
	if err := Do(context.Background(), "/m1/b", func() {}); err != nil {
		t.Fatalf("another file: %v", err)
	}
	release()
	waitGone(t, "/m1/a")
	if err := Do(context.Background(), "/m1/a", func() { called = true }); err != nil || !called {
		t.Fatalf("after the file answered: %v, called %v", err, called)
	}
}

// Hung calls do not take the slots of healthy files: far more hung files
// than slots, and a healthy file is still read at once.
func TestHungCallsLeaveTheSlotsToHealthyFiles(t *testing.T) {
	testMounts(t)
	var releases []func()
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	for i := 0; i < 3*maxRunning; i++ {
		fn, release := hang()
		releases = append(releases, release)
		ctx, cancel := short()
		// every file on a mount of its own, so that no mount fills up
		err := Do(ctx, fmt.Sprintf("/hung%d/f", i), fn)
		cancel()
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("hung call %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Do(ctx, "/healthy/f", func() {}); err != nil {
		t.Fatalf("a healthy file after %d hung ones: %v", 3*maxRunning, err)
	}
}

// A mount with maxStuckPerMount calls stuck takes no more: its files are
// skipped at once, other mounts are not.
func TestAHungMountHoldsBoundedGoroutines(t *testing.T) {
	testMounts(t)
	var releases []func()
	for i := 0; i < maxStuckPerMount; i++ {
		fn, release := hang()
		releases = append(releases, release)
		ctx, cancel := short()
		if err := Do(ctx, fmt.Sprintf("/nfs/f%d", i), fn); !errors.Is(err, ErrTimeout) {
			t.Fatalf("call %d: %v", i, err)
		}
		cancel()
	}
	called := false
	if err := Do(context.Background(), "/nfs/other", func() { called = true }); !errors.Is(err, ErrStuck) || called {
		t.Fatalf("a full mount took a call: %v, called %v", err, called)
	}
	if err := Do(context.Background(), "/local/x", func() {}); err != nil {
		t.Fatalf("another mount: %v", err)
	}
	for _, r := range releases {
		r()
	}
	for i := 0; i < maxStuckPerMount; i++ {
		waitGone(t, fmt.Sprintf("/nfs/f%d", i))
	}
	if err := Do(context.Background(), "/nfs/other", func() {}); err != nil {
		t.Fatalf("after the mount answered: %v", err)
	}
}

// Paths are keys by their clean spelling.
func TestSpellingsOfOneFileShareTheirBookkeeping(t *testing.T) {
	testMounts(t)
	fn, release := hang()
	defer release()
	ctx, cancel := short()
	defer cancel()
	_ = Do(ctx, "/m2/dir/../f", fn)
	if !Stuck(filepath.Clean("/m2/f")) || !Stuck("/m2//f") {
		t.Error("a stuck file is not known under its other spellings")
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/mnt/a\040b\134c`); got != `/mnt/a b\c` {
		t.Errorf("got %q", got)
	}
	if got := unescapeMount(`/x\04`); got != `/x\04` {
		t.Errorf("short escape: %q", got)
	}
}
