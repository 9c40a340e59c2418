package fakeapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const testKey = "sk-test-accepted"

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data map[string]any
	Raw  string
}

// post sends a Messages API request with the given number of assistant
// messages in its history.
func post(t *testing.T, ctx context.Context, url, key string, body any) *http.Response {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/messages?beta=true", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// history is a messages array with n assistant turns.
func history(n int) []map[string]any {
	msgs := []map[string]any{{"role": "user", "content": "start"}}
	for i := 0; i < n; i++ {
		msgs = append(msgs,
			map[string]any{"role": "assistant", "content": []map[string]any{{"type": "text", "text": fmt.Sprintf("answer %d", i)}}},
			map[string]any{"role": "user", "content": fmt.Sprintf("next %d", i)})
	}
	return msgs
}

func messagesBody(n int, stream bool) map[string]any {
	return map[string]any{"model": "claude-test-1", "max_tokens": 1024, "stream": stream, "messages": history(n)}
}

// readSSE parses a whole event stream and checks its framing.
func readSSE(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var events []sseEvent
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return events
		}
		if err != nil {
			t.Fatalf("reading the stream: %v (partial line %q)", err, line)
		}
		name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "event: ")
		if !ok {
			t.Fatalf("expected an event: line, got %q", line)
		}
		dataLine, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading data line: %v", err)
		}
		data, ok := strings.CutPrefix(strings.TrimSuffix(dataLine, "\n"), "data: ")
		if !ok {
			t.Fatalf("expected a data: line, got %q", dataLine)
		}
		blank, err := br.ReadString('\n')
		if err != nil || blank != "\n" {
			t.Fatalf("expected a blank line after the event, got %q (%v)", blank, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("event %s: bad JSON %q: %v", name, data, err)
		}
		if m["type"] != name {
			t.Fatalf("event %s carries type %v", name, m["type"])
		}
		events = append(events, sseEvent{Name: name, Data: m, Raw: data})
	}
}

func eventNames(events []sseEvent) []string {
	var names []string
	for _, e := range events {
		names = append(names, e.Name)
	}
	return names
}

// deltas returns the delta objects of block index.
func deltas(events []sseEvent, index int) []map[string]any {
	var out []map[string]any
	for _, e := range events {
		if e.Name == "content_block_delta" && int(e.Data["index"].(float64)) == index {
			out = append(out, e.Data["delta"].(map[string]any))
		}
	}
	return out
}

func TestStreamTextOneWordPerDelta(t *testing.T) {
	text := "Streaming three words. And a\nsecond line, with  two spaces."
	s := Start(t, Config{Keys: []string{testKey}, Turns: []Turn{Text(text)}})
	resp := post(t, context.Background(), s.URL(), testKey, messagesBody(0, true))
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	events := readSSE(t, resp.Body)
	want := []string{"message_start", "content_block_start", "ping"}
	for range 10 {
		want = append(want, "content_block_delta")
	}
	want = append(want, "content_block_stop", "message_delta", "message_stop")
	if got := eventNames(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	// message_start: the message shell, in the API's field order.
	if !strings.HasPrefix(events[0].Raw, `{"type":"message_start","message":{"id":"msg_0","type":"message","role":"assistant","model":"claude-test-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`) {
		t.Fatalf("message_start = %s", events[0].Raw)
	}
	if events[1].Raw != `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` {
		t.Fatalf("content_block_start = %s", events[1].Raw)
	}
	var chunks []string
	for _, d := range deltas(events, 0) {
		if d["type"] != "text_delta" {
			t.Fatalf("delta %v", d)
		}
		chunks = append(chunks, d["text"].(string))
	}
	wantChunks := []string{"Streaming ", "three ", "words. ", "And ", "a\n", "second ", "line, ", "with  ", "two ", "spaces."}
	if !reflect.DeepEqual(chunks, wantChunks) {
		t.Fatalf("chunks\n got %q\nwant %q", chunks, wantChunks)
	}
	md := events[len(events)-2].Data
	if d := md["delta"].(map[string]any); d["stop_reason"] != "end_turn" || d["stop_sequence"] != nil {
		t.Fatalf("message_delta %v", md)
	}
	if out := md["usage"].(map[string]any)["output_tokens"].(float64); out < 1 || out > 100 {
		t.Fatalf("output_tokens %v", out)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Status != 200 || reqs[0].Turn != 0 || !reqs[0].Stream || reqs[0].Model != "claude-test-1" ||
		reqs[0].Path != "/v1/messages" || reqs[0].Query != "beta=true" || reqs[0].Key != testKey {
		t.Fatalf("recorded %v", reqs)
	}
}

func TestStreamToolUseInputJSON(t *testing.T) {
	input := map[string]any{
		"file_path":  "/tmp/ws/main.go",
		"old_string": "println(\"héllo <&>\")",
		"new_string": "println(\"héllo, 世界\")\n\ttab",
	}
	turn := Turn{Blocks: []Block{{Type: "text", Text: "Editing."}, {Type: "tool_use", Name: "Edit", Input: input}}, ChunkSize: 5}
	s := Start(t, Config{Turns: []Turn{Text("zero"), Text("one"), turn}})
	resp := post(t, context.Background(), s.URL(), "any-key", messagesBody(2, true))
	defer resp.Body.Close()
	events := readSSE(t, resp.Body)

	var starts []string
	for _, e := range events {
		if e.Name == "content_block_start" {
			starts = append(starts, e.Raw)
		}
	}
	wantStart := `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2_1","name":"Edit","input":{}}}`
	if len(starts) != 2 || starts[1] != wantStart {
		t.Fatalf("content_block_start events %q", starts)
	}
	ds := deltas(events, 1)
	if len(ds) < 3 || ds[0]["partial_json"] != "" {
		t.Fatalf("tool deltas %v", ds)
	}
	var joined strings.Builder
	for _, d := range ds {
		if d["type"] != "input_json_delta" {
			t.Fatalf("delta %v", d)
		}
		p := d["partial_json"].(string)
		if !utf8.ValidString(p) || (len(p) > 5 && utf8.RuneCountInString(p) > 1) {
			t.Fatalf("chunk %q: over ChunkSize or not UTF-8", p)
		}
		joined.WriteString(p)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(joined.String()), &got); err != nil {
		t.Fatalf("joined partial_json %q: %v", joined.String(), err)
	}
	if !reflect.DeepEqual(got, input) {
		t.Fatalf("input %v, want %v", got, input)
	}
	// Text chunks of 5 bytes too.
	var text strings.Builder
	for _, d := range deltas(events, 0) {
		text.WriteString(d["text"].(string))
	}
	if text.String() != "Editing." || len(deltas(events, 0)) != 2 {
		t.Fatalf("text deltas %v", deltas(events, 0))
	}
	md := events[len(events)-2].Data["delta"].(map[string]any)
	if md["stop_reason"] != "tool_use" {
		t.Fatalf("stop_reason %v", md["stop_reason"])
	}
	if id := events[0].Data["message"].(map[string]any)["id"]; id != "msg_2" {
		t.Fatalf("message id %v", id)
	}
}

func TestStreamThinking(t *testing.T) {
	s := Start(t, Config{Turns: []Turn{{Blocks: []Block{{Type: "thinking", Text: "Let me look."}, {Type: "text", Text: "Done."}}}}})
	resp := post(t, context.Background(), s.URL(), "k", messagesBody(0, true))
	defer resp.Body.Close()
	events := readSSE(t, resp.Body)
	if events[1].Raw != `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}` {
		t.Fatalf("thinking start %s", events[1].Raw)
	}
	ds := deltas(events, 0)
	var thinking string
	for _, d := range ds[:len(ds)-1] {
		if d["type"] != "thinking_delta" {
			t.Fatalf("delta %v", d)
		}
		thinking += d["thinking"].(string)
	}
	last := ds[len(ds)-1]
	if thinking != "Let me look." || last["type"] != "signature_delta" || last["signature"] == "" {
		t.Fatalf("thinking deltas %v", ds)
	}
	if d := deltas(events, 1); len(d) != 1 || d[0]["text"] != "Done." {
		t.Fatalf("text deltas %v", d)
	}
}

func TestTurnSelectionAndDefault(t *testing.T) {
	s := Start(t, Config{Turns: []Turn{Text("zero"), Text("one"), ToolUse("Bash", map[string]any{"command": "ls"})}})
	answer := func(n int) map[string]any {
		resp := post(t, context.Background(), s.URL(), "k", messagesBody(n, false))
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	text := func(m map[string]any) string {
		return m["content"].([]any)[0].(map[string]any)["text"].(string)
	}
	if m := answer(0); text(m) != "zero" || m["id"] != "msg_0" || m["stop_reason"] != "end_turn" {
		t.Fatalf("turn 0: %v", m)
	}
	if m := answer(1); text(m) != "one" {
		t.Fatalf("turn 1: %v", m)
	}
	m := answer(2)
	block := m["content"].([]any)[0].(map[string]any)
	if m["stop_reason"] != "tool_use" || block["id"] != "toolu_2_0" || block["name"] != "Bash" || block["input"].(map[string]any)["command"] != "ls" {
		t.Fatalf("turn 2: %v", m)
	}
	if m := answer(3); text(m) != "Done." || m["id"] != "msg_3" {
		t.Fatalf("past the end: %v", m)
	}
	// A second request for turn 0 (a retry) gets turn 0 again.
	if m := answer(0); text(m) != "zero" {
		t.Fatalf("turn 0 again: %v", m)
	}
	def := Text("custom default")
	s.SetDefault(&def)
	if m := answer(7); text(m) != "custom default" {
		t.Fatalf("custom default: %v", m)
	}
	s.SetTurns([]Turn{Text("replaced")})
	if m := answer(0); text(m) != "replaced" {
		t.Fatalf("after SetTurns: %v", m)
	}
	var turns []int
	for _, r := range s.MessageRequests() {
		turns = append(turns, r.Turn)
		if r.Stream {
			t.Fatalf("recorded stream=true for %v", r)
		}
	}
	if !reflect.DeepEqual(turns, []int{0, 1, 2, 3, 0, 7, 0}) {
		t.Fatalf("turns %v", turns)
	}
}

func TestAuth(t *testing.T) {
	s := Start(t, Config{Keys: []string{testKey}})
	do := func(header, value string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/messages", strings.NewReader(`{"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}]}`))
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	const invalid = `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`
	if code, body := do("X-Api-Key", "sk-wrong"); code != 401 || body != invalid {
		t.Fatalf("wrong key: %d %s", code, body)
	}
	if code, body := do("", ""); code != 401 || !strings.Contains(body, `"authentication_error"`) {
		t.Fatalf("no key: %d %s", code, body)
	}
	if code, _ := do("X-Api-Key", testKey); code != 200 {
		t.Fatalf("right key: %d", code)
	}
	if code, _ := do("Authorization", "Bearer "+testKey); code != 200 {
		t.Fatalf("bearer: %d", code)
	}
	if code, _ := do("Authorization", "Bearer"); code != 401 {
		t.Fatalf("empty bearer: %d", code)
	}
	s.SetKeys("sk-rotated")
	if code, _ := do("X-Api-Key", testKey); code != 401 {
		t.Fatalf("revoked key: %d", code)
	}
	if code, _ := do("X-Api-Key", "sk-rotated"); code != 200 {
		t.Fatalf("rotated key: %d", code)
	}
	s.SetKeys()
	if code, _ := do("X-Api-Key", "anything"); code != 200 {
		t.Fatalf("any key: %d", code)
	}

	reqs := s.Requests()
	wantStatus := []int{401, 401, 200, 200, 401, 401, 200, 200}
	if len(reqs) != len(wantStatus) {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, r := range reqs {
		if r.Status != wantStatus[i] {
			t.Errorf("request %d: status %d, want %d", i, r.Status, wantStatus[i])
		}
		for _, printed := range []string{r.String(), fmt.Sprintf("%v %+v %#v", r, r, r), fmt.Sprint(r.Header)} {
			if r.Key != "" && strings.Contains(printed, r.Key) {
				t.Fatalf("request %d prints its key", i)
			}
		}
	}
	if reqs[3].Key != testKey || reqs[1].Key != "" || reqs[4].Key != "" {
		t.Fatalf("recorded keys wrong (fingerprints %s %s %s)", KeyFingerprint(reqs[3].Key), KeyFingerprint(reqs[1].Key), KeyFingerprint(reqs[4].Key))
	}
	if fp := reqs[2].Header.Get("X-Api-Key"); fp != "fp:"+KeyFingerprint(testKey) {
		t.Fatalf("redacted header %q", fp)
	}
}

func TestKeyFingerprint(t *testing.T) {
	fp := KeyFingerprint(testKey)
	if len(fp) != 8 || strings.Trim(fp, "0123456789abcdef") != "" || fp == KeyFingerprint("sk-other") || fp != KeyFingerprint(testKey) {
		t.Fatalf("fingerprint %q", fp)
	}
	if KeyFingerprint("") != "none" {
		t.Fatal("empty key")
	}
}

func TestErrorTurns(t *testing.T) {
	s := Start(t, Config{Turns: []Turn{
		{Status: 529, ErrorType: "overloaded_error"},
		{Status: 500},
		{Status: 429},
	}})
	for n, want := range []struct {
		code int
		body string
	}{
		{529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`},
		{429, `"type":"rate_limit_error"`},
	} {
		resp := post(t, context.Background(), s.URL(), "k", messagesBody(n, true))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || !strings.Contains(string(b), want.body) {
			t.Fatalf("turn %d: %d %s", n, resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
	}
}

func TestStreamErrorEvent(t *testing.T) {
	s := Start(t, Config{Turns: []Turn{{Blocks: []Block{{Type: "text", Text: "one two three"}}, StreamError: "overloaded_error"}}})
	resp := post(t, context.Background(), s.URL(), "k", messagesBody(0, true))
	defer resp.Body.Close()
	events := readSSE(t, resp.Body)
	want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "error"}
	if got := eventNames(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v", got)
	}
	if last := events[len(events)-1].Raw; last != `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` {
		t.Fatalf("error event %s", last)
	}
	// Non-streaming requests get the whole message (the CLI falls back to them).
	resp2 := post(t, context.Background(), s.URL(), "k", messagesBody(0, false))
	defer resp2.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp2.Body).Decode(&m); err != nil || resp2.StatusCode != 200 {
		t.Fatalf("non-streaming: %d %v", resp2.StatusCode, err)
	}
}

func TestChunkDelayAndClientGoingAway(t *testing.T) {
	done := make(chan Request, 4)
	s := Start(t, Config{
		Turns:     []Turn{{Blocks: []Block{{Type: "text", Text: LongText(200)}}, ChunkDelay: 20 * time.Millisecond}},
		OnRequest: func(r Request) { done <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	resp := post(t, ctx, s.URL(), "k", messagesBody(0, true))
	br := bufio.NewReader(resp.Body)
	var deltaTimes []time.Duration
	for len(deltaTimes) < 4 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "event: content_block_delta\n" {
			deltaTimes = append(deltaTimes, time.Since(start))
		}
	}
	// Events are flushed one by one: the 4th delta is sent ≥ 3 ChunkDelays
	// after the 1st, so it cannot be read earlier than that after the
	// request (unpaced, all four come at once). Measured from the request,
	// not from the 1st delta's reading: on a loaded machine that reading
	// can be late and shrink the gap (it did, 48 ms, at a load of 16).
	if deltaTimes[3] < 3*20*time.Millisecond {
		t.Fatalf("deltas not paced: %v", deltaTimes)
	}
	cancel()
	resp.Body.Close()
	select {
	case r := <-done:
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
	case <-time.After(2 * time.Second): // the whole stream would take 4 s
		t.Fatal("the handler kept streaming after the client went away")
	}
}

func TestDelayAndCancelBeforeAnswer(t *testing.T) {
	done := make(chan Request, 4)
	s := Start(t, Config{
		Turns:     []Turn{{Blocks: []Block{{Type: "text", Text: "late"}}, Delay: 10 * time.Second}},
		OnRequest: func(r Request) { done <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		raw, _ := json.Marshal(messagesBody(0, true))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/v1/messages", bytes.NewReader(raw))
		req.Header.Set("X-Api-Key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	reqs, err := s.WaitRequests(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if reqs[0].Status != 0 {
		t.Fatalf("status %d during the delay", reqs[0].Status)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("request succeeded")
	}
	select {
	case r := <-done:
		if r.Status != 499 {
			t.Fatalf("status %d, want 499", r.Status)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the handler kept waiting after the client went away")
	}
}

// TestHoldUntilFile: an answer held until a file exists comes once it
// does, not before.
func TestHoldUntilFile(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "go-on")
	s := Start(t, Config{Turns: []Turn{{Blocks: []Block{{Type: "text", Text: "held"}}, HoldUntilFile: flag}}})
	type answer struct {
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		raw, _ := json.Marshal(messagesBody(0, false))
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/messages", bytes.NewReader(raw))
		req.Header.Set("X-Api-Key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{string(b), err}
	}()
	if _, err := s.WaitRequests(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// The request is in; while the file is missing the answer waits (the
	// handler looks every 20 ms: several looks, no answer), and says so.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(flag + ".held"); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("no .held file while the answer was held")
		}
	}
	select {
	case a := <-got:
		t.Fatalf("answered before the file existed: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.err != nil || !strings.Contains(a.body, `"held"`) {
			t.Fatalf("answer %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the file appeared")
	}
}

func TestOtherPaths(t *testing.T) {
	s := Start(t, Config{Keys: []string{testKey}})
	do := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		req.Header.Set("X-Api-Key", testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, m := do("POST", "/v1/messages/count_tokens?beta=true", `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`); code != 200 || m["input_tokens"].(float64) < 1 {
		t.Fatalf("count_tokens: %d %v", code, m)
	}
	if code, m := do("GET", "/v1/models", ""); code != 200 || len(m["data"].([]any)) == 0 {
		t.Fatalf("models: %d %v", code, m)
	}
	if code, m := do("POST", "/v1/complete", "{}"); code != 404 || m["error"].(map[string]any)["type"] != "not_found_error" {
		t.Fatalf("unknown path: %d %v", code, m)
	}
	if code, m := do("GET", "/v1/messages", ""); code != 404 {
		t.Fatalf("GET messages: %d %v", code, m)
	}
	if code, m := do("POST", "/v1/messages", "not json"); code != 400 || m["error"].(map[string]any)["type"] != "invalid_request_error" {
		t.Fatalf("bad JSON: %d %v", code, m)
	}
	reqs := s.Requests()
	var got []string
	for _, r := range reqs {
		got = append(got, fmt.Sprintf("%s %s %d %d", r.Method, r.Path, r.Turn, r.Status))
	}
	want := []string{"POST /v1/messages/count_tokens -1 200", "GET /v1/models -1 200", "POST /v1/complete -1 404", "GET /v1/messages -1 404", "POST /v1/messages 0 400"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded\n got %q\nwant %q", got, want)
	}
}

func TestUserText(t *testing.T) {
	msgs := `[
	 {"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"fix main.go"}]},
	 {"role":"system","content":"# Environment"},
	 {"role":"assistant","content":[{"type":"text","text":"assistant text"},{"type":"tool_use","id":"t","name":"Read","input":{}}]},
	 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"file body"}]},
	 {"role":"user","content":"and a follow-up"}
	]`
	r := Request{Messages: json.RawMessage(msgs)}
	want := "<system-reminder>x</system-reminder>\nfix main.go\nand a follow-up"
	if got := r.UserText(); got != want {
		t.Fatalf("UserText = %q, want %q", got, want)
	}
	if (Request{}).UserText() != "" {
		t.Fatal("empty request")
	}
	if got, want := r.FirstUserText(), "<system-reminder>x</system-reminder>\nfix main.go"; got != want {
		t.Fatalf("FirstUserText = %q, want %q", got, want)
	}
}

func TestConversationsByPrompt(t *testing.T) {
	other := Text("other default")
	s := Start(t, Config{
		Turns: []Turn{Text("main zero"), Text("main one")},
		Conversations: []Conversation{
			{Match: "pick a color", Turns: []Turn{ToolUse("AskUserQuestion", map[string]any{"questions": []any{}}), Text("red it is")}},
			{Match: "plan", Turns: []Turn{Text("plan zero")}, Default: &other},
		},
	})
	answer := func(prompt string, n int) string {
		body := messagesBody(n, false)
		msgs := body["messages"].([]map[string]any)
		msgs[0]["content"] = []map[string]any{{"type": "text", "text": "<system-reminder>r</system-reminder>"}, {"type": "text", "text": prompt}}
		if n > 0 {
			msgs[2]["content"] = "a follow-up that says plan" // only the first user message selects
		}
		resp := post(t, context.Background(), s.URL(), "k", body)
		defer resp.Body.Close()
		var m struct {
			ID      string `json:"id"`
			Content []struct {
				Block
				ID string `json:"id"`
			} `json:"content"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Content) == 0 {
			t.Fatalf("%q turn %d: %v %v", prompt, n, err, m)
		}
		if m.Content[0].Type == "tool_use" {
			return "tool " + m.Content[0].Name + " " + m.Content[0].ID + " in " + m.ID
		}
		return m.Content[0].Text + " in " + m.ID
	}
	for _, c := range []struct {
		prompt string
		turn   int
		want   string
	}{
		{"please pick a color for the button", 0, "tool AskUserQuestion toolu_c1_0_0 in msg_c1_0"},
		{"please pick a color for the button", 1, "red it is in msg_c1_1"},
		{"please pick a color for the button", 2, "Done. in msg_c1_2"},
		{"make a plan", 0, "plan zero in msg_c2_0"},
		{"make a plan", 5, "other default in msg_c2_5"},
		{"fix the bug", 0, "main zero in msg_0"},
		{"fix the bug", 1, "main one in msg_1"},
	} {
		if got := answer(c.prompt, c.turn); got != c.want {
			t.Errorf("%q turn %d: got %q, want %q", c.prompt, c.turn, got, c.want)
		}
	}
	bad := New(Config{Conversations: []Conversation{{Turns: []Turn{Text("x")}}}})
	if err := bad.Start(); err == nil {
		bad.Close()
		t.Fatal("a conversation without a match was accepted")
	}
}

func TestWaitRequestsTimeout(t *testing.T) {
	s := Start(t, Config{})
	start := time.Now()
	reqs, err := s.WaitRequests(1, 100*time.Millisecond)
	if err == nil || len(reqs) != 0 || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("WaitRequests: %v %v", reqs, err)
	}
}

func TestTurnJSON(t *testing.T) {
	turn := Turn{
		Blocks:        []Block{{Type: "text", Text: "hi"}, {Type: "tool_use", Name: "Bash", Input: map[string]any{"command": "ls"}}},
		Delay:         1500 * time.Millisecond,
		ChunkDelay:    20 * time.Millisecond,
		ChunkSize:     3,
		HoldUntilFile: "/tmp/x",
		Status:        529,
		ErrorType:     "overloaded_error",
	}
	raw, err := json.Marshal(turn)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blocks":[{"type":"text","text":"hi"},{"type":"tool_use","name":"Bash","input":{"command":"ls"}}],"delayMs":1500,"chunkDelayMs":20,"chunkSize":3,"holdUntilFile":"/tmp/x","status":529,"errorType":"overloaded_error"}`
	if string(raw) != want {
		t.Fatalf("marshal\n got %s\nwant %s", raw, want)
	}
	var back Turn
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, turn) {
		t.Fatalf("round trip %+v", back)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(`{"turns":[{"blocks":[{"type":"text","text":"a"}],"delayMs":0.5}],"keys":["k"],"default":{"blocks":[{"type":"text","text":"d"}]}}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Turns[0].Delay != 500*time.Microsecond || cfg.Default.Blocks[0].Text != "d" || cfg.Keys[0] != "k" {
		t.Fatalf("config %+v", cfg)
	}
	for _, bad := range []string{`{"delayMs":-1}`, `{"chunkSize":-2}`, `{"blocks":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestInvalidScript(t *testing.T) {
	if err := New(Config{Turns: []Turn{{Blocks: []Block{{Type: "image"}}}}}).Start(); err == nil {
		t.Fatal("unknown block type accepted")
	}
	if err := New(Config{Turns: []Turn{{Blocks: []Block{{Type: "tool_use"}}}}}).Start(); err == nil {
		t.Fatal("tool_use without a name accepted")
	}
	s := Start(t, Config{})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("SetTurns accepted a bad turn")
			}
		}()
		s.SetTurns([]Turn{{Status: 200}})
	}()
}

func TestChunks(t *testing.T) {
	if got := byteChunks("aé世b", 2); !reflect.DeepEqual(got, []string{"a", "é", "世", "b"}) {
		t.Fatalf("byteChunks %q", got)
	}
	if got := byteChunks("abcdef", 4); !reflect.DeepEqual(got, []string{"abcd", "ef"}) {
		t.Fatalf("byteChunks %q", got)
	}
	if got := textChunks("  lead and\ttrail  ", 0); !reflect.DeepEqual(got, []string{"  lead ", "and\t", "trail  "}) {
		t.Fatalf("textChunks %q", got)
	}
	if got := textChunks("", 0); len(got) != 0 {
		t.Fatalf("empty: %q", got)
	}
}

func TestLongText(t *testing.T) {
	a, b := LongText(300), LongText(300)
	if a != b {
		t.Fatal("LongText is not deterministic")
	}
	if n := len(strings.Fields(a)); n != 300 {
		t.Fatalf("%d words", n)
	}
	if !strings.HasSuffix(a, ".") || !strings.Contains(a, "\n\n") || !strings.Contains(a, ". ") {
		t.Fatalf("not sentences and paragraphs: %q", a[:200])
	}
	if a[0] < 'A' || a[0] > 'Z' {
		t.Fatalf("starts with %q", a[:10])
	}
	if LongText(0) != "" || len(strings.Fields(LongText(1))) != 1 {
		t.Fatal("small counts")
	}
	if n := len(strings.Fields(LongText(51))); n != 51 {
		t.Fatalf("LongText(51) has %d words", n)
	}
}

func TestCloseIsIdempotentAndRefusesRestart(t *testing.T) {
	s := New(Config{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start worked")
	}
	url := s.URL()
	s.Close()
	s.Close()
	if _, err := http.Get(url + "/v1/models"); err == nil {
		t.Fatal("server still answering after Close")
	}
}
