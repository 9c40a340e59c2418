package server_test

import (
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// TestTaskIDsAreUniqueWhateverNamedThem: the editor names a task "t2" (an
// id of the form the bridge generates); tasks whose ids the bridge
// generates, started while it runs and after it ended, get other ids, so
// claude.tasks lists each id once, each task's events are its own (seq
// from 1 without gaps), and a follow-up of "t2" continues the editor's
// task (issue 12: two live tasks t2).
func TestTaskIDsAreUniqueWhateverNamedThem(t *testing.T) {
	// The named task answers slowly; every other turn is the default.
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(3 * time.Second)}})
	named := b.run(map[string]any{"prompt": "the editor's own t2", "taskId": "t2"})
	if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "t2", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	first := b.result(b.run(map[string]any{"prompt": "generated 1"}))
	second := b.result(b.run(map[string]any{"prompt": "generated 2"}))
	mine := b.result(named)
	third := b.result(b.run(map[string]any{"prompt": "generated 3"}))
	ids := map[string]bool{}
	for _, r := range []lspext.RunResult{first, second, mine, third} {
		if r.Status != lspext.StatusCompleted {
			t.Errorf("task %s: %+v", r.TaskID, r)
		}
		if ids[r.TaskID] {
			t.Errorf("two tasks have the id %q", r.TaskID)
		}
		ids[r.TaskID] = true
	}
	if mine.TaskID != "t2" {
		t.Errorf("the named task got %q", mine.TaskID)
	}
	var tasks []lspext.TaskInfo
	if err := b.command("claude.tasks", nil, &tasks); err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, ti := range tasks {
		listed[ti.TaskID]++
		if ti.TaskID == "t2" && ti.Prompt != "the editor's own t2" {
			t.Errorf("claude.tasks lists t2 as %q", ti.Prompt)
		}
	}
	for id, n := range listed {
		if n != 1 {
			t.Errorf("claude.tasks lists %s %d times", id, n)
		}
	}
	for id := range ids {
		evs := b.client.Events(t, id)
		for i, ev := range evs {
			if ev.Head().Seq != int64(i+1) {
				t.Fatalf("task %s: event %d has seq %d (%s): two tasks share the id", id, i, ev.Head().Seq, lsptest.Kinds(evs))
			}
		}
		if len(lsptest.Of[*lspext.ResultEvent](evs)) != 1 {
			t.Errorf("task %s: %d result events", id, len(lsptest.Of[*lspext.ResultEvent](evs)))
		}
	}
	follow := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp",
		"arguments": []any{map[string]any{"taskId": "t2", "prompt": "and then?", "newTaskId": "t2-next"}}}))
	if follow.SessionID != mine.SessionID {
		t.Errorf("the follow-up of t2 continued session %s, want the editor's task's %s", follow.SessionID, mine.SessionID)
	}
}
