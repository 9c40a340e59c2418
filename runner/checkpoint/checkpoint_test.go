package checkpoint

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCaptureFinishFind: a file captured before its first change keeps
// that content, a second capture changes nothing, Finish keeps only what
// changed, and the checkpoint is found again by task id (persisted 0600
// in a 0700 folder).
func TestCaptureFinishFind(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	store := NewStore(filepath.Join(t.TempDir(), "checkpoints"), Limits{})
	a, b, c := filepath.Join(ws, "a.txt"), filepath.Join(ws, "b.txt"), filepath.Join(ws, "new.txt")
	write(t, a, "one\n")
	write(t, b, "same\n")
	cp, err := store.Begin("t1", ws, "afterTurn")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, b, c} {
		if err := cp.Capture(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	write(t, a, "two\n")
	if err := cp.Capture(ctx, a); err != nil { // already captured: kept as "one"
		t.Fatal(err)
	}
	write(t, c, "created\n")
	if err := cp.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	found, err := store.Find("t1", []string{ws})
	if err != nil || found == nil {
		t.Fatalf("Find: %v %v", found, err)
	}
	m := found.Manifest()
	if len(m.Files) != 2 || m.Files[0].Path != a || m.Files[1].Path != c || m.Ended.IsZero() {
		t.Fatalf("manifest %+v", m)
	}
	before, _ := found.Content(m.Files[0].Before)
	after, _ := found.Content(m.Files[0].After)
	if string(before) != "one\n" || string(after) != "two\n" || m.Files[1].Before != "" {
		t.Errorf("a: %q → %q; new.txt before %q", before, after, m.Files[1].Before)
	}
	if fi, _ := os.Stat(filepath.Join(store.Dir(), m.Key)); fi.Mode().Perm() != 0o700 {
		t.Errorf("checkpoint folder mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(store.Dir(), m.Key, "manifest.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode %v", fi.Mode().Perm())
	}
	if other, _ := store.Find("t1", []string{t.TempDir()}); other != nil {
		t.Error("found in another folder")
	}
}

// TestBounds: a file over MaxFile and files past MaxTask are not captured
// and the checkpoint says so; Prune drops ended checkpoints past MaxTotal,
// oldest first, never one still running.
func TestBounds(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	store := NewStore(filepath.Join(t.TempDir(), "checkpoints"), Limits{MaxFile: 10, MaxTask: 15, MaxTotal: 4000})
	write(t, filepath.Join(ws, "big"), strings.Repeat("x", 11))
	write(t, filepath.Join(ws, "a"), "123456789")
	write(t, filepath.Join(ws, "b"), "abcdefghi")
	cp, _ := store.Begin("t1", ws, "afterTurn")
	for _, n := range []string{"big", "a", "b"} {
		if err := cp.Capture(ctx, filepath.Join(ws, n)); err != nil {
			t.Fatal(err)
		}
	}
	m := cp.Manifest()
	if len(m.Files) != 1 || len(m.Uncovered) != 2 || !strings.Contains(m.Uncovered[0], "larger than") {
		t.Fatalf("files %+v uncovered %q", m.Files, m.Uncovered)
	}
	store = NewStore(filepath.Join(t.TempDir(), "checkpoints"), Limits{MaxTotal: 4000})
	running, _ := store.Begin("running", ws, "afterTurn")
	_ = running.Capture(ctx, filepath.Join(ws, "b"))
	write(t, filepath.Join(ws, "a"), "changed")
	var ended []*Task
	for i := 0; i < 6; i++ {
		c, _ := store.Begin("e", ws, "afterTurn")
		_ = c.CaptureContent(filepath.Join(ws, "a"), Content{Exists: true, Data: []byte(strings.Repeat("y", 400)), Mode: 0o644}, time.Now())
		_ = c.Finish(ctx)
		ended = append(ended, c)
		time.Sleep(2 * time.Millisecond) // distinct end times, oldest first
	}
	store.Prune()
	if _, err := os.Stat(running.dir); err != nil {
		t.Errorf("a running checkpoint was dropped: %v", err)
	}
	if _, err := os.Stat(ended[0].dir); err == nil {
		t.Error("the oldest ended checkpoint was kept past MaxTotal")
	}
	if _, err := os.Stat(ended[5].dir); err != nil {
		t.Errorf("the newest was dropped: %v", err)
	}
}

// TestSnapshotsSeeBashChanges: between two snapshots, a file changed in
// place, one created and one deleted are found with their earlier content;
// an ignored file is not; the folder's own .git is left alone.
func TestSnapshotsSeeBashChanges(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed for this test")
	}
	ctx := context.Background()
	ws := t.TempDir()
	write(t, filepath.Join(ws, ".gitignore"), "build/\n")
	write(t, filepath.Join(ws, "sed.txt"), "old line\n")
	write(t, filepath.Join(ws, "gone.txt"), "bye\n")
	write(t, filepath.Join(ws, "build", "out.o"), "binary")
	write(t, filepath.Join(ws, ".git", "HEAD"), "ref: refs/heads/main\n")
	snaps := NewSnapshots(filepath.Join(t.TempDir(), "snapshots"), "")
	snaps.Warm(ws)
	a, err := snaps.Take(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(ws, "sed.txt"), "new line\n")
	write(t, filepath.Join(ws, "made.txt"), "hello\n")
	os.Remove(filepath.Join(ws, "gone.txt"))
	write(t, filepath.Join(ws, "build", "out.o"), "other")
	b, err := snaps.Take(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := snaps.Changes(ctx, a, b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for _, c := range changes {
		got[filepath.Base(c.Path)] = c
	}
	if len(got) != 3 || string(got["sed.txt"].Before.Data) != "old line\n" || got["made.txt"].Before.Exists || string(got["gone.txt"].Before.Data) != "bye\n" {
		t.Fatalf("changes %+v", changes)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, ".git", "HEAD")); string(b) != "ref: refs/heads/main\n" {
		t.Errorf("the folder's .git changed: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Join(ws, ".git"))
	if len(entries) != 1 {
		t.Errorf("the folder's .git holds %d entries", len(entries))
	}
}

// TestSlowFirstSnapshot: a Bash command does not wait past the limit for
// a folder's first snapshot (ErrWarming); once it is done, snapshots are
// taken; a snapshot over its limit turns the folder's snapshots off.
func TestSlowFirstSnapshot(t *testing.T) {
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed for this test")
	}
	// A git whose `add` takes 4 s the first time, and as long as a file
	// says afterwards. The limit of a later snapshot is 2 s: a warm one of
	// a file takes milliseconds, but took over 0.5 s at a load of 12 on 2
	// cores (make test failed on it).
	dir := t.TempDir()
	slow := filepath.Join(dir, "git")
	write(t, slow, "#!/bin/sh\ncase \" $* \" in *\" add \"*) if [ ! -e "+dir+"/warmed ]; then sleep 4; touch "+dir+"/warmed; fi; sleep $(cat "+dir+"/delay 2>/dev/null || echo 0);; esac\nexec "+real+" \"$@\"\n")
	if err := os.Chmod(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	write(t, filepath.Join(ws, "a"), "a")
	snaps := NewSnapshots(filepath.Join(t.TempDir(), "snapshots"), slow)
	snaps.takeLimit = 2 * time.Second
	snaps.Warm(ws)
	if _, err := snaps.Take(context.Background(), ws); err != ErrWarming {
		t.Fatalf("Take while warming: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := snaps.Take(context.Background(), ws); err == nil {
			break
		} else if err != ErrWarming || time.Now().After(deadline) {
			t.Fatalf("Take once warm: %v", err)
		}
	}
	write(t, filepath.Join(dir, "delay"), "4")
	if _, err := snaps.Take(context.Background(), ws); err == nil || err == ErrWarming {
		t.Fatalf("a snapshot over its limit: %v", err)
	}
	if why := snaps.Available(ws); why == "" {
		t.Error("the folder is still snapshotted")
	}
}
