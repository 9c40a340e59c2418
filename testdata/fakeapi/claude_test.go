//go:build unix

package fakeapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real claude CLI against the stand-in.

const (
	e2eKey     = "sk-fakeapi-e2e-accepted"
	e2eBadKey  = "sk-fakeapi-e2e-revoked"
	mainGo     = "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"
	lineWait   = 20 * time.Second // per stream line; a whole run takes about 1 s
	maxLineLen = 64 << 20
)

// lockedBuffer collects stderr from the process's copying goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// claudeProc is a running claude CLI with its stream-json stdout as lines.
type claudeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *lockedBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// startClaude runs claude in ws with HOME=home against srv, its key from
// a helper script, in its own process group. stdin is /dev/null unless args
// has --input-format stream-json.
func startClaude(t *testing.T, srv *Server, ws, home, helper string, args ...string) *claudeProc {
	t.Helper()
	settings, err := json.Marshal(map[string]string{"apiKeyHelper": helper})
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits", "--settings", string(settings)}, args...)
	cmd := exec.Command(ClaudePath(t), all...)
	cmd.Dir = ws
	cmd.Env = ClaudeEnv(home, srv.URL())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &claudeProc{t: t, cmd: cmd, lines: make(chan []byte, 1024), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	// stdin is a pipe only for --input-format stream-json: with a prompt
	// argument, claude -p reads a piped stdin too and waits for its end.
	if strings.Contains(strings.Join(args, " "), "--input-format stream-json") {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		br := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				if len(line) > maxLineLen {
					line = line[:maxLineLen]
				}
				p.lines <- line
			}
			if err != nil {
				break
			}
		}
		p.err = cmd.Wait()
		close(p.lines)
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop ends the whole process group: SIGTERM, then SIGKILL after 5 s.
func (p *claudeProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	go func() { // the reader must not block on a full channel
		for range p.lines {
		}
	}()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// send writes one stream-json message to claude's stdin.
func (p *claudeProc) send(msg any) {
	p.t.Helper()
	raw, err := json.Marshal(msg)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(raw, '\n')); err != nil {
		p.t.Fatalf("writing to claude: %v", err)
	}
}

// until reads stream lines until one satisfies match and returns every line
// read (the matching one last). It fails the test if the stream ends first.
func (p *claudeProc) until(match func(map[string]any) bool) []map[string]any {
	p.t.Helper()
	var seen []map[string]any
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.exited
				p.t.Fatalf("claude exited (%v) before the expected line; %d lines read; stderr:\n%s", p.err, len(seen), p.stderr.String())
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				p.t.Fatalf("claude wrote a line that is not JSON: %.300q", line)
			}
			seen = append(seen, m)
			if match(m) {
				return seen
			}
		case <-time.After(lineWait):
			p.t.Fatalf("no line from claude for %v; stderr:\n%s", lineWait, p.stderr.String())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *claudeProc) wait() int {
	p.t.Helper()
	for range p.lines { // drain
	}
	select {
	case <-p.exited:
	case <-time.After(lineWait):
		p.t.Fatal("claude did not exit")
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	default:
		p.t.Fatalf("claude: %v", p.err)
		return -1
	}
}

func isType(typ, subtype string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return m["type"] == typ && (subtype == "" || m["subtype"] == subtype)
	}
}

// e2eDirs makes a workspace with main.go, a HOME, and a key helper.
func e2eDirs(t *testing.T, key string) (ws, home, helper string) {
	base := t.TempDir()
	ws, home = filepath.Join(base, "workspace"), filepath.Join(base, "home")
	for _, d := range []string{ws, home, filepath.Join(base, "bin")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "main.go"), []byte(mainGo), 0o644); err != nil {
		t.Fatal(err)
	}
	return ws, home, WriteKeyHelper(t, filepath.Join(base, "bin"), key)
}

// toolResults maps tool_use ids to the tool_result content seen in the stream.
func toolResults(lines []map[string]any) map[string]string {
	out := map[string]string{}
	for _, m := range lines {
		if m["type"] != "user" {
			continue
		}
		msg, _ := m["message"].(map[string]any)
		blocks, _ := msg["content"].([]any)
		for _, b := range blocks {
			block, _ := b.(map[string]any)
			if block["type"] == "tool_result" {
				id, _ := block["tool_use_id"].(string)
				switch c := block["content"].(type) {
				case string:
					out[id] = c
				default:
					raw, _ := json.Marshal(c)
					out[id] = string(raw)
				}
			}
		}
	}
	return out
}

func TestClaudePrintAcceptEdits(t *testing.T) {
	t.Parallel()
	ws, home, helper := e2eDirs(t, e2eKey)
	final := "Edited main.go, wrote NOTES.md and checked the build."
	srv := Start(t, Config{Keys: []string{e2eKey}, Turns: []Turn{
		ToolUse("Read", map[string]any{"file_path": filepath.Join(ws, "main.go")}),
		ToolUse("Edit", map[string]any{"file_path": filepath.Join(ws, "main.go"), "old_string": `println("hello")`, "new_string": `println("hello, bridge")`}),
		ToolUse("Write", map[string]any{"file_path": filepath.Join(ws, "NOTES.md"), "content": "# notes\n"}),
		ToolUse("Bash", map[string]any{"command": "echo built", "description": "Pretend to build"}),
		Text(final),
	}})
	start := time.Now()
	p := startClaude(t, srv, ws, home, helper, "make main.go greet the bridge")
	lines := p.until(isType("result", ""))
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, p.stderr.String())
	}
	t.Logf("claude run: %v, %d stream lines", time.Since(start).Round(time.Millisecond), len(lines))

	init := lines[0]
	if init["type"] != "system" || init["subtype"] != "init" || init["apiKeySource"] != "apiKeyHelper" {
		t.Fatalf("first line: %v", init)
	}
	result := lines[len(lines)-1]
	if result["subtype"] != "success" || result["is_error"] != false || result["result"] != final {
		t.Fatalf("result line: %v", result)
	}
	results := toolResults(lines)
	if got := results["toolu_3_0"]; got != "built" {
		t.Fatalf("Bash result %q (all results %v)", got, results)
	}
	if got := results["toolu_0_0"]; !strings.Contains(got, `println("hello")`) {
		t.Fatalf("Read result %q", got)
	}
	b, err := os.ReadFile(filepath.Join(ws, "main.go"))
	if err != nil || string(b) != strings.Replace(mainGo, `"hello"`, `"hello, bridge"`, 1) {
		t.Fatalf("main.go on disk: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "NOTES.md")); err != nil || string(b) != "# notes\n" {
		t.Fatalf("NOTES.md: %q %v", b, err)
	}

	reqs := srv.Requests()
	if len(reqs) != 5 {
		t.Fatalf("stand-in saw %d requests, want 5: %v", len(reqs), reqs)
	}
	for i, r := range reqs {
		if r.Key != e2eKey || r.Turn != i || r.Status != 200 || r.Path != "/v1/messages" || r.Method != "POST" || !r.Stream {
			t.Fatalf("request %d: %v (accepted key %s)", i, r, KeyFingerprint(e2eKey))
		}
	}
	if !strings.Contains(reqs[0].UserText(), "make main.go greet the bridge") {
		t.Fatalf("the prompt is not in the first request's user text: %.500q", reqs[0].UserText())
	}
	if strings.Contains(reqs[1].UserText(), "package main") {
		t.Fatal("UserText includes a tool result")
	}
}

func TestClaudeWrongKeyRetries401(t *testing.T) {
	t.Parallel()
	ws, home, helper := e2eDirs(t, e2eBadKey)
	srv := Start(t, Config{Keys: []string{e2eKey}, Turns: []Turn{Text("never answered")}})
	start := time.Now()
	p := startClaude(t, srv, ws, home, helper, "hello")
	lines := p.until(isType("system", "api_retry"))
	retry := lines[len(lines)-1]
	t.Logf("first api_retry after %v: attempt %v, delay %v ms", time.Since(start).Round(time.Millisecond), retry["attempt"], retry["retry_delay_ms"])
	if retry["error_status"] != float64(401) || retry["error"] != "authentication_failed" {
		t.Fatalf("api_retry line: %v", retry)
	}
	p.stop()
	select {
	case <-p.exited:
	default:
		t.Fatal("claude still running after stop")
	}
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no requests")
	}
	for i, r := range reqs {
		if r.Key != e2eBadKey || r.Status != 401 || r.Turn != 0 {
			t.Fatalf("request %d: %v (sent key should be %s)", i, r, KeyFingerprint(e2eBadKey))
		}
	}
}

func TestClaudeStreamJSONInputFollowUp(t *testing.T) {
	t.Parallel()
	ws, home, helper := e2eDirs(t, e2eKey)
	srv := Start(t, Config{Keys: []string{e2eKey}, Turns: []Turn{
		{Blocks: []Block{{Type: "thinking", Text: "The user greets me."}, {Type: "text", Text: "First answer."}}},
		Text("Second answer."),
	}})
	p := startClaude(t, srv, ws, home, helper, "--input-format", "stream-json")
	user := func(text string) map[string]any {
		return map[string]any{
			"type":               "user",
			"message":            map[string]any{"role": "user", "content": text},
			"parent_tool_use_id": nil,
			"session_id":         "",
		}
	}
	p.send(user("first prompt from stdin"))
	lines := p.until(isType("result", ""))
	first := lines[len(lines)-1]
	if first["subtype"] != "success" || first["result"] != "First answer." {
		t.Fatalf("first result: %v", first)
	}
	var sawThinking bool
	for _, m := range lines {
		if m["type"] == "assistant" && strings.Contains(mustJSON(t, m), `"thinking":"The user greets me."`) {
			sawThinking = true
		}
	}
	if !sawThinking {
		t.Fatal("no assistant thinking block in the stream")
	}

	p.send(user("second prompt from stdin"))
	lines = p.until(isType("result", ""))
	second := lines[len(lines)-1]
	if second["subtype"] != "success" || second["result"] != "Second answer." || second["session_id"] != first["session_id"] {
		t.Fatalf("second result: %v", second)
	}
	p.stdin.Close()
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, p.stderr.String())
	}

	reqs := srv.MessageRequests()
	if len(reqs) != 2 || reqs[0].Turn != 0 || reqs[1].Turn != 1 || reqs[0].Key != e2eKey || reqs[1].Key != e2eKey {
		t.Fatalf("requests: %v", reqs)
	}
	if u := reqs[1].UserText(); !strings.Contains(u, "first prompt from stdin") || !strings.Contains(u, "second prompt from stdin") {
		t.Fatalf("second request's user text: %.500q", u)
	}
}

func TestClaudeStreamErrorFallsBackToNonStreaming(t *testing.T) {
	t.Parallel()
	ws, home, helper := e2eDirs(t, e2eKey)
	srv := Start(t, Config{Keys: []string{e2eKey}, Turns: []Turn{
		{Blocks: []Block{{Type: "text", Text: "Answer after a broken stream."}}, StreamError: "overloaded_error"},
	}})
	p := startClaude(t, srv, ws, home, helper, "hello")
	lines := p.until(isType("result", ""))
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if r := lines[len(lines)-1]; r["subtype"] != "success" || r["result"] != "Answer after a broken stream." {
		t.Fatalf("result: %v", r)
	}
	var streams []bool
	for _, r := range srv.MessageRequests() {
		streams = append(streams, r.Stream)
	}
	if !reflect.DeepEqual(streams, []bool{true, false}) {
		t.Fatalf("stream flags of the requests: %v (want a streaming request, then the CLI's non-streaming fallback)", streams)
	}
}

func TestClaudePartialMessagesMirrorDeltas(t *testing.T) {
	t.Parallel()
	ws, home, helper := e2eDirs(t, e2eKey)
	srv := Start(t, Config{Keys: []string{e2eKey}, Turns: []Turn{
		{Blocks: []Block{{Type: "text", Text: "Listing the folder."}, {Type: "tool_use", Name: "Bash", Input: map[string]any{"command": "ls", "description": "List files"}}}, ChunkDelay: 5 * time.Millisecond},
		{Blocks: []Block{{Type: "text", Text: "One two three four."}}, ChunkDelay: 5 * time.Millisecond},
	}})
	p := startClaude(t, srv, ws, home, helper, "--include-partial-messages", "list the files")
	lines := p.until(isType("result", ""))
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var texts []string
	var inputJSON strings.Builder
	for _, m := range lines {
		if m["type"] != "stream_event" {
			continue
		}
		ev := m["event"].(map[string]any)
		if ev["type"] != "content_block_delta" {
			continue
		}
		d := ev["delta"].(map[string]any)
		switch d["type"] {
		case "text_delta":
			texts = append(texts, d["text"].(string))
		case "input_json_delta":
			inputJSON.WriteString(d["partial_json"].(string))
		}
	}
	want := []string{"Listing ", "the ", "folder.", "One ", "two ", "three ", "four."}
	if !reflect.DeepEqual(texts, want) {
		t.Fatalf("text deltas %q, want %q", texts, want)
	}
	if inputJSON.String() != `{"command":"ls","description":"List files"}` {
		t.Fatalf("input_json deltas joined: %q", inputJSON.String())
	}
	if r := lines[len(lines)-1]; r["result"] != "One two three four." {
		t.Fatalf("result %v", r)
	}
	if got := toolResults(lines)["toolu_0_1"]; !strings.Contains(got, "main.go") {
		t.Fatalf("ls result %q", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
