package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/runner"
)

// maxEventContent caps a tool result's text in a claude/event: a Read of a
// large file would otherwise flood the editor.
const maxEventContent = 4000

// eventParams is the claude/event payload for ev (without taskId, seq and
// kind), or nil for events that are progress hints only. uri gives the URI
// the editor knows a path by (Server.editorURI).
func eventParams(ev runner.Event, uri func(path string) string) map[string]any {
	switch ev.Kind {
	case runner.EventQueued:
		q := ev.Queued
		return map[string]any{"prompt": q.Prompt, "workspaceFolder": uri(q.Workspace), "position": q.Position, "waiting": q.Waiting}
	case runner.EventStarted:
		st := ev.Started
		return map[string]any{"sessionId": st.SessionID, "model": st.Model, "cwd": st.Cwd, "permissionMode": st.PermissionMode,
			"apiKeySource": st.APIKeySource, "claudeVersion": st.ClaudeVersion}
	case runner.EventText, runner.EventThinking:
		return map[string]any{"messageId": ev.MessageID, "text": ev.Text}
	case runner.EventToolUse:
		tu := ev.ToolUse
		return map[string]any{"toolUseId": tu.ID, "name": tu.Name, "input": rawOrEmpty(tu.Input), "summary": tu.Summary}
	case runner.EventToolResult:
		tr := ev.ToolResult
		p := map[string]any{"toolUseId": tr.ToolUseID, "name": tr.Name, "isError": tr.IsError, "content": truncate(tr.Content, maxEventContent)}
		if tr.Change != nil {
			p["filePath"] = tr.Change.Path
			p["uri"] = uri(tr.Change.Path)
		}
		return p
	case runner.EventPermission:
		pe := ev.Permission
		return map[string]any{"toolUseId": pe.ToolUseID, "name": pe.ToolName, "input": rawOrEmpty(pe.Input), "summary": pe.Summary,
			"decision": string(pe.Decision), "reason": pe.Reason, "automatic": pe.Automatic}
	case runner.EventRetry:
		r := ev.Retry
		return map[string]any{"attempt": r.Attempt, "maxRetries": r.MaxRetries, "delayMs": r.DelayMs, "errorStatus": r.ErrorStatus, "error": r.Error}
	case runner.EventStatus:
		return map[string]any{"message": ev.Message}
	case runner.EventOther:
		return map[string]any{"raw": rawOrEmpty(ev.Raw)}
	case runner.EventResult:
		o := ev.Outcome
		return map[string]any{"status": string(o.Status), "result": o.Result, "isError": o.IsError, "costUsd": o.CostUSD,
			"durationMs": o.DurationMs, "numTurns": o.NumTurns, "sessionId": o.SessionID}
	}
	return nil
}

// progressMessage is what the progress report says for ev ("" for none).
func progressMessage(ev runner.Event, root string) string {
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
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func rawOrEmpty(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("{}")
	}
	return r
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
