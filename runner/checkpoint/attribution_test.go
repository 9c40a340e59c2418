package checkpoint

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func content(s string) Content { return Content{Exists: true, Data: []byte(s), Mode: 0o644} }

func known(c Content) func() (Content, bool) { return func() (Content, bool) { return c, true } }

// TestOthersFoldedOrShared: what other tasks running at the same time
// wrote is kept with the files it concerns: a file whose only change is
// another task's file tool is dropped; a change both tasks' Bash commands
// saw at once is kept as Shared; this task's own write as another task's
// Bash command saw it is not another's; a Bash command of a task without
// snapshots that ran with one of this task's taints its files (Unknown).
func TestOthersFoldedOrShared(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	store := NewStore(filepath.Join(t.TempDir(), "checkpoints"), Limits{})
	cp, err := store.Begin("x", ws, "afterTurn")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Second) }
	path := func(n string) string { return filepath.Join(ws, n) }
	for _, n := range []string{"theirs", "shared", "mine", "unknown"} {
		write(t, path(n), "1\n2\n3\n")
		if err := cp.CaptureContent(path(n), content("1\n2\n3\n"), at(0)); err != nil {
			t.Fatal(err)
		}
	}
	// theirs: another task's Edit, made while a Bash command of ours ran.
	write(t, path("theirs"), "1\nTWO\n3\n")
	cp.NoteOther(Write{Task: "y", Path: path("theirs"), Start: at(1), End: at(2), Before: content("1\n2\n3\n"), After: known(content("1\nTWO\n3\n"))})
	// shared: both tasks' Bash commands ran from 1 to 3 and saw it change.
	write(t, path("shared"), "1\n2\nTHREE\n")
	cp.NoteOwn(Write{Task: "x", Path: path("shared"), Bash: true, Start: at(1), End: at(3)})
	cp.NoteOther(Write{Task: "y", Path: path("shared"), Bash: true, Start: at(1), End: at(3), Before: content("1\n2\n3\n"), After: known(content("1\n2\nTHREE\n"))})
	// mine: our Edit, which the other task's Bash command saw as a change.
	write(t, path("mine"), "ONE\n2\n3\n")
	cp.NoteOwn(Write{Task: "x", Path: path("mine"), Start: at(2), End: at(2), Before: content("1\n2\n3\n"), After: known(content("ONE\n2\n3\n"))})
	cp.NoteOther(Write{Task: "y", Path: path("mine"), Bash: true, Start: at(1), End: at(3), Before: content("1\n2\n3\n"), After: known(content("ONE\n2\n3\n"))})
	// unknown: our Bash command changed it while a task without snapshots
	// ran one too.
	write(t, path("unknown"), "1\n2\n3\n4\n")
	cp.NoteOwn(Write{Task: "x", Path: path("unknown"), Bash: true, Start: at(4), End: at(6)})
	cp.NoteOther(Write{Task: "z", Bash: true, Start: at(5), End: at(7)})
	if err := cp.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]File{}
	for _, f := range cp.Manifest().Files {
		got[filepath.Base(f.Path)] = f
	}
	if _, ok := got["theirs"]; ok || len(got) != 3 {
		t.Fatalf("files %+v: theirs must be dropped", got)
	}
	if o := got["shared"].Others; len(o) != 1 || !o[0].Shared || o[0].Task != "y" || o[0].After == "" {
		t.Errorf("shared: %+v", o)
	}
	if o := got["mine"].Others; len(o) != 0 {
		t.Errorf("mine: %+v", o)
	}
	if o := got["unknown"].Others; len(o) != 1 || !o[0].Unknown || !o[0].Shared || o[0].Task != "z" {
		t.Errorf("unknown: %+v", o)
	}
}

// TestProblemWords: why the state directory cannot be written, in words,
// without the temporary file's path.
func TestProblemWords(t *testing.T) {
	tmp := "/state/checkpoints/k/blobs/.abc.tmp-123"
	for errno, want := range map[syscall.Errno]string{
		syscall.ENOSPC: "the disk of the bridge's state directory (/state) is full",
		syscall.EROFS:  "read-only file system",
		syscall.ENOENT: "were deleted",
		syscall.EIO:    "cannot be used: open input/output error",
	} {
		got := Problem(&fs.PathError{Op: "open", Path: tmp, Err: errno}, "/state")
		if !strings.Contains(got, want) || strings.Contains(got, ".tmp-") {
			t.Errorf("%v: %q", errno, got)
		}
	}
	if got := Problem(errors.New("x"), "/state"); !strings.Contains(got, "/state") {
		t.Errorf("other: %q", got)
	}
}
