package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/tmpig62akkx/My Proj.v2_ü": "-tmp-tmpig62akkx-My-Proj-v2--", // measured on claude 2.1.332
		"/home/me/w😀x":                  "-home-me-w--x",                 // a character outside the BMP is two UTF-16 units
		"/a/b-c/D9":                     "-a-b-c-D9",
	} {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

// session is a store file in the shape claude 2.1.332 writes (lines cut
// to the fields that matter, bookkeeping lines kept).
const session = `{"type":"queue-operation","operation":"enqueue","timestamp":"2026-11-29T20:39:21.967Z","sessionId":"S","content":"Explain the greeting code please"}
{"parentUuid":null,"isSidechain":false,"type":"user","message":{"role":"user","content":[{"type":"text","text":"<system-reminder>\nAttribution…\n</system-reminder>\n"},{"type":"text","text":"Explain the greeting code please"}]},"timestamp":"2026-11-29T20:39:22.042Z","cwd":"CWD","sessionId":"S"}
{"type":"attachment","attachment":{},"timestamp":"2026-11-29T20:39:22.041Z","cwd":"CWD","sessionId":"S"}
{"type":"assistant","isSidechain":false,"message":{"id":"msg_0","role":"assistant","content":[{"type":"text","text":"Reading."},{"type":"tool_use","id":"toolu_0_1","name":"Read","input":{"file_path":"CWD/main.go"}}]},"timestamp":"2026-11-29T20:39:22.146Z","cwd":"CWD","sessionId":"S"}
{"type":"user","isSidechain":false,"message":{"role":"user","content":[{"tool_use_id":"toolu_0_1","type":"tool_result","content":"1\tpackage main"}]},"toolUseResult":{},"timestamp":"2026-11-29T20:39:22.200Z","cwd":"CWD","sessionId":"S"}
{"type":"assistant","isSidechain":true,"message":{"id":"msg_x","role":"assistant","content":[{"type":"text","text":"a subagent"}]},"timestamp":"2026-11-29T20:39:22.300Z"}
{"type":"assistant","isSidechain":false,"message":{"id":"msg_1","role":"assistant","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"It prints hello."}]},"timestamp":"2026-11-29T20:39:22.400Z","cwd":"CWD","sessionId":"S"}
{"type":"last-prompt","lastPrompt":"Explain the greeting code please","sessionId":"S"}
{"type":"custom-title","customTitle":"Greeting investigation","sessionId":"S"}
{"type":"user","isSidechain":false,"isMeta":true,"message":{"role":"user","content":"<local-command-caveat>The command below was run directly…</local-command-caveat>"},"timestamp":"2026-11-29T20:39:34.003Z"}
{"type":"user","isSidechain":false,"message":{"role":"user","content":"<command-name>/rename</command-name>\n            <command-message>rename</command-message>\n            <command-args>Greeting investigation</command-args>"},"timestamp":"2026-11-29T20:39:33.995Z"}
{"type":"user","isSidechain":false,"message":{"role":"user","content":"Thanks, and then?"},"timestamp":"2026-11-29T20:40:00.021Z","cwd":"CWD","sessionId":"S"}
{"type":"user","isSidechain":false,"message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user]"}]},"timestamp":"2026-11-29T20:40:01.000Z"}
{"type":"assistant","message":{"id":"msg_2","role":"assistant","content":[{"type":"text","text":"second"}]},"timestamp":"2026-11-29T20:40:02.050Z"
`

// store writes a session of cwd into a store under home.
func store(t *testing.T, home, cwd, id, text string) string {
	t.Helper()
	dir := filepath.Join(home, ".claude", "projects", Encode(cwd))
	if len(Encode(cwd)) > maxEncoded {
		dir = filepath.Join(home, ".claude", "projects", Encode(cwd)[:maxEncoded]+"-abc12")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, id+".jsonl")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "CWD", cwd)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestListAndRead: a session's title is its /rename, its turns the user's
// prompts (a slash command as typed; tool results, claude's additions, an
// interrupt's note and a subagent's lines are not), its last activity the
// last timestamp; a line being written (cut) is skipped.
func TestListAndRead(t *testing.T) {
	home, cwd := t.TempDir(), t.TempDir()
	p := store(t, home, cwd, "11111111-aaaa", session)
	store(t, home, cwd, "agent-x", session) // a subagent's file
	list, err := List(home, cwd)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	s := list[0]
	want := time.Date(2026, 11, 29, 20, 40, 1, 0, time.UTC)
	if s.ID != "11111111-aaaa" || s.Title != "Greeting investigation" || s.FirstPrompt != "Explain the greeting code please" ||
		s.LastPrompt != "Thanks, and then?" || s.Turns != 3 || !s.LastActivity.Equal(want) || s.Cwd != cwd || s.Path != p {
		t.Errorf("summary = %+v", s)
	}
	entries, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Kind+":"+e.Name+":"+e.Text)
	}
	wantEntries := []string{
		"prompt::Explain the greeting code please", "text::Reading.", "toolUse:Read:", "toolResult:Read:1\tpackage main",
		"thinking::hm", "text::It prints hello.", "prompt::/rename Greeting investigation", "prompt::Thanks, and then?",
	}
	if strings.Join(got, "|") != strings.Join(wantEntries, "|") {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantEntries, "\n"))
	}
	if Find(home, cwd, "11111111-aaaa") != p || Find(home, cwd, "nope") != "" || Find(home, cwd, "../x") != "" {
		t.Error("Find")
	}
}

// TestLongFolderNames: past 200 characters claude's folder name ends in a
// hash; the folder is found by the working directory its sessions name.
func TestLongFolderNames(t *testing.T) {
	home := t.TempDir()
	cwd := filepath.Join(t.TempDir(), strings.Repeat("x", 230))
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	other := cwd[:len(cwd)-1] + "y" // the same first 200 characters
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	store(t, home, other, "other", session)
	dir := filepath.Join(home, ".claude", "projects", Encode(cwd)[:maxEncoded]+"-zz9")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.jsonl"), []byte(strings.ReplaceAll(session, "CWD", cwd)), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := List(home, cwd)
	if err != nil || len(list) != 1 || list[0].ID != "mine" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if l, _ := List(home, filepath.Join(t.TempDir(), "none")); len(l) != 0 {
		t.Errorf("a folder without sessions: %+v", l)
	}
}
