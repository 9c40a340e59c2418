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

// samples is one event of each kind with every field set.
func samples() []lspext.Event {
	return []lspext.Event{
		&lspext.QueuedEvent{Prompt: "add a flag", WorkspaceFolder: "file:///p", Position: 2, Waiting: true},
		&lspext.StartedEvent{SessionID: "s1", Model: "m", Cwd: "/p", PermissionMode: "acceptEdits", APIKeySource: "apiKeyHelper", ClaudeVersion: "2.1.332"},
		&lspext.TextEvent{MessageID: "msg_1", Text: "Hello"},
		&lspext.ThinkingEvent{MessageID: "msg_1", Text: "Hmm"},
		&lspext.ToolUseEvent{ToolUseID: "tu1", Name: "Edit", Input: toolInput, Summary: "Edit server/main.go"},
		&lspext.ToolResultEvent{ToolUseID: "tu1", Name: "Edit", Content: "ok", FilePath: "/p/a.go", URI: "file:///p/a.go"},
		&lspext.ToolResultEvent{ToolUseID: "tu2", Name: "Read", IsError: true, Content: "no"},
		&lspext.PermissionEvent{ToolUseID: "tu3", Name: "Bash", Input: json.RawMessage(`{"command":"ls"}`), Summary: "Bash: ls", Decision: lspext.DecisionAllowTask, Reason: "r", Automatic: true},
		&lspext.QuestionEvent{ToolUseID: "tu4", Questions: []lspext.Question{{Question: "Which color?", Header: "Color", Options: []lspext.QuestionOption{{Label: "Blue", Description: "calm"}, {Label: "Red"}}}},
			Answers: map[string]string{"Which color?": "Blue"}},
		&lspext.PlanEvent{ToolUseID: "tu5", Plan: "# Plan", URI: "file:///s/plans/p.md", Decision: lspext.PlanApprove, PermissionMode: lspext.ModeAcceptEdits, Feedback: "f", Reason: "r"},
		&lspext.ReviewEvent{ToolUseID: "tu7", URI: "file:///p/a.go", Tool: "Edit", Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h1"},
			RejectedHunks: []string{"h2"}, Edited: true, Feedback: "keep the old name", Reason: "r"},
		&lspext.ModeEvent{PermissionMode: "acceptEdits", Model: "claude-sonnet-5-5"},
		&lspext.TodosEvent{ToolUseID: "tu6", Todos: []lspext.Todo{{Content: "Run the tests", Status: lspext.TodoInProgress, ActiveForm: "Running the tests", ID: "2"}}},
		&lspext.UserMessageEvent{Text: "Also mention the year.", ImageCount: 1},
		&lspext.RetryEvent{Attempt: 1, MaxRetries: 10, DelayMs: 500, ErrorStatus: 529, Error: "overloaded"},
		&lspext.StatusEvent{Message: "Applied to the open buffer: Claude: Edit a.go"},
		&lspext.OtherEvent{Raw: json.RawMessage(`{"type":"new"}`)},
		&lspext.ResultEvent{Status: lspext.StatusCompleted, Result: "done", CostUSD: 0.0123, DurationMs: 5312, NumTurns: 4, SessionID: "s1"},
	}
}

// TestTheTextEventEncodesAsExpected: the hot path's event, stamped, is the
// header and its two fields in this order, nothing else (segmentio's
// encoder, as lspstream.Notify sends it).
func TestTheTextEventEncodesAsExpected(t *testing.T) {
	got, err := fastjson.Marshal(lspext.Stamp(&lspext.TextEvent{MessageID: "m", Text: "hi \"there\"\n"}, "t1", 7))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"taskId":"t1","seq":7,"kind":"text","messageId":"m","text":"hi \"there\"\n"}`; string(got) != want {
		t.Errorf("text event\n  %s\nwant\n  %s", got, want)
	}
	kinds := map[lspext.EventKind]bool{}
	for _, ev := range samples() {
		kinds[ev.EventKind()] = true
	}
	for _, k := range lspext.EventKinds {
		if !kinds[k] {
			t.Errorf("no sample of kind %q", k)
		}
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
	for i, ev := range samples() {
		b, _ := json.Marshal(lspext.Stamp(ev, "t1", int64(i+1)))
		got, err := lspext.DecodeEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(normal(t, got), normal(t, ev)) {
			t.Errorf("%s decoded as %#v", b, got)
		}
		if reflect.TypeOf(got) != reflect.TypeOf(ev) {
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
	if !reflect.DeepEqual(terminal, []lspext.TaskStatus{lspext.StatusCompleted, lspext.StatusFailed, lspext.StatusCancelled, lspext.StatusInterrupted}) {
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

// TestDecodeErrorsNameTheField: what a -32602 reply quotes says which field
// is wrong, nested ones by their path, in the protocol's terms.
func TestDecodeErrorsNameTheField(t *testing.T) {
	for _, c := range []struct {
		json string
		v    any
		want string
	}{
		{`{"prompt":"p","promt":"q"}`, &lspext.RunArgs{}, `unknown field "promt"`},
		{`{"prompt":"p","context":[{"uri":"file:///a","rnge":{}}]}`, &lspext.RunArgs{}, `unknown field "context[0].rnge"`},
		{`{"prompt":7}`, &lspext.RunArgs{}, `field prompt is a number, not a string`},
		{`{"prompt":"p","context":{"uri":"file:///a"}}`, &lspext.RunArgs{}, `field context is an object, not an array`},
		{`{"processes":"yes"}`, &lspext.TasksArgs{}, `field processes is a string, not true or false`},
		{`{"taskId":"t","prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":-1,"character":0},"end":{"line":1,"character":0}}}]}`,
			&lspext.FollowUpArgs{}, `field context.range.start.line is a number -1, not an integer of 0 or more`},
		{`["p"]`, &lspext.RunArgs{}, `the value is an array, not an object`},
		{`{}`, &lspext.CancelArgs{}, `missing field taskId`},
		{`{"prompt":"p"} {}`, &lspext.RunArgs{}, `data after the JSON value`},
		{`{"prompt":`, &lspext.RunArgs{}, `unexpected EOF`},
	} {
		err := lspext.Decode([]byte(c.json), c.v)
		if err == nil || err.Error() != c.want && !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%s) = %v, want %q", c.json, err, c.want)
		}
	}
	var mode lspext.AuthConfiguration
	if err := lspext.Decode([]byte(`{"settings":{"anything":{"goes":1}}}`), &mode); err != nil {
		t.Errorf("auth settings are passed through: %v", err)
	}
}
