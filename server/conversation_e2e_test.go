package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner/sessions"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/lsptest"
	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// End-to-end tests of the conversation beyond tool permissions (issue
// 14): claude's questions, plans, to-dos, modes, steering, input. Each
// runs the real claude CLI against the stand-in; what the stand-in received
// is the proof of what reached the API.

// declaring adds capabilities.experimental.claudeBridge to initialize.
func declaring(caps map[string]any) func(map[string]any, []string) {
	return func(params map[string]any, _ []string) {
		c := params["capabilities"].(map[string]any)
		c["experimental"] = map[string]any{"claudeBridge": caps}
	}
}

// apiMessage is a message of a request's messages array.
type apiMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// eachLastMessages calls fn with the messages of each request the API
// received, the last request first, until fn returns true.
func eachLastMessages(api *fakeapi.Server, fn func([]apiMessage) bool) {
	reqs := api.MessageRequests()
	for i := len(reqs) - 1; i >= 0; i-- {
		var msgs []apiMessage
		if json.Unmarshal(reqs[i].Messages, &msgs) == nil && fn(msgs) {
			return
		}
	}
}

// toolResult is the content the API received for tool call id, as text
// (the last request that carries it); ok false when none did.
func toolResult(t *testing.T, api *fakeapi.Server, id string) (text string, isError, ok bool) {
	t.Helper()
	eachLastMessages(api, func(msgs []apiMessage) bool {
		for _, m := range msgs {
			var blocks []struct {
				Type      string          `json:"type"`
				ToolUseID string          `json:"tool_use_id"`
				Content   json.RawMessage `json:"content"`
				IsError   bool            `json:"is_error"`
			}
			if m.Role != "user" || json.Unmarshal(m.Content, &blocks) != nil {
				continue
			}
			for _, b := range blocks {
				if b.Type == "tool_result" && b.ToolUseID == id {
					if json.Unmarshal(b.Content, &text) != nil {
						text = string(b.Content)
					}
					isError, ok = b.IsError, true
					return true
				}
			}
		}
		return false
	})
	return text, isError, ok
}

// answering answers every window/showMessageRequest with pick's title and
// returns what lists the requests so far (decoded strictly).
func answering(t *testing.T, b *bridge, pick func(lspext.PermissionRequestParams) string) func() []lspext.PermissionRequestParams {
	var mu sync.Mutex
	var asked []lspext.PermissionRequestParams
	b.client.Handle(lspext.MethodShowMessageRequest, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.PermissionRequestParams](t, lspext.MethodShowMessageRequest, p)
		mu.Lock()
		asked = append(asked, q)
		mu.Unlock()
		return &protocol.MessageActionItem{Title: pick(q)}, nil
	})
	return func() []lspext.PermissionRequestParams {
		mu.Lock()
		defer mu.Unlock()
		return append([]lspext.PermissionRequestParams(nil), asked...)
	}
}

// twoQuestions is an AskUserQuestion input: one single choice, one
// multiple choice.
var twoQuestions = map[string]any{"questions": []any{
	map[string]any{"question": "Which color should the button be?", "header": "Color", "multiSelect": false,
		"options": []any{map[string]any{"label": "Blue", "description": "calm"}, map[string]any{"label": "Red", "description": "loud"}}},
	map[string]any{"question": "Which features do you want?", "header": "Features", "multiSelect": true,
		"options": []any{map[string]any{"label": "Dark mode", "description": "a"}, map[string]any{"label": "Search", "description": "b"},
			map[string]any{"label": "Export", "description": "c"}}},
}}

// TestQuestionsAnsweredThroughClaudeAsk: an editor that declares ask gets
// claude's questions in one claude/ask request (typed: lspext.AskParams,
// decoded strictly) and its answers, multiple choice and a text of the
// user's own, reach the API in the AskUserQuestion result; no permission
// question is asked.
func TestQuestionsAnsweredThroughClaudeAsk(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		turns:      []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions), fakeapi.Text("Blue it is.")},
		initialize: declaring(map[string]any{"ask": true}),
	})
	asked := make(chan lspext.AskParams, 2)
	b.client.Handle(lspext.MethodAsk, func(p json.RawMessage) (any, error) {
		asked <- lsptest.Decode[lspext.AskParams](t, lspext.MethodAsk, p)
		return &lspext.AskResult{Answers: map[string]string{
			"Which color should the button be?": "Blue",
			"Which features do you want?":       "Dark mode, Export",
		}}, nil
	})
	b.client.Handle(lspext.MethodShowMessageRequest, func(p json.RawMessage) (any, error) {
		t.Errorf("a window/showMessageRequest came: %s", p)
		return nil, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "ask me", "taskId": "q"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	q := <-asked
	if q.TaskID != "q" || q.ToolUseID != "toolu_0_0" || len(q.Questions) != 2 ||
		q.Questions[0].Header != "Color" || q.Questions[0].MultiSelect || !q.Questions[1].MultiSelect ||
		len(q.Questions[1].Options) != 3 || q.Questions[1].Options[2].Label != "Export" || q.Questions[0].Options[0].Description != "calm" {
		t.Errorf("claude/ask params = %+v", q)
	}
	text, isErr, ok := toolResult(t, b.api, "toolu_0_0")
	want := `Your questions have been answered: "Which color should the button be?"="Blue", "Which features do you want?"="Dark mode, Export".`
	if !ok || isErr || !strings.Contains(text, want) {
		t.Errorf("the API got %q (error %v, found %v), want it to contain %q", text, isErr, ok, want)
	}
	evs := b.client.Events(t, "q")
	qe := lsptest.Last[*lspext.QuestionEvent](evs)
	if qe == nil || qe.ToolUseID != "toolu_0_0" || qe.Answers["Which features do you want?"] != "Dark mode, Export" || qe.Reason != "" || len(qe.Questions) != 2 {
		t.Errorf("question event = %+v", qe)
	}
	if p := lsptest.Of[*lspext.PermissionEvent](evs); len(p) != 0 {
		t.Errorf("permission events for a question: %+v", p)
	}
	var reports []string
	for _, p := range b.client.Progress(t, "claude-bridge/q") {
		reports = append(reports, p.Message)
	}
	all := strings.Join(reports, "\n")
	if !strings.Contains(all, "Waiting for your answer: Color, Features") || !strings.Contains(all, "Answered: Color: Blue; Features: Dark mode, Export") {
		t.Errorf("progress reports:\n%s", all)
	}
}

// TestQuestionsThroughShowMessageRequest: an editor that does not declare
// ask gets one window/showMessageRequest per question, the options as its
// actions; a text of the user's own cannot be given, a label can, and it
// reaches the API.
func TestQuestionsThroughShowMessageRequest(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions), fakeapi.Text("ok")}})
	questions := answering(t, b, func(q lspext.PermissionRequestParams) string { return q.Actions[len(q.Actions)-1].Title })
	res := b.result(b.run(map[string]any{"prompt": "ask me", "taskId": "f"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	asked := questions()
	if len(asked) != 2 {
		t.Fatalf("%d questions asked, want 2: %+v", len(asked), asked)
	}
	titles := func(q lspext.PermissionRequestParams) []string {
		var out []string
		for _, a := range q.Actions {
			out = append(out, a.Title)
		}
		return out
	}
	if a := asked[0]; a.Message != "Claude asks (Color): Which color should the button be?" || a.ToolName != "AskUserQuestion" ||
		a.TaskID != "f" || a.ToolUseID != "toolu_0_0" || !reflect.DeepEqual(titles(a), []string{"Blue", "Red"}) {
		t.Errorf("first question = %+v", a)
	}
	if a := asked[1]; !strings.HasPrefix(a.Message, "Claude asks (Features): Which features do you want?") ||
		!reflect.DeepEqual(titles(a), []string{"Dark mode", "Search", "Export"}) {
		t.Errorf("second question = %+v", a)
	}
	text, _, _ := toolResult(t, b.api, "toolu_0_0")
	if want := `"Which color should the button be?"="Red", "Which features do you want?"="Export"`; !strings.Contains(text, want) {
		t.Errorf("the API got %q, want %q", text, want)
	}
}

// TestAskRepliesReadAsSent: an answer that is a label exactly, spaces at
// its end included, reaches claude as that label (claude reads it as the
// option, not as text of the user's own); a claude/ask reply that is not
// AskResult's shape (answers as an array) leaves the questions unanswered
// with a reason in JSON's terms, never Go's decoder's words.
func TestAskRepliesReadAsSent(t *testing.T) {
	spaced := map[string]any{"questions": []any{map[string]any{"question": "Pick one", "header": "Pick", "multiSelect": false,
		"options": []any{map[string]any{"label": "Blue ", "description": "a"}, map[string]any{"label": " Red", "description": "b"}}}}}
	b := startBridge(t, bridgeOpts{
		turns:      []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", spaced), fakeapi.ToolUse("AskUserQuestion", twoQuestions), fakeapi.Text("ok")},
		initialize: declaring(map[string]any{"ask": true}),
	})
	calls := 0
	b.client.Handle(lspext.MethodAsk, func(json.RawMessage) (any, error) {
		calls++
		if calls == 1 {
			return json.RawMessage(`{"answers": {"Pick one": "Blue "}}`), nil
		}
		return json.RawMessage(`{"answers": ["Dark mode", "Export"]}`), nil
	})
	if res := b.result(b.run(map[string]any{"prompt": "ask me", "taskId": "sp"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if text, isErr, _ := toolResult(t, b.api, "toolu_0_0"); isErr || !strings.Contains(text, `Your questions have been answered: "Pick one"="Blue ".`) {
		t.Errorf("the label with a space: the API got %q (error %v)", text, isErr)
	}
	why := "the editor's answer could not be read: result.answers is an array, not an object"
	if text, isErr, _ := toolResult(t, b.api, "toolu_1_0"); !isErr || !strings.Contains(text, why) || strings.Contains(text, "unmarshal") {
		t.Errorf("a malformed reply: the API got %q (error %v), want the reason %q", text, isErr, why)
	}
	qs := lsptest.Of[*lspext.QuestionEvent](b.client.Events(t, "sp"))
	if len(qs) != 2 || qs[0].Answers["Pick one"] != "Blue " || qs[1].Reason != why {
		t.Errorf("question events: %+v", qs)
	}
}

// TestFallbackAnswerThatIsNoAction: an editor answering the
// window/showMessageRequest of a question or a plan with a title that is
// none of its actions has not answered: the asking stops as if dismissed,
// claude is told the questions went unanswered and keeps planning, and the
// question and plan events say which answer was not an action.
func TestFallbackAnswerThatIsNoAction(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns(append([]fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions)}, planTurns(b.ws(0))[:2]...))
	asked := answering(t, b, func(q lspext.PermissionRequestParams) string {
		if q.ToolName == "ExitPlanMode" {
			return "Approve everything"
		}
		return "Purple"
	})
	if res := b.result(b.run(map[string]any{"prompt": "ask, then plan", "taskId": "na", "permissionMode": "plan"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if n := len(asked()); n != 2 {
		t.Errorf("%d requests, want 2: the first question stops the asking, then the plan", n)
	}
	evs := b.client.Events(t, "na")
	q := lsptest.Last[*lspext.QuestionEvent](evs)
	if q == nil || len(q.Answers) != 0 || q.Reason != "the editor's answer “Purple” is none of “Blue”, “Red”" {
		t.Errorf("question event = %+v", q)
	}
	if text, isErr, _ := toolResult(t, b.api, "toolu_0_0"); !isErr || !strings.Contains(text, "did not answer") || !strings.Contains(text, "“Purple” is none of") {
		t.Errorf("the question's result: %q (error %v)", text, isErr)
	}
	p := lsptest.Last[*lspext.PlanEvent](evs)
	if p == nil || p.Decision != lspext.PlanKeepPlanning || !strings.HasPrefix(p.Reason, "the editor's answer “Approve everything” is none of “Approve, accept edits”") {
		t.Errorf("plan event = %+v", p)
	}
	if m := lsptest.Of[*lspext.ModeEvent](evs); len(m) != 0 {
		t.Errorf("mode events: %+v", m)
	}
}

// TestPlanApprovedOnlyInAcceptEditsOrDefault: a plan is carried out in
// acceptEdits or default and no other mode (claude 2.1.332 leaves plan mode
// for bypassPermissions or plan as for default, while the bridge said
// otherwise): a claude/plan reply naming another is not understood
// (claude keeps planning, told why, and no mode event comes), claude.answer
// naming another is refused with -32602, and so is an answer of the other
// kind (answers for a plan, a plan for questions); the right answer then
// goes through.
func TestPlanApprovedOnlyInAcceptEditsOrDefault(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"ask": true, "plan": true})})
	plan := planTurns(b.ws(0))
	b.api.SetTurns([]fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions), plan[0], plan[1], plan[1], fakeapi.Text("Done.")})
	refused := func(args map[string]any, want string) {
		t.Helper()
		var r lspext.AnswerResult
		err := b.command(lspext.CommandAnswer, args, &r)
		if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), want) {
			t.Errorf("claude.answer %v: %+v %v, want -32602 saying %q", args, r, err, want)
		}
	}
	accepted := func(args map[string]any) {
		var r lspext.AnswerResult
		if err := b.command(lspext.CommandAnswer, args, &r); err != nil || !r.Accepted {
			t.Errorf("claude.answer %v: %+v %v", args, r, err)
		}
	}
	b.client.Handle(lspext.MethodAsk, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.AskParams](t, lspext.MethodAsk, p)
		go func() { // the editor answers later
			refused(map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID, "plan": map[string]any{"decision": "approve"}}, "is claude's questions")
			accepted(map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID, "answers": map[string]string{"Which color should the button be?": "Red"}})
		}()
		return &lspext.AskResult{Deferred: true}, nil
	})
	plans := 0
	b.client.Handle(lspext.MethodPlan, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.PlanParams](t, lspext.MethodPlan, p)
		if plans++; plans == 1 {
			return json.RawMessage(`{"decision": "approve", "permissionMode": "bypassPermissions"}`), nil
		}
		go func() {
			with := func(k string, v any) map[string]any {
				return map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID, k: v}
			}
			refused(with("plan", map[string]any{"decision": "approve", "permissionMode": "plan"}), `permissionMode is "plan", not one of "acceptEdits", "default"`)
			refused(with("plan", map[string]any{"decision": "approve", "permissionMode": "bypassPermissions"}), `not one of "acceptEdits", "default"`)
			refused(with("answers", map[string]string{"x": "y"}), "is claude's plan")
			accepted(with("plan", map[string]any{"decision": "approve", "permissionMode": "default"}))
		}()
		return &lspext.PlanResult{Deferred: true}, nil
	})
	if res := b.result(b.run(map[string]any{"prompt": "ask, then plan", "taskId": "pm", "permissionMode": "plan"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if text, _, _ := toolResult(t, b.api, "toolu_0_0"); !strings.Contains(text, `"Which color should the button be?"="Red"`) {
		t.Errorf("question result: %q", text)
	}
	why := `the editor's answer could not be read: result.permissionMode is "bypassPermissions", not one of "acceptEdits", "default"`
	if text, isErr, _ := toolResult(t, b.api, "toolu_2_0"); !isErr || !strings.Contains(text, why) {
		t.Errorf("the first plan's result: %q (error %v), want %q", text, isErr, why)
	}
	if text, _, _ := toolResult(t, b.api, "toolu_3_0"); !strings.Contains(text, "User has approved your plan") {
		t.Errorf("the second plan's result: %q", text)
	}
	evs := b.client.Events(t, "pm")
	ps := lsptest.Of[*lspext.PlanEvent](evs)
	if len(ps) != 2 || ps[0].Decision != lspext.PlanKeepPlanning || ps[0].Reason != why || ps[1].Decision != lspext.PlanApprove || ps[1].PermissionMode != lspext.PlanModeDefault {
		t.Errorf("plan events: %+v", ps)
	}
	ms := lsptest.Of[*lspext.ModeEvent](evs)
	if len(ms) != 1 || ms[0].PermissionMode != "default" {
		t.Errorf("mode events: %+v, want one: default", ms)
	}
}

// TestAnswerAfterCancelIsNotAccepted: once claude.cancel has answered
// cancelled: true, a deferred question of the task takes no answer
// (accepted: false), every time.
func TestAnswerAfterCancelIsNotAccepted(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions)}, initialize: declaring(map[string]any{"ask": true})})
	asked := make(chan lspext.AskParams, 1)
	b.client.Handle(lspext.MethodAsk, func(p json.RawMessage) (any, error) {
		asked <- lsptest.Decode[lspext.AskParams](t, lspext.MethodAsk, p)
		return &lspext.AskResult{Deferred: true}, nil
	})
	call := b.run(map[string]any{"prompt": "ask me", "taskId": "ac"})
	q := <-asked
	var c lspext.CancelResult
	if err := b.command(lspext.CommandCancel, map[string]any{"taskId": "ac"}, &c); err != nil || !c.Cancelled {
		t.Fatalf("claude.cancel: %+v %v", c, err)
	}
	var r lspext.AnswerResult
	if err := b.command(lspext.CommandAnswer, map[string]any{"taskId": "ac", "toolUseId": q.ToolUseID,
		"answers": map[string]string{"Which color should the button be?": "Red"}}, &r); err != nil || r.Accepted {
		t.Errorf("claude.answer after the cancel: %+v %v, want accepted false", r, err)
	}
	if res := b.result(call); res.Status != "cancelled" {
		t.Errorf("result = %+v", res)
	}
}

// TestSendThenCancelCostsNothing: a message sent into a task just before
// it is cancelled is taken back from claude's queue (cancel_async_message):
// no further API request, no userMessage or text event for the cancelled
// task, and a status event says the message was withdrawn.
func TestSendThenCancelCostsNothing(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slow(fakeapi.Text("never"), 60*time.Second), fakeapi.Text("an answer to the message")}})
	call := b.run(map[string]any{"prompt": "a long job", "taskId": "sc"})
	waitAPI(t, b, 1)
	if err := b.command(lspext.CommandSend, map[string]any{"taskId": "sc", "prompt": "then cancel"}, nil); err != nil {
		t.Fatal(err)
	}
	var c lspext.CancelResult
	if err := b.command(lspext.CommandCancel, map[string]any{"taskId": "sc"}, &c); err != nil || !c.Cancelled {
		t.Fatalf("claude.cancel: %+v %v", c, err)
	}
	if res := b.result(call); res.Status != "cancelled" {
		t.Fatalf("result = %+v", res)
	}
	// The reply comes once claude is gone: any request it made is in.
	if reqs := b.api.MessageRequests(); len(reqs) != 1 {
		t.Errorf("%d API requests, want 1: the message cost one of its own (%s)", len(reqs), userText(b, -1))
	}
	evs := b.client.Events(t, "sc")
	if n := len(lsptest.Of[*lspext.UserMessageEvent](evs)) + len(lsptest.Of[*lspext.TextEvent](evs)); n != 0 {
		t.Errorf("%d userMessage and text events for the cancelled task (%s)", n, lsptest.Kinds(evs))
	}
	st := lsptest.Last[*lspext.StatusEvent](evs)
	if st == nil || st.Message != "Your message “then cancel” was withdrawn with the task: claude did not read it" {
		t.Errorf("status event = %+v", st)
	}
}

// TestDismissedQuestionsTellClaude: a null reply to claude/ask is no
// answer; claude is told so (an error result saying why), and the
// question event says why.
func TestDismissedQuestionsTellClaude(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		turns:      []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions), fakeapi.Text("fine")},
		initialize: declaring(map[string]any{"ask": true}),
	})
	b.client.Handle(lspext.MethodAsk, func(json.RawMessage) (any, error) { return nil, nil })
	if res := b.result(b.run(map[string]any{"prompt": "ask", "taskId": "d"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	text, isErr, _ := toolResult(t, b.api, "toolu_0_0")
	if !isErr || !strings.Contains(text, "The user did not answer the questions (dismissed in the editor)") {
		t.Errorf("the API got %q (error %v)", text, isErr)
	}
	if qe := lsptest.Last[*lspext.QuestionEvent](b.client.Events(t, "d")); qe == nil || len(qe.Answers) != 0 || qe.Reason != "dismissed in the editor" {
		t.Errorf("question event = %+v", qe)
	}
}

// TestRepliesOfAnotherShapeAreRefused: the editor's replies to claude/ask
// and claude/plan are decoded as strictly as its commands (lspext.Decode):
// one the schema refuses leaves the questions unanswered, or claude
// planning, saying where and what was wrong, never a Go error (issue 12:
// "one strict decoder for everything the editor sends").
func TestRepliesOfAnotherShapeAreRefused(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		turns:      []fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions), fakeapi.Text("fine")},
		initialize: declaring(map[string]any{"ask": true, "plan": true}),
	})
	b.client.Handle(lspext.MethodAsk, func(json.RawMessage) (any, error) {
		return map[string]any{"answers": map[string]any{"Which color should the button be?": 5}}, nil
	})
	if res := b.result(b.run(map[string]any{"prompt": "ask", "taskId": "bad"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	want := `the editor's answer could not be read: result.answers.Which color should the button be? is 5, not a string`
	if qe := lsptest.Last[*lspext.QuestionEvent](b.client.Events(t, "bad")); qe == nil || len(qe.Answers) != 0 || qe.Reason != want {
		t.Errorf("question event = %+v, want the reason %q", qe, want)
	}
	text, isErr, _ := toolResult(t, b.api, "toolu_0_0")
	if !isErr || !strings.Contains(text, want) {
		t.Errorf("the API got %q (error %v)", text, isErr)
	}

	b.api.SetTurns(planTurns(b.ws(0)))
	b.client.Handle(lspext.MethodPlan, func(json.RawMessage) (any, error) { return map[string]any{"decision": "yes"}, nil })
	if res := b.result(b.run(map[string]any{"prompt": "plan", "taskId": "badplan", "permissionMode": "plan"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	want = `the editor's answer could not be read: result.decision is "yes", not one of "approve", "keepPlanning"`
	if pe := lsptest.Last[*lspext.PlanEvent](b.client.Events(t, "badplan")); pe == nil || pe.Decision != lspext.PlanKeepPlanning || pe.Reason != want {
		t.Errorf("plan event = %+v, want keep planning, the reason %q", pe, want)
	}
}

// planTurns: claude (in plan mode) writes its plan file, asks to leave plan
// mode, then edits main.go and ends.
func planTurns(ws string) []fakeapi.Turn {
	return []fakeapi.Turn{
		fakeapi.ToolUse("Write", map[string]any{"file_path": fakeapi.PlanFileVar, "content": "# Plan\n\n1. Change the greeting\n2. Run the tests\n"}),
		fakeapi.ToolUse("ExitPlanMode", map[string]any{}),
		fakeapi.ToolUse("Edit", map[string]any{"file_path": ws + "/main.go", "old_string": `println("hello")`, "new_string": `println("hello, world")`}),
		fakeapi.Text("Done."),
	}
}

// TestPlanApprovedThroughClaudePlan: an editor that declares plan gets the
// plan in claude/plan, with a copy under the bridge's state directory to
// open; approved in acceptEdits, claude leaves plan mode for acceptEdits
// and its next Edit is not asked about; the plan file is not an edited
// file of the task.
func TestPlanApprovedThroughClaudePlan(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"plan": true})})
	b.api.SetTurns(planTurns(b.ws(0)))
	plans := make(chan lspext.PlanParams, 2)
	b.client.Handle(lspext.MethodPlan, func(p json.RawMessage) (any, error) {
		plans <- lsptest.Decode[lspext.PlanParams](t, lspext.MethodPlan, p)
		return &lspext.PlanResult{Decision: lspext.PlanApprove, PermissionMode: lspext.PlanModeAcceptEdits}, nil
	})
	b.client.Handle(lspext.MethodShowMessageRequest, func(p json.RawMessage) (any, error) {
		t.Errorf("asked with window/showMessageRequest: %s", p)
		return nil, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "plan the greeting", "taskId": "pl", "permissionMode": "plan"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	p := <-plans
	const plan = "# Plan\n\n1. Change the greeting\n2. Run the tests\n"
	if p.TaskID != "pl" || p.ToolUseID != "toolu_1_0" || p.Plan != plan || !strings.HasPrefix(p.URI, "file://") {
		t.Fatalf("claude/plan params = %+v", p)
	}
	if copyOf, err := os.ReadFile(strings.TrimPrefix(p.URI, "file://")); err != nil || string(copyOf) != plan {
		t.Errorf("the plan's copy at %s: %q %v", p.URI, copyOf, err)
	}
	if text, _, _ := toolResult(t, b.api, "toolu_1_0"); !strings.Contains(text, "User has approved your plan") {
		t.Errorf("ExitPlanMode result: %q", text)
	}
	if text, isErr, _ := toolResult(t, b.api, "toolu_2_0"); isErr || !strings.Contains(text, "updated successfully") {
		t.Errorf("Edit result: %q (error %v)", text, isErr)
	}
	if b, _ := os.ReadFile(filepath.Join(b.ws(0), "main.go")); !strings.Contains(string(b), "hello, world") {
		t.Errorf("main.go = %s", b)
	}
	evs := b.client.Events(t, "pl")
	pe := lsptest.Last[*lspext.PlanEvent](evs)
	if pe == nil || pe.Decision != lspext.PlanApprove || pe.PermissionMode != lspext.PlanModeAcceptEdits || pe.Plan != plan || pe.URI != p.URI {
		t.Errorf("plan event = %+v", pe)
	}
	if m := lsptest.Last[*lspext.ModeEvent](evs); m == nil || m.PermissionMode != "acceptEdits" {
		t.Errorf("mode event = %+v (%s)", m, lsptest.Kinds(evs))
	}
	if len(res.EditedFiles) != 1 || !strings.HasSuffix(res.EditedFiles[0], "/main.go") {
		t.Errorf("editedFiles = %v", res.EditedFiles)
	}
}

// TestPlanSentBackWithFeedback: keep planning with feedback leaves claude
// in plan mode, and the model reads the feedback.
func TestPlanSentBackWithFeedback(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"plan": true})})
	b.api.SetTurns([]fakeapi.Turn{planTurns(b.ws(0))[0], planTurns(b.ws(0))[1], fakeapi.Text("Revising the plan.")})
	b.client.Handle(lspext.MethodPlan, func(json.RawMessage) (any, error) {
		return &lspext.PlanResult{Decision: lspext.PlanKeepPlanning, Feedback: "Also update the README."}, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "plan it", "taskId": "fb", "permissionMode": "plan"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	text, isErr, _ := toolResult(t, b.api, "toolu_1_0")
	if !isErr || !strings.Contains(text, "keep planning. Their feedback on the plan: Also update the README.") {
		t.Errorf("ExitPlanMode result: %q (error %v)", text, isErr)
	}
	evs := b.client.Events(t, "fb")
	if pe := lsptest.Last[*lspext.PlanEvent](evs); pe == nil || pe.Decision != lspext.PlanKeepPlanning || pe.Feedback != "Also update the README." {
		t.Errorf("plan event = %+v", pe)
	}
	if m := lsptest.Of[*lspext.ModeEvent](evs); len(m) != 0 {
		t.Errorf("mode events while still planning: %+v", m)
	}
}

// TestPlanThroughShowDocument: an editor without the plan capability that
// can show documents gets the plan's copy opened (window/showDocument) and
// the choice as a window/showMessageRequest; approved asking before edits,
// claude leaves plan mode for default and its next Edit is asked about.
func TestPlanThroughShowDocument(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: func(params map[string]any, _ []string) {
		w := params["capabilities"].(map[string]any)["window"].(map[string]any)
		w["showDocument"] = map[string]any{"support": true}
	}})
	b.api.SetTurns(planTurns(b.ws(0)))
	shown := make(chan string, 2)
	b.client.Handle("window/showDocument", func(p json.RawMessage) (any, error) {
		var sd struct {
			URI       string `json:"uri"`
			TakeFocus bool   `json:"takeFocus"`
		}
		_ = json.Unmarshal(p, &sd)
		shown <- sd.URI
		return map[string]any{"success": true}, nil
	})
	questions := answering(t, b, func(q lspext.PermissionRequestParams) string {
		if q.ToolName == "ExitPlanMode" {
			return "Approve, ask before edits"
		}
		return "Allow"
	})
	res := b.result(b.run(map[string]any{"prompt": "plan it", "taskId": "sd", "permissionMode": "plan"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	uri := <-shown
	if b, err := os.ReadFile(strings.TrimPrefix(uri, "file://")); err != nil || !strings.HasPrefix(string(b), "# Plan") {
		t.Errorf("shown %s: %q %v", uri, b, err)
	}
	asked := questions()
	if len(asked) != 2 || asked[0].ToolName != "ExitPlanMode" || !strings.Contains(asked[0].Message, "opened beside this") ||
		asked[1].ToolName != "Edit" {
		t.Fatalf("questions = %+v", asked)
	}
	var titles []string
	for _, a := range asked[0].Actions {
		titles = append(titles, a.Title)
	}
	if strings.Join(titles, "|") != "Approve, accept edits|Approve, ask before edits|Keep planning" {
		t.Errorf("plan actions = %v", titles)
	}
	if m := lsptest.Last[*lspext.ModeEvent](b.client.Events(t, "sd")); m == nil || m.PermissionMode != "default" {
		t.Errorf("mode event = %+v", m)
	}
}

// TestTodoWriteAsEventsAndProgress: claude's TodoWrite list (with the
// switches that give the model TodoWrite) comes as todos events, and the
// progress shows the item in progress before what claude does.
func TestTodoWriteAsEventsAndProgress(t *testing.T) {
	todos := func(statuses ...string) map[string]any {
		items := []any{}
		for i, st := range statuses {
			name := []string{"Read the code", "Run the tests", "Fix the bug"}[i]
			active := []string{"Reading the code", "Running the tests", "Fixing the bug"}[i]
			items = append(items, map[string]any{"content": name, "status": st, "activeForm": active})
		}
		return map[string]any{"todos": items}
	}
	b := startBridge(t, bridgeOpts{claudeEnv: []string{"CLAUDE_CODE_ENABLE_TASKS=0", "CLAUDE_CODE_ENABLE_TODO_TOOLS=1"}})
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("TodoWrite", todos("completed", "in_progress", "pending")),
		fakeapi.ToolUse("Read", map[string]any{"file_path": b.ws(0) + "/main.go"}),
		fakeapi.ToolUse("TodoWrite", todos("completed", "completed", "completed")),
		fakeapi.Text("All done."),
	})
	res := b.result(b.run(map[string]any{"prompt": "work through it", "taskId": "td"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	evs := lsptest.Of[*lspext.TodosEvent](b.client.Events(t, "td"))
	if len(evs) != 2 {
		t.Fatalf("%d todos events, want 2", len(evs))
	}
	first := evs[0]
	if first.ToolUseID != "toolu_0_0" || len(first.Todos) != 3 ||
		first.Todos[1] != (lspext.Todo{Content: "Run the tests", Status: lspext.TodoInProgress, ActiveForm: "Running the tests"}) ||
		first.Todos[2].Status != lspext.TodoPending {
		t.Errorf("first todos event = %+v", first)
	}
	for _, td := range evs[1].Todos {
		if td.Status != lspext.TodoCompleted {
			t.Errorf("last list: %+v", evs[1].Todos)
		}
	}
	var reports []string
	for _, p := range b.client.Progress(t, "claude-bridge/td") {
		reports = append(reports, p.Message)
	}
	all := strings.Join(reports, "\n")
	if !strings.Contains(all, "\n2/3 Running the tests\n") || !strings.Contains(all, "2/3 Running the tests · Read main.go") {
		t.Errorf("progress reports:\n%s", all)
	}
	if strings.Contains(all, "3/3") {
		t.Errorf("a finished list still shows in the progress:\n%s", all)
	}
}

// TestTaskToolsAsTodos: claude's task tools (TaskCreate, TaskUpdate,
// TaskList) make the same todos events: created pending, updated from
// their results, deleted ones gone.
func TestTaskToolsAsTodos(t *testing.T) {
	b := startBridge(t, bridgeOpts{
		claudeEnv: []string{"CLAUDE_CODE_ENABLE_TASKS=1", "CLAUDE_CODE_ENABLE_TODO_TOOLS=1"},
		turns: []fakeapi.Turn{
			fakeapi.ToolUse("TaskCreate", map[string]any{"subject": "Read the code", "description": "look", "activeForm": "Reading the code"}),
			fakeapi.ToolUse("TaskCreate", map[string]any{"subject": "Run the tests", "description": "go test", "activeForm": "Running the tests"}),
			{Blocks: []fakeapi.Block{
				{Type: "tool_use", Name: "TaskUpdate", Input: map[string]any{"taskId": "1", "status": "completed"}},
				{Type: "tool_use", Name: "TaskUpdate", Input: map[string]any{"taskId": "2", "status": "in_progress"}},
			}},
			fakeapi.ToolUse("TaskCreate", map[string]any{"subject": "Tidy up", "description": "x"}),
			fakeapi.ToolUse("TaskUpdate", map[string]any{"taskId": "3", "status": "deleted"}),
			fakeapi.ToolUse("TaskList", map[string]any{}),
			fakeapi.Text("ok"),
		},
	})
	if res := b.result(b.run(map[string]any{"prompt": "tasks", "taskId": "tt"})); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	evs := lsptest.Of[*lspext.TodosEvent](b.client.Events(t, "tt"))
	if len(evs) < 5 {
		t.Fatalf("%d todos events", len(evs))
	}
	want := []lspext.Todo{
		{ID: "1", Content: "Read the code", Status: lspext.TodoCompleted, ActiveForm: "Reading the code"},
		{ID: "2", Content: "Run the tests", Status: lspext.TodoInProgress, ActiveForm: "Running the tests"},
	}
	if last := evs[len(evs)-1].Todos; !reflect.DeepEqual(last, want) {
		t.Errorf("last list = %+v, want %+v", last, want)
	}
	if got := evs[0].Todos; len(got) != 1 || got[0].Status != lspext.TodoPending || got[0].ID != "1" {
		t.Errorf("after the first TaskCreate: %+v", got)
	}
}

// TestSubagentMarkedNotTheTasks: a subagent (claude's Agent tool, in the
// background as by default) keeps a to-do list, writes text, reads and
// writes files; its lines carry parent_tool_use_id. The task's to-do
// list, progress and text stay the task's own: one todos event (the
// task's three items, never the subagent's one), no "1/1" in the
// progress, the subagent's calls shown there as "Subagent: …", and its
// text and calls reach the editor marked with the Agent call's id. (The
// task's last answer waits until the subagent has written its file, so
// the subagent's lines come while the task runs.)
func TestSubagentMarkedNotTheTasks(t *testing.T) {
	todo := func(items ...[3]string) map[string]any {
		var list []any
		for _, it := range items {
			list = append(list, map[string]any{"content": it[0], "status": it[1], "activeForm": it[2]})
		}
		return map[string]any{"todos": list}
	}
	b := startBridge(t, bridgeOpts{claudeEnv: []string{"CLAUDE_CODE_ENABLE_TASKS=0", "CLAUDE_CODE_ENABLE_TODO_TOOLS=1"}})
	notes := filepath.Join(b.ws(0), "notes.txt")
	b.api.SetConversations([]fakeapi.Conversation{{Match: "SUBAGENT: look around", Turns: []fakeapi.Turn{
		{Blocks: []fakeapi.Block{{Type: "text", Text: "looking at main.go"},
			{Type: "tool_use", Name: "TodoWrite", Input: todo([3]string{"sub item", "in_progress", "Doing the sub item"})}}},
		fakeapi.ToolUse("Read", map[string]any{"file_path": filepath.Join(b.ws(0), "main.go")}),
		fakeapi.ToolUse("Write", map[string]any{"file_path": notes, "content": "seen\n"}),
		fakeapi.Text("subagent done"),
	}}})
	main := fakeapi.Text("main done")
	main.HoldUntilFile = notes
	b.api.SetTurns([]fakeapi.Turn{
		fakeapi.ToolUse("TodoWrite", todo([3]string{"one", "completed", "Doing one"}, [3]string{"two", "in_progress", "Doing two"}, [3]string{"three", "pending", "Doing three"})),
		fakeapi.ToolUse("Agent", map[string]any{"description": "look around", "prompt": "SUBAGENT: look around", "subagent_type": "general-purpose"}),
		main,
	})
	res := b.result(b.run(map[string]any{"prompt": "do the work", "taskId": "sa", "permissionMode": "acceptEdits"}))
	if res.Status != "completed" || res.Result != "main done" {
		t.Fatalf("result = %+v", res)
	}
	evs := b.client.Events(t, "sa")
	todos := lsptest.Of[*lspext.TodosEvent](evs)
	if len(todos) != 1 || len(todos[0].Todos) != 3 || todos[0].Todos[1].Content != "two" {
		t.Errorf("todos events: %+v, want one: the task's three items", todos)
	}
	var own, sub strings.Builder
	for _, e := range lsptest.Of[*lspext.TextEvent](evs) {
		switch e.ParentToolUseID {
		case "":
			own.WriteString(e.Text)
		case "toolu_1_0":
			sub.WriteString(e.Text)
		default:
			t.Errorf("text event of parent %q: %+v", e.ParentToolUseID, e)
		}
	}
	if own.String() != "main done" || !strings.HasPrefix(sub.String(), "looking at main.go") {
		t.Errorf("the task's text %q, the subagent's %q", own.String(), sub.String())
	}
	subUses := map[string]string{}
	for _, e := range lsptest.Of[*lspext.ToolUseEvent](evs) {
		if strings.HasPrefix(e.ToolUseID, "toolu_c1_") != (e.ParentToolUseID == "toolu_1_0") {
			t.Errorf("tool use %+v", e)
		}
		if e.ParentToolUseID != "" {
			subUses[e.Name] = e.ParentToolUseID
		}
	}
	if len(subUses) != 3 {
		t.Errorf("the subagent's tool uses, by name → parent: %v", subUses)
	}
	for _, e := range lsptest.Of[*lspext.ToolResultEvent](evs) {
		if strings.HasPrefix(e.ToolUseID, "toolu_c1_") != (e.ParentToolUseID == "toolu_1_0") {
			t.Errorf("tool result %+v", e)
		}
	}
	var reports []string
	for _, p := range b.client.Progress(t, "claude-bridge/sa") {
		reports = append(reports, p.Message)
	}
	all := strings.Join(reports, "\n")
	if strings.Contains(all, "1/1") || strings.Contains(all, "sub item") || !strings.Contains(all, "2/3 Doing two · Subagent: Read main.go") {
		t.Errorf("progress reports:\n%s", all)
	}
}

// slow is a turn the stand-in answers after d: the API request is in
// flight meanwhile.
func slow(t fakeapi.Turn, d time.Duration) fakeapi.Turn {
	t.Delay = d
	return t
}

// waitAPI waits until the stand-in has received n requests.
func waitAPI(t *testing.T, b *bridge, n int) {
	t.Helper()
	if _, err := b.api.WaitRequests(n, 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

// userText is what the user said in the stand-in's request i (-1: the
// last), claude's own reminders included.
func userText(b *bridge, i int) string {
	reqs := b.api.MessageRequests()
	if i < 0 {
		i += len(reqs)
	}
	if i < 0 || i >= len(reqs) {
		return ""
	}
	return reqs[i].UserText()
}

// TestSendReachesTheRunningTurn: a message sent with claude.send while an
// API request of the turn is in flight reaches claude's next request of
// the same turn; a userMessage event says when claude took it.
func TestSendReachesTheRunningTurn(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		slow(fakeapi.ToolUse("Read", map[string]any{"file_path": b.ws(0) + "/main.go"}), 1500*time.Millisecond),
		fakeapi.Text("Read it; the year is noted."),
	})
	call := b.run(map[string]any{"prompt": "read main.go", "taskId": "s"})
	waitAPI(t, b, 1)
	var sent lspext.SendResult
	if err := b.command(lspext.CommandSend, map[string]any{"taskId": "s", "prompt": "Also: mention the year."}, &sent); err != nil || !sent.Sent {
		t.Fatalf("claude.send: %+v %v", sent, err)
	}
	res := b.result(call)
	if res.Status != "completed" || res.Result != "Read it; the year is noted." {
		t.Fatalf("result = %+v", res)
	}
	if n := len(b.api.MessageRequests()); n != 2 {
		t.Errorf("%d API requests, want 2 (one turn)", n)
	}
	if !strings.Contains(userText(b, 1), "Also: mention the year.") || strings.Contains(userText(b, 0), "mention the year") {
		t.Errorf("requests:\n0: %s\n1: %s", userText(b, 0), userText(b, 1))
	}
	evs := b.client.Events(t, "s")
	um := lsptest.Last[*lspext.UserMessageEvent](evs)
	if um == nil || um.Text != "Also: mention the year." {
		t.Errorf("userMessage event = %+v (%s)", um, lsptest.Kinds(evs))
	}
	noLifecycleEvents(t, evs)
	// After its result the task takes no more messages.
	err := b.command(lspext.CommandSend, map[string]any{"taskId": "s", "prompt": "too late"}, nil)
	if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), "not running") {
		t.Errorf("claude.send after the end: %v", err)
	}
}

// TestSendBurstKeepsTheEditorsOrder: fifteen messages sent one right after
// the other (requests the bridge serves concurrently) reach claude, and
// the API, in the order the editor sent them, and their userMessage events
// say so in that order.
func TestSendBurstKeepsTheEditorsOrder(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		slow(fakeapi.ToolUse("Read", map[string]any{"file_path": b.ws(0) + "/main.go"}), 1500*time.Millisecond),
		fakeapi.Text("Read them all."),
	})
	call := b.run(map[string]any{"prompt": "read main.go", "taskId": "burst"})
	waitAPI(t, b, 1)
	const n = 15
	var calls []*lsptest.Call
	for i := 0; i < n; i++ {
		calls = append(calls, b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandSend,
			"arguments": []any{map[string]any{"taskId": "burst", "prompt": fmt.Sprintf("message %02d", i)}}}))
	}
	for i, c := range calls {
		if m, err := c.Wait(30 * time.Second); err != nil || m.Error != nil {
			t.Fatalf("claude.send %d: %v %+v", i, err, m.Error)
		}
	}
	if res := b.result(call); res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("message %02d", i))
	}
	var got []string
	for _, e := range lsptest.Of[*lspext.UserMessageEvent](b.client.Events(t, "burst")) {
		got = append(got, e.Text)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("userMessage events in the order %v, want %v", got, want)
	}
	text, last := userText(b, -1), -1
	for _, w := range want {
		i := strings.Index(text, w)
		if i < last {
			t.Errorf("the API got %q at %d, before the one sent before it (at %d):\n%s", w, i, last, text)
			break
		}
		last = i
	}
}

// TestSendAsTheTurnEnds: a message sent while claude waits for the turn's
// last answer starts a new turn right after it; the task ends with that
// turn (one started event, both answers, the second request carries the
// message).
func TestSendAsTheTurnEnds(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slow(fakeapi.Text("First answer."), 1500*time.Millisecond), fakeapi.Text("Second answer.")}})
	call := b.run(map[string]any{"prompt": "hi", "taskId": "e"})
	waitAPI(t, b, 1)
	if err := b.command(lspext.CommandSend, map[string]any{"taskId": "e", "prompt": "And another thing."}, nil); err != nil {
		t.Fatal(err)
	}
	res := b.result(call)
	if res.Status != "completed" || res.Result != "Second answer." || res.NumTurns != 2 {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(userText(b, -1), "And another thing.") {
		t.Errorf("the last request: %s", userText(b, -1))
	}
	evs := b.client.Events(t, "e")
	var text strings.Builder
	for _, e := range lsptest.Of[*lspext.TextEvent](evs) {
		text.WriteString(e.Text)
	}
	if !strings.Contains(text.String(), "First answer.") || !strings.Contains(text.String(), "Second answer.") {
		t.Errorf("text events: %q", text.String())
	}
	if n := len(lsptest.Of[*lspext.StartedEvent](evs)); n != 1 {
		t.Errorf("%d started events", n)
	}
	if n := len(lsptest.Of[*lspext.ResultEvent](evs)); n != 1 {
		t.Errorf("%d result events", n)
	}
	noLifecycleEvents(t, evs)
}

// noLifecycleEvents fails if claude's command_lifecycle lines about a
// message sent into the task (queued, started) reached the editor: they
// are the bridge's bookkeeping, not something to show.
func noLifecycleEvents(t *testing.T, evs []lspext.Event) {
	t.Helper()
	for _, o := range lsptest.Of[*lspext.OtherEvent](evs) {
		if strings.Contains(string(o.Raw), "command_lifecycle") {
			t.Errorf("command_lifecycle passed on as an other event: %s", o.Raw)
		}
	}
}

// TestSetPermissionModeMidTask: the mode changed while a turn runs applies
// to claude's next tool call: acceptEdits → default makes the next Edit
// ask, default → acceptEdits lets it through without asking.
func TestSetPermissionModeMidTask(t *testing.T) {
	for _, c := range []struct{ from, to string }{{"acceptEdits", "default"}, {"default", "acceptEdits"}} {
		t.Run(c.from+"→"+c.to, func(t *testing.T) {
			b := startBridge(t, bridgeOpts{})
			b.api.SetTurns([]fakeapi.Turn{
				slow(fakeapi.ToolUse("Read", map[string]any{"file_path": b.ws(0) + "/main.go"}), 1500*time.Millisecond),
				fakeapi.ToolUse("Edit", map[string]any{"file_path": b.ws(0) + "/main.go", "old_string": `println("hello")`, "new_string": `println("hi")`}),
				fakeapi.Text("Done."),
			})
			questions := answering(t, b, func(lspext.PermissionRequestParams) string { return "Allow" })
			call := b.run(map[string]any{"prompt": "edit", "taskId": "m", "permissionMode": c.from})
			waitAPI(t, b, 1)
			var r lspext.SetPermissionModeResult
			if err := b.command(lspext.CommandSetPermissionMode, map[string]any{"taskId": "m", "mode": c.to}, &r); err != nil || string(r.PermissionMode) != c.to {
				t.Fatalf("claude.setPermissionMode: %+v %v", r, err)
			}
			if res := b.result(call); res.Status != "completed" {
				t.Fatalf("result = %+v", res)
			}
			asked := questions()
			if wantAsk := c.to == "default"; (len(asked) == 1 && asked[0].ToolName == "Edit") != wantAsk || len(asked) > 1 {
				t.Errorf("questions after switching to %s: %+v", c.to, asked)
			}
			if m := lsptest.Last[*lspext.ModeEvent](b.client.Events(t, "m")); m == nil || m.PermissionMode != c.to {
				t.Errorf("mode event = %+v", m)
			}
			var tasks lspext.TasksResult
			if err := b.command(lspext.CommandTasks, map[string]any{"processes": true}, &tasks); err != nil || tasks.Tasks[0].PermissionMode != c.to {
				t.Errorf("claude.tasks: %+v %v", tasks, err)
			}
		})
	}
}

// TestSetModelAppliesFromTheNextRequest: claude.setModel answers with the
// model claude resolved; the API request in flight keeps its model, the
// very next one (after the tool that ran meanwhile, in the same turn) has
// the new one, and so does a follow-up that names none, in the same claude
// process.
func TestSetModelAppliesFromTheNextRequest(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	b.api.SetTurns([]fakeapi.Turn{
		slow(fakeapi.ToolUse("Read", map[string]any{"file_path": b.ws(0) + "/main.go"}), 1500*time.Millisecond),
		fakeapi.Text("First."), fakeapi.Text("Second."),
	})
	call := b.run(map[string]any{"prompt": "hi", "taskId": "a"})
	waitAPI(t, b, 1)
	var r lspext.SetModelResult
	if err := b.command(lspext.CommandSetModel, map[string]any{"taskId": "a", "model": "sonnet"}, &r); err != nil || r.Model != "claude-sonnet-5-5" {
		t.Fatalf("claude.setModel: %+v %v", r, err)
	}
	if res := b.result(call); res.Status != "completed" || res.Result != "First." {
		t.Fatalf("result = %+v", res)
	}
	if m := lsptest.Last[*lspext.ModeEvent](b.client.Events(t, "a")); m == nil || m.Model != "claude-sonnet-5-5" {
		t.Errorf("mode event = %+v", m)
	}
	pids := claudeProcessesIn(t, b.ws(0))
	res := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{
		map[string]any{"taskId": "a", "prompt": "again", "newTaskId": "a2"}}}))
	if res.Status != "completed" {
		t.Fatalf("follow-up = %+v", res)
	}
	reqs := b.api.MessageRequests()
	if len(reqs) != 3 || reqs[0].Model != "claude-opus-5-5" || reqs[1].Model != "claude-sonnet-5-5" || reqs[2].Model != "claude-sonnet-5-5" {
		for _, r := range reqs {
			t.Logf("request %v", r)
		}
		t.Errorf("models: want claude-opus-5-5 (in flight), then claude-sonnet-5-5 in the same turn and the follow-up")
	}
	if after := claudeProcessesIn(t, b.ws(0)); len(pids) != 1 || len(after) != 1 || pids[0] != after[0] {
		t.Errorf("claude processes before %v, after %v: the follow-up should reuse the process", pids, after)
	}
}

// TestInterruptThenFollowUp: claude.interrupt stops the turn (the task
// ends "interrupted", at once) and keeps the conversation: claude's
// process waits for a follow-up, which continues the same conversation.
func TestInterruptThenFollowUp(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{slow(fakeapi.Text("never"), 60*time.Second)}})
	call := b.run(map[string]any{"prompt": "a long job", "taskId": "i"})
	waitAPI(t, b, 1)
	start := time.Now()
	var r lspext.InterruptResult
	if err := b.command(lspext.CommandInterrupt, map[string]any{"taskId": "i"}, &r); err != nil || !r.Interrupted {
		t.Fatalf("claude.interrupt: %+v %v", r, err)
	}
	res := b.result(call)
	if res.Status != lspext.StatusInterrupted || time.Since(start) > 15*time.Second {
		t.Fatalf("result = %+v after %s", res, time.Since(start))
	}
	if last := lsptest.Last[*lspext.ResultEvent](b.client.Events(t, "i")); last == nil || last.Status != lspext.StatusInterrupted {
		t.Errorf("result event = %+v", last)
	}
	var tasks lspext.TasksResult
	if err := b.command(lspext.CommandTasks, map[string]any{"processes": true}, &tasks); err != nil || tasks.Processes.Idle != 1 {
		t.Errorf("after the interrupt: %+v %v (want its process idle)", tasks.Processes, err)
	}
	if err := b.command(lspext.CommandInterrupt, map[string]any{"taskId": "i"}, &r); err != nil || r.Interrupted {
		t.Errorf("a second interrupt: %+v %v", r, err)
	}
	// The interrupted answer is not in the conversation: the follow-up's
	// request is the stand-in's turn 0 again, now answered at once.
	b.api.SetTurns([]fakeapi.Turn{fakeapi.Text("Going on.")})
	res = b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{
		map[string]any{"taskId": "i", "prompt": "go on", "newTaskId": "i2"}}}))
	if res.Status != "completed" || res.Result != "Going on." {
		t.Fatalf("follow-up = %+v", res)
	}
	if last := userText(b, -1); !strings.Contains(last, "a long job") || !strings.Contains(last, "go on") {
		t.Errorf("the follow-up's request lacks the conversation: %s", last)
	}
}

// TestInterruptWithdrawsTheQuestion: an interrupt while a permission
// question waits: claude withdraws its request, the bridge cancels the
// question in the editor ($/cancelRequest with the question's id) and the
// task ends interrupted.
func TestInterruptWithdrawsTheQuestion(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.ToolUse("Bash", map[string]any{"command": "touch made.txt"}), fakeapi.Text("x")}})
	release := make(chan struct{})
	defer close(release)
	b.client.Handle(lspext.MethodShowMessageRequest, func(json.RawMessage) (any, error) {
		<-release // a question nobody answers
		return nil, nil
	})
	call := b.run(map[string]any{"prompt": "make a file", "taskId": "w", "permissionMode": "default"})
	q, err := b.client.WaitFor(lspext.MethodShowMessageRequest, 60*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r lspext.InterruptResult
	if err := b.command(lspext.CommandInterrupt, map[string]any{"taskId": "w"}, &r); err != nil || !r.Interrupted {
		t.Fatalf("claude.interrupt: %+v %v", r, err)
	}
	if res := b.result(call); res.Status != lspext.StatusInterrupted {
		t.Fatalf("result = %+v", res)
	}
	if _, err := b.client.WaitFor("$/cancelRequest", 10*time.Second, func(m lsptest.Message) bool {
		var p struct {
			ID json.RawMessage `json:"id"`
		}
		return json.Unmarshal(m.Params, &p) == nil && string(p.ID) == string(q.ID)
	}); err != nil {
		t.Errorf("the question %s was not cancelled: %v", q.ID, err)
	}
	if pe := lsptest.Last[*lspext.PermissionEvent](b.client.Events(t, "w")); pe == nil || pe.Decision != lspext.DecisionDeny || !strings.Contains(pe.Reason, "claude stopped waiting") {
		t.Errorf("permission event = %+v", pe)
	}
}

// tinyPNG and tinyGIF are the smallest valid images (1x1).
var (
	tinyPNG, _  = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
	tinyGIF, _  = base64.StdEncoding.DecodeString("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
	tinyWebP, _ = base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
)

// apiImages lists the image blocks of the stand-in's first request's user
// messages: media type and data.
func apiImages(t *testing.T, b *bridge) [][2]string {
	t.Helper()
	var msgs []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	}
	reqs := b.api.MessageRequests()
	if len(reqs) == 0 {
		t.Fatal("no API request")
	}
	if err := json.Unmarshal(reqs[0].Messages, &msgs); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, m := range msgs {
		blocks, _ := m.Content.([]any)
		for _, b := range blocks {
			blk, _ := b.(map[string]any)
			if blk["type"] != "image" {
				continue
			}
			src, _ := blk["source"].(map[string]any)
			out = append(out, [2]string{fmt.Sprint(src["media_type"]), fmt.Sprint(src["data"])})
		}
	}
	return out
}

// TestImagesReachTheAPI: images given by file and by data, and a context
// entry that is an image file, reach the API as image blocks of the
// prompt, byte for byte.
func TestImagesReachTheAPI(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("A red dot.")}})
	png := filepath.Join(b.ws(0), "shot.png")
	webp := filepath.Join(b.ws(0), "pasted image.webp")
	if err := os.WriteFile(png, tinyPNG, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(webp, tinyWebP, 0o644); err != nil {
		t.Fatal(err)
	}
	res := b.result(b.run(map[string]any{"prompt": "what is in these images?", "taskId": "img",
		"images":  []any{map[string]any{"uri": "file://" + png}, map[string]any{"data": base64.StdEncoding.EncodeToString(tinyGIF), "mediaType": "image/gif"}},
		"context": []any{map[string]any{"uri": fileuri.FromPath(webp)}},
	}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	want := [][2]string{
		{"image/png", base64.StdEncoding.EncodeToString(tinyPNG)},
		{"image/gif", base64.StdEncoding.EncodeToString(tinyGIF)},
		{"image/webp", base64.StdEncoding.EncodeToString(tinyWebP)},
	}
	if got := apiImages(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("image blocks the API got: %v, want %v", got, want)
	}
	if strings.Contains(userText(b, 0), "pasted image") {
		t.Errorf("the image file was mentioned as text: %s", userText(b, 0))
	}
}

// TestImagesRefusedSayingWhy: what is not an image, too large, or half
// given is refused (-32602) naming the problem; nothing runs.
func TestImagesRefusedSayingWhy(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	notImage := filepath.Join(b.ws(0), "notes.png")
	if err := os.WriteFile(notImage, []byte("just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(b.ws(0), "corrupt.png") // a PNG's signature, then noise: claude would drop it with a note to the model only
	if err := os.WriteFile(corrupt, append([]byte("\x89PNG\r\n\x1a\n"), []byte(strings.Repeat("\x13noise\x00", 250))...), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(b.ws(0), "big.png") // 21 MiB, sparse
	if err := os.WriteFile(big, tinyPNG, 0o644); err != nil || os.Truncate(big, 21<<20) != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		images []any
		want   string
	}{
		{[]any{map[string]any{"uri": "file://" + notImage}}, `claude.run: arguments[0].images[0].uri "file://` + notImage + `": not a PNG, JPEG, GIF or WebP image`},
		{[]any{map[string]any{"uri": "file://" + big}, map[string]any{"uri": "file://" + b.ws(0) + "/missing.png"}}, `arguments[0].images[0].uri "file://` + big + `": the image is larger than 20 MiB`},
		{[]any{map[string]any{"uri": "file://" + b.ws(0) + "/missing.png"}}, `arguments[0].images[0].uri "file://` + b.ws(0) + `/missing.png": `},
		{[]any{map[string]any{"uri": "https://example.com/a.png"}}, `claude.run: arguments[0].images[0].uri is "https://example.com/a.png", which is not a file:// URI`},
		{[]any{map[string]any{"data": base64.StdEncoding.EncodeToString(tinyPNG), "mediaType": "image/bmp"}},
			`claude.run: arguments[0].images[0].mediaType is "image/bmp", not one of "image/png", "image/jpeg", "image/gif", "image/webp"`},
		{[]any{map[string]any{"data": "not base64!", "mediaType": "image/png"}}, `claude.run: arguments[0].images[0].data "not base64!" is not base64`},
		{[]any{map[string]any{}}, `claude.run: arguments[0].images[0] needs one of the fields "uri" or "data"`},
		{[]any{map[string]any{"data": base64.StdEncoding.EncodeToString(tinyPNG)}}, `claude.run: arguments[0].images[0] has the field "data" without "mediaType", which it needs`},
		{[]any{map[string]any{"uri": "file://" + big, "data": "x", "mediaType": "image/png"}}, `claude.run: arguments[0].images[0] has the fields "uri" and "data": give only one of them`},
		{[]any{map[string]any{"uri": "file://" + corrupt}}, `arguments[0].images[0].uri "file://` + corrupt + `": `},
		{[]any{map[string]any{"uri": "file://" + corrupt}}, "not a valid PNG image"},
		{[]any{map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("GIF89a")), "mediaType": "image/gif"}}, "not a valid GIF image"},
	} {
		err := b.command("claude.run", map[string]any{"prompt": "look", "images": c.images}, nil)
		if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("images %.80v: %v, want -32602 saying %q", c.images, err, c.want)
		}
	}
	// An image named in the context is checked the same way.
	err := b.command("claude.run", map[string]any{"prompt": "look", "context": []any{map[string]any{"uri": "file://" + corrupt}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "-32602") || !strings.Contains(err.Error(), "not a valid PNG image") {
		t.Errorf("a corrupt image in the context: %v", err)
	}
	if n := len(b.api.MessageRequests()); n != 0 {
		t.Errorf("%d API requests", n)
	}
}

// TestDiagnosticsAndOpenFilesReachThePrompt: the diagnostics of a context
// range and the open files reach the model's prompt, compactly.
func TestDiagnosticsAndOpenFilesReachThePrompt(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("Fixed.")}})
	main := fileuri.FromPath(filepath.Join(b.ws(0), "main.go"))
	rng := map[string]any{"start": map[string]any{"line": 2, "character": 0}, "end": map[string]any{"line": 4, "character": 0}}
	res := b.result(b.run(map[string]any{"prompt": "fix the errors", "taskId": "dg",
		"context": []any{map[string]any{"uri": main, "range": rng, "diagnostics": []any{
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 3, "character": 1}, "end": map[string]any{"line": 3, "character": 8}},
				"severity": 1, "source": "compiler", "code": "UndeclaredName", "message": "undefined: printn\n(did you mean println?)",
				"tags": []int{1}, "relatedInformation": []any{}, "data": map[string]any{"fix": 1}},
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 2, "character": 5}, "end": map[string]any{"line": 2, "character": 9}},
				"severity": 2, "code": 1001, "message": "unused result"},
			// Outside the range: not the selection's.
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 900, "character": 0}, "end": map[string]any{"line": 900, "character": 3}},
				"severity": 1, "message": "far away"},
			// VS Code's code shape: rendered by its value.
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 3, "character": 0}, "end": map[string]any{"line": 3, "character": 1}},
				"severity": 3, "source": "lint", "code": map[string]any{"value": "no-tabs", "target": "https://example.com/no-tabs"}, "message": "tab"},
		}}},
		"openFiles": []string{main, fileuri.FromPath(filepath.Join(b.ws(0), "docs", "notes.md"))},
	}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	text := userText(b, 0)
	for _, want := range []string{
		"fix the errors\n\n@main.go#L3-4",
		"Diagnostics the editor shows there:\nmain.go:4:2: error: undefined: printn; (did you mean println?) (compiler, UndeclaredName)\nmain.go:3:6: warning: unused result (1001)\nmain.go:4:1: info: tab (lint, no-tabs)\n\n",
		"Files open in the editor: main.go, docs/notes.md",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "far away") {
		t.Errorf("a diagnostic outside the range reached the prompt:\n%s", text)
	}
}

// TestSlashCommandsListedAndRun: claude.commands lists claude's built-in
// commands, the folder's and the user's own (with their descriptions and
// argument hints, as claude reports them at initialize) and its models; a
// prompt that starts with "/" runs the command: the folder's command's
// text, with its argument, is what reaches the API.
func TestSlashCommandsListedAndRun(t *testing.T) {
	b := startBridge(t, bridgeOpts{turns: []fakeapi.Turn{fakeapi.Text("Greeted.")}})
	write := func(path, text string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(b.ws(0), ".claude", "commands", "greet.md"), "---\ndescription: Greets someone in the README\nargument-hint: <name>\n---\nAdd a line greeting $ARGUMENTS to the README.\n")
	write(filepath.Join(b.home, ".claude", "commands", "mine.md"), "Summarise the project in one line.\n")
	find := func(list lspext.CommandsResult, name string) *lspext.SlashCommand {
		for i := range list.Commands {
			if list.Commands[i].Name == name {
				return &list.Commands[i]
			}
		}
		return nil
	}
	var list lspext.CommandsResult
	if err := b.command(lspext.CommandCommands, map[string]any{"workspaceFolder": "file://" + b.ws(0)}, &list); err != nil {
		t.Fatal(err)
	}
	if c := find(list, "greet"); c == nil || !reflect.DeepEqual(*c, lspext.SlashCommand{Name: "greet", Description: "Greets someone in the README", ArgumentHint: "<name>", Source: "project"}) {
		t.Errorf("greet = %+v", c)
	}
	if c := find(list, "mine"); c == nil || c.Source != "user" {
		t.Errorf("mine = %+v", c)
	}
	if c := find(list, "compact"); c == nil || c.Source != "builtin" || c.Description == "" {
		t.Errorf("compact = %+v", c)
	}
	sonnet := false
	for _, m := range list.Models {
		sonnet = sonnet || m.Value == "sonnet" && m.DisplayName != ""
	}
	if !sonnet {
		t.Errorf("models = %+v", list.Models)
	}
	assertNoProcesses(t, b.ws(0)) // the claude started to list them is gone

	res := b.result(b.run(map[string]any{"prompt": "/greet Bob", "taskId": "sl"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if text := userText(b, 0); !strings.Contains(text, "Add a line greeting Bob to the README.") || !strings.Contains(text, "<command-name>/greet</command-name>") {
		t.Errorf("the API got: %s", text)
	}

	// With the configuration changed the list is read again: from the
	// idle claude of the task, which answered initialize after the command
	// folders last changed (a claude of its own could not start: the
	// configured claudePath does not exist).
	_ = b.client.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"claudeBridge": map[string]any{"claudePath": "/nonexistent/claude"}}})
	var again lspext.CommandsResult
	if err := b.command(lspext.CommandCommands, map[string]any{}, &again); err != nil || find(again, "greet") == nil {
		t.Errorf("from the idle claude: %v", err)
	}
	// A command added since: the idle claude's list is out of date, and a
	// new claude cannot start.
	write(filepath.Join(b.ws(0), ".claude", "commands", "later.md"), "Later.\n")
	if err := b.command(lspext.CommandCommands, map[string]any{}, &again); err == nil || !strings.Contains(err.Error(), "could not start claude") {
		t.Errorf("after a new command file: %v", err)
	}
}

// TestCommandListFollowsTheFiles: claude.commands never answers from a
// list the command files have moved past: a command file edited in place
// gives its new description, a command added in a nested folder is listed
// (as claude names it, sub:name), one removed is gone.
func TestCommandListFollowsTheFiles(t *testing.T) {
	b := startBridge(t, bridgeOpts{})
	dir := filepath.Join(b.ws(0), ".claude", "commands")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := func() map[string]string {
		t.Helper()
		var res lspext.CommandsResult
		if err := b.command(lspext.CommandCommands, map[string]any{}, &res); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range res.Commands {
			if c.Source == "project" {
				out[c.Name] = c.Description
			}
		}
		return out
	}
	write(filepath.Join(dir, "greet.md"), "---\ndescription: Greets once\n---\nGreet $ARGUMENTS.\n")
	if got := list(); !reflect.DeepEqual(got, map[string]string{"greet": "Greets once"}) {
		t.Fatalf("first list: %v", got)
	}
	write(filepath.Join(dir, "greet.md"), "---\ndescription: Greets twice\n---\nGreet $ARGUMENTS.\n")
	if got := list(); !reflect.DeepEqual(got, map[string]string{"greet": "Greets twice"}) {
		t.Errorf("after an edit in place: %v", got)
	}
	write(filepath.Join(dir, "sub", "new.md"), "---\ndescription: Nested one\n---\nNew.\n")
	if got := list(); !reflect.DeepEqual(got, map[string]string{"greet": "Greets twice", "sub:new": "Nested one"}) {
		t.Errorf("after a nested command: %v", got)
	}
	if err := os.Remove(filepath.Join(dir, "greet.md")); err != nil {
		t.Fatal(err)
	}
	if got := list(); !reflect.DeepEqual(got, map[string]string{"sub:new": "Nested one"}) {
		t.Errorf("after a removal: %v", got)
	}
}

// TestTerminalSessionListedAndResumed: a conversation started with
// `claude -p` in a terminal, in the second workspace folder, is listed by
// claude.sessions (first prompt, turns, last activity), its transcript is
// read from claude's store, and claude.followUp {sessionId} resumes it in
// that folder: the API gets the earlier conversation.
func TestTerminalSessionListedAndResumed(t *testing.T) {
	b := startBridge(t, bridgeOpts{folders: 2, turns: []fakeapi.Turn{fakeapi.Text("The greeting prints hello."), fakeapi.Text("Resumed.")}})
	ws := b.ws(1)
	helper := fakeapi.WriteKeyHelper(t, t.TempDir(), testKey)
	cmd := exec.Command(fakeapi.ClaudePath(t), "-p", "Explain the greeting code please", "--settings", `{"apiKeyHelper":"`+helper+`"}`)
	cmd.Dir = ws
	cmd.Env = fakeapi.ClaudeEnv(b.home, b.api.URL())
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "The greeting prints hello.") {
		t.Fatalf("claude -p: %v\n%s", err, out)
	}
	var list lspext.SessionsResult
	if err := b.command(lspext.CommandSessions, map[string]any{}, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Sessions) != 1 {
		t.Fatalf("sessions = %+v", list.Sessions)
	}
	s := list.Sessions[0]
	at, err := time.Parse(time.RFC3339Nano, s.LastActivity)
	if s.FirstPrompt != "Explain the greeting code please" || s.LastPrompt != s.FirstPrompt || s.Turns != 1 || s.WorkspaceFolder != "file://"+ws ||
		err != nil || time.Since(at) > time.Minute || s.SessionID == "" {
		t.Errorf("session = %+v", s)
	}
	if err := b.command(lspext.CommandSessions, map[string]any{"workspaceFolder": "file://" + b.ws(0)}, &list); err != nil || len(list.Sessions) != 0 {
		t.Errorf("the first folder's sessions: %+v %v", list.Sessions, err)
	}

	m, err := b.client.Start("workspace/executeCommand", map[string]any{"command": lspext.CommandTranscript, "arguments": []any{map[string]any{"sessionId": s.SessionID}}}).Wait(30 * time.Second)
	if err != nil || m.Error != nil {
		t.Fatalf("claude.transcript: %v %+v", err, m.Error)
	}
	var tr struct {
		SessionID string            `json:"sessionId"`
		Title     string            `json:"title"`
		Events    []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(m.Result, &tr); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, raw := range tr.Events {
		ev, err := lspext.DecodeEvent(raw)
		if err != nil {
			t.Fatalf("transcript event: %v", err)
		}
		kinds = append(kinds, string(ev.EventKind()))
		if u, ok := ev.(*lspext.UserMessageEvent); ok && u.Text != "Explain the greeting code please" {
			t.Errorf("prompt event = %+v", u)
		}
		if te, ok := ev.(*lspext.TextEvent); ok && te.Text != "The greeting prints hello." {
			t.Errorf("text event = %+v", te)
		}
		if h := ev.Head(); h.TaskID != s.SessionID {
			t.Errorf("event header %+v", h)
		}
	}
	if strings.Join(kinds, ",") != "userMessage,text" || tr.Title != "Explain the greeting code please" {
		t.Errorf("transcript: %q %v", tr.Title, kinds)
	}

	res := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{
		map[string]any{"sessionId": s.SessionID, "prompt": "And now the next step", "newTaskId": "r"}}}))
	if res.Status != "completed" || res.Result != "Resumed." || res.SessionID != s.SessionID {
		t.Fatalf("follow-up = %+v", res)
	}
	if last := userText(b, -1); !strings.Contains(last, "Explain the greeting code please") || !strings.Contains(last, "And now the next step") {
		t.Errorf("the resumed request lacks the conversation: %s", last)
	}
	if q := lsptest.Last[*lspext.StartedEvent](b.client.Events(t, "r")); q == nil || q.Cwd != ws {
		t.Errorf("resumed in %+v, want %s", q, ws)
	}
	if err := b.command(lspext.CommandSessions, map[string]any{}, &list); err != nil || len(list.Sessions) != 1 || list.Sessions[0].Turns != 2 {
		t.Errorf("after the follow-up: %+v %v", list.Sessions, err)
	}
}

// TestFollowUpOnlyResumesTheFoldersSessions: a sessionId that no
// workspace folder keeps is refused with -32602, as claude.transcript
// refuses it, before any claude starts: a conversation of a folder that is
// not a workspace folder (claude would resume it here and write its
// continuation to the other folder's store), one of another workspace
// folder than the workspaceFolder named, an unknown id, ids that are not
// claude's (a path, words). claude.run's sessionId likewise. And where
// claude itself ends in an error before asking the API (a follow-up of a
// task whose conversation was removed from claude's store since), its own
// message reaches the editor, not only "error_during_execution".
func TestFollowUpOnlyResumesTheFoldersSessions(t *testing.T) {
	b := startBridge(t, bridgeOpts{folders: 2, init: map[string]any{"followUpIdleSeconds": 0},
		turns: []fakeapi.Turn{fakeapi.Text("one"), fakeapi.Text("two"), fakeapi.Text("three")}})
	terminalSession := func(dir string) string {
		helper := fakeapi.WriteKeyHelper(t, t.TempDir(), testKey)
		cmd := exec.Command(fakeapi.ClaudePath(t), "-p", "hello from a terminal", "--output-format", "json", "--settings", `{"apiKeyHelper":"`+helper+`"}`)
		cmd.Dir = dir
		cmd.Env = fakeapi.ClaudeEnv(b.home, b.api.URL())
		out, err := cmd.Output()
		var r struct {
			SessionID string `json:"session_id"`
		}
		if err != nil || json.Unmarshal(out, &r) != nil || r.SessionID == "" {
			t.Fatalf("claude -p in %s: %v\n%s", dir, err, out)
		}
		return r.SessionID
	}
	other := terminalSession(t.TempDir()) // a folder that is not a workspace folder
	second := terminalSession(b.ws(1))
	requests := len(b.api.MessageRequests())
	refused := func(cmd string, args map[string]any, want string) {
		t.Helper()
		m, err := b.client.Start("workspace/executeCommand", map[string]any{"command": cmd, "arguments": []any{args}}).Wait(30 * time.Second)
		if err != nil || m.Error == nil || m.Error.Code != -32602 || !strings.Contains(m.Error.Message, want) {
			t.Errorf("%s %v: %v %+v %s, want -32602 saying %q", cmd, args, err, m.Error, m.Result, want)
		}
	}
	keeps := "claude keeps no conversation"
	refused("claude.followUp", map[string]any{"sessionId": other, "prompt": "go on"}, keeps)
	refused("claude.followUp", map[string]any{"sessionId": second, "prompt": "go on", "workspaceFolder": "file://" + b.ws(0)}, keeps)
	refused("claude.followUp", map[string]any{"sessionId": "3f1c1e0e-1111-4222-8333-444455556666", "prompt": "go on"}, keeps)
	refused("claude.followUp", map[string]any{"sessionId": "../../etc/passwd", "prompt": "go on"}, keeps)
	refused("claude.followUp", map[string]any{"sessionId": "not a uuid", "prompt": "go on"}, keeps)
	refused("claude.run", map[string]any{"sessionId": other, "prompt": "go on"}, keeps)
	refused("claude.run", map[string]any{"sessionId": second, "prompt": "go on", "workspaceFolder": "file://" + b.ws(0)}, keeps)
	if n := len(b.api.MessageRequests()); n != requests {
		t.Errorf("%d API requests after the refusals, want %d", n, requests)
	}
	if n := len(b.client.Messages("claude/event")); n != 0 {
		t.Errorf("%d claude/event notifications for refused requests", n)
	}
	// The second folder's conversation is resumed there.
	if res := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{
		map[string]any{"sessionId": second, "prompt": "go on", "newTaskId": "ok"}}})); res.Status != "completed" || res.SessionID != second {
		t.Errorf("follow-up of the second folder's conversation: %+v", res)
	}

	// claude's own words when it fails before any API request.
	first := b.result(b.run(map[string]any{"prompt": "start", "taskId": "d"}))
	if first.Status != "completed" {
		t.Fatalf("result = %+v", first)
	}
	store := filepath.Join(b.home, ".claude", "projects", sessions.Encode(b.ws(0)), first.SessionID+".jsonl")
	if err := os.Remove(store); err != nil {
		t.Fatal(err)
	}
	requests = len(b.api.MessageRequests())
	res := b.result(b.client.Start("workspace/executeCommand", map[string]any{"command": "claude.followUp", "arguments": []any{
		map[string]any{"taskId": "d", "prompt": "go on", "newTaskId": "d2"}}}))
	want := "claude ended with error_during_execution: No conversation found with session ID: " + first.SessionID
	if res.Status != "failed" || res.Result != want {
		t.Errorf("follow-up of a conversation claude no longer keeps: %+v, want the result %q", res, want)
	}
	if r := lsptest.Last[*lspext.ResultEvent](b.client.Events(t, "d2")); r == nil || r.Result != want {
		t.Errorf("result event = %+v", r)
	}
	if n := len(b.api.MessageRequests()); n != requests {
		t.Errorf("%d API requests, want none more than %d", n, requests)
	}
}

// TestDeferredAnswers: an editor that replies {"deferred": true} to
// claude/ask and claude/plan (its handlers must return at once) answers
// later with claude.answer; the answers reach claude as if given in the
// reply. An answer for a call nobody waits for is not accepted.
func TestDeferredAnswers(t *testing.T) {
	b := startBridge(t, bridgeOpts{initialize: declaring(map[string]any{"ask": true, "plan": true})})
	b.api.SetTurns(append([]fakeapi.Turn{fakeapi.ToolUse("AskUserQuestion", twoQuestions)}, planTurns(b.ws(0))...))
	answer := func(args map[string]any) {
		go func() { // the editor answers once the user has: after its reply
			var r lspext.AnswerResult
			if err := b.command(lspext.CommandAnswer, args, &r); err != nil || !r.Accepted {
				t.Errorf("claude.answer %v: %+v %v", args, r, err)
			}
		}()
	}
	b.client.Handle(lspext.MethodAsk, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.AskParams](t, lspext.MethodAsk, p)
		answer(map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID, "answers": map[string]string{"Which color should the button be?": "Red"}})
		return &lspext.AskResult{Deferred: true}, nil
	})
	b.client.Handle(lspext.MethodPlan, func(p json.RawMessage) (any, error) {
		q := lsptest.Decode[lspext.PlanParams](t, lspext.MethodPlan, p)
		answer(map[string]any{"taskId": q.TaskID, "toolUseId": q.ToolUseID, "plan": map[string]any{"decision": "approve", "permissionMode": "acceptEdits"}})
		return &lspext.PlanResult{Deferred: true}, nil
	})
	res := b.result(b.run(map[string]any{"prompt": "ask, then plan", "taskId": "df", "permissionMode": "plan"}))
	if res.Status != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if text, _, _ := toolResult(t, b.api, "toolu_0_0"); !strings.Contains(text, `"Which color should the button be?"="Red"`) {
		t.Errorf("question result: %q", text)
	}
	if text, _, _ := toolResult(t, b.api, "toolu_2_0"); !strings.Contains(text, "User has approved your plan") {
		t.Errorf("plan result: %q", text)
	}
	if m := lsptest.Last[*lspext.ModeEvent](b.client.Events(t, "df")); m == nil || m.PermissionMode != "acceptEdits" {
		t.Errorf("mode event = %+v", m)
	}
	var r lspext.AnswerResult
	if err := b.command(lspext.CommandAnswer, map[string]any{"taskId": "df", "toolUseId": "toolu_0_0", "answers": map[string]string{"x": "y"}}, &r); err != nil || r.Accepted {
		t.Errorf("an answer nobody waits for: %+v %v", r, err)
	}
}
