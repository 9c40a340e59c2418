package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/server/textedit"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// vsEditor plays an editor that presents files the way VS Code does: no
// byte-order mark in the text, one line break per document (the file's
// majority), inserted line breaks converted to it. It applies
// documentChanges (refusing a stale version) and changes, and reports each
// applied edit with didChange.
type vsEditor struct {
	b *bridge

	mu       sync.Mutex
	docs     map[string]*vsDoc // by URI
	failNext int               // answer this many applyEdits with an error
	applies  []string          // "documentChanges" or "changes", per applyEdit
}

type vsDoc struct {
	version int32
	text    string
}

func newVSEditor(b *bridge) *vsEditor {
	e := &vsEditor{b: b, docs: map[string]*vsDoc{}}
	b.client.Handle("workspace/applyEdit", e.apply)
	return e
}

// open opens the file at path under uri ("" = the path's own URI) and waits
// until the bridge has it.
func (e *vsEditor) open(path, uri string) string {
	e.b.t.Helper()
	if uri == "" {
		uri = fileuri.FromPath(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		e.b.t.Fatal(err)
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	eol := "\n"
	if crlf := strings.Count(text, "\r\n"); crlf > strings.Count(text, "\n")-crlf {
		eol = "\r\n"
	}
	text = textedit.ConvertLineEndings(text, eol)
	e.mu.Lock()
	e.docs[uri] = &vsDoc{version: 1, text: text}
	e.mu.Unlock()
	_ = e.b.client.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "plaintext", "version": 1, "text": text}})
	return uri
}

func (e *vsEditor) text(uri string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.docs[uri].text
}

func (e *vsEditor) kinds() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.applies...)
}

func (e *vsEditor) apply(raw json.RawMessage) (any, error) {
	var p applyEditParams
	if err := lspext.Decode(raw, &p); err != nil {
		e.b.t.Errorf("workspace/applyEdit params: %v in %s", err, raw)
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failNext > 0 {
		e.failNext--
		return nil, errors.New("the editor could not open the document")
	}
	type one struct {
		uri     string
		version *int32
		edits   []protocol.TextEdit
	}
	var all []one
	for _, dc := range p.Edit.DocumentChanges {
		all = append(all, one{uri: dc.TextDocument.URI, version: &dc.TextDocument.Version, edits: dc.Edits})
		e.applies = append(e.applies, "documentChanges")
	}
	for u, edits := range p.Edit.Changes {
		all = append(all, one{uri: u, edits: edits})
		e.applies = append(e.applies, "changes")
	}
	for _, o := range all {
		d := e.docs[o.uri]
		if d == nil {
			return map[string]any{"applied": false, "failureReason": "not open"}, nil
		}
		if o.version != nil && *o.version != d.version {
			return map[string]any{"applied": false, "failureReason": "version mismatch"}, nil
		}
	}
	for _, o := range all {
		d := e.docs[o.uri]
		eol := textedit.LineEnding(d.text)
		for i := range o.edits {
			o.edits[i].NewText = textedit.ConvertLineEndings(o.edits[i].NewText, eol)
		}
		text, err := textedit.ApplyEdits(d.text, o.edits)
		if err != nil {
			return nil, err
		}
		d.text = text
		d.version++
		_ = e.b.client.Notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": o.uri, "version": d.version},
			"contentChanges": []any{map[string]any{"text": d.text}},
		})
	}
	return map[string]any{"applied": true}, nil
}

// applyEditParams decodes workspace/applyEdit params as the test editors
// read them.
type applyEditParams struct {
	Label string `json:"label"`
	Edit  struct {
		// One of the two: documentChanges for a client that has
		// workspace.workspaceEdit.documentChanges, else changes.
		DocumentChanges []struct {
			TextDocument struct {
				URI     string `json:"uri"`
				Version int32  `json:"version"`
			} `json:"textDocument"`
			Edits []protocol.TextEdit `json:"edits"`
		} `json:"documentChanges,omitempty"`
		Changes map[string][]protocol.TextEdit `json:"changes,omitempty"`
	} `json:"edit"`
}

func edit(path, old, new string) fakeapi.Turn {
	return fakeapi.ToolUse("Edit", map[string]any{"file_path": path, "old_string": old, "new_string": new})
}

// statuses are the task's status event messages.
func statuses(b *bridge, taskID string) string {
	var out []string
	for _, e := range lsptest.Of[*lspext.StatusEvent](b.client.Events(b.t, taskID)) {
		out = append(out, e.Message)
	}
	return strings.Join(out, "\n")
}

// CRLF and byte-order-mark files, open and unmodified, edited by the real
// claude: the buffer ends equal to the file as the editor shows it, with one
// minimal edit, no conflict; the disk keeps its CRLF and BOM. (Before issue
// 10 each was a conflict over the whole file: claude's originalFile is LF.)
func TestCRLFAndBOMFilesEditedCleanly(t *testing.T) {
	cases := []struct{ name, file, before, old, new, after string }{
		{"CRLF", "win.txt", "a\r\nb\r\nc\r\n", "b", "B\nB2", "a\r\nB\r\nB2\r\nc\r\n"},
		{"BOM", "bom.txt", "\ufeffx\ny\n", "x", "X", "\ufeffX\ny\n"},
		{"BOM and CRLF", "both.cs", "\ufeffusing System;\r\nclass A {}\r\n", "class A", "class B", "\ufeffusing System;\r\nclass B {}\r\n"},
	}
	b := startBridge(t, bridgeOpts{})
	e := newVSEditor(b)
	for _, c := range cases {
		path := filepath.Join(b.ws(0), c.file)
		if err := os.WriteFile(path, []byte(c.before), 0o644); err != nil {
			t.Fatal(err)
		}
		uri := e.open(path, "")
		b.api.SetTurns([]fakeapi.Turn{edit(path, c.old, c.new), fakeapi.Text("edited")})
		res := b.result(b.run(map[string]any{"prompt": "edit " + c.file, "taskId": c.name}))
		if res.Status != "completed" {
			t.Fatalf("%s: %+v", c.name, res)
		}
		disk, _ := os.ReadFile(path)
		if string(disk) != c.after {
			t.Fatalf("%s: claude wrote %q, want %q", c.name, disk, c.after)
		}
		want := textedit.ConvertLineEndings(strings.TrimPrefix(c.after, "\ufeff"), textedit.LineEnding(c.before))
		if got := e.text(uri); got != want {
			t.Errorf("%s: buffer = %q, want %q; statuses:\n%s", c.name, got, want, statuses(b, c.name))
		}
		// Carried once: through the tool result ("Claude: Edit both.cs") or,
		// when the bridge reads claude's output late (a busy machine),
		// through the directory watcher first ("Claude: both.cs changed on
		// disk"), as in TestAgentEditLandsInCleanBuffer.
		if st := statuses(b, c.name); strings.Count(st, "Applied to the open buffer: Claude: ") != 1 || !strings.Contains(st, c.file) {
			t.Errorf("%s: statuses:\n%s", c.name, st)
		}
	}
	if n := len(b.client.Messages("claude/editConflict")); n != 0 || len(e.kinds()) != len(cases) {
		t.Errorf("%d conflicts, %d edits for %d changes", n, len(e.kinds()), len(cases))
	}
}

// A client without workspaceEdit.documentChanges gets WorkspaceEdit.changes,
// and the edit lands.
func TestClientWithoutDocumentChangesGetsChanges(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: func(p map[string]any, _ []string) {
		p["capabilities"] = map[string]any{"workspace": map[string]any{"applyEdit": true}}
	}})
	e := newVSEditor(b)
	uri := e.open(filepath.Join(b.ws(0), "main.go"), "")
	b.api.SetTurns(agentEdit(b.ws(0)))
	if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "plain"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	disk, _ := os.ReadFile(filepath.Join(b.ws(0), "main.go"))
	if got := e.text(uri); got != string(disk) || strings.Join(e.kinds(), ",") != "changes" {
		t.Errorf("buffer = %q (edits %v), disk %q", got, e.kinds(), disk)
	}
	if !strings.Contains(statuses(b, "plain"), "Applied to the open buffer") {
		t.Errorf("statuses:\n%s", statuses(b, "plain"))
	}
}

// A client without workspace.applyEdit gets no edit and one message saying
// that files change on disk.
func TestClientWithoutApplyEditIsToldOnce(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: func(p map[string]any, _ []string) {
		p["capabilities"] = map[string]any{}
	}})
	e := newVSEditor(b)
	uri := e.open(filepath.Join(b.ws(0), "main.go"), "")
	before := e.text(uri)
	old := "hello"
	for _, id := range []string{"first", "second"} {
		b.api.SetTurns([]fakeapi.Turn{edit(filepath.Join(b.ws(0), "main.go"), old, id), fakeapi.Text("edited")})
		old = id
		if res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": id})); res.Status != "completed" {
			t.Fatalf("result = %+v", res)
		}
	}
	if e.text(uri) != before || len(e.kinds()) != 0 {
		t.Errorf("an edit was sent: %v", e.kinds())
	}
	var told int
	for _, m := range b.client.Messages("window/showMessage") {
		if strings.Contains(string(m.Params), "workspace.applyEdit") {
			told++
		}
	}
	if told != 1 || !strings.Contains(statuses(b, "second"), "main.go changed on disk") {
		t.Errorf("told %d times; statuses of the second task:\n%s", told, statuses(b, "second"))
	}
}

// initialize with the RFC 8089 short form file:/path (Eclipse LSP4E, Java
// clients) and no workspaceFolders: the folder is usable.
func TestShortFormRootURI(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: func(p map[string]any, folders []string) {
		p["rootUri"] = "file:" + folders[0]
		delete(p, "workspaceFolders")
	}})
	e := newVSEditor(b)
	uri := e.open(filepath.Join(b.ws(0), "main.go"), "file:"+filepath.Join(b.ws(0), "main.go"))
	b.api.SetTurns(agentEdit(b.ws(0)))
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "short"}))
	if res.Status != "completed" || len(res.EditedFiles) != 1 || res.EditedFiles[0] != uri {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(e.text(uri), `println("hello, bridge")`) {
		t.Errorf("buffer = %q", e.text(uri))
	}
	// The folder is named back in the editor's own spelling.
	if q := lsptest.Last[*lspext.QueuedEvent](b.client.Events(t, "short")); q == nil || q.WorkspaceFolder != "file:"+b.ws(0) {
		t.Errorf("queued event: %+v", q)
	}
	var tasks []lspext.TaskInfo
	if err := b.command("claude.tasks", nil, &tasks); err != nil || len(tasks) != 1 || tasks[0].WorkspaceFolder != "file:"+b.ws(0) {
		t.Errorf("claude.tasks = %+v, %v", tasks, err)
	}
}

// A workspace the editor opened through a symbolic link (macOS's /tmp is
// /private/tmp), permission mode default: an Edit of the real path (claude
// resolves its working directory, and the model uses it) is asked about, not
// denied; the buffer opened under the link gets it; editedFiles names the
// file once, the editor's way. A link inside the workspace that points out
// of it is outside: denied without asking.
func TestSymlinkedWorkspaceAsksAndEdits(t *testing.T) {
	var link string
	b := startBridge(t, bridgeOpts{init: map[string]any{"permissionMode": "default"}, initialize: func(p map[string]any, folders []string) {
		link = filepath.Join(t.TempDir(), "proj")
		if err := os.Symlink(folders[0], link); err != nil {
			t.Fatal(err)
		}
		p["rootUri"] = fileuri.FromPath(link)
		p["workspaceFolders"] = []map[string]string{{"uri": fileuri.FromPath(link), "name": "proj"}}
	}})
	real, _ := filepath.EvalSymlinks(b.ws(0))
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(real, "out")); err != nil {
		t.Fatal(err)
	}
	var asked []string
	var mu sync.Mutex
	b.client.Handle("window/showMessageRequest", func(raw json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.PermissionRequestParams](t, "window/showMessageRequest", raw)
		mu.Lock()
		asked = append(asked, q.Message)
		mu.Unlock()
		return &protocol.MessageActionItem{Title: "Allow"}, nil
	})
	e := newVSEditor(b)
	uri := e.open(filepath.Join(link, "main.go"), "")
	b.api.SetTurns([]fakeapi.Turn{
		edit(filepath.Join(real, "main.go"), `println("hello")`, `println("hello, link")`),
		fakeapi.ToolUse("Write", map[string]any{"file_path": filepath.Join(link, "out", "escaped.txt"), "content": "x\n"}),
		fakeapi.Text("done"),
	})
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "link"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(e.text(uri), `println("hello, link")`) {
		t.Errorf("buffer = %q", e.text(uri))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || !strings.Contains(asked[0], "Edit") || !strings.Contains(asked[0], "main.go") || strings.Contains(asked[0], real) {
		t.Errorf("permission questions = %v (want one, for the Edit, naming main.go relative)", asked)
	}
	if len(res.EditedFiles) != 1 || res.EditedFiles[0] != uri {
		t.Errorf("editedFiles = %v, want [%s]", res.EditedFiles, uri)
	}
	if _, err := os.Stat(filepath.Join(outside, "escaped.txt")); err == nil {
		t.Error("a write through the link leaving the workspace was allowed")
	}
	var denied bool
	for _, ev := range lsptest.Of[*lspext.PermissionEvent](b.client.Events(t, "link")) {
		if ev.Decision == lspext.DecisionDeny && ev.Automatic && strings.Contains(ev.Reason, "outside") {
			denied = true
		}
	}
	if !denied {
		t.Error("no automatic denial of the write through the link")
	}
}

// One file open under two names (a link and its target, as VS Code allows):
// both buffers get the agent's edit.
func TestOneFileOpenUnderTwoNames(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	main := filepath.Join(b.ws(0), "main.go")
	alias := filepath.Join(b.ws(0), "alias.go")
	if err := os.Symlink("main.go", alias); err != nil {
		t.Fatal(err)
	}
	e := newVSEditor(b)
	u1, u2 := e.open(main, ""), e.open(alias, "")
	b.api.SetTurns(agentEdit(b.ws(0)))
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "two"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	disk, _ := os.ReadFile(main)
	if e.text(u1) != string(disk) || e.text(u2) != string(disk) {
		t.Errorf("buffers %q and %q, disk %q", e.text(u1), e.text(u2), disk)
	}
	if len(res.EditedFiles) != 1 {
		t.Errorf("editedFiles = %v", res.EditedFiles)
	}
}

// A file open under the name of one of its hard links follows what
// happens to the file: claude 2.1.332 writes an edited file atomically (a
// temporary file renamed over it; measured here), which breaks the link,
// so the other name's file and buffer stay as they were (no false carry);
// a write in place through the other name (a Bash redirection; claude
// itself writes in place when the rename is refused, e.g. EXDEV, EBUSY on
// a bind-mounted file) reaches the buffer.
func TestHardLinkOpenUnderItsOtherName(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	main := filepath.Join(b.ws(0), "main.go")
	hard := filepath.Join(b.ws(0), "hard.go")
	two := filepath.Join(b.ws(0), "two.go")
	twoLink := filepath.Join(b.ws(0), "two-link.go")
	if err := os.WriteFile(two, []byte("package two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{main, hard}, {two, twoLink}} {
		if err := os.Link(l[0], l[1]); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
	}
	allowAll(b)
	e := newVSEditor(b)
	uHard, uTwo := e.open(hard, ""), e.open(twoLink, "")
	b.api.SetTurns(append(agentEdit(b.ws(0))[:1],
		fakeapi.ToolUse("Bash", map[string]any{"command": `printf 'package two\n\n// changed in place\n' > two.go`}),
		fakeapi.Text("done")))
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "hard"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	mainDisk, _ := os.ReadFile(main)
	hardDisk, _ := os.ReadFile(hard)
	if !strings.Contains(string(mainDisk), "hello, bridge") || string(hardDisk) == string(mainDisk) {
		t.Fatalf("claude kept the hard link (main.go %q, hard.go %q): see the comment", mainDisk, hardDisk)
	}
	if e.text(uHard) != string(hardDisk) {
		t.Errorf("buffer of hard.go %q, its file %q", e.text(uHard), hardDisk)
	}
	twoDisk, _ := os.ReadFile(twoLink)
	if !strings.Contains(string(twoDisk), "changed in place") || e.text(uTwo) != string(twoDisk) {
		t.Errorf("buffer of two-link.go %q, its file %q", e.text(uTwo), twoDisk)
	}
}

// A context entry for a file whose name has spaces (and one whose name no
// mention can express) reaches the Messages API: the selected lines, not
// the rest of the file.
func TestContextWithSpacesReachesTheAPI(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("seen")}})
	write := func(name, prefix string) string {
		path := filepath.Join(b.ws(0), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var s strings.Builder
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(&s, "%s line %d\n", prefix, i)
		}
		if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return fileuri.FromPath(path)
	}
	rng := func(from, to int) map[string]any { // 1-based, whole lines
		return map[string]any{"start": map[string]int{"line": from - 1, "character": 0}, "end": map[string]int{"line": to, "character": 0}}
	}
	res := b.result(b.run(map[string]any{"prompt": "explain", "taskId": "ctx", "context": []any{
		map[string]any{"uri": write("my notes/a b+ü.txt", "SPACED"), "range": rng(2, 3)},
		map[string]any{"uri": write("h#sh.txt", "HASHED"), "range": rng(4, 4)},
	}}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) == 0 {
		t.Fatal("no request")
	}
	body := string(reqs[0].Body)
	for _, want := range []string{"SPACED line 2", "SPACED line 3", "HASHED line 4", `@\"my notes/a b+ü.txt#L2-3\"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the request lacks %q", want)
		}
	}
	for _, not := range []string{"SPACED line 1", "SPACED line 4", "HASHED line 3"} {
		if strings.Contains(body, not) {
			t.Errorf("the request has %q, outside the selection", not)
		}
	}
}

// The editor fails the first applyEdit (an error reply): the change is
// reported as not carried, and the next change brings it along, so the
// buffer ends with both edits and saving it loses neither.
func TestFailedApplyEditKeepsEdit1(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	path := filepath.Join(b.ws(0), "main.go")
	e := newVSEditor(b)
	e.failNext = 1
	uri := e.open(path, "")
	b.api.SetTurns([]fakeapi.Turn{
		edit(path, "package main", "package main // edit 1"),
		edit(path, `println("hello")`, `println("edit 2")`),
		fakeapi.Text("done"),
	})
	res := b.result(b.run(map[string]any{"prompt": "two edits", "taskId": "fail"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	disk, _ := os.ReadFile(path)
	if got := e.text(uri); got != string(disk) || !strings.Contains(got, "edit 1") || !strings.Contains(got, "edit 2") {
		t.Errorf("buffer = %q, disk %q", got, disk)
	}
	st := statuses(b, "fail")
	if !strings.Contains(st, "failed to apply") || strings.Count(st, "Applied to the open buffer") != 1 {
		t.Errorf("statuses:\n%s", st)
	}
	if _, err := b.client.WaitFor("claude/editConflict", time.Second, nil); err != nil {
		t.Error("the failure was not reported to the editor")
	}
}

// didOpen of a FIFO or a device never freezes the bridge: it answers the
// next request at once, and runs tasks.
func TestOpeningSpecialFilesDoesNotFreeze(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("fine")}})
	fifo := filepath.Join(b.ws(0), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		_ = b.client.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": fileuri.FromPath(p), "languageId": "plaintext", "version": 1, "text": ""}})
	}
	var tasks []lspext.TaskInfo
	if err := b.client.Request("workspace/executeCommand", map[string]any{"command": "claude.tasks"}, &tasks, 3*time.Second); err != nil {
		t.Fatalf("the bridge did not answer after didOpen of a FIFO: %v", err)
	}
	if res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "after-fifo"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
}

// A Latin-1 file the editor decoded itself, changed by a Bash command: never
// an edit or a conflict, and one message to reload it.
func TestNotUTF8FileIsLeftToReload(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	allowAll(b)
	path := filepath.Join(b.ws(0), "latin1.txt")
	if err := os.WriteFile(path, []byte("caf\xe9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newVSEditor(b)
	e.mu.Lock()
	uri := fileuri.FromPath(path)
	e.docs[uri] = &vsDoc{version: 1, text: "café\n"}
	e.mu.Unlock()
	_ = b.client.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "plaintext", "version": 1, "text": "café\n"}})
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": `printf 'caf\351!\n' > latin1.txt && printf 'caf\351!!\n' > latin1.txt.new && mv latin1.txt.new latin1.txt`}),
		fakeapi.Text("changed"),
	})
	if res := b.result(b.run(map[string]any{"prompt": "exclaim", "taskId": "latin"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if disk, _ := os.ReadFile(path); string(disk) != "caf\xe9!!\n" {
		t.Fatalf("disk = %q: the test proves nothing", disk)
	}
	if e.text(uri) != "café\n" || len(e.kinds()) != 0 || len(b.client.Messages("claude/editConflict")) != 0 {
		t.Errorf("buffer %q, edits %v", e.text(uri), e.kinds())
	}
	var told []lsptest.Message
	for _, m := range b.client.Messages("window/showMessage") {
		if strings.Contains(string(m.Params), "latin1.txt") {
			told = append(told, m)
		}
	}
	if len(told) != 1 || !strings.Contains(string(told[0].Params), "not UTF-8") || !strings.Contains(string(told[0].Params), "Reload") {
		t.Errorf("messages about latin1.txt: %v", told)
	}
}

// The selection the model gets is the user's: from the buffer when it has
// unsaved changes (claude would read other lines from the disk), and with
// the editor's line count for a file of lone "\r" line breaks (claude counts
// none), never an empty block.
func TestContextIsTheSelectionTheUserSees(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("seen")}})
	e := newVSEditor(b)
	dirty := filepath.Join(b.ws(0), "d.txt")
	cr := filepath.Join(b.ws(0), "cr.txt")
	if err := os.WriteFile(dirty, []byte("DISK1\nDISK2\nDISK3\nDISK4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cr, []byte("R1\rR2\rR3\rR4\r"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := e.open(dirty, "")
	// Two unsaved lines typed at the top: the selection of lines 3-4 is
	// DISK1 and DISK2 in the buffer.
	_ = b.client.Notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": u, "version": 2},
		"contentChanges": []any{map[string]any{"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 0, "character": 0}}, "text": "NEW1\nNEW2\n"}},
	})
	rng := func(from, to int) map[string]any { // 1-based, whole lines
		return map[string]any{"start": map[string]int{"line": from - 1, "character": 0}, "end": map[string]int{"line": to, "character": 0}}
	}
	res := b.result(b.run(map[string]any{"prompt": "explain", "taskId": "sel", "context": []any{
		map[string]any{"uri": u, "range": rng(3, 4)},
		map[string]any{"uri": fileuri.FromPath(cr), "range": rng(2, 3)},
	}}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) == 0 {
		t.Fatal("no request")
	}
	body := string(reqs[0].Body)
	for _, want := range []string{`DISK1\nDISK2`, "unsaved text in the editor", `R2\rR3`} {
		if !strings.Contains(body, want) {
			t.Errorf("the request lacks %q:\n%s", want, body)
		}
	}
	for _, not := range []string{"DISK3", "@d.txt", "@cr.txt", "NEW1"} {
		if strings.Contains(body, not) {
			t.Errorf("the request has %q, not the user's selection", not)
		}
	}
}
