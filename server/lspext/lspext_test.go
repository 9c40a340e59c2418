package lspext_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

var toolInput = json.RawMessage(`{"file_path":"/home/me/proj/server/main.go","old_string":"fmt.Println(\"hello\")","new_string":"fmt.Println(\"hello, world\")"}`)

// sample is one event of each kind with every field set, and the map the
// server builds for it today.
func samples() []struct {
	ev    lspext.Event
	today map[string]any
} {
	return []struct {
		ev    lspext.Event
		today map[string]any
	}{
		{&lspext.QueuedEvent{Prompt: "add a flag", WorkspaceFolder: "file:///p", Position: 2, Waiting: true},
			map[string]any{"prompt": "add a flag", "workspaceFolder": "file:///p", "position": 2, "waiting": true}},
		{&lspext.StartedEvent{SessionID: "s1", Model: "m", Cwd: "/p", PermissionMode: "acceptEdits", APIKeySource: "apiKeyHelper", ClaudeVersion: "2.1.332"},
			map[string]any{"sessionId": "s1", "model": "m", "cwd": "/p", "permissionMode": "acceptEdits", "apiKeySource": "apiKeyHelper", "claudeVersion": "2.1.332"}},
		{&lspext.TextEvent{MessageID: "msg_1", Text: "Hello"}, map[string]any{"messageId": "msg_1", "text": "Hello"}},
		{&lspext.ThinkingEvent{MessageID: "msg_1", Text: "Hmm"}, map[string]any{"messageId": "msg_1", "text": "Hmm"}},
		{&lspext.ToolUseEvent{ToolUseID: "tu1", Name: "Edit", Input: toolInput, Summary: "Edit server/main.go"},
			todayToolUse("tu1", "Edit", toolInput, "Edit server/main.go")},
		{&lspext.ToolResultEvent{ToolUseID: "tu1", Name: "Edit", Content: "ok", FilePath: "/p/a.go", URI: "file:///p/a.go"},
			map[string]any{"toolUseId": "tu1", "name": "Edit", "isError": false, "content": "ok", "filePath": "/p/a.go", "uri": "file:///p/a.go"}},
		{&lspext.ToolResultEvent{ToolUseID: "tu2", Name: "Read", IsError: true, Content: "no"},
			map[string]any{"toolUseId": "tu2", "name": "Read", "isError": true, "content": "no"}},
		{&lspext.PermissionEvent{ToolUseID: "tu3", Name: "Bash", Input: json.RawMessage(`{"command":"ls"}`), Summary: "Bash: ls", Decision: lspext.DecisionAllowTask, Reason: "r", Automatic: true},
			map[string]any{"toolUseId": "tu3", "name": "Bash", "input": json.RawMessage(`{"command":"ls"}`), "summary": "Bash: ls", "decision": "allowTask", "reason": "r", "automatic": true}},
		{&lspext.RetryEvent{Attempt: 1, MaxRetries: 10, DelayMs: 500, ErrorStatus: 529, Error: "overloaded"},
			map[string]any{"attempt": 1, "maxRetries": 10, "delayMs": 500, "errorStatus": 529, "error": "overloaded"}},
		{&lspext.StatusEvent{Message: "Applied to the open buffer: Claude: Edit a.go"}, map[string]any{"message": "Applied to the open buffer: Claude: Edit a.go"}},
		{&lspext.OtherEvent{Raw: json.RawMessage(`{"type":"new"}`)}, map[string]any{"raw": json.RawMessage(`{"type":"new"}`)}},
		{&lspext.ResultEvent{Status: lspext.StatusCompleted, Result: "done", CostUSD: 0.0123, DurationMs: 5312, NumTurns: 4, SessionID: "s1"},
			map[string]any{"status": "completed", "result": "done", "isError": false, "costUsd": 0.0123, "durationMs": int64(5312), "numTurns": 4, "sessionId": "s1"}},
	}
}

// TestEventsEncodeAsTheServerDoesToday: each type, stamped, encodes to the
// same JSON object as the map the server sends today, and the text event
// to the same bytes.
func TestEventsEncodeAsTheServerDoesToday(t *testing.T) {
	kinds := map[lspext.EventKind]bool{}
	for i, s := range samples() {
		kind := s.ev.EventKind()
		kinds[kind] = true
		got, err := fastjson.Marshal(lspext.Stamp(s.ev, "t1", int64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := fastjson.Marshal(todayMap("t1", int64(i+1), string(kind), s.today))
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s encodes as\n  %s\nthe server sends\n  %s", kind, got, want)
		}
	}
	for _, k := range lspext.EventKinds {
		if !kinds[k] {
			t.Errorf("no sample of kind %q", k)
		}
	}

	got, _ := fastjson.Marshal(lspext.Stamp(&lspext.TextEvent{MessageID: "m", Text: "hi \"there\"\n"}, "t1", 7))
	want, _ := fastjson.Marshal(&todayText{TaskID: "t1", Seq: 7, Kind: "text", MessageID: "m", Text: "hi \"there\"\n"})
	if string(got) != string(want) {
		t.Errorf("text event\n  %s\ntoday\n  %s", got, want)
	}
}

func TestNewEventAndStampSetTheKind(t *testing.T) {
	for _, k := range lspext.EventKinds {
		ev := lspext.NewEvent(k)
		if ev == nil || ev.EventKind() != k || ev.Head().Kind != k {
			t.Fatalf("NewEvent(%q) = %#v", k, ev)
		}
		lspext.Stamp(ev, "t9", 3)
		if h := ev.Head(); h.TaskID != "t9" || h.Seq != 3 || h.Kind != k {
			t.Errorf("Stamp: header %+v", *h)
		}
	}
	if lspext.NewEvent("activity") != nil {
		t.Error("NewEvent of an unknown kind is not nil")
	}
}

// TestDecodeEventIsStrict: every sample round-trips into its own type, and
// each way a message can be wrong is an error naming the problem.
func TestDecodeEventIsStrict(t *testing.T) {
	for i, s := range samples() {
		b, _ := json.Marshal(lspext.Stamp(s.ev, "t1", int64(i+1)))
		got, err := lspext.DecodeEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(normal(t, got), normal(t, s.ev)) {
			t.Errorf("%s decoded as %#v", b, got)
		}
		if reflect.TypeOf(got) != reflect.TypeOf(s.ev) {
			t.Errorf("%s decoded into %T", b, got)
		}
	}
	for _, c := range []struct{ json, want string }{
		{`{"taskId":"t","seq":1,"kind":"text","messageId":"m","txt":"x"}`, `unknown field "txt"`},
		{`{"taskId":"t","seq":1,"kind":"text","messageId":"m"}`, `missing field text`},
		{`{"taskId":"t","kind":"status","message":"m"}`, `missing field seq`},
		{`{"taskId":"t","seq":"1","kind":"status","message":"m"}`, `seq`},
		{`{"taskId":"t","seq":1,"kind":"activity","message":"m"}`, `unknown kind "activity"`},
		{`{"taskId":"t","seq":1,"kind":"toolResult","toolUseId":"x","name":"Read","isError":false,"content":"","filePath":3}`, `filePath`},
		{`[1]`, `claude/event`},
	} {
		_, err := lspext.DecodeEvent([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeEvent(%s) = %v, want an error saying %q", c.json, err, c.want)
		}
	}
}

// TestDecodeChecksNestedRequiredFields: a required field of a nested
// object (a range's start, a task's status) is checked too.
func TestDecodeChecksNestedRequiredFields(t *testing.T) {
	var a lspext.RunArgs
	err := lspext.Decode([]byte(`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":1,"character":0}}}]}`), &a)
	if err == nil || !strings.Contains(err.Error(), "missing field context[0].range.end") {
		t.Errorf("got %v", err)
	}
	var tasks []lspext.TaskInfo
	err = lspext.Decode([]byte(`[{"taskId":"t","workspaceFolder":"file:///p","prompt":"p","startedAt":"2026-01-01T00:00:00Z"}]`), &tasks)
	if err == nil || !strings.Contains(err.Error(), "missing field [0].status") {
		t.Errorf("got %v", err)
	}
	if err := lspext.Decode([]byte(`{"prompt":"p"}`), &a); err != nil {
		t.Errorf("optional fields: %v", err)
	}
}

func TestTerminalStatuses(t *testing.T) {
	var terminal []lspext.TaskStatus
	for _, s := range lspext.TaskStatuses {
		if s.Terminal() {
			terminal = append(terminal, s)
		}
	}
	if !reflect.DeepEqual(terminal, []lspext.TaskStatus{lspext.StatusCompleted, lspext.StatusFailed, lspext.StatusCancelled}) {
		t.Errorf("terminal statuses: %v", terminal)
	}
}

func normal(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
