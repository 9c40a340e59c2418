package server

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// maxEventContent caps a tool result's text in a claude/event: a Read of a
// large file would otherwise flood the editor.
const maxEventContent = 4000

// eventOf is the claude/event for ev, its header not yet stamped (see
// taskView.send), or nil for events that are progress hints only. uri
// gives the URI the editor knows a path by (Server.editorURI).
func eventOf(ev runner.Event, uri func(path string) string) lspext.Event {
	switch ev.Kind {
	case runner.EventText:
		return &lspext.TextEvent{MessageID: ev.MessageID, Text: ev.Text, ParentToolUseID: ev.Parent}
	case runner.EventThinking:
		return &lspext.ThinkingEvent{MessageID: ev.MessageID, Text: ev.Text, ParentToolUseID: ev.Parent}
	case runner.EventQueued:
		q := ev.Queued
		return &lspext.QueuedEvent{Prompt: q.Prompt, WorkspaceFolder: uri(q.Workspace), Position: q.Position, Waiting: q.Waiting}
	case runner.EventStarted:
		st := ev.Started
		return &lspext.StartedEvent{SessionID: st.SessionID, Model: st.Model, Cwd: st.Cwd, PermissionMode: st.PermissionMode,
			APIKeySource: st.APIKeySource, ClaudeVersion: st.ClaudeVersion}
	case runner.EventToolUse:
		tu := ev.ToolUse
		return &lspext.ToolUseEvent{ToolUseID: tu.ID, Name: tu.Name, Input: lspext.ObjectOf(tu.Input), Summary: tu.Summary, ParentToolUseID: ev.Parent}
	case runner.EventToolResult:
		tr := ev.ToolResult
		e := &lspext.ToolResultEvent{ToolUseID: tr.ToolUseID, Name: tr.Name, IsError: tr.IsError, Content: truncate(tr.Content, maxEventContent), ParentToolUseID: ev.Parent}
		if tr.Change != nil {
			e.FilePath, e.URI = tr.Change.Path, uri(tr.Change.Path)
		}
		return e
	case runner.EventPermission:
		pe := ev.Permission
		return &lspext.PermissionEvent{ToolUseID: pe.ToolUseID, Name: pe.ToolName, Input: lspext.ObjectOf(pe.Input), Summary: pe.Summary,
			Decision: lspext.Decision(pe.Decision), Reason: pe.Reason, Automatic: pe.Automatic}
	case runner.EventQuestion:
		q := ev.Question
		return &lspext.QuestionEvent{ToolUseID: q.ToolUseID, Questions: questionsOf(q.Questions), Answers: q.Answers, Reason: q.Reason}
	case runner.EventPlan:
		p := ev.Plan
		e := &lspext.PlanEvent{ToolUseID: p.ToolUseID, Plan: p.Plan, Decision: lspext.PlanKeepPlanning, Feedback: p.Feedback, Reason: p.Reason}
		if p.Copy != "" {
			e.URI = pathToURI(p.Copy)
		}
		if p.Approve {
			e.Decision, e.PermissionMode = lspext.PlanApprove, lspext.PlanMode(p.Mode)
		}
		return e
	case runner.EventReview:
		r := ev.Review
		e := &lspext.ReviewEvent{ToolUseID: r.ToolUseID, URI: uri(r.Path), Tool: r.Tool, Decision: lspext.ReviewReject,
			AcceptedHunks: nonNil(r.Accepted), RejectedHunks: nonNil(r.Rejected), Edited: r.Edited, Feedback: r.Feedback, Reason: r.Reason}
		if r.Accept {
			e.Decision = lspext.ReviewAccept
		}
		return e
	case runner.EventMode:
		return &lspext.ModeEvent{PermissionMode: ev.Mode.PermissionMode, Model: ev.Mode.Model}
	case runner.EventUserMessage:
		return &lspext.UserMessageEvent{Text: ev.UserMessage.Text, ImageCount: len(ev.UserMessage.Images)}
	case runner.EventTodos:
		e := &lspext.TodosEvent{ToolUseID: ev.Todos.ToolUseID, Todos: make([]lspext.Todo, len(ev.Todos.Items))}
		for i, td := range ev.Todos.Items {
			e.Todos[i] = lspext.Todo{Content: td.Content, Status: lspext.TodoStatus(td.Status), ActiveForm: td.ActiveForm, ID: td.ID}
		}
		return e
	case runner.EventRetry:
		r := ev.Retry
		return &lspext.RetryEvent{Attempt: r.Attempt, MaxRetries: r.MaxRetries, DelayMs: r.DelayMs, ErrorStatus: r.ErrorStatus, Error: r.Error}
	case runner.EventStatus:
		return &lspext.StatusEvent{Message: ev.Message}
	case runner.EventOther:
		return &lspext.OtherEvent{Raw: lspext.ObjectOf(ev.Raw)}
	case runner.EventResult:
		o := ev.Outcome
		return &lspext.ResultEvent{Status: lspext.TaskStatus(o.Status), Result: o.Result, IsError: o.IsError, CostUSD: o.CostUSD,
			DurationMs: o.DurationMs, NumTurns: o.NumTurns, SessionID: o.SessionID}
	}
	return nil
}

// progressMessage is what the progress report says for ev ("" for none).
// A subagent's calls are marked as such ("Subagent: Read main.go"); its
// text and thinking are not the task's writing.
func progressMessage(ev runner.Event, root string) string {
	if ev.Parent != "" {
		if ev.Kind == runner.EventToolUse {
			return "Subagent: " + ev.ToolUse.Summary
		}
		return ""
	}
	switch ev.Kind {
	case runner.EventQueued:
		if ev.Queued.Waiting {
			return fmt.Sprintf("Queued (%d %s ahead)", ev.Queued.Position, plural(ev.Queued.Position, "task", "tasks"))
		}
	case runner.EventActivity, runner.EventStatus:
		return ev.Message
	case runner.EventToolUse:
		return ev.ToolUse.Summary
	case runner.EventText:
		return "Writing"
	case runner.EventThinking:
		return "Thinking"
	case runner.EventRetry:
		r := ev.Retry
		why := r.Error
		if r.ErrorStatus != 0 {
			why = fmt.Sprintf("HTTP %d", r.ErrorStatus)
		}
		if why == "" {
			why = "API error"
		}
		return fmt.Sprintf("Retrying (%s, attempt %d of %d)", why, r.Attempt, r.MaxRetries)
	case runner.EventPermission:
		pe := ev.Permission
		if pe.Decision == runner.Deny {
			return "Denied: " + pe.Summary
		}
	case runner.EventQuestion:
		q := ev.Question
		if len(q.Answers) == 0 {
			return "Not answered: " + q.Reason
		}
		return firstLine("Answered: "+runner.FormatAnswers(q.Questions, q.Answers), 100)
	case runner.EventPlan:
		switch p := ev.Plan; {
		case p.Approve:
			return "Plan approved; carrying it out (" + p.Mode + ")"
		case p.Reason != "":
			return "Plan not approved: " + p.Reason
		default:
			return "Keep planning"
		}
	case runner.EventMode:
		return "Mode: " + ev.Mode.PermissionMode
	case runner.EventTodos:
		return runner.TodoProgress(ev.Todos.Items)
	case runner.EventUserMessage:
		return "Claude read your message"
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// nonNil is s, or an empty slice for nil (a field always present).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// truncate cuts s to at most n runes, saying so.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + fmt.Sprintf("… [%d more characters]", len(r)-n)
}

// firstLine is the start of s for short messages.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return truncate(s, n)
}
