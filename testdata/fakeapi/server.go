package fakeapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxBody bounds a request body (the CLI's requests carry its whole system
// prompt, tool list and conversation; a few MB is already a lot).
const maxBody = 64 << 20

// Server is a running (or not yet started) stand-in.
type Server struct {
	mu        sync.Mutex
	turns     []Turn
	convs     []Conversation // from New, or SetConversations
	keys      []string
	def       *Turn
	onRequest func(Request)
	reqs      []Request
	changed   chan struct{} // closed and replaced whenever reqs changes

	ln       net.Listener
	srv      *http.Server
	url      string
	handlers sync.WaitGroup
	closed   bool
}

// Request is what the server saw of one request, on any path.
type Request struct {
	// Path is the URL path without the query ("/v1/messages"); Query is the
	// raw query ("beta=true" for the CLI's requests).
	Path   string
	Query  string
	Method string
	// Key is the API key sent (X-Api-Key, else Authorization: Bearer), ""
	// if none. Compare it; never print it: print KeyFingerprint(Key).
	Key string
	// Turn is the script index answered (the number of assistant messages
	// in the request); -1 for requests that are not POST /v1/messages.
	Turn   int
	Model  string
	Stream bool
	// Messages is the request's "messages" array.
	Messages json.RawMessage
	// Header is the request's header, with X-Api-Key and Authorization
	// replaced by "fp:<fingerprint>" so that it is safe to print.
	Header http.Header
	// Body is the whole request body.
	Body []byte
	// Status is the HTTP status the server answered; 0 while the answer
	// has not been decided (during a Turn's Delay), 499 if the client went
	// away before it was answered.
	Status int
	// Time is when the request arrived.
	Time time.Time
}

// KeyFingerprint is the first 8 hex digits of the SHA-256 of key: safe to
// print, enough to tell keys apart. The empty key prints as "none".
func KeyFingerprint(key string) string {
	if key == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// String describes the request with its key fingerprint, never the key.
func (r Request) String() string {
	path := r.Path
	if r.Query != "" {
		path += "?" + r.Query
	}
	s := fmt.Sprintf("%s %s key=%s status=%d", r.Method, path, KeyFingerprint(r.Key), r.Status)
	if r.Turn >= 0 {
		s += fmt.Sprintf(" turn=%d model=%s stream=%v", r.Turn, r.Model, r.Stream)
	}
	return s
}

// GoString keeps %#v from printing the key.
func (r Request) GoString() string { return "fakeapi.Request{" + r.String() + "}" }

// FirstUserText is the text of the first user message (its string content
// or its text blocks, joined with newlines): where claude puts the prompt.
func (r Request) FirstUserText() string {
	return userTexts(r.Messages, true)
}

// UserText joins (with newlines) the text of every user message: string
// contents and "text" blocks, not tool results. It is what the client sent
// as prompts, including any text the client adds itself (the claude CLI adds
// <system-reminder> blocks).
func (r Request) UserText() string {
	return userTexts(r.Messages, false)
}

// userTexts joins the texts of the user messages of a messages array (only
// the first one's when first is set).
func userTexts(messages json.RawMessage, first bool) string {
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(messages, &msgs) != nil {
		return ""
	}
	var parts []string
	users := 0
	for _, m := range msgs {
		if m.Role != "user" {
			continue
		}
		if users++; first && users > 1 {
			break
		}
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			parts = append(parts, s)
			continue
		}
		var blocks []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		for _, b := range blocks {
			if b.Type == "text" {
				parts = append(parts, b.Text)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// New makes a server for cfg; Start starts it.
func New(cfg Config) *Server {
	s := &Server{
		turns:     append([]Turn(nil), cfg.Turns...),
		convs:     append([]Conversation(nil), cfg.Conversations...),
		keys:      append([]string(nil), cfg.Keys...),
		onRequest: cfg.OnRequest,
		changed:   make(chan struct{}),
	}
	if cfg.Default != nil {
		d := *cfg.Default
		s.def = &d
	}
	return s
}

// Start checks the script and listens on 127.0.0.1 on a free port.
func (s *Server) Start() error {
	return s.Listen("127.0.0.1:0")
}

// Listen is Start on a given address (host:port; port 0 for a free one).
func (s *Server) Listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.closed {
		return errors.New("fakeapi: server already started")
	}
	if err := validateConversations(s.convs); err != nil {
		return err
	}
	if err := validateTurns(s.turns, s.def); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeapi: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close.
	return nil
}

// Start starts a server for cfg and closes it when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := New(cfg)
	if err := s.Start(); err != nil {
		t.Fatalf("fakeapi: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL, http://127.0.0.1:PORT (ANTHROPIC_BASE_URL).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server: open connections (streams included) are closed
// and Close waits until every request handler has returned.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return
	}
	if srv != nil {
		srv.Close()
	}
	s.handlers.Wait()
}

func validateTurns(turns []Turn, def *Turn) error {
	for i, t := range turns {
		if err := t.validate(); err != nil {
			return fmt.Errorf("turn %d: %w", i, err)
		}
	}
	if def != nil {
		if err := def.validate(); err != nil {
			return fmt.Errorf("default turn: %w", err)
		}
	}
	return nil
}

func validateConversations(convs []Conversation) error {
	for i, c := range convs {
		if c.Match == "" {
			return fmt.Errorf("fakeapi: conversation %d: no match", i)
		}
		if err := validateTurns(c.Turns, c.Default); err != nil {
			return fmt.Errorf("fakeapi: conversation %q: %w", c.Match, err)
		}
	}
	return nil
}

// SetConversations replaces the conversations' scripts (Config.Conversations);
// requests that arrive later use them (a test that needs its workspace's
// paths in them sets them once it knows the workspace). It panics if one is
// invalid.
func (s *Server) SetConversations(convs []Conversation) {
	if err := validateConversations(convs); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convs = append([]Conversation(nil), convs...)
}

// SetTurns replaces the script; requests that arrive later use it. It panics
// if a turn is invalid (an unknown block type, a tool_use without a name).
func (s *Server) SetTurns(turns []Turn) {
	if err := validateTurns(turns, nil); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.turns = append([]Turn(nil), turns...)
}

// SetDefault replaces the turn answered past the end of the script (nil:
// Text("Done.")). It panics if the turn is invalid.
func (s *Server) SetDefault(t *Turn) {
	var d *Turn
	if t != nil {
		if err := t.validate(); err != nil {
			panic(err)
		}
		c := *t
		d = &c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = d
}

// SetKeys replaces the accepted keys (none: any non-empty key), e.g. to
// revoke a key while the CLI runs.
func (s *Server) SetKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append([]string(nil), keys...)
}

// Requests returns a copy of every request seen so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// MessageRequests returns the POST /v1/messages requests seen so far.
func (s *Server) MessageRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Turn >= 0 {
			out = append(out, r)
		}
	}
	return out
}

// WaitRequests waits until at least n requests (any path) have arrived and
// returns them all. On timeout it returns those seen and an error.
func (s *Server) WaitRequests(n int, timeout time.Duration) ([]Request, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.reqs) >= n {
			out := append([]Request(nil), s.reqs...)
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			got := s.Requests()
			return got, fmt.Errorf("fakeapi: waited %v for %d requests, got %d", timeout, n, len(got))
		}
	}
}

// turnFor picks the script turn for a request: turn req.Turn of the
// conversation its prompt matches, else of the main script. conv is the
// matched conversation's place in Conversations, from 1; 0 for the main
// script. Its answer's ids carry it (toolu_c1_0_0, msg_c1_0), so that two
// conversations of one claude (a task and its subagent) never share a
// tool use or message id, as with the real API.
func (s *Server) turnFor(req Request) (turn Turn, conv int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	turns, def := s.turns, s.def
	if len(s.convs) > 0 {
		first := req.FirstUserText()
		for i, c := range s.convs {
			if strings.Contains(first, c.Match) {
				turns, def, conv = c.Turns, c.Default, i+1
				break
			}
		}
	}
	if req.Turn < len(turns) {
		return turns[req.Turn], conv
	}
	if def != nil {
		return *def, conv
	}
	return Text("Done."), conv
}

// keyOK reports whether key is accepted now.
func (s *Server) keyOK(key string) bool {
	if key == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 {
		return true
	}
	for _, k := range s.keys {
		if k == key {
			return true
		}
	}
	return false
}

// record appends r and returns its index.
func (s *Server) record(r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(s.reqs) - 1
}

// setStatus records the status answered to request i.
func (s *Server) setStatus(i, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs[i].Status = status
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) request(i int) Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i]
}

// requestKey is the key the client sent: X-Api-Key, else Authorization: Bearer.
func requestKey(h http.Header) string {
	if k := strings.TrimSpace(h.Get("X-Api-Key")); k != "" {
		return k
	}
	auth := strings.TrimSpace(h.Get("Authorization"))
	if len(auth) >= len("Bearer") && strings.EqualFold(auth[:len("Bearer")], "Bearer") {
		return strings.TrimSpace(auth[len("Bearer"):])
	}
	return ""
}

// redactHeader copies h with the key headers replaced by fingerprints.
func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, name := range []string{"X-Api-Key", "Authorization"} {
		if vs, ok := out[name]; ok {
			red := make([]string, len(vs))
			for i, v := range vs {
				if name == "Authorization" {
					v = requestKey(http.Header{"Authorization": {v}})
				}
				red[i] = "fp:" + KeyFingerprint(strings.TrimSpace(v))
			}
			out[name] = red
		}
	}
	return out
}

// messagesRequest is the part of a Messages API request the server reads.
type messagesRequest struct {
	Model    string          `json:"model"`
	Stream   bool            `json:"stream"`
	Messages json.RawMessage `json:"messages"`
}

// turnIndex counts the assistant messages.
func turnIndex(messages json.RawMessage) (int, error) {
	var msgs []struct {
		Role string `json:"role"`
	}
	if err := json.Unmarshal(messages, &msgs); err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if m.Role == "assistant" {
			n++
		}
	}
	return n, nil
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "api_error", "server closing")
		return
	}
	s.handlers.Add(1) // under mu: Close sets closed before it waits
	s.mu.Unlock()
	defer s.handlers.Done()

	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	key := requestKey(r.Header)
	req := Request{
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Method: r.Method,
		Key:    key,
		Turn:   -1,
		Header: redactHeader(r.Header),
		Body:   body,
		Time:   time.Now(),
	}
	isMessages := r.URL.Path == "/v1/messages" && r.Method == http.MethodPost
	var mr messagesRequest
	var parseErr error
	switch {
	case readErr != nil:
		parseErr = fmt.Errorf("reading the body: %v", readErr)
	case len(body) > maxBody:
		parseErr = errors.New("request body too large")
	case isMessages || r.URL.Path == "/v1/messages/count_tokens":
		if err := json.Unmarshal(body, &mr); err != nil {
			parseErr = fmt.Errorf("invalid JSON body: %v", err)
		}
	}
	if isMessages {
		req.Model, req.Stream, req.Messages = mr.Model, mr.Stream, mr.Messages
		req.Turn = 0
		if parseErr == nil {
			n, err := turnIndex(mr.Messages)
			if err != nil {
				parseErr = fmt.Errorf("messages: %v", err)
			}
			req.Turn = n
		}
	}
	// The key is judged before the request is recorded: a test that waits
	// for a request and then revokes its key (SetKeys) must not change the
	// answer to the request it waited for.
	keyOK := s.keyOK(key)
	idx := s.record(req)
	w.Header().Set("Request-Id", fmt.Sprintf("req_fakeapi_%06d", idx))
	rw := &statusWriter{ResponseWriter: w, s: s, idx: idx}
	defer func() {
		if rw.status == 0 { // the client went away before any answer
			s.setStatus(idx, 499)
		}
		if s.onRequest != nil {
			s.onRequest(s.request(idx))
		}
	}()

	if !keyOK {
		msg := "invalid x-api-key"
		if key == "" {
			msg = "x-api-key header is required"
		}
		writeError(rw, http.StatusUnauthorized, "authentication_error", msg)
		return
	}
	if parseErr != nil {
		writeError(rw, http.StatusBadRequest, "invalid_request_error", parseErr.Error())
		return
	}

	switch {
	case isMessages:
		s.serveMessages(r.Context(), rw, req)
	case r.URL.Path == "/v1/messages/count_tokens" && r.Method == http.MethodPost:
		writeJSON(rw, http.StatusOK, map[string]any{"input_tokens": inputTokens(mr.Messages)})
	case r.URL.Path == "/v1/models" && r.Method == http.MethodGet:
		writeJSON(rw, http.StatusOK, modelList())
	case (r.URL.Path == "/" || r.URL.Path == "") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(rw, http.StatusOK, map[string]any{"service": "fakeapi"})
	default:
		writeError(rw, http.StatusNotFound, "not_found_error", fmt.Sprintf("Not found: %s %s", r.Method, r.URL.Path))
	}
}

// statusWriter records the status in the server's request log as soon as
// it is written.
type statusWriter struct {
	http.ResponseWriter
	s      *Server
	idx    int
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.s.setStatus(w.idx, code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client may be gone
}

// errorBody is the Anthropic error shape:
// {"type":"error","error":{"type":"...","message":"..."}}.
func errorBody(errType, message string) errorEvent {
	ev := errorEvent{Type: "error"}
	ev.Error.Type = errType
	ev.Error.Message = message
	return ev
}

func writeError(w http.ResponseWriter, status int, errType, message string) {
	writeJSON(w, status, errorBody(errType, message))
}

// errorTypeFor is the API's error type for an HTTP status.
func errorTypeFor(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 504:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}

// errorMessageFor is a message like the API's for an error type.
func errorMessageFor(errType string) string {
	switch errType {
	case "overloaded_error":
		return "Overloaded"
	case "api_error":
		return "Internal server error"
	case "rate_limit_error":
		return "Number of request tokens has exceeded your per-minute rate limit"
	case "authentication_error":
		return "invalid x-api-key"
	case "permission_error":
		return "Your API key does not have permission to use the specified resource."
	case "not_found_error":
		return "Not found"
	case "request_too_large":
		return "Request exceeds the maximum allowed number of bytes."
	case "timeout_error":
		return "Request timed out"
	case "billing_error":
		return "Your credit balance is too low to access the Anthropic API."
	default:
		return "Invalid request"
	}
}

// inputTokens is a small, plausible input token count: about 4 bytes a
// token of the conversation (the system prompt and tools are not counted).
func inputTokens(messages json.RawMessage) int {
	n := len(messages) / 4
	if n < 1 {
		n = 1
	}
	return n
}

func modelList() map[string]any {
	models := []string{"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"}
	data := make([]map[string]any, 0, len(models))
	for _, m := range models {
		data = append(data, map[string]any{
			"type":         "model",
			"id":           m,
			"display_name": m,
			"created_at":   "2025-01-01T00:00:00Z",
		})
	}
	return map[string]any{"data": data, "has_more": false, "first_id": models[0], "last_id": models[len(models)-1]}
}

// sleep waits d or until ctx ends; it reports whether d passed.
// waitFile waits until the file at path exists ("": no wait), looking
// every 20 ms, with path+".held" created meanwhile; false if ctx ended
// first.
func waitFile(ctx context.Context, path string) bool {
	if path == "" {
		return ctx.Err() == nil
	}
	if err := os.WriteFile(path+".held", nil, 0o600); err != nil {
		return false // the test cannot know the request is held: it would wait for ever
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
