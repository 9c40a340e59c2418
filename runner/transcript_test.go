package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// collect is an Observer that keeps the events.
type collect struct{ events []Event }

func (c *collect) Event(t *Task, ev Event) { c.events = append(c.events, ev) }
func (c *collect) AskPermission(context.Context, *Task, PermissionRequest) (Decision, string) {
	return Deny, "test"
}

// replay feeds a recorded transcript's claude output through a task's line
// handling, as the session's read loop would.
func replay(t *testing.T, name string) []Event { return replayPaced(t, name, true) }

// replayPaced replays a transcript; caughtUp says whether each delta is
// sent before the next line (true: as when they come further apart than
// textWindow), or the lines all come within one long window (false), when
// streamed deltas are held and coalesced.
func replayPaced(t *testing.T, name string, caughtUp bool) []Event {
	t.Helper()
	m := NewManager(Config{})
	obs := &collect{}
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, obs)
	if err != nil {
		t.Fatal(err)
	}
	if !caughtUp {
		task.hold.window = time.Hour
	}
	f, err := os.Open("../testdata/transcripts/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		raw := sc.Bytes()
		var w struct {
			Dir string          `json:"dir"`
			Msg json.RawMessage `json:"msg"`
		}
		if json.Unmarshal(raw, &w) == nil && w.Dir != "" {
			if w.Dir != "from_claude" {
				continue
			}
			raw = w.Msg
		}
		// As the session's read loop does: deltas by stream.ParseDelta,
		// the rest by stream.Decode.
		if d, ok := stream.ParseDelta(raw); ok {
			task.streamDelta(d)
		} else {
			l, err := stream.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if l.Type == "control_request" || l.Type == "control_response" {
				continue
			}
			task.handleLine(nil, l)
		}
		if caughtUp {
			task.flushText()
		}
	}
	task.flushText()
	return obs.events
}

func joined(evs []Event, kind EventKind) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Kind == kind {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

func TestPartialMessagesStreamTextOnce(t *testing.T) {
	evs := replay(t, "print-partial-messages.jsonl")
	// The deltas, then the complete assistant line: the text must not
	// come twice.
	if got := joined(evs, EventText); got != "Streaming three words. " {
		t.Errorf("text = %q", got)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == EventText {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d text events, want the 3 deltas", n)
	}
}

// Deltas that come within the window after a text event go out together:
// the first at once, the two after it as one event (before the assistant
// line that ends the message).
func TestDeltasWithinTheWindowAreCoalesced(t *testing.T) {
	evs := replayPaced(t, "print-partial-messages.jsonl", false)
	var texts []string
	for _, e := range evs {
		if e.Kind == EventText {
			texts = append(texts, e.Text)
		}
	}
	if got := joined(evs, EventText); got != "Streaming three words. " || len(texts) != 2 {
		t.Errorf("text events %q joining to %q; want the first delta, then the other two as one", texts, got)
	}
}

// Held text goes out when its window ends, with no further line from
// claude to prompt it.
func TestHeldTextGoesOutWhenItsWindowEnds(t *testing.T) {
	m := NewManager(Config{})
	got := make(chan Event, 8)
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, &chanObserver{got})
	if err != nil {
		t.Fatal(err)
	}
	// A window far longer than the test: the deltas after the first are
	// held whatever the machine's load, and the test ends the window by
	// firing its timer, as the window's end does.
	task.hold.window = time.Hour
	task.delta(EventText, "msg_1", "first ")
	task.delta(EventText, "msg_1", "second ")
	task.delta(EventText, "msg_1", "third")
	if ev := <-got; ev.Text != "first " {
		t.Fatalf("first text event %q, want the first delta at once", ev.Text)
	}
	select {
	case ev := <-got:
		t.Fatalf("text %q sent inside its window", ev.Text)
	default:
	}
	task.hold.mu.Lock()
	armed := task.hold.armed
	if armed {
		task.hold.timer.Reset(0)
	}
	task.hold.mu.Unlock()
	if !armed {
		t.Fatal("no timer armed for the held text")
	}
	select {
	case ev := <-got:
		if ev.Text != "second third" {
			t.Errorf("held text event %q, want the held two together", ev.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held text never sent when its window ended")
	}
}

// chanObserver passes events on a channel.
type chanObserver struct{ ch chan Event }

func (c *chanObserver) Event(t *Task, ev Event) { c.ch <- ev }
func (c *chanObserver) AskPermission(context.Context, *Task, PermissionRequest) (Decision, string) {
	return Deny, "test"
}

func TestWholeMessagesStillGiveTextEvents(t *testing.T) {
	evs := replay(t, "print-accept-edits.jsonl")
	if got := joined(evs, EventText); got != "Edited main.go and wrote NOTES.md. " {
		t.Errorf("text = %q", got)
	}
	var summaries []string
	var edit *FileChange
	for _, e := range evs {
		if e.Kind == EventToolUse {
			summaries = append(summaries, e.ToolUse.Summary)
		}
		if e.Kind == EventToolResult && e.ToolResult.Name == "Edit" {
			edit = e.ToolResult.Change
		}
	}
	if strings.Join(summaries, "|") != "Read main.go|Edit main.go|Write NOTES.md|Bash: echo built" {
		t.Errorf("summaries = %q", summaries)
	}
	if edit == nil || edit.Path != "/workspace/main.go" || edit.Before == nil || !strings.Contains(*edit.Before, `println("hello")`) || edit.Label != "Claude: Edit main.go" {
		t.Errorf("edit change = %+v", edit)
	}
}

func TestRetriesAreReported(t *testing.T) {
	evs := replay(t, "auth-401-persistent.jsonl")
	var attempts []int
	for _, e := range evs {
		if e.Kind == EventRetry {
			if e.Retry.ErrorStatus != 401 || e.Retry.MaxRetries != 10 {
				t.Errorf("retry = %+v", e.Retry)
			}
			attempts = append(attempts, e.Retry.Attempt)
		}
	}
	if len(attempts) < 3 || attempts[0] != 3 {
		t.Errorf("attempts = %v", attempts)
	}
}

func TestDeniedToolResultIsAnError(t *testing.T) {
	evs := replay(t, "control-permissions.jsonl")
	for _, e := range evs {
		if e.Kind == EventToolResult && e.ToolResult.Name == "Write" {
			if !e.ToolResult.IsError || e.ToolResult.Change != nil || !strings.Contains(e.ToolResult.Content, "declined") {
				t.Errorf("denied Write result = %+v", e.ToolResult)
			}
			return
		}
	}
	t.Error("no Write result")
}

// An assistant line whose text differs from the deltas streamed for it
// puts right the part still held for its window: the events join up to
// the message's text. Text the editor already has cannot be taken back:
// then the rest is left as it is (and logged).
func TestReconcileCorrectsHeldText(t *testing.T) {
	m := NewManager(Config{})
	obs := &collect{}
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, obs)
	if err != nil {
		t.Fatal(err)
	}
	task.hold.window = time.Hour // the first delta goes out, the rest is held
	line := func(s string) *stream.Line {
		l, err := stream.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	task.delta(EventText, "msg_1", "Hello, ")
	task.delta(EventText, "msg_1", "w?rld")
	task.handleLine(nil, line(`{"type":"assistant","message":{"id":"msg_1","content":[{"type":"text","text":"Hello, world"}]}}`))
	if got := joined(obs.events, EventText); got != "Hello, world" {
		t.Errorf("text events join to %q, want the message's text", got)
	}
	obs.events = nil
	task.hold.last = time.Time{} // each delta goes out at once
	task.delta(EventText, "msg_2", "Good")
	task.hold.last = time.Time{}
	task.delta(EventText, "msg_2", "bye?")
	task.handleLine(nil, line(`{"type":"assistant","message":{"id":"msg_2","content":[{"type":"text","text":"Goodbye!"}]}}`))
	if got := joined(obs.events, EventText); got != "Goodbye?" {
		t.Errorf("text the editor already had: events join to %q, want them left as sent", got)
	}
}

// A surrogate pair split across two deltas, with the assistant line right
// after: the character comes out whole, once.
func TestSplitSurrogatePairThenAssistantLine(t *testing.T) {
	m := NewManager(Config{})
	obs := &collect{}
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range []string{`"smile \ud83d"`, `"\ude00!"`} {
		d, ok := stream.ParseDelta([]byte(`{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":` + js + `}},"session_id":"s","parent_tool_use_id":null,"uuid":"u","api_message_id":"msg_1"}`))
		if !ok {
			t.Fatal("not a delta")
		}
		task.streamDelta(d)
	}
	l, err := stream.Decode([]byte(`{"type":"assistant","message":{"id":"msg_1","content":[{"type":"text","text":"smile \ud83d\ude00!"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	task.handleLine(nil, l)
	task.flushText()
	if got := joined(obs.events, EventText); got != "smile 😀!" {
		t.Errorf("text events join to %q", got)
	}
}

// A task cancelled while a delta's high surrogate waits for its low half:
// nothing claude streams is the task's any more, so the half held does not
// go out (as U+FFFD) when the turn ends.
func TestCancelWhileASurrogateIsHeld(t *testing.T) {
	m := NewManager(Config{})
	obs := &collect{}
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, obs)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := stream.ParseDelta([]byte(`{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\ud83d"}},"session_id":"s","parent_tool_use_id":null,"uuid":"u","api_message_id":"msg_1"}`))
	if !ok {
		t.Fatal("not a delta")
	}
	task.streamDelta(d)
	if !task.Cancel() {
		t.Fatal("Cancel = false")
	}
	task.endJoin() // as the turn does once claude is gone
	task.flushText()
	if got := joined(obs.events, EventText); got != "a" {
		t.Errorf("text events join to %q, want only what came before the cancel", got)
	}
}
