package review

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
)

// TestLateSaveFoldedIntoEndedCheckpoint: the editor wrote line 1 of a file
// while the task's Bash command ran (which then changed line 3), and the
// bridge learnt of the save only once the checkpoint was finished: the
// checkpoint refuses it as a running task's write, the review finds the
// save's change among the task's (Lists), and once it is added
// (AddUserSave) the task's change is line 3 alone, and a revert keeps
// line 1. A save made after the task (a change the task's file lacks) is
// not the task's to give back, nor one the file before the task already
// had.
func TestLateSaveFoldedIntoEndedCheckpoint(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	path := filepath.Join(ws, "late.txt")
	store := checkpoint.NewStore(filepath.Join(t.TempDir(), "checkpoints"), checkpoint.Limits{})
	cp, err := store.Begin("late", ws, "afterTurn")
	if err != nil {
		t.Fatal(err)
	}
	before, saved, after := "l1\nl2\nl3\nl4\nl5\n", "USER1\nl2\nl3\nl4\nl5\n", "USER1\nl2\nL3\nl4\nl5\n"
	if err := cp.CaptureContent(path, c(before), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cp.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	w := checkpoint.UserWrite(path, time.Now(), c(before), true, c(saved))
	if cp.NoteOther(w) {
		t.Fatal("an ended checkpoint took a write as a running task's")
	}
	states, problems := States(ctx, cp, nil)
	if len(states) != 1 || len(problems) != 0 || len(states[0].Hunks) != 2 {
		t.Fatalf("before the save is added: %+v %+v", states, problems)
	}
	st := states[0]
	if !st.Lists(c(before), c(saved)) {
		t.Fatal("the save's change is in the task's file and not before it: Lists must say so")
	}
	if st.Lists(c(after), c("USER1\nl2\nL3\nl4\nUSER5\n")) {
		t.Error("a save made after the task is taken for one of the task's changes")
	}
	if st.Lists(c(before), c(before)) || st.Lists(c("l1\nl2\nl3\nl4\nX\n"), c(before)) {
		t.Error("a save whose change the file had before the task is taken for one of the task's changes")
	}
	if ok, err := cp.AddUserSave(path, c(before), c(saved)); !ok || err != nil {
		t.Fatalf("AddUserSave: %v %v", ok, err)
	}
	states, _ = States(ctx, cp, nil)
	st = states[0]
	if len(st.Hunks) != 1 || st.Hunks[0].OriginalText != "l3\n" || st.Hunks[0].NewText != "L3\n" || st.Hunks[0].Note != "" {
		t.Fatalf("the task's change once the save is added: %+v", st.Hunks)
	}
	if r := st.Revert(nil); string(r.Content.Data) != saved || !r.Restored {
		t.Errorf("revert: %q %+v", r.Content.Data, r)
	}
	if ok, _ := cp.AddUserSave(filepath.Join(ws, "other.txt"), c(before), c(saved)); ok {
		t.Error("AddUserSave of a file not in the checkpoint")
	}
}
