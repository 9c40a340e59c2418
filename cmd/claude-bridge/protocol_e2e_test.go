package main_test

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// TestWhatTheBridgeSendsIsTheProtocol: every claude/event of a real task
// (claude CLI against the stand-in, through the binary), the claude.run
// reply, claude.tasks, claude.authStatus and claude/authChanged decode
// into the types of server/lspext, which generate the schema and the
// editors' declarations: with no field the types lack, none they require
// missing, none of another type. A field renamed in the bridge, or in the
// types alone, fails here with its name.
func TestWhatTheBridgeSendsIsTheProtocol(t *testing.T) {
	w := newWorld(t, keyA)
	w.writeKey(keyA, 0o600)
	main := filepath.Join(w.workspace, "main.go")
	w.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("Read", map[string]any{"file_path": main}),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": main, "old_string": `println("hello")`, "new_string": `println("hello, protocol")`}),
		// In the default permission mode claude asks before the edit and the command: permission
		// questions, which serve() answers Allow.
		fakeapi.ToolUse("Bash", map[string]any{"command": "touch made-by-bash.txt", "description": "make a file"}),
		fakeapi.Text("Changed the greeting."),
	})
	p := w.serve(map[string]any{})
	var (
		qmu       sync.Mutex // guards questions: the handler runs on the client's goroutine
		questions []lspext.PermissionRequestParams
	)
	p.client.Handle(lspext.MethodShowMessageRequest, func(raw json.RawMessage) (any, error) {
		var q lspext.PermissionRequestParams
		if err := lspext.Decode(raw, &q); err != nil {
			t.Errorf("%s params %s: %v", lspext.MethodShowMessageRequest, raw, err)
		}
		qmu.Lock()
		questions = append(questions, q)
		qmu.Unlock()
		return lspext.MessageActionItem{Title: "Allow"}, nil
	})
	call := p.run(map[string]any{"prompt": "change the greeting", "taskId": "proto-1", "permissionMode": "default"})
	m, err := call.Wait(90 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Error != nil {
		t.Fatalf("claude.run: %d %s", m.Error.Code, m.Error.Message)
	}
	var res lspext.RunResult
	if err := lspext.Decode(m.Result, &res); err != nil {
		t.Errorf("claude.run reply %s: %v", m.Result, err)
	}
	if res.Status != lspext.StatusCompleted || res.TaskID != "proto-1" {
		t.Errorf("claude.run reply: %+v", res)
	}

	kinds := map[lspext.EventKind]int{}
	var seq int64
	for _, n := range p.client.Messages(lspext.MethodEvent) {
		ev, err := lspext.DecodeEvent(n.Params)
		if err != nil {
			t.Errorf("%s: %v", n.Params, err)
			continue
		}
		h := ev.Head()
		if h.TaskID != "proto-1" {
			continue
		}
		seq++
		if h.Seq != seq {
			t.Errorf("event %s has seq %d, want %d", h.Kind, h.Seq, seq)
		}
		kinds[h.Kind]++
		if tr, ok := ev.(*lspext.ToolResultEvent); ok && tr.Name == "Edit" && (tr.FilePath != main || tr.URI != "file://"+main) {
			t.Errorf("the Edit's result names %q, %q", tr.FilePath, tr.URI)
		}
	}
	for _, k := range []lspext.EventKind{lspext.KindQueued, lspext.KindStarted, lspext.KindText, lspext.KindToolUse,
		lspext.KindToolResult, lspext.KindPermission, lspext.KindResult} {
		if kinds[k] == 0 {
			t.Errorf("no %s event (got %v)", k, sortedKinds(kinds))
		}
	}

	qmu.Lock()
	defer qmu.Unlock()
	if len(questions) != 2 || questions[0].TaskID != "proto-1" || questions[0].ToolName != "Edit" || questions[0].ToolUseID == "" ||
		questions[1].ToolName != "Bash" || questions[1].Message != "Claude wants to run Bash: `touch made-by-bash.txt`" {
		t.Errorf("permission questions: %+v", questions)
	}
	var tasks json.RawMessage
	if err := p.client.Request("workspace/executeCommand", map[string]any{"command": lspext.CommandTasks, "arguments": []any{}}, &tasks, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	var infos []lspext.TaskInfo
	if err := lspext.Decode(tasks, &infos); err != nil {
		t.Errorf("claude.tasks reply %s: %v", tasks, err)
	}
	if len(infos) != 1 || infos[0].TaskID != "proto-1" || infos[0].CostUSD == nil || infos[0].EndedAt == "" {
		t.Errorf("claude.tasks: %s", tasks)
	}

	var status json.RawMessage
	if err := p.client.Request("workspace/executeCommand", map[string]any{"command": lspext.CommandAuthStatus, "arguments": []any{}}, &status, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	var st lspext.AuthStatus
	if err := lspext.Decode(status, &st); err != nil {
		t.Errorf("claude.authStatus reply %s: %v", status, err)
	}
	if st.Status != lspext.AuthOK || st.Source != lspext.SourceKeyFile || st.Mode != lspext.AuthModeHelper {
		t.Errorf("claude.authStatus: %s", status)
	}
	// Where claude was found: the test gives it in $CLAUDE_BRIDGE_CLAUDE.
	if st.Claude == nil || st.Claude.Path == "" || st.Claude.FoundIn != "$CLAUDE_BRIDGE_CLAUDE" || st.Claude.Problem != "" {
		t.Errorf("claude.authStatus claude: %s", status)
	}

	changes := p.client.Messages(lspext.MethodAuthChanged)
	if len(changes) == 0 {
		t.Errorf("no %s after the first key check", lspext.MethodAuthChanged)
	}
	for _, n := range changes {
		var a lspext.AuthChangedParams
		if err := lspext.Decode(n.Params, &a); err != nil {
			t.Errorf("%s %s: %v", lspext.MethodAuthChanged, n.Params, err)
		}
	}
}

func sortedKinds(m map[lspext.EventKind]int) string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
