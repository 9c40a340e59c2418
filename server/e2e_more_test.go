package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

func allowAll(b *bridge) {
	b.client.Handle("window/showMessageRequest", func(json.RawMessage) (any, error) {
		return &protocol.MessageActionItem{Title: "Allow"}, nil
	})
}

func TestTwoConcurrentTasksInTwoFolders(t *testing.T) {
	pwd := fakeapi.ToolUse("Bash", map[string]any{"command": "pwd > where.txt"})
	pwd.Delay = 2 * time.Second
	b := startBridge(t, bridgeOpts{folders: 2, turns: []fakeapi.Turn{pwd, fakeapi.Text("noted")}})
	allowAll(b)
	c1 := b.run(map[string]any{"prompt": "where am I", "taskId": "one", "workspaceFolder": "file://" + b.ws(0)})
	c2 := b.run(map[string]any{"prompt": "where am I", "taskId": "two", "workspaceFolder": "file://" + b.ws(1)})
	// Both run at the same time: claude.tasks shows them running together.
	together := false
	for deadline := time.Now().Add(20 * time.Second); !together && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var tasks []lspext.TaskInfo
		if err := b.command("claude.tasks", nil, &tasks); err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, ti := range tasks {
			if ti.Status == "running" {
				running++
			}
		}
		together = running == 2
	}
	if !together {
		t.Error("the two tasks never ran at the same time")
	}
	r1, r2 := b.result(c1), b.result(c2)
	if r1.Status != "completed" || r2.Status != "completed" {
		t.Fatalf("results: %+v / %+v", r1, r2)
	}
	for i := 0; i < 2; i++ {
		got, err := os.ReadFile(filepath.Join(b.ws(i), "where.txt"))
		if err != nil || strings.TrimSpace(string(got)) != b.ws(i) {
			t.Errorf("folder %d: where.txt = %q, %v", i, got, err)
		}
	}
}

func TestQueuePastTheLimit(t *testing.T) {
	slow := fakeapi.Text("slow answer")
	slow.Delay = 1500 * time.Millisecond
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slow}, init: map[string]any{"maxConcurrentTasks": 1}})
	c1 := b.run(map[string]any{"prompt": "first", "taskId": "q1"})
	// q1 is past the queue once claude has started for it.
	if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "q1", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	c2 := b.run(map[string]any{"prompt": "second", "taskId": "q2"})
	if _, _, err := lsptest.WaitEvent[*lspext.QueuedEvent](t, b.client, "q2", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var tasks []lspext.TaskInfo
	if err := b.command("claude.tasks", nil, &tasks); err != nil {
		t.Fatal(err)
	}
	status := map[string]lspext.TaskStatus{}
	for _, ti := range tasks {
		status[ti.TaskID] = ti.Status
	}
	if status["q2"] != lspext.StatusQueued || status["q1"] == lspext.StatusQueued {
		t.Errorf("while q1 runs: statuses = %v", status)
	}
	r1, r2 := b.result(c1), b.result(c2)
	if r1.Status != "completed" || r2.Status != "completed" {
		t.Fatalf("results %+v / %+v", r1, r2)
	}
	prog := b.client.Progress(t, "claude-bridge/q2")
	if len(prog) < 2 || prog[1].Message != "Queued (1 task ahead)" {
		t.Errorf("q2 progress = %+v", prog)
	}
	if q2 := b.client.Events(t, "q2"); len(q2) == 0 {
		t.Error("no events of q2")
	} else if q, ok := q2[0].(*lspext.QueuedEvent); !ok || !q.Waiting || q.Position != 1 {
		t.Errorf("q2's first event = %+v", q2[0])
	}
	_, started, err1 := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "q2", time.Second)
	_, ended, err2 := lsptest.WaitEvent[*lspext.ResultEvent](t, b.client, "q1", time.Second)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if started.Seq < ended.Seq {
		t.Error("q2 started before q1 ended: the limit of 1 was not kept")
	}
}

func TestFollowUp(t *testing.T) {
	for _, mode := range []string{"same-process", "resume", "other-model"} {
		t.Run(mode, func(t *testing.T) {
			idle := 300
			if mode == "resume" {
				idle = 0 // the process ends with its task: the follow-up must --resume
			}
			b := startBridge(t, bridgeOpts{
				turns: []fakeapi.Turn{fakeapi.Text("first answer"), fakeapi.Text("second answer")},
				init:  map[string]any{"followUpIdleSeconds": idle},
			})
			r1 := b.result(b.run(map[string]any{"prompt": "remember the word pelican", "taskId": "f1"}))
			if r1.Status != "completed" {
				t.Fatalf("first = %+v", r1)
			}
			if mode == "resume" {
				assertNoProcesses(t, b.ws(0))
			}
			args := map[string]any{"taskId": "f1", "prompt": "which word?", "newTaskId": "f2"}
			if mode == "other-model" {
				args["model"] = "claude-haiku-4-5" // the idle process cannot switch: a new one resumes
			}
			call := b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{args}})
			r2 := b.result(call)
			if r2.Status != "completed" || r2.Result != "second answer" || r2.TaskID != "f2" {
				t.Fatalf("follow-up = %+v", r2)
			}
			if r2.SessionID != r1.SessionID {
				t.Errorf("follow-up session %q, first %q", r2.SessionID, r1.SessionID)
			}
			reqs := b.api.MessageRequests()
			last := reqs[len(reqs)-1]
			if last.Turn != 1 || !strings.Contains(last.UserText(), "pelican") || !strings.Contains(last.UserText(), "which word?") {
				t.Errorf("the API's last request (turn %d) lacks the earlier conversation: %q", last.Turn, last.UserText())
			}
			if mode == "other-model" && last.Model != "claude-haiku-4-5" {
				t.Errorf("follow-up model = %q", last.Model)
			}
		})
	}
}

func TestFollowUpOfRunningTaskRefused(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(30 * time.Second)}})
	call := b.run(map[string]any{"prompt": "slow", "taskId": "busy"})
	if _, err := b.client.WaitFor("claude/event", 10*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	err := b.command("claude.followUp", map[string]any{"taskId": "busy", "prompt": "more"}, nil)
	if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), "still") {
		t.Errorf("follow-up of a running task: %v", err)
	}
	_ = b.command("claude.cancel", map[string]string{"taskId": "busy"}, nil)
	b.result(call)
}

func TestShutdownWhileTaskRuns(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(60 * time.Second)}})
	call := b.run(map[string]any{"prompt": "slow", "taskId": "s"})
	if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.client.Request("shutdown", nil, nil, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 11*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if res := b.result(call); res.Status != "cancelled" {
		t.Errorf("task after shutdown: %+v", res)
	}
	assertNoProcesses(t, b.ws(0))
	if err := b.command("claude.tasks", nil, nil); err == nil {
		t.Error("requests after shutdown should be refused")
	}
	_ = b.client.Notify("exit", nil)
	select {
	case code := <-b.exit:
		if code != 0 {
			t.Errorf("exit code after shutdown = %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit")
	}
}

func TestEditorGoneWhileTaskRuns(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(60 * time.Second)}})
	b.run(map[string]any{"prompt": "slow", "taskId": "g"})
	if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(claudeProcessesIn(t, b.ws(0))) == 0 {
		t.Fatal("no claude process found while the task runs (the check would prove nothing)")
	}
	start := time.Now()
	b.stdin.Close()
	select {
	case code := <-b.exit:
		if code != 1 {
			t.Errorf("exit code without shutdown = %d, want 1", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the bridge did not exit within 10 s of its stdin closing")
	}
	t.Logf("exited %s after stdin closed", time.Since(start).Round(time.Millisecond))
	assertNoProcesses(t, b.ws(0))
}

func TestClaudeMissing(t *testing.T) {
	b := startBridge(t, bridgeOpts{init: map[string]any{"claudePath": "/nonexistent/bin/claude"}})
	m, err := b.client.WaitFor("window/showMessage", 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Params), "npm install -g @anthropic-ai/claude-code") {
		t.Errorf("warning = %s", m.Params)
	}
	res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "m"}))
	if res.Status != "failed" || !strings.Contains(res.Result, "/nonexistent/bin/claude") || !strings.Contains(res.Result, "npm install -g @anthropic-ai/claude-code") {
		t.Errorf("result = %+v", res)
	}
}

// fakeClaude writes a shell script standing in for claude, for the odd
// cases the real CLI will not produce on demand.
func fakeClaude(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "claude")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

const initLine = `{"type":"system","subtype":"init","session_id":"fake-session","cwd":"/x","model":"fake","permissionMode":"acceptEdits","apiKeySource":"apiKeyHelper","claude_code_version":"0.0.0"}`

func TestClaudeCrashesMidTask(t *testing.T) {
	script := fakeClaude(t, `read line; read line
echo '`+initLine+`'
echo '{"type":"assistant","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"working on it"}]}}'
echo 'fatal: out of memory in the frobnicator' >&2
exit 3
`)
	b := startBridge(t, bridgeOpts{claudePath: script})
	res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "x"}))
	if res.Status != "failed" || !strings.Contains(res.Result, "exited with code 3") || !strings.Contains(res.Result, "out of memory in the frobnicator") {
		t.Errorf("result = %+v", res)
	}
	if kinds := lsptest.Kinds(b.client.Events(t, "x")); !strings.Contains(kinds, "text") || !strings.HasSuffix(kinds, "result") {
		t.Errorf("events = %s", kinds)
	}
}

func TestGarbageOnClaudeStdout(t *testing.T) {
	script := fakeClaude(t, `read line; read line
echo 'Welcome to Claude Code! (not JSON)'
echo '`+initLine+`'
echo '{"type":"assistant","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"still fine"}]}}'
echo '{"broken json'
printf '\033[31mred text\033[0m\n'
echo '{"type":"brand_new_message","payload":42}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"still fine","session_id":"fake-session","num_turns":1,"duration_ms":5,"total_cost_usd":0.001}'
read line
`)
	b := startBridge(t, bridgeOpts{claudePath: script})
	res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "g"}))
	if res.Status != "completed" || res.Result != "still fine" {
		t.Errorf("result = %+v", res)
	}
	other := lsptest.Last[*lspext.OtherEvent](b.client.Events(t, "g"))
	if other == nil || !strings.Contains(string(other.Raw), "brand_new_message") {
		t.Errorf("unknown message type not passed on: %+v", other)
	}
}

// TestSentMessageRefused: claude's schema lets it refuse (or discard, or
// cancel) a message sent into the task; the real CLI does not do it on
// demand. The task, whose result was held until claude took the message,
// ends, and a status event tells the user the message was not taken.
func TestSentMessageRefused(t *testing.T) {
	// Like claude 2.1.332, it reports the prompt's uuid "started" (the
	// bridge's turn begins there), then the sent message's lifecycle.
	script := fakeClaude(t, `read line; read prompt
puuid=$(printf '%s' "$prompt" | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p')
echo '{"type":"command_lifecycle","command_uuid":"'"$puuid"'","state":"started","uuid":"l0","session_id":"fake-session"}'
echo '`+initLine+`'
echo '{"type":"assistant","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"working on it"}]}}'
read sent
uuid=$(printf '%s' "$sent" | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p')
echo '{"type":"command_lifecycle","command_uuid":"'"$uuid"'","state":"queued","uuid":"l1","session_id":"fake-session"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"fake-session","num_turns":1,"duration_ms":5,"total_cost_usd":0.001}'
echo '{"type":"command_lifecycle","command_uuid":"'"$uuid"'","state":"refused","uuid":"l2","session_id":"fake-session"}'
read line
`)
	b := startBridge(t, bridgeOpts{claudePath: script})
	call := b.run(map[string]any{"prompt": "hi", "taskId": "r"})
	if _, _, err := lsptest.WaitEvent[*lspext.TextEvent](t, b.client, "r", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.command(lspext.CommandSend, map[string]any{"taskId": "r", "prompt": "Also this."}, nil); err != nil {
		t.Fatal(err)
	}
	if res := b.result(call); res.Status != "completed" || res.Result != "done" {
		t.Errorf("result = %+v", res)
	}
	evs := b.client.Events(t, "r")
	st := lsptest.Last[*lspext.StatusEvent](evs)
	if st == nil || st.Message != "claude did not take your message “Also this.”: it was refused" {
		t.Errorf("status event = %+v (%s)", st, lsptest.Kinds(evs))
	}
	noLifecycleEvents(t, evs)
}

func TestClaudeSilentIsStoppedByCancel(t *testing.T) {
	script := fakeClaude(t, "sleep 600\n")
	b := startBridge(t, bridgeOpts{claudePath: script})
	call := b.run(map[string]any{"prompt": "hi", "taskId": "h"})
	time.Sleep(300 * time.Millisecond)
	if err := b.command("claude.cancel", map[string]string{"taskId": "h"}, nil); err != nil {
		t.Fatal(err)
	}
	if res := b.result(call); res.Status != "cancelled" {
		t.Errorf("result = %+v", res)
	}
	assertNoProcesses(t, b.ws(0))
}

func TestContextBecomesMentions(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("seen")}})
	res := b.result(b.run(map[string]any{
		"prompt": "explain this", "taskId": "ctx",
		"context": []any{map[string]any{"uri": "file://" + b.ws(0) + "/main.go",
			"range": map[string]any{"start": map[string]int{"line": 2, "character": 0}, "end": map[string]int{"line": 5, "character": 0}}}},
	}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) == 0 || !strings.Contains(reqs[0].UserText(), "explain this\n\n@main.go#L3-5") {
		t.Errorf("prompt sent = %q", reqs[0].UserText())
	}
}

// TestBadRequests: a request that is wrong gets -32602 (-32601 for an
// unknown method) with a message saying what is wrong: the command, the
// argument and the path of the field, in JSON's terms (never Go's);
// arguments are read strictly, so a misspelt or misplaced field is
// refused, not ignored, and so are null, a second argument, a progress
// token that is not LSP's, a range that ends before it starts; the bridge
// serves on, and no task was started.
func TestBadRequests(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	main := "file://" + b.ws(0) + "/main.go"
	rng := func(sl, el int) map[string]any {
		return map[string]any{"start": map[string]int{"line": sl, "character": 0}, "end": map[string]int{"line": el, "character": 0}}
	}
	cmd := func(command string, args ...any) map[string]any {
		return map[string]any{"command": command, "arguments": args}
	}
	cases := []struct {
		params any
		want   string
	}{
		{cmd("claude.run", map[string]any{"prompt": "x", "workspaceFolder": "file:///not/a/folder/of/the/editor"}),
			`claude.run: arguments[0].workspaceFolder "file:///not/a/folder/of/the/editor" is not one of the editor's workspace folders (` + b.ws(0)},
		{cmd("claude.run", map[string]any{"prompt": "x", "workspaceFolder": "file://host/p"}),
			`claude.run: arguments[0].workspaceFolder "file://host/p" names a file on host host, not on this machine`},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{map[string]any{"uri": main}, map[string]any{"uri": "https://example.com/a.go"}}}),
			`claude.run: arguments[0].context[1].uri "https://example.com/a.go" is a https: URI: not a file URI, and no document with that URI is open in the editor`},
		{cmd("claude.run", map[string]any{"prompt": ""}), `claude.run: arguments[0].prompt is "", which is blank`},
		{cmd("claude.run", map[string]any{"prompt": " \n\t"}), `claude.run: arguments[0].prompt is " \n\t", which is blank`},
		{cmd("claude.run", map[string]any{"prompt": nil}), "claude.run: arguments[0].prompt is null, not a string"},
		{cmd("claude.run", map[string]any{}), `claude.run: arguments[0] lacks the required field "prompt"`},
		{cmd("claude.run"), "claude.run: arguments[0] is missing"},
		{cmd("claude.run", nil), "claude.run: arguments[0] is null, not an object"},
		{cmd("claude.run", map[string]any{"prompt": "x", "permissionMode": "yolo"}),
			`claude.run: arguments[0].permissionMode is "yolo", not one of "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"`},
		{cmd("claude.run", map[string]any{"prompt": "x", "model": nil}), "claude.run: arguments[0].model is null: leave the field out instead"},
		{cmd("claude.run", map[string]any{"prompt": "x", "taskID": "t"}), `claude.run: arguments[0] has an unknown field "taskID"`},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{map[string]any{"uri": "file:///a", "rnge": map[string]any{}}}}),
			`claude.run: arguments[0].context[0] has an unknown field "rnge"`},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{main}}), `claude.run: arguments[0].context[0] is "file://`},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{map[string]any{"uri": main}, map[string]any{"uri": 5}}}),
			"claude.run: arguments[0].context[1].uri is 5, not a string"},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{nil}}), "claude.run: arguments[0].context[0] is null, not an object"},
		{cmd("claude.run", map[string]any{"prompt": "x", "context": []any{map[string]any{"uri": main, "range": rng(4, 1)}}}),
			"claude.run: arguments[0].context[0].range ends (line 1, character 0) before it starts (line 4, character 0)"},
		{cmd("claude.run", map[string]any{"prompt": 42}), "claude.run: arguments[0].prompt is 42, not a string"},
		{cmd("claude.run", "just a prompt"), `claude.run: arguments[0] is "just a prompt", not an object`},
		{cmd("claude.run", map[string]any{"prompt": "two"}, map[string]any{"junk": true}), "claude.run: arguments[1]: claude.run takes one argument (arguments[0]), not 2"},
		{map[string]any{"command": "claude.run", "arguments": "do it"}, `workspace/executeCommand: params.arguments is "do it", not an array`},
		{map[string]any{"command": 5, "arguments": []any{}}, "workspace/executeCommand: params.command is 5, not a string"},
		{[]any{1, 2}, "workspace/executeCommand: params is an array, not an object"},
		{map[string]any{"command": "claude.run", "arguments": []any{map[string]any{"prompt": "tok"}}, "workDoneToken": true},
			"workspace/executeCommand: params.workDoneToken is true, not an integer or a string"},
		{map[string]any{"command": "claude.run", "arguments": []any{map[string]any{"prompt": "tok"}}, "workDoneToken": map[string]any{"a": 1}},
			"workspace/executeCommand: params.workDoneToken is an object, not an integer or a string"},
		{cmd("claude.followUp", map[string]any{"taskId": "t", "prompt": "p", "newTaskID": "x"}), `claude.followUp: arguments[0] has an unknown field "newTaskID"`},
		{cmd("claude.followUp", map[string]any{"prompt": "p"}), `claude.followUp: arguments[0] needs one of the fields "taskId" or "sessionId"`},
		{cmd("claude.cancel", map[string]any{"taskId": "t", "force": true}), `claude.cancel: arguments[0] has an unknown field "force"`},
		{cmd("claude.cancel", map[string]any{}), `claude.cancel: arguments[0] lacks the required field "taskId"`},
		{cmd("claude.cancel", map[string]any{"taskId": ""}), `claude.cancel: arguments[0].taskId is "", which is blank`},
		{cmd("claude.cancel", map[string]string{"taskId": "ghost"}), `claude.cancel: arguments[0].taskId "ghost" names no task`},
		{cmd("claude.cancel", map[string]string{"taskId": strings.Repeat("T", 1_000_000)}),
			`claude.cancel: arguments[0].taskId "` + strings.Repeat("T", 64) + `…" (1000000 characters) names no task`},
		{cmd("claude.cancel", "ghost"), `claude.cancel: arguments[0] is "ghost", not an object`},
		{cmd("claude.tasks", map[string]any{"process": true}), `claude.tasks: arguments[0] has an unknown field "process"`},
		{cmd("claude.tasks", map[string]any{"processes": nil}), "claude.tasks: arguments[0].processes is null: leave the field out instead"},
		{cmd("claude.tasks", 5), "claude.tasks: arguments[0] is 5, not an object"},
		{cmd("claude.authStatus", map[string]any{"verbose": true}), `claude.authStatus: arguments[0] has an unknown field "verbose"`},
		// "" for an id or a name is refused as blank, optional or not, in
		// every command (the schema's pattern "\\S"; README "The protocol").
		{cmd("claude.run", map[string]any{"prompt": "x", "taskId": ""}), `claude.run: arguments[0].taskId is "", which is blank (leave the field out instead)`},
		{cmd("claude.run", map[string]any{"prompt": "x", "sessionId": " "}), `claude.run: arguments[0].sessionId is " ", which is blank (leave the field out instead)`},
		{cmd("claude.run", map[string]any{"prompt": "x", "model": ""}), `claude.run: arguments[0].model is "", which is blank (leave the field out instead)`},
		{cmd("claude.run", map[string]any{"prompt": "x", "workspaceFolder": ""}), `claude.run: arguments[0].workspaceFolder is "", which is not a file:// URI (leave the field out instead)`},
		{cmd("claude.followUp", map[string]any{"taskId": "t", "prompt": "p", "newTaskId": ""}), `claude.followUp: arguments[0].newTaskId is "", which is blank`},
		{cmd("claude.followUp", map[string]any{"sessionId": "", "prompt": "p"}), `claude.followUp: arguments[0].sessionId is "", which is blank`},
		{cmd("claude.followUp", map[string]any{"taskId": "ghost", "prompt": "p"}), `claude.followUp: arguments[0].taskId "ghost": no task "ghost"`},
		{cmd("claude.send", map[string]any{"taskId": "t", "prompt": ""}), `claude.send: arguments[0].prompt is "", which is blank`},
		{cmd("claude.send", map[string]any{"taskId": "t", "prompt": "   "}), `claude.send: arguments[0].prompt is "   ", which is blank`},
		{cmd("claude.send", map[string]any{"taskId": "", "prompt": "x"}), `claude.send: arguments[0].taskId is "", which is blank`},
		{cmd("claude.send", map[string]any{"taskId": "ghost", "prompt": "x"}), `claude.send: arguments[0].taskId "ghost" names no task`},
		{cmd("claude.send", map[string]any{"taskId": "t", "prompt": "x", "images": []any{map[string]any{"data": "AAAA"}}}),
			`claude.send: arguments[0].images[0] has the field "data" without "mediaType", which it needs`},
		{cmd("claude.interrupt", map[string]any{"taskId": ""}), `claude.interrupt: arguments[0].taskId is "", which is blank`},
		{cmd("claude.setPermissionMode", map[string]any{"taskId": "", "mode": "plan"}), `claude.setPermissionMode: arguments[0].taskId is "", which is blank`},
		{cmd("claude.setModel", map[string]any{"taskId": "t", "model": ""}), `claude.setModel: arguments[0].model is "", which is blank`},
		{cmd("claude.setModel", map[string]any{"taskId": "t", "model": " "}), `claude.setModel: arguments[0].model is " ", which is blank`},
		{cmd("claude.transcript", map[string]any{"sessionId": ""}), `claude.transcript: arguments[0].sessionId is "", which is blank`},
		{cmd("claude.transcript", map[string]any{"sessionId": "nope"}), `claude.transcript: arguments[0].sessionId "nope" names no conversation claude keeps for the workspace folders`},
		{cmd("claude.transcript", map[string]any{"sessionId": "nope", "workspaceFolder": "file:///etc"}),
			`claude.transcript: arguments[0].workspaceFolder "file:///etc" is not one of the editor's workspace folders`},
		{cmd("claude.commands", map[string]any{"workspaceFolder": "file:///etc"}), `claude.commands: arguments[0].workspaceFolder "file:///etc" is not one of the editor's workspace folders`},
		{cmd("claude.sessions", map[string]any{"workspaceFolder": ""}), `claude.sessions: arguments[0].workspaceFolder is "", which is not a file:// URI`},
		{cmd("claude.answer", map[string]any{"taskId": "", "toolUseId": "u"}), `claude.answer: arguments[0].taskId is "", which is blank`},
		{cmd("claude.answer", map[string]any{"taskId": "t", "toolUseId": ""}), `claude.answer: arguments[0].toolUseId is "", which is blank`},
		{cmd("claude.answer", map[string]any{"taskId": "t", "toolUseId": "u", "plan": map[string]any{}}), `claude.answer: arguments[0].plan lacks the required field "decision"`},
		{cmd("claude.answer", map[string]any{"taskId": "t", "toolUseId": "u", "plan": map[string]any{"deferred": true}}), `claude.answer: arguments[0].plan has an unknown field "deferred"`},
		{cmd("claude.nope"), `workspace/executeCommand: params.command "claude.nope" is not one of the bridge's commands (claude.run, `},
	}
	for _, c := range cases {
		err := b.client.Request("workspace/executeCommand", c.params, nil, 30*time.Second)
		if err == nil || !strings.Contains(err.Error(), "error -32602") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.200v: %.300v; want -32602 saying %q", c.params, err, c.want)
		}
		if err != nil && goTerms.MatchString(err.Error()) {
			t.Errorf("%.200v: Go's terms in %q", c.params, err)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Errorf("%.200v: an error of %d characters", c.params, len(err.Error()))
		}
	}
	if err := b.client.Request("textDocument/hover", map[string]any{}, nil, 5*time.Second); err == nil || !strings.Contains(err.Error(), "-32601") {
		t.Errorf("unknown method: %v", err)
	}
	if n := len(b.api.MessageRequests()); n != 0 {
		t.Errorf("%d API requests: a bad request started a task", n)
	}
	// No argument, or an empty one, is fine where nothing is required.
	for _, cmd := range []string{"claude.tasks", "claude.authStatus"} {
		if err := b.command(cmd, map[string]any{}, nil); err != nil {
			t.Errorf("%s {}: %v", cmd, err)
		}
		if err := b.client.Request("workspace/executeCommand", map[string]any{"command": cmd}, nil, 30*time.Second); err != nil {
			t.Errorf("%s without arguments: %v", cmd, err)
		}
	}
}

// goTerms matches Go's words, which no message to an editor uses.
var goTerms = regexp.MustCompile(`\b(Go|struct|unmarshal|int|int32|int64|uint32|float64|bool|RawMessage)\b|json\.|\[\]`)

// TestFollowUpOfTwoConversationsRefused: taskId and sessionId of different
// conversations are refused, rather than one of them ignored.
func TestFollowUpOfTwoConversationsRefused(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("one"), fakeapi.Text("two")}})
	first := b.result(b.run(map[string]any{"prompt": "one", "taskId": "one"}))
	second := b.result(b.run(map[string]any{"prompt": "two", "taskId": "two"}))
	err := b.command("claude.followUp", map[string]any{"taskId": "one", "sessionId": second.SessionID, "prompt": "which?"}, nil)
	if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), "not the sessionId") {
		t.Errorf("followUp of two conversations: %v", err)
	}
	var res lspext.RunResult
	if err := b.command("claude.followUp", map[string]any{"taskId": "one", "sessionId": first.SessionID, "prompt": "and?"}, &res); err != nil || res.SessionID != first.SessionID {
		t.Errorf("followUp with the task and its own session: %v %+v", err, res)
	}
}

// TestCancelOfARefusedRunIsNotTrue: a claude.cancel that overtakes a
// claude.run whose arguments are wrong (read while the run is decoded)
// does not answer cancelled: true for a task that never exists (issue 12).
func TestCancelOfARefusedRunIsNotTrue(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	main := "file://" + b.ws(0) + "/main.go"
	ctx := make([]any, 0, 20001)
	for i := 0; i < 20000; i++ {
		ctx = append(ctx, map[string]any{"uri": main})
	}
	ctx = append(ctx, map[string]any{"uri": main, "bad": 1})
	runBody, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "ghost-run", "method": "workspace/executeCommand",
		"params": map[string]any{"command": "claude.run", "arguments": []any{map[string]any{"prompt": "x", "taskId": "GHOST", "context": ctx}}}})
	cancelBody := `{"jsonrpc":"2.0","id":"ghost-cancel","method":"workspace/executeCommand","params":{"command":"claude.cancel","arguments":[{"taskId":"GHOST"}]}}`
	if err := b.client.WriteRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%sContent-Length: %d\r\n\r\n%s", len(runBody), runBody, len(cancelBody), cancelBody)); err != nil {
		t.Fatal(err)
	}
	reply := func(id string) lsptest.Message {
		m, err := b.client.WaitFor("", 60*time.Second, func(m lsptest.Message) bool { return string(m.ID) == `"`+id+`"` })
		if err != nil {
			t.Fatalf("no reply to %s: %v", id, err)
		}
		return m
	}
	run, cancel := reply("ghost-run"), reply("ghost-cancel")
	if run.Error == nil || run.Error.Code != -32602 || !strings.Contains(run.Error.Message, `arguments[0].context[20000] has an unknown field "bad"`) {
		t.Errorf("run: %+v", run.Error)
	}
	if cancel.Error == nil || cancel.Error.Code != -32602 || !strings.Contains(cancel.Error.Message, `arguments[0].taskId "GHOST" names no task`) {
		t.Errorf("cancel of a run refused: result %s, error %+v; want -32602 no task", cancel.Result, cancel.Error)
	}
	var tasks []lspext.TaskInfo
	if err := b.command("claude.tasks", nil, &tasks); err != nil || len(tasks) != 0 {
		t.Errorf("tasks: %v %+v", err, tasks)
	}
}

func TestMalformedFramesKeepTheServerUp(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	bad := []string{
		"Content-Length: 9\r\n\r\n{not json",
		"Content-Length: 2\r\n\r\n[]",
		"X-Nonsense: 1\r\n\r\n",
		"Content-Length: 27\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":true}",
	}
	for _, f := range bad {
		if err := b.client.WriteRaw(f); err != nil {
			t.Fatal(err)
		}
	}
	// A lower-case header is fine.
	body := `{"jsonrpc":"2.0","id":"lower","method":"workspace/executeCommand","params":{"command":"claude.tasks","arguments":[]}}`
	if err := b.client.WriteRaw(fmt.Sprintf("content-length: %d\r\n\r\n%s", len(body), body)); err != nil {
		t.Fatal(err)
	}
	var tasks []lspext.TaskInfo
	if err := b.command("claude.tasks", nil, &tasks); err != nil {
		t.Fatalf("the server stopped serving after bad frames: %v", err)
	}
	// Requests are served concurrently: the reply to "lower" may come
	// after the one to claude.tasks.
	if _, err := b.client.WaitFor("", 10*time.Second, func(m lsptest.Message) bool { return string(m.ID) == `"lower"` }); err != nil {
		t.Error("no reply to the request framed with a lower-case header")
	}
	var codes []int
	for _, m := range b.client.Messages("") {
		if m.Method == "" && m.Error != nil && string(m.ID) == "null" {
			codes = append(codes, m.Error.Code)
		}
	}
	want := []int{-32700, -32600, -32700, -32600}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("error replies = %v, want %v", codes, want)
	}
}

// A cancel sent in the same breath as the run (before the bridge has
// started the task) still cancels it, by task id and by progress token.
func TestCancelOvertakingTheStart(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(60 * time.Second)}})
	for i, route := range []string{"claude.cancel", "progress", "claude.cancel", "progress"} {
		id := fmt.Sprintf("race-%d", i)
		run := fmt.Sprintf(`{"jsonrpc":"2.0","id":"%s","method":"workspace/executeCommand","params":{"command":"claude.run","workDoneToken":"tok-%s","arguments":[{"prompt":"slow","taskId":"%s"}]}}`, id, id, id)
		var cancel string
		if route == "claude.cancel" {
			cancel = fmt.Sprintf(`{"jsonrpc":"2.0","id":"c-%s","method":"workspace/executeCommand","params":{"command":"claude.cancel","arguments":[{"taskId":"%s"}]}}`, id, id)
		} else {
			cancel = fmt.Sprintf(`{"jsonrpc":"2.0","method":"window/workDoneProgress/cancel","params":{"token":"tok-%s"}}`, id)
		}
		frames := fmt.Sprintf("Content-Length: %d\r\n\r\n%sContent-Length: %d\r\n\r\n%s", len(run), run, len(cancel), cancel)
		if err := b.client.WriteRaw(frames); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		var reply *lsptest.Message
		for reply == nil && time.Now().Before(deadline) {
			for _, m := range b.client.Messages("") {
				if string(m.ID) == `"`+id+`"` {
					m := m
					reply = &m
				}
				if string(m.ID) == `"c-`+id+`"` && (m.Error != nil || string(m.Result) != `{"cancelled":true}`) {
					t.Errorf("%s: cancel answered %s %+v, want cancelled: true", id, m.Result, m.Error)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if reply == nil {
			t.Fatalf("%s (%s): no reply: the cancel was lost", id, route)
		}
		res := lsptest.Decode[lspext.RunResult](t, "claude.run reply", reply.Result)
		if res.Status != lspext.StatusCancelled {
			t.Errorf("%s (%s): result = %+v", id, route, res)
		}
	}
	assertNoProcesses(t, b.ws(0))
}

// TestThinkingTokensAreNotEvents: claude 2.1.332 sends a system
// thinking_tokens message per thinking delta (measured: 300 for 300 words);
// the editor gets the thinking, and none of those messages (issue 16).
func TestThinkingTokensAreNotEvents(t *testing.T) {
	words := make([]string, 120)
	for i := range words {
		words[i] = fmt.Sprintf("thought%d", i)
	}
	thinking := strings.Join(words, " ")
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{{Blocks: []fakeapi.Block{{Type: "thinking", Text: thinking}, {Type: "text", Text: "The answer is 42."}}}}})
	res := b.result(b.run(map[string]any{"prompt": "think hard", "taskId": "th"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	var got strings.Builder
	for _, ev := range b.client.Events(t, "th") {
		switch e := ev.(type) {
		case *lspext.OtherEvent:
			t.Errorf("other event: %s", e.Raw)
		case *lspext.ThinkingEvent:
			got.WriteString(e.Text)
		}
	}
	if got.String() != thinking {
		t.Errorf("thinking = %q", got.String())
	}
}

// TestUnknownSystemMessagesFolded: a run of system messages of a kind the
// bridge has no event for is passed on once; claude's informational and
// notification messages are status events with their text (issue 16).
func TestUnknownSystemMessagesFolded(t *testing.T) {
	script := fakeClaude(t, `read line; read line
echo '`+initLine+`'
for i in 1 2 3 4 5; do echo '{"type":"system","subtype":"brand_new_delta","n":'$i'}'; done
echo '{"type":"system","subtype":"informational","content":"A hook was skipped.","level":"warning"}'
echo '{"type":"system","subtype":"notification","key":"k","text":"Fast mode is off.","priority":"high"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"fake-session","num_turns":1,"duration_ms":5,"total_cost_usd":0.001}'
read line
`)
	b := startBridge(t, bridgeOpts{claudePath: script})
	if res := b.result(b.run(map[string]any{"prompt": "hi", "taskId": "s"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	var others, statuses []string
	for _, ev := range b.client.Events(t, "s") {
		switch e := ev.(type) {
		case *lspext.OtherEvent:
			others = append(others, string(e.Raw))
		case *lspext.StatusEvent:
			statuses = append(statuses, e.Message)
		}
	}
	if len(others) != 1 || !strings.Contains(others[0], `"n":1`) {
		t.Errorf("other events = %v, want the first brand_new_delta only", others)
	}
	want := []string{"claude: A hook was skipped.", "claude: Fast mode is off."}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("status events = %q, want %q", statuses, want)
	}
}

// exit right behind shutdown, before its reply (an editor that does not
// wait for it, or cannot read it): LSP's exit code is 0 when the shutdown
// request was received before exit, and the task's claude is gone all the
// same.
func TestExitRightAfterShutdownExitsZero(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slowTurn(60 * time.Second)}})
	call := b.run(map[string]any{"prompt": "slow", "taskId": "s"})
	if _, _, err := lsptest.WaitEvent[*lspext.StartedEvent](t, b.client, "", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	b.client.Start("shutdown", nil)
	_ = b.client.Notify("exit", nil)
	select {
	case code := <-b.exit:
		if code != 0 {
			t.Errorf("exit code = %d, want 0: the shutdown request came before exit", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit")
	}
	assertNoProcesses(t, b.ws(0))
	_ = call
}
