package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// End-to-end tests of what is the task's own in its changes (issue 13):
// the user's saves while a Bash command runs (whenever their didSave
// comes), files a command changes without naming them, and hunks whose
// neighbouring lines changed since.

// save writes the buffer of uri to path, as an editor saves, and sends
// didSave; it returns once the bridge has it.
func (e *vsEditor) save(uri, path string) {
	e.b.t.Helper()
	if err := os.WriteFile(path, []byte(e.text(uri)), 0o644); err != nil {
		e.b.t.Fatal(err)
	}
	e.saved(uri)
}

// TestUserSaveWhileBashRunsIsNotTheTasks: while the task's Bash command
// runs (it then runs a script of the folder's, fmt.sh, which seds t.txt
// and writes gen/out.txt: files the command line does not name, as a
// formatter or a generator does), the user changes u.txt in the editor
// and saves it. The task's changes are the script's, with no note; u.txt
// is not listed. A revert of the whole task takes back everything the
// script did (gen/out.txt deleted again) and leaves the user's save on
// disk and in the buffer.
func TestUserSaveWhileBashRunsIsNotTheTasks(t *testing.T) {
	flags := t.TempDir()
	started, goOn := filepath.Join(flags, "started"), filepath.Join(flags, "go")
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	abc := "a\nb\nc\n"
	writeFiles(t, ws, map[string]string{"u.txt": abc, "t.txt": abc,
		"fmt.sh": "sed -i s/a/A/ t.txt\nmkdir -p gen\nprintf 'generated\\n' > gen/out.txt\n"})
	b.api.SetTurns([]fakeapi.Turn{
		bash("touch " + started + "; while [ ! -e " + goOn + " ]; do sleep 0.05; done; sh fmt.sh"),
		fakeapi.Text("done"),
	})
	e := newVSEditor(b)
	uPath := filepath.Join(ws, "u.txt")
	uri := e.open(uPath, "")
	call := b.run(map[string]any{"prompt": "format it", "taskId": "us", "review": "afterTurn"})
	waitForFile(t, started, 60*time.Second) // the command runs: its snapshot is taken
	mine := "a\nUSER B\nc\n"
	e.typeText(uri, mine)
	e.save(uri, uPath)
	if err := os.WriteFile(goOn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res := b.result(call)
	if res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	got := byName(res.Changes)
	if _, ok := got["u.txt"]; ok {
		t.Errorf("u.txt, which the user saved, is listed as the task's: %+v", got["u.txt"])
	}
	if tt := got["t.txt"]; len(tt.Hunks) != 1 || tt.Hunks[0].NewText != "A\n" || tt.Hunks[0].Note != "" || tt.Note != "" {
		t.Errorf("t.txt (the script's sed) must be the task's: %+v", tt)
	}
	if g := got["out.txt"]; g.Status != lspext.ChangeAdded || len(g.Hunks) != 1 || g.Hunks[0].Note != "" || g.Note != "" {
		t.Errorf("gen/out.txt (the script wrote it) must be the task's: %+v", g)
	}

	r := b.revert(map[string]any{"taskId": "us"})
	files := map[string]lspext.RevertedFile{}
	for _, f := range r.Files {
		files[filepath.Base(f.URI)] = f
	}
	if _, ok := files["u.txt"]; ok || !files["t.txt"].Restored || !files["out.txt"].Restored {
		t.Fatalf("revert of the task: %+v", r)
	}
	if got := readFile(t, uPath); got != mine {
		t.Errorf("u.txt on disk after the revert %q: the user's save was undone", got)
	}
	if got := e.text(uri); got != mine {
		t.Errorf("u.txt's buffer after the revert %q: the user's save was undone", got)
	}
	if got := readFile(t, filepath.Join(ws, "t.txt")); got != abc {
		t.Errorf("t.txt after the revert %q", got)
	}
	if _, err := os.Stat(filepath.Join(ws, "gen", "out.txt")); !os.IsNotExist(err) {
		t.Errorf("gen/out.txt, which the task's script created, is still there after the revert (%v)", err)
	}
}

// TestUserSaveReachingTheBridgeLate: the editor writes the buffer while a
// Bash command of the task's runs (which then seds line 3 of the file),
// but its didSave comes only later: during the task's next command for
// late1.txt, after the task's end for late2.txt. The user's line 1 is
// theirs either way: the task's change is line 3 alone, and a revert of
// the whole task takes back line 3 and keeps line 1 on disk and in the
// buffer. A save that reaches the bridge during the command (the other
// order) is TestUserSaveWhileBashRunsIsNotTheTasks.
func TestUserSaveReachingTheBridgeLate(t *testing.T) {
	flags := t.TempDir()
	flag := func(n string) string { return filepath.Join(flags, n) }
	waitOn := func(n string) string {
		return "touch " + flag("started"+n) + "; while [ ! -e " + flag("go"+n) + " ]; do sleep 0.05; done"
	}
	goOn := func(n string) {
		if err := os.WriteFile(flag("go"+n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	lines := "l1\nl2\nl3\nl4\nl5\n"
	writeFiles(t, ws, map[string]string{"late1.txt": lines, "late2.txt": lines})
	b.api.SetTurns([]fakeapi.Turn{
		bash(waitOn("1") + "; sed -i s/l3/L3/ late1.txt late2.txt"),
		bash(waitOn("2")),
		fakeapi.Text("done"),
	})
	e := newVSEditor(b)
	paths := []string{filepath.Join(ws, "late1.txt"), filepath.Join(ws, "late2.txt")}
	var uris []string
	for _, p := range paths {
		uris = append(uris, e.open(p, ""))
	}
	call := b.run(map[string]any{"prompt": "sed it", "taskId": "late", "review": "afterTurn"})
	waitForFile(t, flag("started1"), 60*time.Second)
	mine := "USER1\nl2\nl3\nl4\nl5\n"
	for i, p := range paths {
		e.typeText(uris[i], mine)
		if err := os.WriteFile(p, []byte(mine), 0o644); err != nil { // the editor writes; its didSave is late
			t.Fatal(err)
		}
	}
	goOn("1")
	waitForFile(t, flag("started2"), 60*time.Second) // the sed has run
	e.saved(uris[0])
	goOn("2")
	res := b.result(call)
	if res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	e.saved(uris[1])

	var ch lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "late"}, &ch); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"late1.txt", "late2.txt"} {
		f := byName(&ch)[n]
		if len(f.Hunks) != 1 || f.Hunks[0].OriginalText != "l3\n" || f.Hunks[0].NewText != "L3\n" || f.Hunks[0].Note != "" {
			t.Errorf("%s: the task's change is line 3 alone: %+v", n, f)
		}
	}
	r := b.revert(map[string]any{"taskId": "late"})
	if len(r.Files) != 2 {
		t.Errorf("revert: %+v", r)
	}
	for i, p := range paths {
		if got := readFile(t, p); got != mine {
			t.Errorf("%s on disk after the revert %q, want the user's save %q", filepath.Base(p), got, mine)
		}
		if got := e.text(uris[i]); got != mine {
			t.Errorf("%s's buffer after the revert %q, want the user's save %q", filepath.Base(p), got, mine)
		}
	}
}

// saved sends didSave for uri (the editor wrote its buffer earlier) and
// returns once the bridge has it.
func (e *vsEditor) saved(uri string) {
	e.b.t.Helper()
	_ = e.b.client.Notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": uri}})
	if err := e.b.command(lspext.CommandTasks, map[string]any{}, nil); err != nil {
		e.b.t.Fatal(err)
	}
}

// TestRevertNextToLinesChangedSince: the task changes line 5 of several
// files and creates one; then lines next to its hunks change (a line
// inserted right after or before, the line after or before modified, a
// line appended to the file it created). Each hunk's own lines are still
// the task's: the whole task's revert takes every one back and keeps the
// neighbouring changes. A change of the hunk's own line is a real overlap:
// claude.changes leaves the hunk out with a note saying so, and the revert
// reports it with that reason.
func TestRevertNextToLinesChangedSince(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	var lines []string
	for i := 1; i <= 10; i++ {
		lines = append(lines, "line"+string(rune('0'+i%10)))
	}
	orig := strings.Join(lines, "\n") + "\n" // line1 … line9, line0
	changed := map[string]func(string) string{
		"ins_after.txt":  func(s string) string { return strings.Replace(s, "LINE5\n", "LINE5\nuser\n", 1) },
		"ins_before.txt": func(s string) string { return strings.Replace(s, "line4\n", "line4\nuser\n", 1) },
		"mod_next.txt":   func(s string) string { return strings.Replace(s, "line6\n", "line6 user\n", 1) },
		"mod_prev.txt":   func(s string) string { return strings.Replace(s, "line4\n", "line4 user\n", 1) },
		"overlap.txt":    func(s string) string { return strings.Replace(s, "LINE5\n", "LINE5 user\n", 1) },
	}
	files := map[string]string{}
	var turns []fakeapi.Turn
	for _, n := range []string{"ins_after.txt", "ins_before.txt", "mod_next.txt", "mod_prev.txt", "overlap.txt"} {
		files[n] = orig
		turns = append(turns, edit(filepath.Join(ws, n), "line5\n", "LINE5\n"))
	}
	writeFiles(t, ws, files)
	turns = append(turns, fakeapi.ToolUse("Write", map[string]any{"file_path": filepath.Join(ws, "added.txt"), "content": "x\ny\n"}), fakeapi.Text("done"))
	b.api.SetTurns(turns)
	afterTurnRun(t, b, "nx", "edit line 5")
	for n, f := range changed {
		p := filepath.Join(ws, n)
		if err := os.WriteFile(p, []byte(f(readFile(t, p))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addedPath := filepath.Join(ws, "added.txt")
	if err := os.WriteFile(addedPath, []byte("x\ny\nuser line\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	var ch lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "nx"}, &ch); err != nil {
		t.Fatal(err)
	}
	listed := byName(&ch)
	for _, n := range []string{"ins_after.txt", "ins_before.txt", "mod_next.txt", "mod_prev.txt", "added.txt"} {
		if len(listed[n].Hunks) != 1 || listed[n].Note != "" {
			t.Errorf("%s: its hunk is still the task's: %+v", n, listed[n])
		}
	}
	if o := listed["overlap.txt"]; len(o.Hunks) != 0 || !strings.Contains(o.Note, "changed since the task") || !strings.Contains(o.Note, "a revert leaves it") {
		t.Errorf("overlap.txt must be listed without its hunk and with a note saying why: %+v", o)
	}

	r := b.revert(map[string]any{"taskId": "nx"})
	got := map[string]lspext.RevertedFile{}
	for _, f := range r.Files {
		got[filepath.Base(f.URI)] = f
	}
	for n, f := range changed {
		if n == "overlap.txt" {
			continue
		}
		if len(got[n].Reverted) != 1 || len(got[n].NotReverted) != 0 {
			t.Errorf("%s: %+v", n, got[n])
		}
		left := strings.Replace(orig, "line5", "LINE5", 1) // as the task left it
		if want := strings.Replace(f(left), "LINE5", "line5", 1); readFile(t, filepath.Join(ws, n)) != want {
			t.Errorf("%s after the revert %q", n, readFile(t, filepath.Join(ws, n)))
		}
	}
	if len(got["added.txt"].Reverted) != 1 || readFile(t, addedPath) != "user line\n" {
		t.Errorf("added.txt: %+v, %q", got["added.txt"], readFile(t, addedPath))
	}
	o := got["overlap.txt"]
	if len(o.Reverted) != 0 || len(o.NotReverted) != 1 || !strings.Contains(o.NotReverted[0].Reason, "changed since the task") {
		t.Errorf("overlap.txt: %+v", o)
	}
}

// TestSaveAfterTheTaskIsNeverFolded: after the task (a sed of line 5) has
// ended, the user undoes its line in the buffer and saves, then types the
// task's line again and saves: the second save equals the task's change,
// but it was written after the task, so it is not taken for a late save
// of the user's made while the task ran. The task's change stays listed,
// and a revert takes line 5 back.
func TestSaveAfterTheTaskIsNeverFolded(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	lines := "l1\nl2\nl3\nl4\nl5\n"
	writeFiles(t, ws, map[string]string{"f.txt": lines})
	b.api.SetTurns([]fakeapi.Turn{bash("sed -i s/l5/L5/ f.txt"), fakeapi.Text("done")})
	e := newVSEditor(b)
	path := filepath.Join(ws, "f.txt")
	uri := e.open(path, "")
	res := b.result(b.run(map[string]any{"prompt": "sed it", "taskId": "after", "review": "afterTurn"}))
	if res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	task := "l1\nl2\nl3\nl4\nL5\n"
	if got := e.text(uri); got != task {
		t.Fatalf("the buffer after the task %q, want %q", got, task)
	}
	e.typeText(uri, lines)
	e.save(uri, path)
	e.typeText(uri, task)
	e.save(uri, path)

	var ch lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "after"}, &ch); err != nil {
		t.Fatal(err)
	}
	if f := byName(&ch)["f.txt"]; len(f.Hunks) != 1 || f.Hunks[0].OriginalText != "l5\n" || f.Hunks[0].NewText != "L5\n" {
		t.Fatalf("the task's change after saves made once it ended: %+v", ch.Files)
	}
	b.revert(map[string]any{"taskId": "after"})
	if got := readFile(t, path); got != lines {
		t.Errorf("f.txt after the revert %q, want %q", got, lines)
	}
}
