package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

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

// replayPaced replays a transcript; caughtUp says whether the bridge reads
// each line before claude prints the next (true), or finds them all
// waiting at once (false), when streamed deltas are held and coalesced.
func replayPaced(t *testing.T, name string, caughtUp bool) []Event {
	t.Helper()
	m := NewManager(Config{})
	obs := &collect{}
	task, err := m.NewTask(Spec{Prompt: "p", Workspace: "/workspace"}, obs)
	if err != nil {
		t.Fatal(err)
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
		l, err := stream.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if l.Type == "control_request" || l.Type == "control_response" {
			continue
		}
		task.handleLine(nil, l)
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

func TestDeltasWaitingTogetherAreCoalesced(t *testing.T) {
	evs := replayPaced(t, "print-partial-messages.jsonl", false)
	n := 0
	for _, e := range evs {
		if e.Kind == EventText {
			n++
		}
	}
	if got := joined(evs, EventText); got != "Streaming three words. " || n != 1 {
		t.Errorf("%d text events joining to %q; want one with the whole text", n, got)
	}
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
