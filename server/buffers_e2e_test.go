package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/server/textedit"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// editorDoc is an open buffer in the test editor: it applies the bridge's
// versioned edits the way editors do (refusing a stale version) and
// reports its changes back with didChange.
type editorDoc struct {
	mu      sync.Mutex
	b       *bridge
	uri     string
	version int32
	text    string
	edits   int
}

func (b *bridge) open(path string) *editorDoc {
	b.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.t.Fatal(err)
	}
	d := &editorDoc{b: b, uri: "file://" + path, version: 1, text: string(data)}
	b.client.Handle("workspace/applyEdit", func(raw json.RawMessage) (any, error) { return d.apply(raw) })
	_ = b.client.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": d.uri, "languageId": "go", "version": 1, "text": d.text}})
	return d
}

func (d *editorDoc) apply(raw json.RawMessage) (any, error) {
	var p applyEditParams
	if err := lspext.Decode(raw, &p); err != nil {
		d.b.t.Errorf("workspace/applyEdit params: %v in %s", err, raw)
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dc := range p.Edit.DocumentChanges {
		if dc.TextDocument.URI != d.uri || dc.TextDocument.Version != d.version {
			return map[string]any{"applied": false, "failureReason": "version mismatch"}, nil
		}
		if len(dc.Edits) == 1 && dc.Edits[0].Range.Start.Line == 0 && dc.Edits[0].Range.Start.Character == 0 &&
			textedit.OffsetAt(d.text, dc.Edits[0].Range.End) == len(d.text) && len(d.text) > 0 {
			d.b.t.Errorf("whole-buffer replace: %+v", dc.Edits[0])
		}
		text, err := textedit.ApplyEdits(d.text, dc.Edits)
		if err != nil {
			return nil, err
		}
		d.text = text
		d.version++
		d.edits++
		_ = d.b.client.Notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": d.uri, "version": d.version},
			"contentChanges": []any{map[string]any{"text": d.text}},
		})
	}
	return map[string]any{"applied": true}, nil
}

// typeText is the user editing the buffer without saving.
func (d *editorDoc) typeText(old, new string) {
	d.b.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !strings.Contains(d.text, old) {
		d.b.t.Fatalf("buffer lacks %q", old)
	}
	d.text = strings.Replace(d.text, old, new, 1)
	d.version++
	_ = d.b.client.Notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": d.uri, "version": d.version},
		"contentChanges": []any{map[string]any{"text": d.text}},
	})
}

func (d *editorDoc) get() (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text, d.edits
}

func agentEdit(ws string) []fakeapi.Turn {
	return []fakeapi.Turn{
		fakeapi.ToolUse("Edit", map[string]any{"file_path": ws + "/main.go", "old_string": `println("hello")`, "new_string": `println("hello, bridge")`}),
		fakeapi.Text("edited"),
	}
}

func TestAgentEditLandsInCleanBuffer(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns(agentEdit(b.ws(0)))
	doc := b.open(filepath.Join(b.ws(0), "main.go"))
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "clean"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	disk, _ := os.ReadFile(filepath.Join(b.ws(0), "main.go"))
	text, edits := doc.get()
	if text != string(disk) || edits != 1 {
		t.Errorf("buffer (%d edits) = %q, disk = %q", edits, text, disk)
	}
	// The edit reaches the buffer through the tool result, labelled with the
	// tool (the undo label the user sees), never through the directory
	// watcher as "changed on disk", however late the bridge reads claude's
	// output (the watcher leaves a file tool's file to its result).
	var carried bool
	for _, e := range lsptest.Of[*lspext.StatusEvent](b.client.Events(t, "clean")) {
		carried = carried || e.Message == "Applied to the open buffer: Claude: Edit main.go"
		if strings.Contains(e.Message, "changed on disk") {
			t.Errorf("status %q: the edit went through the watcher", e.Message)
		}
	}
	if !carried {
		t.Error("no status event says the edit reached the buffer")
	}
}

func TestAgentEditMergesWithUnsavedTyping(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns(agentEdit(b.ws(0)))
	doc := b.open(filepath.Join(b.ws(0), "main.go"))
	doc.typeText("package main\n", "package main\n\n// typed by the user, not saved\n")
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "dirty"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	text, _ := doc.get()
	if !strings.Contains(text, "// typed by the user, not saved") || !strings.Contains(text, `println("hello, bridge")`) {
		t.Errorf("buffer lost one side:\n%s", text)
	}
	disk, _ := os.ReadFile(filepath.Join(b.ws(0), "main.go"))
	if strings.Contains(string(disk), "typed by the user") {
		t.Error("the user's unsaved line reached the disk")
	}
}

func TestOverlappingEditIsAConflictAndTheBufferIsKept(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns(agentEdit(b.ws(0)))
	doc := b.open(filepath.Join(b.ws(0), "main.go"))
	doc.typeText(`println("hello")`, `println("hello from the user")`)
	before, _ := doc.get()
	res := b.result(b.run(map[string]any{"prompt": "edit", "taskId": "clash"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	after, edits := doc.get()
	if after != before || edits != 0 {
		t.Errorf("the buffer was changed (%d edits):\n%s", edits, after)
	}
	m, err := b.client.WaitFor(lspext.MethodEditConflict, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := lsptest.Decode[lspext.EditConflictParams](t, lspext.MethodEditConflict, m.Params); c.TaskID != "clash" || c.URI != doc.uri || !strings.Contains(c.Message, "main.go") {
		t.Errorf("conflict = %+v", c)
	}
	if _, err := b.client.WaitFor("window/showMessage", time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), "main.go")
	}); err != nil {
		t.Error("no showMessage names the file")
	}
}

func TestBashChangeToOpenFileIsCarried(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": `sed -i 's/hello/howdy/' main.go`}),
		fakeapi.Text("sedded"),
	})
	allowAll(b)
	doc := b.open(filepath.Join(b.ws(0), "main.go"))
	res := b.result(b.run(map[string]any{"prompt": "sed", "taskId": "sed"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		text, _ := doc.get()
		if strings.Contains(text, "howdy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sed change never reached the buffer:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	found := false
	for _, f := range res.EditedFiles {
		found = found || strings.HasSuffix(f, "/main.go")
	}
	if !found {
		t.Errorf("editedFiles = %v, want main.go (changed by Bash)", res.EditedFiles)
	}
}

func TestDeletedOpenFileKeepsItsBuffer(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Bash", map[string]any{"command": "rm main.go"}),
		fakeapi.Text("removed"),
	})
	allowAll(b)
	doc := b.open(filepath.Join(b.ws(0), "main.go"))
	before, _ := doc.get()
	res := b.result(b.run(map[string]any{"prompt": "rm", "taskId": "rm"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if _, err := os.Stat(filepath.Join(b.ws(0), "main.go")); err == nil {
		t.Fatal("main.go was not deleted: the test proves nothing")
	}
	if after, edits := doc.get(); after != before || edits != 0 {
		t.Errorf("the buffer of a deleted file changed (%d edits)", edits)
	}
	if _, err := b.client.WaitFor("window/showMessage", 5*time.Second, func(m lsptest.Message) bool {
		return strings.Contains(string(m.Params), "main.go was deleted")
	}); err != nil {
		t.Error("the editor was not told the file was deleted")
	}
}
