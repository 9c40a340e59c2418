package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// End-to-end tests of the cases a breaker found in reviewing a task's
// changes after its turn (issue 13, /work/wt/reports/break13.md), with the
// real claude CLI against the stand-in: tasks running at once in one
// folder, binary files, symbolic links, folders replaced by files,
// permission bits, ignored files, links out of the folder, task ids across
// bridge runs, a checkpoint that cannot be written or was deleted.

func bash(command string) fakeapi.Turn {
	return fakeapi.ToolUse("Bash", map[string]any{"command": command, "description": "run it"})
}

// writeFiles writes name → content into dir (mode 0644).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitForFile waits until path exists (a command of claude's made it).
func waitForFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, timeout)
		}
	}
}

// afterTurnRun runs a task with review afterTurn to its end (every tool
// allowed) and returns its reply, which must carry its changes.
func afterTurnRun(t *testing.T, b *bridge, taskID, prompt string) lspext.RunResult {
	t.Helper()
	res := b.result(b.run(map[string]any{"prompt": prompt, "taskId": taskID, "review": "afterTurn"}))
	if res.Status != "completed" {
		t.Fatalf("task %s: %+v", taskID, res)
	}
	return res
}

// byName are a reply's changed files by base name.
func byName(ch *lspext.ChangesParams) map[string]lspext.FileChanges {
	out := map[string]lspext.FileChanges{}
	if ch != nil {
		for _, f := range ch.Files {
			out[filepath.Base(f.URI)] = f
		}
	}
	return out
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestConcurrentTasksKeepTheirOwnChanges: task A runs a Bash command that
// waits while task B edits b.txt and one line of a.txt with its file
// tools, then changes another line of a.txt with sed. A's changes are its
// sed alone (B's edits were made meanwhile by B's tools: not A's), B's are
// its edits; reverting A takes back its sed and leaves every change of B's.
func TestConcurrentTasksKeepTheirOwnChanges(t *testing.T) {
	flags := t.TempDir()
	started, goOn := filepath.Join(flags, "started"), filepath.Join(flags, "go")
	b := startBridge(t, bridgeOpts{conversations: []fakeapi.Conversation{
		{Match: "TASK-A", Turns: []fakeapi.Turn{
			bash("touch " + started + "; while [ ! -e " + goOn + " ]; do sleep 0.05; done; sed -i s/a2/A2/ a.txt"), fakeapi.Text("A done")}},
	}})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	writeFiles(t, ws, map[string]string{"a.txt": "a1\na2\na3\na4\na5\na6\n", "b.txt": "b1\nb2\n"})
	b.api.SetTurns([]fakeapi.Turn{ // B's conversation (the default script)
		edit(filepath.Join(ws, "b.txt"), "b2", "B2"), edit(filepath.Join(ws, "a.txt"), "a5", "A5"), fakeapi.Text("B done")})

	callA := b.run(map[string]any{"prompt": "TASK-A", "taskId": "A", "review": "afterTurn"})
	waitForFile(t, started, 60*time.Second) // A's Bash runs: its snapshot is taken
	resB := afterTurnRun(t, b, "B", "the other task")
	if err := os.WriteFile(goOn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resA := b.result(callA)
	if resA.Status != "completed" {
		t.Fatalf("A: %+v", resA)
	}
	a := byName(resA.Changes)
	if len(a) != 1 || len(a["a.txt"].Hunks) != 1 || a["a.txt"].Hunks[0].NewText != "A2\n" || a["a.txt"].Hunks[0].OriginalText != "a2\n" {
		t.Fatalf("A's changes must be its sed alone: %+v", resA.Changes)
	}
	bc := byName(resB.Changes)
	if len(bc) != 2 || len(bc["b.txt"].Hunks) != 1 || len(bc["a.txt"].Hunks) != 1 || bc["a.txt"].Hunks[0].NewText != "A5\n" {
		t.Errorf("B's changes: %+v", resB.Changes)
	}
	r := b.revert(map[string]any{"taskId": "A"})
	if len(r.Files) != 1 || !r.Files[0].Restored {
		t.Errorf("revert A: %+v", r)
	}
	if got := readFile(t, filepath.Join(ws, "a.txt")); got != "a1\na2\na3\na4\nA5\na6\n" {
		t.Errorf("a.txt after reverting A: %q (B's A5 must stay, A's A2 go)", got)
	}
	if got := readFile(t, filepath.Join(ws, "b.txt")); got != "b1\nB2\n" {
		t.Errorf("b.txt after reverting A: %q (B's change must stay)", got)
	}
}

// TestBinaryFilesRevertedWhole: a Bash command appends to a binary file and
// copies it to a new one; the changes list both as binary, and a revert of
// one file, then of the whole task, restores them whole (the new one
// deleted) and leaves nothing to review.
func TestBinaryFilesRevertedWhole(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	bin := "\x00\x01\x02\xff\xfe\n\x00\r\n"
	writeFiles(t, ws, map[string]string{"x.bin": bin, "z.bin": bin})
	b.api.SetTurns([]fakeapi.Turn{bash(`printf '\000\377' >> x.bin && printf '\001' >> z.bin && cp x.bin y.bin`), fakeapi.Text("done")})
	res := afterTurnRun(t, b, "bin", "change the binaries")
	ch := byName(res.Changes)
	if len(ch) != 3 || !ch["x.bin"].Binary || !ch["y.bin"].Binary || ch["y.bin"].Status != lspext.ChangeAdded {
		t.Fatalf("changes %+v", res.Changes)
	}
	r := b.revert(map[string]any{"taskId": "bin", "uri": "file://" + filepath.Join(ws, "z.bin")})
	if len(r.Files) != 1 || !r.Files[0].Restored || readFile(t, filepath.Join(ws, "z.bin")) != bin {
		t.Fatalf("revert z.bin: %+v", r)
	}
	r = b.revert(map[string]any{"taskId": "bin"})
	if len(r.Files) != 2 || !r.Files[0].Restored || !r.Files[1].Restored {
		t.Fatalf("revert the task: %+v", r)
	}
	if readFile(t, filepath.Join(ws, "x.bin")) != bin {
		t.Error("x.bin not restored")
	}
	if _, err := os.Stat(filepath.Join(ws, "y.bin")); !os.IsNotExist(err) {
		t.Errorf("y.bin, which the task created, is still there: %v", err)
	}
	var left lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "bin"}, &left); err != nil || len(left.Files) != 0 {
		t.Errorf("changes left %+v %v", left, err)
	}
}

// TestGeneratedTaskIDsAcrossBridgeRuns: checkpoints outlive the bridge,
// so a second bridge of the same user does not give its task the id of
// the first one's (whose checkpoint is on disk): claude.changes of that id
// still finds the first task's changes after the second task ran.
func TestGeneratedTaskIDsAcrossBridgeRuns(t *testing.T) {
	state, ws := t.TempDir(), t.TempDir()
	writeFiles(t, ws, map[string]string{"a.txt": "a1\na2\n", "b.txt": "b1\nb2\n"})
	first := startBridge(t, bridgeOpts{stateDir: state, folderDirs: []string{ws}, init: map[string]any{"review": "afterTurn"},
		turns: []fakeapi.Turn{edit(filepath.Join(ws, "a.txt"), "a2", "A2"), fakeapi.Text("done")}})
	answering(t, first, func(lspext.PermissionRequestParams) string { return "Allow" })
	r1 := first.result(first.run(map[string]any{"prompt": "first"}))
	if r1.Changes == nil || len(r1.Changes.Files) != 1 {
		t.Fatalf("first run: %+v", r1)
	}
	if err := first.client.Request("shutdown", nil, nil, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = first.client.Notify("exit", nil)
	<-first.exited

	second := startBridge(t, bridgeOpts{stateDir: state, folderDirs: []string{ws}, init: map[string]any{"review": "afterTurn"},
		turns: []fakeapi.Turn{edit(filepath.Join(ws, "b.txt"), "b2", "B2"), fakeapi.Text("done")}})
	answering(t, second, func(lspext.PermissionRequestParams) string { return "Allow" })
	r2 := second.result(second.run(map[string]any{"prompt": "second"}))
	if r2.TaskID == r1.TaskID {
		t.Fatalf("the second bridge's task got the id %s of the first's, whose checkpoint is on disk", r2.TaskID)
	}
	var ch lspext.ChangesParams
	if err := second.command(lspext.CommandChanges, map[string]any{"taskId": r1.TaskID}, &ch); err != nil || len(ch.Files) != 1 ||
		filepath.Base(ch.Files[0].URI) != "a.txt" {
		t.Errorf("changes of %s after the second task: %+v %v", r1.TaskID, ch, err)
	}
}

// TestLinksAndFoldersReplaced: a Bash command deletes one symbolic link,
// replaces another by a file, a folder by a file and a file by a folder.
// The changes say what the links were; a revert of the task makes the
// links again (links, not files holding their targets), the folder with
// its file, and the file where the folder was.
func TestLinksAndFoldersReplaced(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	writeFiles(t, ws, map[string]string{"real.txt": "r1\n", "d/f.txt": "in dir\n", "plain.txt": "plain\n"})
	for _, l := range []string{"gone", "replaced"} {
		if err := os.Symlink("real.txt", filepath.Join(ws, l)); err != nil {
			t.Fatal(err)
		}
	}
	b.api.SetTurns([]fakeapi.Turn{bash("rm gone && rm replaced && echo plain > replaced && rm -r d && echo nowfile > d && rm plain.txt && mkdir plain.txt && echo in > plain.txt/inner"),
		fakeapi.Text("done")})
	res := afterTurnRun(t, b, "ln", "links")
	ch := byName(res.Changes)
	if !strings.Contains(ch["gone"].Note, "symbolic link to real.txt") || !strings.Contains(ch["replaced"].Note, "symbolic link to real.txt") ||
		ch["f.txt"].Status != lspext.ChangeDeleted || ch["d"].Status != lspext.ChangeAdded {
		t.Fatalf("changes %+v", res.Changes)
	}
	r := b.revert(map[string]any{"taskId": "ln"})
	for _, f := range r.Files {
		if !f.Restored {
			t.Errorf("not restored: %+v", f)
		}
	}
	for _, l := range []string{"gone", "replaced"} {
		if target, err := os.Readlink(filepath.Join(ws, l)); err != nil || target != "real.txt" {
			t.Errorf("%s is not the link again: %q %v", l, target, err)
		}
	}
	if got := readFile(t, filepath.Join(ws, "d", "f.txt")); got != "in dir\n" {
		t.Errorf("d/f.txt %q", got)
	}
	if got := readFile(t, filepath.Join(ws, "plain.txt")); got != "plain\n" {
		t.Errorf("plain.txt %q", got)
	}
	if readFile(t, filepath.Join(ws, "real.txt")) != "r1\n" {
		t.Error("real.txt changed")
	}
}

// TestPermissionBitsKept: files a Bash command deletes come back with their
// own permission bits (0600 stays 0600, 0750 stays 0750); a chmod alone
// is a change, listed and taken back; a file whose content and bits both
// changed gets both back.
func TestPermissionBitsKept(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	writeFiles(t, ws, map[string]string{"id_key": "PRIVATE\n", "run.sh": "#!/bin/sh\n", "script.sh": "echo hi\n", "mod.txt": "aaa\nbbb\n"})
	for name, mode := range map[string]os.FileMode{"id_key": 0o600, "run.sh": 0o750, "script.sh": 0o644, "mod.txt": 0o640} {
		if err := os.Chmod(filepath.Join(ws, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	b.api.SetTurns([]fakeapi.Turn{bash("rm id_key run.sh && chmod 755 script.sh && sed -i s/aaa/AAA/ mod.txt && chmod 600 mod.txt"), fakeapi.Text("done")})
	res := afterTurnRun(t, b, "modes", "modes")
	ch := byName(res.Changes)
	if len(ch) != 4 || ch["script.sh"].Note != "permissions 0644 → 0755" || ch["mod.txt"].Note != "permissions 0640 → 0600" || len(ch["mod.txt"].Hunks) != 1 {
		t.Fatalf("changes %+v", res.Changes)
	}
	r := b.revert(map[string]any{"taskId": "modes"})
	for _, f := range r.Files {
		if !f.Restored {
			t.Errorf("not restored: %+v", f)
		}
	}
	for name, mode := range map[string]os.FileMode{"id_key": 0o600, "run.sh": 0o750, "script.sh": 0o644, "mod.txt": 0o640} {
		if got := modeOf(t, filepath.Join(ws, name)); got != mode {
			t.Errorf("%s: mode %04o after the revert, want %04o", name, got, mode)
		}
	}
	if readFile(t, filepath.Join(ws, "mod.txt")) != "aaa\nbbb\n" || readFile(t, filepath.Join(ws, "id_key")) != "PRIVATE\n" {
		t.Error("contents not restored")
	}
}

// TestIgnoredFilesAndLinksOut: a Bash command deletes a .env that
// .gitignore leaves out of snapshots (kept all the same: small, and a real
// loss), deletes an ignored folder (named in uncovered: not kept), and
// appends through a symbolic link to a file outside the folder (kept: the
// file outside is listed). The revert brings back the .env with its bits
// and the file outside as it was.
func TestIgnoredFilesAndLinksOut(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	outside := filepath.Join(t.TempDir(), "outside.txt")
	writeFiles(t, ws, map[string]string{".gitignore": ".env\nbuild/\n", ".env": "TOKEN=abc\n", "build/out.o": "obj"})
	if err := os.Chmod(filepath.Join(ws, ".env"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("out1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ws, "link.txt")); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{bash("rm .env && rm -r build && echo bashout >> link.txt"), fakeapi.Text("done")})
	res := afterTurnRun(t, b, "ign", "ignored")
	ch := byName(res.Changes)
	if ch[".env"].Status != lspext.ChangeDeleted || len(ch["outside.txt"].Hunks) != 1 || ch["outside.txt"].Hunks[0].NewText != "bashout\n" {
		t.Fatalf("changes %+v", res.Changes)
	}
	if res.Changes == nil || !strings.Contains(strings.Join(res.Changes.Uncovered, "\n"), "build/") {
		t.Errorf("uncovered does not name build/: %+v", res.Changes)
	}
	b.revert(map[string]any{"taskId": "ign"})
	if readFile(t, filepath.Join(ws, ".env")) != "TOKEN=abc\n" || modeOf(t, filepath.Join(ws, ".env")) != 0o600 {
		t.Error(".env not restored with its bits")
	}
	if readFile(t, outside) != "out1\n" {
		t.Errorf("the file outside: %q", readFile(t, outside))
	}
	if target, err := os.Readlink(filepath.Join(ws, "link.txt")); err != nil || target != outside {
		t.Errorf("link.txt is no longer the link: %q %v", target, err)
	}
}

// TestReviewOverAnAdjacentUnsavedEdit: the user's unsaved edit of line 1
// touches claude's edit of line 2 (a three-way merge of the two
// conflicts). The review shows claude's call applied to the buffer; once
// accepted, the buffer has both the user's unsaved line and claude's, the
// disk claude's alone, and nothing is reported as a conflict. Then a
// second edit claude makes of a line the user changed is shown against
// the disk, and the review says so plainly.
func TestReviewOverAnAdjacentUnsavedEdit(t *testing.T) {
	b, path := reviewBridge(t)
	if err := os.WriteFile(path, []byte("l1\nl2\nl3\nl4\nl5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.api.SetTurns([]fakeapi.Turn{edit(path, "l2", "L2"), edit(path, "l4", "L4"), fakeapi.Text("edited")})
	e := newVSEditor(b)
	uri := e.open(path, "")
	buffer := "l1 (mine)\nl2\nl3\nfour (mine)\nl5\n"
	e.typeText(uri, buffer)
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any { return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept} })
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "adj"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	first, second := <-asked, <-asked
	if first.Original != buffer || first.Proposed != "l1 (mine)\nL2\nl3\nfour (mine)\nl5\n" || first.Notice != "" {
		t.Errorf("first review: %q → %q (notice %q)", first.Original, first.Proposed, first.Notice)
	}
	if second.Original != "l1\nL2\nl3\nl4\nl5\n" || !strings.Contains(second.Notice, "overlap") || !strings.Contains(second.Notice, "your buffer keeps your version") {
		t.Errorf("second review: %q (notice %q)", second.Original, second.Notice)
	}
	if got := readFile(t, path); got != "l1\nL2\nl3\nL4\nl5\n" {
		t.Errorf("disk %q: claude's lines, none of the user's", got)
	}
	if got := e.text(uri); got != "l1 (mine)\nL2\nl3\nfour (mine)\nl5\n" {
		t.Errorf("buffer %q: the user's lines and the first change", got)
	}
	for _, m := range b.client.Messages("claude/editConflict") {
		if !strings.Contains(string(m.Params), "l4") && !strings.Contains(string(m.Params), "line 4") {
			t.Errorf("a conflict besides the one of line 4: %s", m.Params)
		}
	}
}

// TestReviewAnswerWithUnknownHunks: an answer that accepts hunks the
// edit does not have is not taken for a reject: nothing is written, the
// editor is told with a warning, the review event and claude say why.
func TestReviewAnswerWithUnknownHunks(t *testing.T) {
	b, path := reviewBridge(t)
	asked := reviewing(t, b, func(lspext.ReviewEditParams) any {
		return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h9", "zzz"}}
	})
	if res := b.result(b.run(map[string]any{"prompt": "edit a.txt", "taskId": "bad"})); res.Status != "completed" {
		t.Fatalf("result %+v", res)
	}
	p := <-asked
	if got := readFile(t, path); got != sixLines {
		t.Errorf("disk %q: nothing should be written", got)
	}
	text, isErr, _ := toolResult(t, b.api, p.ToolUseID)
	if !isErr || !strings.Contains(text, "h9, zzz") || strings.Contains(text, "The user rejected") {
		t.Errorf("claude was told %q (error %v)", text, isErr)
	}
	ev := lsptest.Last[*lspext.ReviewEvent](b.client.Events(t, "bad"))
	if ev == nil || !strings.Contains(ev.Reason, "h9, zzz") {
		t.Errorf("review event %+v", ev)
	}
	found := false
	for _, m := range b.client.Messages("window/showMessage") {
		found = found || strings.Contains(string(m.Params), "h9, zzz")
	}
	if !found {
		t.Error("the editor was not told its answer named unknown hunks")
	}
}

// TestCheckpointThatCannotBeWritten: when the checkpoints cannot be
// written (here a file stands where their folder goes), the edit still
// goes through and the reply and claude/changes say in plain words that
// nothing is checkpointed and why.
func TestCheckpointThatCannotBeWritten(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, "checkpoints"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, bridgeOpts{stateDir: state})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	path := filepath.Join(b.ws(0), "a.txt")
	writeFiles(t, b.ws(0), map[string]string{"a.txt": "a1\na2\n"})
	b.api.SetTurns([]fakeapi.Turn{edit(path, "a2", "A2"), fakeapi.Text("done")})
	res := afterTurnRun(t, b, "full", "edit")
	if readFile(t, path) != "a1\nA2\n" {
		t.Error("the edit did not go through")
	}
	if res.Changes == nil || len(res.Changes.Uncovered) == 0 {
		t.Fatalf("the reply does not say what is not checkpointed: %+v", res.Changes)
	}
	all := strings.Join(res.Changes.Uncovered, "\n")
	t.Logf("uncovered: %s", all)
	if !strings.Contains(all, "a.txt is not checkpointed") || !strings.Contains(all, state) || strings.Contains(all, ".tmp-") {
		t.Errorf("uncovered %q", all)
	}
	if _, err := b.client.WaitFor(lspext.MethodChanges, 10*time.Second, func(lsptest.Message) bool { return true }); err != nil {
		t.Errorf("no claude/changes: %v", err)
	}
}

// editAroundACommand runs task taskID (review afterTurn) in a bridge with
// a state directory of its own: it edits a.txt, runs the Bash command
// command(state directory), then edits b.txt. It returns the bridge, the
// state directory and the task's reply.
func editAroundACommand(t *testing.T, taskID string, command func(state string) string) (*bridge, string, lspext.RunResult) {
	state := t.TempDir()
	b := startBridge(t, bridgeOpts{stateDir: state})
	answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
	ws := b.ws(0)
	writeFiles(t, ws, map[string]string{"a.txt": "a1\na2\n", "b.txt": "b1\nb2\n"})
	b.api.SetTurns([]fakeapi.Turn{edit(filepath.Join(ws, "a.txt"), "a2", "A2"), bash(command(state)),
		edit(filepath.Join(ws, "b.txt"), "b2", "B2"), fakeapi.Text("done")})
	return b, state, afterTurnRun(t, b, taskID, "edit")
}

// TestCheckpointWriteFailsMidTask: the checkpoint's contents cannot be
// written while the task runs (a command put a file where their folder
// goes): the edit still goes through, and the reply names in uncovered,
// with the reason in words, the file whose checkpoint could not be
// written and the one whose checkpoint was lost.
func TestCheckpointWriteFailsMidTask(t *testing.T) {
	b, state, res := editAroundACommand(t, "mid", func(state string) string {
		return "for d in '" + filepath.Join(state, "checkpoints") + "'/*/; do rm -rf \"$d/blobs\" && echo x > \"$d/blobs\"; done"
	})
	ws := b.ws(0)
	all := strings.Join(res.Changes.Uncovered, "\n")
	t.Logf("changes: %+v", res.Changes)
	if !strings.Contains(all, "b.txt is not checkpointed: a file stands where a folder of the bridge's state directory ("+state+") should be") ||
		!strings.Contains(all, "a.txt is not checkpointed as the task left it") {
		t.Errorf("uncovered %q", all)
	}
	if readFile(t, filepath.Join(ws, "b.txt")) != "b1\nB2\n" {
		t.Error("the edit of b.txt did not go through")
	}
}

// TestCheckpointsDeleted: the checkpoints deleted while a task runs (by a
// command of the task) and after it: the changes made after the deletion
// are still checkpointed and revertible, the files whose checkpoint was
// lost are named with the reason, in words, as are the task's files once
// the whole store is gone; claude.accept of a task whose checkpoint is
// gone succeeds.
func TestCheckpointsDeleted(t *testing.T) {
	b, state, res := editAroundACommand(t, "del", func(state string) string {
		return "rm -rf '" + filepath.Join(state, "checkpoints") + "' '" + filepath.Join(state, "snapshots") + "'"
	})
	ws := b.ws(0)
	ch := byName(res.Changes)
	all := strings.Join(res.Changes.Uncovered, "\n")
	if len(ch["b.txt"].Hunks) != 1 || !strings.Contains(all, "a.txt") || !strings.Contains(all, "deleted") {
		t.Fatalf("changes %+v", res.Changes)
	}
	r := b.revert(map[string]any{"taskId": "del", "uri": "file://" + filepath.Join(ws, "b.txt")})
	if len(r.Files) != 1 || !r.Files[0].Restored || readFile(t, filepath.Join(ws, "b.txt")) != "b1\nb2\n" {
		t.Errorf("revert b.txt: %+v", r)
	}
	if err := os.RemoveAll(filepath.Join(state, "checkpoints")); err != nil {
		t.Fatal(err)
	}
	var left lspext.ChangesParams
	if err := b.command(lspext.CommandChanges, map[string]any{"taskId": "del"}, &left); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(left.Uncovered, "\n")
	t.Logf("uncovered during the task: %s\nonce the store is gone: %s", all, notes)
	if !strings.Contains(notes, "a.txt") || !strings.Contains(notes, "deleted") {
		t.Errorf("after the store is gone: %+v", left)
	}
	r = b.revert(map[string]any{"taskId": "del"})
	if len(r.Files) == 0 || !strings.Contains(r.Files[0].Message, "a.txt: not reverted: its checkpoint was deleted") {
		t.Errorf("revert after the store is gone: %+v", r)
	}
	var acc lspext.AcceptResult
	if err := b.command(lspext.CommandAccept, map[string]any{"taskId": "del"}, &acc); err != nil {
		t.Errorf("accept after the store is gone: %v", err)
	}
}
