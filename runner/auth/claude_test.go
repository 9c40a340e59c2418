package auth

// Tests against the real claude CLI (the version pinned in the Makefile),
// talking to a loopback stand-in for the Messages API defined here. They are
// skipped when the CLI is not installed (make tools).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-bridge/claude-bridge/testdata/fakeapi"
)

// claudePath is the real claude CLI; a missing one fails the test (never
// a skip: CI must not pass without it).
func claudePath(t *testing.T) string { return fakeapi.ClaudePath(t) }

// apiRequest is one request the stand-in saw.
type apiRequest struct {
	key    string // X-Api-Key
	bearer string // Authorization
	status int
}

// standIn answers POST /v1/messages like the Messages API: a short
// streamed "ok" turn for an accepted key, 401 authentication_error otherwise.
type standIn struct {
	srv      *httptest.Server
	mu       sync.Mutex
	accepted map[string]bool
	reqs     []apiRequest
}

func newStandIn(t *testing.T, keys ...string) *standIn {
	s := &standIn{}
	s.accept(keys...)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) accept(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted = map[string]bool{}
	for _, k := range keys {
		s.accepted[k] = true
	}
}

func (s *standIn) requests() []apiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]apiRequest(nil), s.reqs...)
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/messages") || strings.HasPrefix(r.URL.Path, "/v1/messages/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"type":"error","error":{"type":"not_found_error","message":"not found"}}`)
		return
	}
	var body struct {
		Stream bool `json:"stream"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	req := apiRequest{key: r.Header.Get("X-Api-Key"), bearer: r.Header.Get("Authorization"), status: 200}
	s.mu.Lock()
	ok := s.accepted[req.key]
	if !ok {
		req.status = 401
	}
	s.reqs = append(s.reqs, req)
	n := len(s.reqs)
	s.mu.Unlock()

	w.Header().Set("Request-Id", fmt.Sprintf("req_%d", n))
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
		return
	}
	msgID := fmt.Sprintf("msg_%d", n)
	if !body.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}`, msgID)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	events := []struct{ name, data string }{
		{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":%q,"type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}`, msgID)},
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	for _, e := range events {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// cmdlineWatch polls /proc while claude runs and records any process in
// claude's tree whose command line holds one of the keys. The helper lives
// for milliseconds, so it polls fast.
type cmdlineWatch struct {
	root   int
	keys   []string
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	leaks  []string
	seen   map[int]string
	helper bool // a helper process (sh <helper>) was seen at least once
}

func watchCmdlines(root int, helperPath string, keys ...string) *cmdlineWatch {
	w := &cmdlineWatch{root: root, keys: keys, stop: make(chan struct{}), done: make(chan struct{}), seen: map[int]string{}}
	go func() {
		defer close(w.done)
		for {
			for pid, cmdline := range processTree(root) {
				w.mu.Lock()
				w.seen[pid] = cmdline
				if strings.Contains(cmdline, helperPath) {
					w.helper = true
				}
				for _, k := range w.keys {
					if strings.Contains(cmdline, k) {
						w.leaks = append(w.leaks, fmt.Sprintf("pid %d: %q", pid, cmdline))
					}
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *cmdlineWatch) finish() {
	close(w.stop)
	<-w.done
}

// processTree maps each process under root (root included) to its command
// line, NULs shown as spaces.
func processTree(root int) map[int]string {
	out := map[int]string{}
	for _, pid := range append(fakeapi.Descendants(root), root) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			out[pid] = strings.ReplaceAll(string(b), "\x00", " ")
		}
	}
	return out
}

// claudeEnv is the environment a task runner would build for claude before
// the auth decoration: note the stray ANTHROPIC_API_KEY and token that must
// not reach claude.
func claudeEnv(home, baseURL string) []string {
	return []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"ANTHROPIC_BASE_URL=" + baseURL,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
		"ANTHROPIC_API_KEY=sk-ant-api03-bogus-from-the-environment",
		"ANTHROPIC_AUTH_TOKEN=bogus-auth-token",
	}
}

// readLines collects claude's stream-json lines until it closes stdout.
func readLines(t *testing.T, r io.Reader, lines chan<- map[string]any) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				lines <- m
			} else {
				t.Logf("non-JSON line from claude: %q", b)
			}
		}
		if err != nil {
			close(lines)
			return
		}
	}
}

// nextOfType waits for the next line of the given type.
func nextOfType(t *testing.T, lines <-chan map[string]any, typ string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("claude ended before a %s line", typ)
			}
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s line from claude", typ)
		}
	}
}

func TestRealClaudeUsesTheHelper(t *testing.T) {
	claude := claudePath(t)
	const fileKey = "sk-ant-api03-key-file-key-for-the-real-cli-0001"
	const bridgeKey = "sk-ant-api03-bridge-env-key-for-the-real-cli-0002"

	cases := []struct {
		name       string
		bridgeEnv  []string // the bridge's own environment (Config.Environ)
		helperPath string   // relative to the home directory; "" for the default
		want       string
	}{
		// The runner's environment carries a bogus ANTHROPIC_API_KEY; the
		// helper's key file must win, as the bridge's own env has no key.
		{"key file", nil, "", fileKey},
		// The bridge's own ANTHROPIC_API_KEY is removed from claude's
		// environment but offered through the helper, ahead of the file.
		{"bridge ANTHROPIC_API_KEY via the helper", []string{envAnthropicAPIKey + "=" + bridgeKey}, "", bridgeKey},
		// claude runs apiKeyHelper through sh -c: an awkward path must
		// arrive quoted.
		{"helper path with spaces and quotes", nil, "my dir/it's $HOME/helper.sh", fileKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := newStandIn(t, c.want)
			cfg := testConfig(t)
			// The bridge's environment is the one the runner starts claude
			// with (the binary passes os.Environ to both), less keys: the
			// settings file pins its ANTHROPIC_BASE_URL.
			cfg.Environ = append(cfg.Environ, "ANTHROPIC_BASE_URL="+api.srv.URL)
			cfg.Environ = append(cfg.Environ, c.bridgeEnv...)
			if c.helperPath != "" {
				cfg.HelperPath = filepath.Join(cfg.Home, c.helperPath)
			}
			writeKey(t, keyFilePath(cfg), fileKey+"\n", 0o600)
			m := startManager(t, cfg, nil, nil)
			l, err := m.Launch("")
			if err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := append([]string{"-p", "--output-format", "stream-json", "--verbose"}, l.Args...)
			cmd := exec.CommandContext(ctx, claude, append(args, "hi")...)
			cmd.Dir = t.TempDir()
			cmd.Env = l.Env(claudeEnv(cfg.Home, api.srv.URL))
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			watch := watchCmdlines(cmd.Process.Pid, l.HelperPath, fileKey, bridgeKey)
			lines := make(chan map[string]any, 100)
			go readLines(t, stdout, lines)
			initMsg := nextOfType(t, lines, "system")
			result := nextOfType(t, lines, "result")
			for range lines {
			}
			err = cmd.Wait()
			watch.finish()
			if err != nil {
				t.Fatalf("claude: %v\nstderr: %s", err, stderr.String())
			}

			if initMsg["subtype"] != "init" || initMsg["apiKeySource"] != "apiKeyHelper" {
				t.Fatalf("init: subtype %v apiKeySource %v", initMsg["subtype"], initMsg["apiKeySource"])
			}
			if w := m.CheckInit(initMsg["apiKeySource"].(string)); w != "" {
				t.Fatal(w)
			}
			if result["is_error"] != false || result["result"] != "ok" {
				t.Fatalf("result %v", result)
			}
			reqs := api.requests()
			if len(reqs) == 0 {
				t.Fatal("claude sent no request")
			}
			for _, r := range reqs {
				if r.key != c.want || r.status != 200 {
					t.Fatalf("a request carried fingerprint %s (status %d), want %s", Fingerprint(r.key), r.status, Fingerprint(c.want))
				}
			}
			if len(watch.leaks) > 0 {
				t.Fatalf("a key appeared in a command line: %v", watch.leaks)
			}
			if len(watch.seen) == 0 {
				t.Fatal("the command-line watch saw no process")
			}
			t.Logf("%d processes in claude's tree checked; helper process seen: %v", len(watch.seen), watch.helper)
		})
	}
}

// TestRealClaudePicksUpARotatedKey rotates the key file under a running
// claude process. Measured with 2.1.332: when the TTL has passed, claude
// starts the helper beside the request that noticed it, and that request
// still carries the cached key; the refreshed key rides on the requests after
// it. So the stand-in accepts both keys for a while, as a real rotation does,
// and the test asserts that claude moved to the new key with no 401 at all
// (a 401 would also make claude call the helper, proving nothing about the
// TTL), then revokes the old key and asserts a further turn still succeeds
// without a 401.
func TestRealClaudePicksUpARotatedKey(t *testing.T) {
	claude := claudePath(t)
	const oldKey = "sk-ant-api03-before-rotation-0001"
	const newKey = "sk-ant-api03-after-rotation-0002"
	api := newStandIn(t, oldKey)
	cfg := testConfig(t)
	cfg.Environ = append(cfg.Environ, "ANTHROPIC_BASE_URL="+api.srv.URL)
	// The refresh interval is also the TTL claude gets for a key.
	cfg.RefreshInterval = 300 * time.Millisecond
	kf := keyFilePath(cfg)
	writeKey(t, kf, oldKey, 0o600)
	n := newRecNotifier()
	m := startManager(t, cfg, n, nil)
	l, err := m.Launch("")
	if err != nil {
		t.Fatal(err)
	}
	if l.TTLMs != 300 {
		t.Fatalf("ttl %d", l.TTLMs)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// One claude process, several turns on its stdin, like follow-ups.
	args := append([]string{"-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose"}, l.Args...)
	cmd := exec.CommandContext(ctx, claude, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = l.Env(claudeEnv(cfg.Home, api.srv.URL))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	watch := watchCmdlines(cmd.Process.Pid, l.HelperPath, oldKey, newKey)
	lines := make(chan map[string]any, 100)
	go readLines(t, stdout, lines)
	turn := func(text string) {
		t.Helper()
		msg, _ := json.Marshal(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": text}, "parent_tool_use_id": nil, "session_id": ""})
		if _, err := stdin.Write(append(msg, '\n')); err != nil {
			t.Fatal(err)
		}
		if r := nextOfType(t, lines, "result"); r["is_error"] != false {
			t.Fatalf("turn %q: %v\nstderr: %s", text, r, stderr.String())
		}
	}
	lastKey := func() string {
		reqs := api.requests()
		return reqs[len(reqs)-1].key
	}

	turn("first")
	before := len(api.requests())
	if before == 0 || lastKey() != oldKey {
		t.Fatalf("first turn: %d requests", before)
	}

	// Rotate: the new key is issued, the old one still works for now, and
	// the key file is replaced the way tools do it. The bridge notices on
	// its own...
	api.accept(oldKey, newKey)
	replaceKey(t, kf, newKey)
	n.waitFor(t, "authChanged with the new key", func(x note) bool {
		return x.kind == "changed" && x.status == "ok" && x.fingerprint == Fingerprint(newKey)
	})
	// ...and claude, whose key has outlived its TTL, fetches it again.
	turns := 0
	for lastKey() != newKey {
		if turns++; turns > 4 {
			t.Fatalf("claude still sends the old key after %d turns", turns-1)
		}
		time.Sleep(400 * time.Millisecond)
		turn(fmt.Sprintf("after rotation %d", turns))
	}
	// The old key is revoked: later turns go on with the new one.
	api.accept(newKey)
	time.Sleep(400 * time.Millisecond)
	turn("after revocation")
	stdin.Close()
	for range lines {
	}
	cmd.Wait()
	watch.finish()

	reqs := api.requests()
	for i, r := range reqs {
		if r.status != 200 {
			t.Fatalf("request %d got %d (fingerprint %s): the key should have moved on without a 401", i, r.status, Fingerprint(r.key))
		}
	}
	if k := lastKey(); k != newKey {
		t.Fatalf("last request carried fingerprint %s", Fingerprint(k))
	}
	t.Logf("%d requests; the new key was in use %d turn(s) after the rotation", len(reqs), turns)
	if len(watch.leaks) > 0 {
		t.Fatalf("a key appeared in a command line: %v", watch.leaks)
	}
}

// A key command that ignores SIGTERM, run by the real claude CLI through the
// managed helper (and by the bridge's own first check): every process it
// started is gone once claude has given up, and claude reports the helper's
// failure.
func TestRealClaudeKeyCommandIgnoringSIGTERMLeavesNothing(t *testing.T) {
	claude := claudePath(t)
	api := newStandIn(t, keyCmdK)
	cfg := testConfig(t)
	cfg.Environ = append(cfg.Environ, "ANTHROPIC_BASE_URL="+api.srv.URL)
	pids := filepath.Join(t.TempDir(), "pids")
	cfg.KeyCommand = `trap '' TERM; echo $$ >> ` + shQuote(pids) + `
/bin/sh -c 'echo $$ >> ` + pids + `; while :; do /bin/sleep 1; done'`
	cfg.KeyCommandTimeout = time.Second
	t.Cleanup(func() {
		for _, pid := range readPids(pids) {
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	m := startManager(t, cfg, nil, nil)
	mustContain(t, m.Explain(), "auth.keyCommand timed out after 1s and ignored SIGTERM; it was killed")
	l, err := m.Launch("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"-p", "--output-format", "stream-json", "--verbose"}, l.Args...)
	cmd := exec.CommandContext(ctx, claude, append(args, "hi")...)
	cmd.Dir = t.TempDir()
	cmd.Env = l.Env(claudeEnv(cfg.Home, api.srv.URL))
	start := time.Now()
	out, _ := cmd.Output()
	took := time.Since(start)
	if !strings.Contains(string(out), `"is_error":true`) {
		t.Fatalf("claude did not fail on the helper's failure: %s", masked(string(out)))
	}
	all := readPids(pids)
	// Two processes per helper run: the bridge's first check, the explain
	// above, and claude's own runs.
	if len(all) < 6 {
		t.Fatalf("the key command ran %d times, want the bridge's 2 and claude's at least one: pids %v", len(all)/2, all)
	}
	t.Logf("claude gave up after %v; the key command ran %d times", took.Round(100*time.Millisecond), len(all)/2)
	eventually(t, "every process of the key command to be gone", func() bool {
		return !slices.ContainsFunc(all, alive)
	})
}

// readPids reads one pid a line.
func readPids(path string) []int {
	data, _ := os.ReadFile(path)
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
