package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/server/lsptest"
)

// These tests hold the bridge to its promises against peers that
// misbehave in ways a first round of fixes missed (issue 11): an editor
// that floods it or repeats its replies, a claude that stops reading.

// stuckClaude stands in for a claude whose turn never ends on its own: it
// says init, then answers interrupts (ending the turn) until stdin closes.
const stuckClaude = `read req
echo '{"type":"system","subtype":"init","session_id":"stuck-'$$'","cwd":"'"$PWD"'","model":"fake","permissionMode":"acceptEdits","apiKeySource":"none","claude_code_version":"0.0.0"}'
while read line; do
  case "$line" in *interrupt*)
    id=$(echo "$line" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
    echo '{"type":"control_response","response":{"subtype":"success","request_id":"'$id'"}}'
    echo '{"type":"result","subtype":"error_during_execution","is_error":true,"result":"","session_id":"stuck-'$$'","num_turns":1,"duration_ms":5,"total_cost_usd":0}';;
  esac
done
`

func executeCommand(cmd string, arg any) map[string]any {
	args := []any{}
	if arg != nil {
		args = append(args, arg)
	}
	return map[string]any{"command": cmd, "arguments": args}
}

// With more task requests in flight than the bridge serves at once, the
// editor can still cancel a task, list the tasks, ask the auth status and
// shut the bridge down: only task-starting requests count against the cap.
func TestQuickRequestsAreServedPastTheTaskCap(t *testing.T) {
	w := newWorld(t, keyA)
	w.claude = writeScript(t, stuckClaude)
	p := w.serve(map[string]any{"auth": map[string]any{"mode": "inherit"}, "maxConcurrentTasks": 2, "followUpIdleSeconds": 0})
	const n = 300
	calls := make([]*lsptest.Call, n)
	for i := range calls {
		calls[i] = p.run(map[string]any{"prompt": "go", "taskId": fmt.Sprintf("m%d", i)})
	}
	// The requests past the cap are refused as busy: the cap is reached.
	busy := 0
	for _, c := range calls[256:] {
		m, err := c.Wait(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Error != nil && strings.Contains(m.Error.Message, "busy") {
			busy++
		}
	}
	if busy == 0 {
		t.Fatalf("no claude.run past the first 256 was refused: the cap was never reached")
	}
	eventually(t, 60*time.Second, "the first two tasks never started", func() bool {
		return len(claudesOf(p.cmd.Process.Pid)) == 2
	})

	var cancelled map[string]bool
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.cancel", map[string]string{"taskId": "m0"}), &cancelled, 20*time.Second); err != nil {
		t.Errorf("claude.cancel with %d tasks requested: %v", n, err)
	} else if !cancelled["cancelled"] {
		t.Errorf("claude.cancel of a running task: %v", cancelled)
	}
	if r := p.result(t, calls[0], 30*time.Second); r.Status != "cancelled" {
		t.Errorf("the cancelled task ended %+v", r)
	}
	var tasks []json.RawMessage
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.tasks", nil), &tasks, 20*time.Second); err != nil {
		t.Errorf("claude.tasks: %v", err)
	} else if len(tasks) < 256-busy {
		t.Errorf("claude.tasks lists %d tasks", len(tasks))
	}
	if err := p.client.Request("workspace/executeCommand", executeCommand("claude.authStatus", nil), nil, 20*time.Second); err != nil {
		t.Errorf("claude.authStatus: %v", err)
	}
	if err := p.client.Request("shutdown", nil, nil, 30*time.Second); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	_ = p.client.Notify("exit", nil)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the bridge did not exit after shutdown and exit")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit", code)
	}
}
