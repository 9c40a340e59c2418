package lspext_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/claude-bridge/claude-bridge/server/lspext"
)

var toolInput = lspext.RawObject(`{"file_path":"/home/me/proj/server/main.go","old_string":"fmt.Println(\"hello\")","new_string":"fmt.Println(\"hello, world\")"}`)

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
		&lspext.PermissionEvent{ToolUseID: "tu3", Name: "Bash", Input: lspext.RawObject(`{"command":"ls"}`), Summary: "Bash: ls", Decision: lspext.DecisionAllowTask, Reason: "r", Automatic: true},
		&lspext.QuestionEvent{ToolUseID: "tu4", Questions: []lspext.Question{{Question: "Which color?", Header: "Color", Options: []lspext.QuestionOption{{Label: "Blue", Description: "calm"}, {Label: "Red"}}}},
			Answers: map[string]string{"Which color?": "Blue"}},
		&lspext.PlanEvent{ToolUseID: "tu5", Plan: "# Plan", URI: "file:///s/plans/p.md", Decision: lspext.PlanApprove, PermissionMode: lspext.PlanModeAcceptEdits, Feedback: "f", Reason: "r"},
		&lspext.ReviewEvent{ToolUseID: "tu7", URI: "file:///p/a.go", Tool: "Edit", Decision: lspext.ReviewAccept, AcceptedHunks: []string{"h1"},
			RejectedHunks: []string{"h2"}, Edited: true, Feedback: "keep the old name", Reason: "r"},
		&lspext.ModeEvent{PermissionMode: "acceptEdits", Model: "claude-sonnet-5-5"},
		&lspext.TodosEvent{ToolUseID: "tu6", Todos: []lspext.Todo{{Content: "Run the tests", Status: lspext.TodoInProgress, ActiveForm: "Running the tests", ID: "2"}}},
		&lspext.UserMessageEvent{Text: "Also mention the year.", ImageCount: 1},
		&lspext.RetryEvent{Attempt: 1, MaxRetries: 10, DelayMs: 500, ErrorStatus: 529, Error: "overloaded"},
		&lspext.StatusEvent{Message: "Applied to the open buffer: Claude: Edit a.go"},
		&lspext.OtherEvent{Raw: lspext.RawObject(`{"type":"new"}`)},
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
		{`{"taskId":"t","seq":1,"kind":"text","messageId":"m"}`, `lacks the required field "text"`},
		{`{"taskId":"t","kind":"status","message":"m"}`, `lacks the required field "seq"`},
		{`{"taskId":"t","seq":"1","kind":"status","message":"m"}`, `seq`},
		{`{"taskId":"t","seq":1,"kind":"activity","message":"m"}`, `kind is "activity", not one of "queued"`},
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
	if err == nil || err.Error() != `context[0].range lacks the required field "end"` {
		t.Errorf("got %v", err)
	}
	var tasks []lspext.TaskInfo
	err = lspext.Decode([]byte(`[{"taskId":"t","workspaceFolder":"file:///p","prompt":"p","startedAt":"2026-01-01T00:00:00Z"}]`), &tasks)
	if err == nil || err.Error() != `[0] lacks the required field "status"` {
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
// is wrong, by its path with indexes, what it is and what it should be, in
// JSON's terms (never Go's), repeating at most a few dozen characters of
// a value; null is refused everywhere (an optional field is left out);
// enumerations list their values; integers are checked against their
// range; a range that ends before it starts is refused.
func TestDecodeErrorsNameTheField(t *testing.T) {
	huge := strings.Repeat("T", 10_000_000)
	for _, c := range []struct {
		json string
		v    any
		want string
	}{
		{`{"prompt":"p","promt":"q"}`, &lspext.RunArgs{}, `the value has an unknown field "promt"`},
		{`{"prompt":"p","context":[{"uri":"file:///a","rnge":{}}]}`, &lspext.RunArgs{}, `context[0] has an unknown field "rnge"`},
		{`{"prompt":7}`, &lspext.RunArgs{}, `prompt is 7, not a string`},
		{`{"prompt":null}`, &lspext.RunArgs{}, `prompt is null, not a string`},
		{`{"prompt":" \n\t"}`, &lspext.RunArgs{}, `prompt is " \n\t", which is blank`},
		{`{"prompt":"p","taskId":""}`, &lspext.RunArgs{}, `taskId is "", which is blank (leave the field out instead)`},
		{`{"prompt":"p","workspaceFolder":"/home/me"}`, &lspext.RunArgs{}, `workspaceFolder is "/home/me", which is not a file:// URI (leave the field out instead)`},
		{`{"prompt":"p","images":[{}]}`, &lspext.RunArgs{}, `images[0] needs one of the fields "uri" or "data"`},
		{`{"prompt":"p","images":[{"uri":"file:///a.png","data":"AAAA","mediaType":"image/png"}]}`, &lspext.RunArgs{}, `images[0] has the fields "uri" and "data": give only one of them`},
		{`{"prompt":"p","images":[{"data":"AAAA"}]}`, &lspext.RunArgs{}, `images[0] has the field "data" without "mediaType", which it needs`},
		{`{"prompt":"p","images":[{"uri":"file:///a.png","mediaType":"image/png"}]}`, &lspext.RunArgs{}, `images[0] has the field "mediaType" without "data", which it needs`},
		{`{"prompt":"p","images":[{"data":"AAAA","mediaType":"text/plain"}]}`, &lspext.RunArgs{}, `images[0].mediaType is "text/plain", not one of "image/png", "image/jpeg", "image/gif", "image/webp"`},
		{`{"taskId":"t","toolUseId":"u","plan":{}}`, &lspext.AnswerArgs{}, `plan lacks the required field "decision"`},
		{`{"taskId":"t","toolUseId":"u","plan":{"deferred":true}}`, &lspext.AnswerArgs{}, `plan has an unknown field "deferred"`},
		{`{"taskId":"t","toolUseId":" "}`, &lspext.AnswerArgs{}, `toolUseId is " ", which is blank`},
		{`{"feedback":"f"}`, &lspext.PlanResult{}, `the value needs one of the fields "decision" or "deferred"`},
		{`{"prompt":"p","model":null}`, &lspext.RunArgs{}, `model is null: leave the field out instead (an optional field is absent, never null)`},
		{`{"prompt":"p","context":{"uri":"file:///a"}}`, &lspext.RunArgs{}, `context is an object, not an array`},
		{`{"prompt":"p","context":["file:///a"]}`, &lspext.RunArgs{}, `context[0] is "file:///a", not an object`},
		{`{"prompt":"p","context":[null]}`, &lspext.RunArgs{}, `context[0] is null, not an object`},
		{`{"prompt":"p","context":[{"uri":"file:///a"},{"uri":5}]}`, &lspext.RunArgs{}, `context[1].uri is 5, not a string`},
		{`{"prompt":"p","context":[{}]}`, &lspext.RunArgs{}, `context[0] lacks the required field "uri"`},
		{`{"processes":"yes"}`, &lspext.TasksArgs{}, `processes is "yes", not a boolean`},
		{`{"processes":null}`, &lspext.TasksArgs{}, `processes is null: leave the field out instead`},
		{`{"prompt":"p","permissionMode":"bogus"}`, &lspext.RunArgs{},
			`permissionMode is "bogus", not one of "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"`},
		{`{"prompt":"p","permissionMode":""}`, &lspext.RunArgs{}, `permissionMode is "", not one of`},
		{`{"taskId":"t","prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":-1,"character":0},"end":{"line":1,"character":0}}}]}`,
			&lspext.FollowUpArgs{}, `context[0].range.start.line is -1, not an integer from 0 to 4294967295`},
		{`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":1.5,"character":0},"end":{"line":2,"character":0}}}]}`,
			&lspext.RunArgs{}, `context[0].range.start.line is 1.5, not an integer from 0 to 4294967295`},
		{`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":10000000000,"character":0},"end":{"line":2,"character":0}}}]}`,
			&lspext.RunArgs{}, `context[0].range.start.line is 10000000000, not an integer from 0 to 4294967295`},
		{`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":4,"character":0},"end":{"line":1,"character":0}}}]}`,
			&lspext.RunArgs{}, `context[0].range ends (line 1, character 0) before it starts (line 4, character 0)`},
		{`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":4,"character":5},"end":{"line":4,"character":2}}}]}`,
			&lspext.RunArgs{}, `context[0].range ends (line 4, character 2) before it starts (line 4, character 5)`},
		{`{"prompt":"p"}`, &lspext.FollowUpArgs{}, `the value needs one of the fields "taskId" or "sessionId"`},
		{`{"taskId":"","prompt":"p"}`, &lspext.FollowUpArgs{}, `taskId is "", which is blank (leave the field out instead)`},
		{`["p"]`, &lspext.RunArgs{}, `the value is an array, not an object`},
		{`"p"`, &lspext.RunArgs{}, `the value is "p", not an object`},
		{`{}`, &lspext.CancelArgs{}, `the value lacks the required field "taskId"`},
		{`{"taskId":""}`, &lspext.CancelArgs{}, `taskId is "", which is blank`},
		{`{"` + huge + `":1}`, &lspext.TasksArgs{}, `the value has an unknown field "` + strings.Repeat("T", 64) + `…" (10000000 characters)`},
		{`{"processes":"` + huge + `"}`, &lspext.TasksArgs{}, `processes is "` + strings.Repeat("T", 64) + `…" (10000000 characters), not a boolean`},
		{`{"prompt":"p"} {}`, &lspext.RunArgs{}, `the value is not one JSON value: there is more after it`},
		{`{"prompt":`, &lspext.RunArgs{}, `the value is not JSON: unexpected EOF`},
		{``, &lspext.RunArgs{}, `the value is not JSON: it is empty`},
		{`{"maxConcurrentTasks":0}`, &lspext.Configuration{}, `maxConcurrentTasks is 0, less than the minimum 1`},
		{`{"maxConcurrentTasks":"4"}`, &lspext.Configuration{}, `maxConcurrentTasks is "4", not an integer`},
		{`{"logLevel":"loud"}`, &lspext.Configuration{}, `logLevel is "loud", not one of "debug", "info", "warn", "error"`},
		{`{"auth":{"keyCommandTimeoutSeconds":2e6}}`, &lspext.Configuration{}, `auth.keyCommandTimeoutSeconds is 2e6, more than the maximum 1e+06`},
		{`{"auth":{"mode":"bogus"}}`, &lspext.Configuration{}, `auth.mode is "bogus", not one of "helper", "inherit"`},
		{`{"settings":{"x":[1e400]}}`, &lspext.AuthConfiguration{}, `settings.x[0] is 1e400, too large for a number`},
	} {
		err := lspext.Decode([]byte(c.json), c.v)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Decode(%.200s) = %.300v, want %q", c.json, err, c.want)
			continue
		}
		if len(err.Error()) > 300 {
			t.Errorf("Decode(%.200s): an error of %d characters", c.json, len(err.Error()))
		}
		if goName.MatchString(err.Error()) {
			t.Errorf("Decode(%.200s) = %v: Go's terms in an error", c.json, err)
		}
	}
	var a lspext.AuthConfiguration
	if err := lspext.Decode([]byte(`{"settings":{"anything":{"goes":1}}}`), &a); err != nil {
		t.Errorf("auth settings are passed through: %v", err)
	}
	var r lspext.RunArgs
	if err := lspext.Decode([]byte(`{"prompt":"p","context":[{"uri":"file:///a","range":{"start":{"line":1.0,"character":0},"end":{"line":1e1,"character":0}}}]}`), &r); err != nil ||
		r.Context[0].Range.Start.Line != 1 || r.Context[0].Range.End.Line != 10 {
		t.Errorf("integers written 1.0 and 1e1 (JSON Schema's integers): %v %+v", err, r)
	}
}

// goName matches Go's terms, which no message to an editor uses.
var goName = regexp.MustCompile(`\b(Go|struct|int|int32|int64|uint32|float64|bool|string\]|json\.|RawMessage|unmarshal|\[\]|map\[)\b|\[\]`)

// TestDecodeEachRefusesOneSetting: a setting of the wrong type is refused
// alone, the others are set; unknown settings are listed, not refused.
func TestDecodeEachRefusesOneSetting(t *testing.T) {
	var c lspext.Configuration
	refused, unknown, err := lspext.DecodeEach([]byte(`{"maxConcurrentTasks":"4","model":"opus","logLevel":"loud","editorOwn":1,
		"auth":{"keyFile":"~/k","keyfile":"~/typo"}}`), &c)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for _, e := range refused {
		why = append(why, e.Error())
	}
	if want := []string{`logLevel is "loud", not one of "debug", "info", "warn", "error"`, `maxConcurrentTasks is "4", not an integer`}; !reflect.DeepEqual(sorted(why), want) {
		t.Errorf("refused %q, want %q", why, want)
	}
	if c.Model == nil || *c.Model != "opus" || c.MaxConcurrentTasks != nil || c.LogLevel != nil || c.Auth == nil || c.Auth.KeyFile != "~/k" {
		t.Errorf("decoded %+v", c)
	}
	if want := []string{"auth.keyfile", "editorOwn"}; !reflect.DeepEqual(sorted(unknown), want) {
		t.Errorf("unknown %q, want %q", unknown, want)
	}
	if _, _, err := lspext.DecodeEach([]byte(`[1]`), &c); err == nil || err.Error() != "the value is an array, not an object" {
		t.Errorf("not an object: %v", err)
	}
}

// TestDecodeLSP: LSP's own params may carry fields the bridge does not
// read, and null where LSP's types allow it, which is taken as absent.
func TestDecodeLSP(t *testing.T) {
	var p struct {
		RootURI string `json:"rootUri,omitempty"`
		Caps    struct {
			A bool `json:"a,omitempty"`
		} `json:"capabilities"`
	}
	unknown, err := lspext.DecodeLSP([]byte(`{"rootUri":null,"processId":null,"capabilities":{"a":true,"b":{}}}`), &p)
	if err != nil || !p.Caps.A || p.RootURI != "" || !reflect.DeepEqual(sorted(unknown), []string{"capabilities.b", "processId"}) {
		t.Errorf("DecodeLSP: %v %+v %v", err, p, unknown)
	}
	if _, err := lspext.DecodeLSP([]byte(`{"capabilities":{"a":"yes"}}`), &p); err == nil || err.Error() != `capabilities.a is "yes", not a boolean` {
		t.Errorf("a wrong type: %v", err)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestObjectOf: what an editor gets as a tool's input is always an object.
func TestObjectOf(t *testing.T) {
	for in, want := range map[string]string{``: `{}`, `null`: `{}`, ` {"a":1} `: `{"a":1}`, `[1,2]`: `{"value":[1,2]}`, `"abc"`: `{"value":"abc"}`, `5`: `{"value":5}`} {
		if got := string(lspext.ObjectOf([]byte(in))); got != want {
			t.Errorf("ObjectOf(%s) = %s, want %s", in, got, want)
		}
	}
}
