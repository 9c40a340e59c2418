// Package sessions reads claude's own store of conversations: the
// sessions of a working directory, with their titles, first prompts, last
// activity and turns, and the conversation of one session. It never
// writes the store.
//
// Measured on claude 2.1.332: claude keeps each conversation (whether it
// ran with -p in a terminal, interactively, or for the bridge) in
// ~/.claude/projects/<folder>/<session id>.jsonl, where <folder> is the
// real path of the working directory with every UTF-16 code unit that is
// not an ASCII letter or digit replaced by '-' ("/tmp/My Proj.v2_ü" →
// "-tmp-My-Proj-v2--", an emoji "--"); past 200 characters it is cut to
// 200 and ends in "-" and a hash of claude's own. Each line is one JSON
// object with a "type": "user" and "assistant" lines carry the "message"
// (as the API has it), "timestamp", "sessionId", "cwd", "isSidechain"
// (a subagent's), "isMeta" (claude's own additions); "custom-title"
// ({"customTitle"}) comes from /rename, "summary" ({"summary"}) from
// older claudes, "last-prompt" ({"lastPrompt"}); others ("attachment",
// "queue-operation", "api-request", "cost-state", ...) are claude's
// bookkeeping. A session started in a terminal with `claude -p` is
// resumed with --resume <id> like any other.
package sessions

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// maxEncoded is the longest folder name claude uses whole.
const maxEncoded = 200

// maxList bounds how many sessions List reads (the most recent).
const maxList = 100

// Encode is the name claude gives a working directory's folder in its
// store (for names up to 200 characters; longer ones end in a hash).
func Encode(cwd string) string {
	units := utf16.Encode([]rune(cwd))
	b := make([]byte, len(units))
	for i, u := range units {
		if u < 0x80 && (u >= 'a' && u <= 'z' || u >= 'A' && u <= 'Z' || u >= '0' && u <= '9') {
			b[i] = byte(u)
		} else {
			b[i] = '-'
		}
	}
	return string(b)
}

// Dir is the folder of claude's store that holds cwd's sessions, "" when
// there is none. cwd is resolved to its real path, as claude resolves its
// working directory.
func Dir(home, cwd string) string {
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	projects := filepath.Join(home, ".claude", "projects")
	enc := Encode(cwd)
	if len(enc) <= maxEncoded {
		dir := filepath.Join(projects, enc)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		return ""
	}
	// A long name ends in a hash: the folder whose sessions say they ran in
	// cwd.
	matches, _ := filepath.Glob(filepath.Join(projects, globEscape(enc[:maxEncoded])+"-*"))
	for _, dir := range matches {
		if sessionsCwd(dir) == cwd {
			return dir
		}
	}
	return ""
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// sessionsCwd is the working directory a session of dir says it ran in.
func sessionsCwd(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		cwd := ""
		_ = scan(f, func(l *line) bool {
			cwd = l.Cwd
			return cwd == ""
		})
		if cwd != "" {
			return cwd
		}
	}
	return ""
}

// Summary is one session as a list shows it.
type Summary struct {
	ID string
	// Title is the session's title (its /rename, or claude's summary), ""
	// when it has none.
	Title        string
	FirstPrompt  string
	LastPrompt   string
	LastActivity time.Time
	// Turns counts the user's prompts.
	Turns int
	Cwd   string
	Path  string // the session's file
}

// List lists the sessions of cwd, most recent first (at most 100); none
// when claude has kept none there.
func List(home, cwd string) ([]Summary, error) {
	dir := Dir(home, cwd)
	if dir == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	type file struct {
		path string
		mod  time.Time
	}
	var fs []file
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "agent-") {
			continue // a subagent's conversation
		}
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			fs = append(fs, file{f, fi.ModTime()})
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].mod.After(fs[j].mod) })
	if len(fs) > maxList {
		fs = fs[:maxList]
	}
	var out []Summary
	for _, f := range fs {
		s, err := summarize(f.path)
		if err != nil || s.Turns == 0 {
			continue // unreadable, or nothing the user said
		}
		if s.LastActivity.IsZero() {
			s.LastActivity = f.mod
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastActivity.After(out[j].LastActivity) })
	return out, nil
}

// Find is the file of session id among the sessions of cwd, "" when claude
// has no such session there.
func Find(home, cwd, id string) string {
	if !validID(id) {
		return ""
	}
	dir := Dir(home, cwd)
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, id+".jsonl")
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	return ""
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func validID(id string) bool { return idRe.MatchString(id) }

// line is the part of a store line this package reads.
type line struct {
	Type        string      `json:"type"`
	Timestamp   string      `json:"timestamp"`
	Cwd         string      `json:"cwd"`
	IsSidechain bool        `json:"isSidechain"`
	IsMeta      bool        `json:"isMeta"`
	Compact     bool        `json:"isCompactSummary"`
	Message     *apiMessage `json:"message"`
	CustomTitle string      `json:"customTitle"`
	Summary     string      `json:"summary"`
	LastPrompt  string      `json:"lastPrompt"`
}

type apiMessage struct {
	ID      string         `json:"id"`
	Role    string         `json:"role"`
	Content stream.Content `json:"content"` // a string is one text block
}

// maxLine bounds one line of the store (a Read result holds a whole file).
const maxLine = 64 << 20

// scan calls f with each line of path that decodes, until f returns
// false. A line it cannot decode (claude may be writing it) is skipped.
func scan(path string, f func(*line) bool) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	r := bufio.NewReaderSize(file, 1<<20)
	for {
		raw, err := readLine(r)
		if len(raw) > 0 {
			var l line
			if fastjson.Unmarshal(raw, &l) == nil && !f(&l) {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads one line; a longer one than maxLine is dropped.
func readLine(r *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(out)+len(chunk) <= maxLine {
			out = append(out, chunk...)
		} else {
			out = out[:0:0]
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return out, err
		}
	}
}

// summarize reads one session's file.
func summarize(path string) (Summary, error) {
	s := Summary{ID: strings.TrimSuffix(filepath.Base(path), ".jsonl"), Path: path}
	var custom, summary string
	err := scan(path, func(l *line) bool {
		if t, err := time.Parse(time.RFC3339Nano, l.Timestamp); err == nil && t.After(s.LastActivity) {
			s.LastActivity = t
		}
		if s.Cwd == "" {
			s.Cwd = l.Cwd
		}
		switch l.Type {
		case "custom-title":
			custom = l.CustomTitle
		case "summary":
			summary = l.Summary
		case "last-prompt":
			s.LastPrompt = l.LastPrompt
		case "user":
			if p, ok := prompt(l); ok {
				s.Turns++
				if s.FirstPrompt == "" {
					s.FirstPrompt = p
				}
				s.LastPrompt = p
			}
		}
		return true
	})
	s.Title = custom
	if s.Title == "" {
		s.Title = summary
	}
	return s, err
}

var (
	commandName = regexp.MustCompile(`<command-name>([^<]*)</command-name>`)
	commandArgs = regexp.MustCompile(`(?s)<command-args>(.*?)</command-args>`)
)

// prompt is what the user said in a user line: ok false for tool results,
// claude's own additions and a subagent's lines. A slash command reads as
// the user typed it ("/rename Greetings").
func prompt(l *line) (string, bool) {
	if l.Message == nil || l.IsSidechain || l.IsMeta || l.Compact {
		return "", false
	}
	var texts []string
	for _, b := range l.Message.Content {
		switch b.Type {
		case "tool_result":
			return "", false
		case "text":
			if !strings.HasPrefix(strings.TrimSpace(b.Text), "<system-reminder>") {
				texts = append(texts, b.Text)
			}
		case "image":
			texts = append(texts, "[image]")
		}
	}
	text := strings.TrimSpace(strings.Join(texts, "\n"))
	if m := commandName.FindStringSubmatch(text); m != nil {
		name := m[1]
		if a := commandArgs.FindStringSubmatch(text); a != nil && strings.TrimSpace(a[1]) != "" {
			name += " " + strings.TrimSpace(a[1])
		}
		text = name
	}
	switch {
	case text == "", strings.HasPrefix(text, "<local-command"), strings.HasPrefix(text, "[Request interrupted"):
		return "", false
	}
	return text, true
}

// Entry is one step of a conversation, in order.
type Entry struct {
	Kind      string // prompt, text, thinking, toolUse or toolResult
	Time      time.Time
	Text      string // prompt, text, thinking: the text; toolResult: the content
	MessageID string // text, thinking
	ToolUseID string // toolUse, toolResult
	Name      string // toolUse, toolResult: the tool
	Input     json.RawMessage
	IsError   bool
}

// Read reads the conversation of the session file path (from Find or a
// Summary), the user's prompts, claude's text, thinking and tool calls with
// their results, leaving out claude's own additions and subagents.
func Read(path string) ([]Entry, error) {
	var out []Entry
	tools := map[string]string{} // tool use id → tool name
	err := scan(path, func(l *line) bool {
		if l.Message == nil || l.IsSidechain {
			return true
		}
		at, _ := time.Parse(time.RFC3339Nano, l.Timestamp)
		switch l.Type {
		case "user":
			if p, ok := prompt(l); ok {
				out = append(out, Entry{Kind: "prompt", Time: at, Text: p})
				return true
			}
			for _, b := range l.Message.Content {
				if b.Type == "tool_result" {
					out = append(out, Entry{Kind: "toolResult", Time: at, ToolUseID: b.ToolUseID, Name: tools[b.ToolUseID], Text: b.Content.PlainText(), IsError: b.IsError})
				}
			}
		case "assistant":
			for _, b := range l.Message.Content {
				switch b.Type {
				case "text":
					out = append(out, Entry{Kind: "text", Time: at, MessageID: l.Message.ID, Text: b.Text})
				case "thinking":
					out = append(out, Entry{Kind: "thinking", Time: at, MessageID: l.Message.ID, Text: b.Thinking})
				case "tool_use":
					tools[b.ID] = b.Name
					out = append(out, Entry{Kind: "toolUse", Time: at, ToolUseID: b.ID, Name: b.Name, Input: b.Input})
				}
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading session %s: %w", filepath.Base(path), err)
	}
	return out, nil
}
