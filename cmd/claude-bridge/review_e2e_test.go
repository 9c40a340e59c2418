package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

const sixLines = "line1\nline2\nline3\nline4\nline5\nline6\n"

// twoHunks writes sixLines to a.txt and scripts claude's two-hunk Edit of
// it (lines 2 and 5); it returns a.txt's path.
func (w *world) twoHunks() string {
	path := filepath.Join(w.workspace, "a.txt")
	if err := os.WriteFile(path, []byte(sixLines), 0o644); err != nil {
		w.t.Fatal(err)
	}
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Edit", map[string]any{"file_path": path, "old_string": "line2\nline3\nline4\nline5", "new_string": "LINE2\nline3\nline4\nLINE5"}),
		fakeapi.Text("Edited."),
	})
	return path
}

var taskIDLine = regexp.MustCompile(`claude-bridge revert (run-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}) \[FILE\]`)

// TestRunReviewAsksPerHunk: `run --review` shows each hunk as a diff and
// asks y/n/e/q: the first hunk taken, the second left out with feedback;
// only the first is written, claude hears the feedback, and the summary
// names the task, whose `claude-bridge revert` then restores the file.
func TestRunReviewAsksPerHunk(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	path := w.twoHunks()
	cmd, _, errb := w.runCmd("y\nn\nkeep line5\n", "--review", "edit a.txt")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	for _, want := range []string{"? Claude wants to edit a.txt: +2 \u22122 in 2 hunks", "@@ hunk 1 of 2, line 2 @@", "-line2\n+LINE2\n",
		"Write hunk 2 of 2? [y]es / [n]o / [e]dit / [q]uit", "✓ a.txt: wrote h1, left out h2", "Changes of task run-", "M a.txt  +1 -1 (1 hunk)"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "line1\nLINE2\nline3\nline4\nline5\nline6\n" {
		t.Errorf("a.txt = %q", b)
	}
	reqs := w.api.MessageRequests()
	if last := string(reqs[len(reqs)-1].Messages); !strings.Contains(last, "keep line5") || !strings.Contains(last, "left out h2") {
		t.Errorf("claude was not told: %s", last)
	}
	m := taskIDLine.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no task id to revert with:\n%s", errb)
	}
	rev := exec.Command(binary, "revert", m[1])
	rev.Env = w.env()
	out, err := rev.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "a.txt: restored as it was before the task") {
		t.Errorf("revert: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(path); string(b) != sixLines {
		t.Errorf("after revert a.txt = %q", b)
	}
	// Again: nothing is left to revert, which is said as such (exit 0),
	// not taken for a task that does not exist (exit 2).
	again := exec.Command(binary, "revert", m[1])
	again.Env = w.env()
	if out, err := again.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "task "+m[1]+" has nothing left to revert" {
		t.Errorf("a second revert: %v %q", err, out)
	}
	if b, _ := os.ReadFile(path); string(b) != sixLines {
		t.Errorf("after a second revert a.txt = %q", b)
	}
}

// TestRunReviewEditsAHunk: e opens the hunk in $EDITOR; what the editor
// leaves is written, a line break at its end where the hunk had one (an
// editor that saves without a final newline does not join the hunk to the
// next line).
func TestRunReviewEditsAHunk(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	path := w.twoHunks()
	editor := filepath.Join(t.TempDir(), "ed.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nprintf 'Line2 by hand' > \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd, _, errb := w.runCmd("e\ny\n\n", "--review", "edit a.txt")
	cmd.Env = append(cmd.Env, "EDITOR="+editor, "VISUAL=")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	if b, _ := os.ReadFile(path); string(b) != "line1\nLine2 by hand\nline3\nline4\nLINE5\nline6\n" {
		t.Errorf("a.txt = %q\n%s", b, errb)
	}
	if !strings.Contains(errb.String(), "✓ a.txt: your version") {
		t.Errorf("stderr:\n%s", errb)
	}
}

// TestRevertAfterBash: a plain run keeps a checkpoint (review afterTurn):
// a file a Bash command changed is in the summary, and `claude-bridge
// revert TASK FILE` takes it back, leaving the others.
func TestRevertAfterBash(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	for n, s := range map[string]string{"c.txt": "keep\nold\n", "d.txt": "keep\nold\n"} {
		if err := os.WriteFile(filepath.Join(w.workspace, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": "sed -i s/old/new/ c.txt d.txt", "description": "sed"}),
		fakeapi.Text("Done."),
	})
	cmd, _, errb := w.runCmd("y\n", "--permission-mode", "default", "sed")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}
	if !strings.Contains(errb.String(), "M c.txt  +1 -1 (1 hunk)") || !strings.Contains(errb.String(), "M d.txt  +1 -1 (1 hunk)") {
		t.Fatalf("summary:\n%s", errb)
	}
	m := taskIDLine.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no task id:\n%s", errb)
	}
	rev := exec.Command(binary, "revert", m[1], "c.txt")
	rev.Dir = w.workspace
	rev.Env = w.env()
	if out, err := rev.CombinedOutput(); err != nil {
		t.Fatalf("revert: %v\n%s", err, out)
	}
	c, _ := os.ReadFile(filepath.Join(w.workspace, "c.txt"))
	d, _ := os.ReadFile(filepath.Join(w.workspace, "d.txt"))
	if string(c) != "keep\nold\n" || string(d) != "keep\nnew\n" {
		t.Errorf("c.txt %q, d.txt %q", c, d)
	}
}
