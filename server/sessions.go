package server

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/sessions"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// claude.sessions and claude.transcript: the folders' past conversations,
// from claude's own store (runner/sessions), never changed.

func (s *Server) sessions(_ context.Context, a lspext.SessionsArgs) (*lspext.SessionsResult, error) {
	folders := s.folderList()
	if a.WorkspaceFolder != "" {
		f, _, err := s.folderFor(lspext.CommandSessions, a.WorkspaceFolder, nil)
		if err != nil {
			return nil, err
		}
		folders = []Folder{f}
	}
	home := s.mgr.ClaudeHome()
	res := &lspext.SessionsResult{Sessions: []lspext.SessionInfo{}}
	for _, f := range folders {
		list, err := sessions.List(home, f.Path)
		if err != nil {
			return nil, internalError("claude.sessions: %v", err)
		}
		for _, ss := range list {
			res.Sessions = append(res.Sessions, lspext.SessionInfo{
				SessionID: ss.ID, Title: ss.Title, FirstPrompt: ss.FirstPrompt, LastPrompt: ss.LastPrompt,
				LastActivity: ss.LastActivity.UTC().Format(time.RFC3339Nano), Turns: ss.Turns, WorkspaceFolder: f.URI,
			})
		}
	}
	sort.SliceStable(res.Sessions, func(i, j int) bool { return res.Sessions[i].LastActivity > res.Sessions[j].LastActivity })
	return res, nil
}

// sessionFolder is the workspace folder whose conversations hold session
// id, with the session's file; ok false when none does.
func (s *Server) sessionFolder(id, requested string) (Folder, string, bool) {
	folders := s.folderList()
	if requested != "" {
		f, _, err := s.folderFor("", requested, nil)
		if err != nil {
			return Folder{}, "", false
		}
		folders = []Folder{f}
	}
	home := s.mgr.ClaudeHome()
	for _, f := range folders {
		if p := sessions.Find(home, f.Path, id); p != "" {
			return f, p, true
		}
	}
	return Folder{}, "", false
}

func (s *Server) transcript(_ context.Context, a lspext.TranscriptArgs) (*lspext.TranscriptResult, error) {
	if a.WorkspaceFolder != "" {
		if _, _, err := s.folderFor(lspext.CommandTranscript, a.WorkspaceFolder, nil); err != nil {
			return nil, err
		}
	}
	f, path, ok := s.sessionFolder(a.SessionID, a.WorkspaceFolder)
	if !ok {
		return nil, argError(lspext.CommandTranscript, "sessionId", a.SessionID, "names no conversation claude keeps for the workspace folders")
	}
	entries, err := sessions.Read(path)
	if err != nil {
		return nil, internalError("claude.transcript: %v", err)
	}
	res := &lspext.TranscriptResult{SessionID: a.SessionID, Events: []lspext.Event{}}
	for _, e := range entries {
		var ev lspext.Event
		switch e.Kind {
		case "prompt":
			if res.Title == "" {
				res.Title = firstLine(e.Text, 100)
			}
			ev = &lspext.UserMessageEvent{Text: e.Text}
		case "text":
			ev = &lspext.TextEvent{MessageID: e.MessageID, Text: e.Text}
		case "thinking":
			ev = &lspext.ThinkingEvent{MessageID: e.MessageID, Text: e.Text}
		case "toolUse":
			ev = &lspext.ToolUseEvent{ToolUseID: e.ToolUseID, Name: e.Name, Input: lspext.ObjectOf(e.Input), Summary: runner.Summarize(e.Name, e.Input, f.Path)}
		case "toolResult":
			ev = &lspext.ToolResultEvent{ToolUseID: e.ToolUseID, Name: e.Name, IsError: e.IsError, Content: truncate(e.Text, maxEventContent)}
		default:
			continue
		}
		res.Events = append(res.Events, lspext.Stamp(ev, a.SessionID, int64(len(res.Events)+1)))
	}
	if list, _ := sessions.List(s.mgr.ClaudeHome(), f.Path); list != nil {
		for _, ss := range list {
			if ss.ID == a.SessionID && ss.Title != "" {
				res.Title = ss.Title
			}
		}
	}
	if strings.TrimSpace(res.Title) == "" {
		res.Title = a.SessionID
	}
	return res, nil
}
