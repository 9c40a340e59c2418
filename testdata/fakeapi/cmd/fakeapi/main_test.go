package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/format"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// TestMain lets the tests run this binary's main: with FAKEAPI_TEST_MAIN=1
// the test binary is the fakeapi command.
func TestMain(m *testing.M) {
	if os.Getenv("FAKEAPI_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const script = `{
  "turns": [
    {"blocks": [{"type": "tool_use", "name": "Read", "input": {"file_path": "{{workspace}}/main.go", "{{workspace}}": ["{{workspace}}/a", 3]}}]},
    {"blocks": [{"type": "text", "text": "Done in {{workspace}}."}], "chunkDelayMs": 15, "delayMs": 2.5}
  ],
  "default": {"blocks": [{"type": "text", "text": "Nothing left."}]}
}`

func TestLoadScript(t *testing.T) {
	cfg, err := LoadScript([]byte(script), "/tmp/ws")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Turns) != 2 || cfg.Default == nil || cfg.Default.Blocks[0].Text != "Nothing left." {
		t.Fatalf("config %+v", cfg)
	}
	in := cfg.Turns[0].Blocks[0].Input
	if in["file_path"] != "/tmp/ws/main.go" {
		t.Fatalf("file_path %v", in["file_path"])
	}
	nested, ok := in["/tmp/ws"].([]any)
	if !ok || nested[0] != "/tmp/ws/a" || nested[1].(float64) != 3 {
		t.Fatalf("nested substitution: %v", in)
	}
	if got := cfg.Turns[1]; got.Blocks[0].Text != "Done in /tmp/ws." || got.ChunkDelay != 15*time.Millisecond || got.Delay != 2500*time.Microsecond {
		t.Fatalf("turn 1 %+v", got)
	}

	arr, err := LoadScript([]byte(`[{"blocks":[{"type":"text","text":"a"}]}]`), "")
	if err != nil || len(arr.Turns) != 1 {
		t.Fatalf("array form: %+v %v", arr, err)
	}
	convs, err := LoadScript([]byte(`{"conversations":[{"match":"pick","turns":[{"blocks":[{"type":"text","text":"in {{workspace}}"}]}]}]}`), "/tmp/ws")
	if err != nil || len(convs.Conversations) != 1 || convs.Conversations[0].Match != "pick" || convs.Conversations[0].Turns[0].Blocks[0].Text != "in /tmp/ws" {
		t.Fatalf("conversations only: %+v %v", convs, err)
	}
	for name, bad := range map[string]string{
		"workspace missing": script,
		"unknown field":     `{"turns":[{"blocks":[]}],"turn":[]}`,
		"no turns":          `{"turns":[]}`,
		"not JSON":          `{"turns":`,
		"trailing data":     `[{"blocks":[]}] []`,
		"scalar":            `"text"`,
		"bad duration":      `[{"delayMs":-5}]`,
	} {
		if _, err := LoadScript([]byte(bad), ""); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeScript(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "script.json")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func postMessages(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/messages", strings.NewReader(`{"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesUntilCancelled(t *testing.T) {
	const key = "sk-cmd-test-key"
	ws := t.TempDir()
	reqLog := filepath.Join(t.TempDir(), "requests.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--script", writeScript(t), "--key", key, "--workspace", ws, "--requests-log", reqLog}, outW, &stderr)
		outW.Close()
	}()
	url, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL line: %v (stderr %s)", err, stderr.String())
	}
	url = strings.TrimSuffix(url, "\n")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL line %q", url)
	}
	go io.Copy(io.Discard, outR)

	code, body := postMessages(t, url, key)
	if code != 200 || !strings.Contains(body, `"file_path":"`+ws+`/main.go"`) || !strings.Contains(body, `"id":"toolu_0_0"`) {
		t.Fatalf("answer %d %s", code, body)
	}
	if code, _ := postMessages(t, url, "sk-not-this-one"); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	log := stderr.String()
	if strings.Contains(log, key) || strings.Contains(log, "sk-not-this-one") {
		t.Fatal("the log prints a key")
	}
	if !strings.Contains(log, "key="+fakeapi.KeyFingerprint(key)+" status=200 turn=0") ||
		!strings.Contains(log, "key="+fakeapi.KeyFingerprint("sk-not-this-one")+" status=401") {
		t.Fatalf("log lacks the requests:\n%s", log)
	}
	// --requests-log: one JSON line per request, the body included, the key
	// only as its fingerprint.
	b, err := os.ReadFile(reqLog)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(key)) {
		t.Fatal("the requests log holds a key")
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("requests log: %d lines, want 2:\n%s", len(lines), b)
	}
	var first struct {
		Path, KeyFingerprint string
		Turn, Status         int
		Body                 struct {
			Messages []struct{ Role, Content string }
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Path != "/v1/messages" || first.Status != 200 || first.Turn != 0 || first.KeyFingerprint != fakeapi.KeyFingerprint(key) ||
		len(first.Body.Messages) != 1 || first.Body.Messages[0].Content != "hi" {
		t.Fatalf("requests log line %s", lines[0])
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--script", "/nonexistent/script.json"},
		{"--script", writeScript(t)}, // uses {{workspace}} without --workspace
		{"--script", writeScript(t), "--workspace", t.TempDir(), "extra"},
		{"--script", writeScript(t), "--workspace", t.TempDir(), "--addr", "256.0.0.1:0"},
	} {
		var out, errb syncBuffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%q: no error", args)
		}
		if out.String() != "" {
			t.Errorf("%q: wrote %q to stdout", args, out.String())
		}
	}
}

// TestProcessPrintsOneLineAndExitsOnSignal runs the command as a process.
func TestProcessPrintsOneLineAndExitsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "--script", writeScript(t), "--workspace", t.TempDir())
			// GORACE: a -race binary otherwise sleeps 1 s when it exits.
			cmd.Env = append(os.Environ(), "FAKEAPI_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(stdout.String(), "\n") {
				if time.Now().After(deadline) {
					t.Fatalf("no URL on stdout; stderr:\n%s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			url := strings.TrimSuffix(stdout.String(), "\n")
			if code, _ := postMessages(t, url, "any-key"); code != 200 {
				t.Fatalf("status %d", code)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still running after the signal")
			}
			if out := stdout.String(); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "http://127.0.0.1:") {
				t.Fatalf("stdout %q, want exactly one URL line", out)
			}
			if !strings.Contains(stderr.String(), "POST /v1/messages") {
				t.Fatalf("stderr lacks the request log:\n%s", stderr.String())
			}
		})
	}
}

// TestDemoScriptApplies checks testdata/demo/script.json against the demo
// workspace: every Read names a file there, every Edit's old_string occurs
// exactly once when it runs, and the Go files come out gofmt-clean.
func TestDemoScriptApplies(t *testing.T) {
	demo := filepath.Join("..", "..", "..", "demo")
	data, err := os.ReadFile(filepath.Join(demo, "script.json"))
	if err != nil {
		t.Fatal(err)
	}
	const ws = "/demo-workspace"
	cfg, err := LoadScript(data, ws)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	entries, err := os.ReadDir(filepath.Join(demo, "workspace"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(demo, "workspace", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[ws+"/"+e.Name()] = string(b)
	}
	last := cfg.Turns[len(cfg.Turns)-1]
	if len(last.Blocks) != 1 || last.Blocks[0].Type != "text" || strings.Count(last.Blocks[0].Text, ". ") < 2 || last.ChunkDelay == 0 {
		t.Fatalf("the last turn should be a streamed multi-sentence answer: %+v", last)
	}
	tools := map[string]int{}
	for i, turn := range cfg.Turns {
		for _, b := range turn.Blocks {
			if b.Type != "tool_use" {
				continue
			}
			tools[b.Name]++
			path, _ := b.Input["file_path"].(string)
			switch b.Name {
			case "Read":
				if _, ok := files[path]; !ok {
					t.Fatalf("turn %d reads %s, not in the workspace", i, path)
				}
			case "Edit":
				old, _ := b.Input["old_string"].(string)
				nw, _ := b.Input["new_string"].(string)
				if n := strings.Count(files[path], old); n != 1 || old == "" {
					t.Fatalf("turn %d: Edit old_string occurs %d times in %s", i, n, path)
				}
				files[path] = strings.Replace(files[path], old, nw, 1)
			case "Write":
				files[path], _ = b.Input["content"].(string)
			case "Bash":
				if cmd, _ := b.Input["command"].(string); cmd != "ls" {
					t.Fatalf("turn %d: Bash %q may need a permission answer; the demo must run unattended", i, cmd)
				}
			}
		}
	}
	for _, name := range []string{"Read", "Edit", "Write", "Bash"} {
		if tools[name] == 0 {
			t.Errorf("the demo never uses %s", name)
		}
	}
	for path, src := range files {
		if strings.HasSuffix(path, ".go") {
			formatted, err := format.Source([]byte(src))
			if err != nil || string(formatted) != src {
				t.Errorf("%s after the edits is not gofmt-clean (%v):\n%s", path, err, src)
			}
		}
	}
}
