package fakeapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// defaultModel is reported when a request names no model.
const defaultModel = "claude-sonnet-4-5"

// defaultJSONChunk is the input_json_delta size when Turn.ChunkSize is 0.
const defaultJSONChunk = 24

// The wire shapes, as structs so that fields come in the API's order.

type wireUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

type wireBlock struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
}

type wireMessage struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []wireBlock `json:"content"`
	StopReason   *string     `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        wireUsage   `json:"usage"`
}

type wireDelta struct {
	Type        string          `json:"type"`
	Text        json.RawMessage `json:"text,omitempty"` // a JSON string (textChunks)
	PartialJSON *string         `json:"partial_json,omitempty"`
	Thinking    json.RawMessage `json:"thinking,omitempty"`
	Signature   *string         `json:"signature,omitempty"`
}

type messageStartEvent struct {
	Type    string      `json:"type"`
	Message wireMessage `json:"message"`
}

type blockStartEvent struct {
	Type         string    `json:"type"`
	Index        int       `json:"index"`
	ContentBlock wireBlock `json:"content_block"`
}

type blockDeltaEvent struct {
	Type  string    `json:"type"`
	Index int       `json:"index"`
	Delta wireDelta `json:"delta"`
}

type blockStopEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
}

type messageDeltaEvent struct {
	Type  string `json:"type"`
	Delta struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage struct {
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
}

type typeOnlyEvent struct {
	Type string `json:"type"`
}

type errorEvent struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func ptr(s string) *string { return &s }

// answer is a turn made concrete for one request.
type answer struct {
	turn         Turn
	msg          wireMessage // the whole message
	stopReason   string
	outputTokens int
}

// newAnswer makes turn concrete for req; conv is the conversation the
// turn is of (turnFor), which the ids name.
func newAnswer(req Request, turn Turn, conv int) (*answer, error) {
	a := &answer{turn: turn, stopReason: "end_turn"}
	id := strconv.Itoa(req.Turn)
	if conv > 0 {
		id = "c" + strconv.Itoa(conv) + "_" + id
	}
	model := req.Model
	if model == "" {
		model = defaultModel
	}
	if turn.hasToolUse() {
		a.stopReason = "tool_use"
	}
	content := []wireBlock{}
	outBytes := 0
	for i, b := range turn.Blocks {
		switch b.Type {
		case "text":
			content = append(content, wireBlock{Type: "text", Text: ptr(b.Text)})
			outBytes += len(b.Text)
		case "thinking":
			content = append(content, wireBlock{Type: "thinking", Thinking: ptr(b.Text), Signature: ptr(signature(b.Text))})
			outBytes += len(b.Text)
		case "tool_use":
			input := b.Input
			if input == nil {
				input = map[string]any{}
			}
			raw, err := marshal(input)
			if err != nil {
				return nil, fmt.Errorf("block %d: input: %v", i, err)
			}
			content = append(content, wireBlock{Type: "tool_use", ID: fmt.Sprintf("toolu_%s_%d", id, i), Name: b.Name, Input: raw})
			outBytes += len(raw) + len(b.Name)
		default:
			return nil, fmt.Errorf("block %d: unknown type %q", i, b.Type)
		}
	}
	a.outputTokens = outBytes/4 + 1
	a.msg = wireMessage{
		ID:         "msg_" + id,
		Type:       "message",
		Role:       "assistant",
		Model:      model,
		Content:    content,
		StopReason: ptr(a.stopReason),
		Usage:      wireUsage{InputTokens: inputTokens(req.Messages), OutputTokens: a.outputTokens},
	}
	return a, nil
}

// signature is a stand-in for a thinking block's signature: opaque and
// deterministic.
func signature(thinking string) string {
	sum := sha256.Sum256([]byte("fakeapi thinking signature\x00" + thinking))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// marshal is json.Marshal without HTML escaping and without the newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// serveMessages answers POST /v1/messages from the script.
func (s *Server) serveMessages(ctx context.Context, w *statusWriter, req Request) {
	turn, conv := s.turnFor(req)
	turn = turn.withRequestValues(req.Body)
	if err := turn.validate(); err != nil {
		writeError(w, http.StatusInternalServerError, "api_error", fmt.Sprintf("fakeapi script, turn %d: %v", req.Turn, err))
		return
	}
	if !sleep(ctx, turn.Delay) || !waitFile(ctx, turn.HoldUntilFile) {
		return
	}
	if turn.Status != 0 {
		errType := turn.ErrorType
		if errType == "" {
			errType = errorTypeFor(turn.Status)
		}
		writeError(w, turn.Status, errType, errorMessageFor(errType))
		return
	}
	a, err := newAnswer(req, turn, conv)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "api_error", fmt.Sprintf("fakeapi script, turn %d: %v", req.Turn, err))
		return
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, a.msg)
		return
	}
	streamAnswer(ctx, w, a)
}

// sse writes server-sent events, flushing each, until the client is gone.
type sse struct {
	ctx    context.Context
	w      http.ResponseWriter
	err    error
	deltas int // content_block_delta events written
}

// event writes one event; false once the client is gone.
func (e *sse) event(name string, data any) bool {
	if e.err != nil {
		return false
	}
	if e.err = e.ctx.Err(); e.err != nil {
		return false
	}
	raw, err := marshal(data)
	if err != nil {
		e.err = err
		return false
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(name) + 16)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: ")
	buf.Write(raw)
	buf.WriteString("\n\n")
	if _, e.err = e.w.Write(buf.Bytes()); e.err != nil {
		return false
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

// delta writes a content_block_delta, after the turn's ChunkDelay unless
// it is the first delta of the message.
func (e *sse) delta(turn Turn, index int, delta wireDelta) bool {
	if e.deltas > 0 && !sleep(e.ctx, turn.ChunkDelay) {
		e.err = e.ctx.Err()
		return false
	}
	e.deltas++
	return e.event("content_block_delta", blockDeltaEvent{Type: "content_block_delta", Index: index, Delta: delta})
}

func (e *sse) errorEvent(errType string) {
	e.event("error", errorBody(errType, errorMessageFor(errType)))
}

// streamAnswer writes the answer as the API's event stream.
func streamAnswer(ctx context.Context, w http.ResponseWriter, a *answer) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	e := &sse{ctx: ctx, w: w}

	start := a.msg
	start.Content = []wireBlock{}
	start.StopReason = nil
	start.Usage.OutputTokens = 1
	if !e.event("message_start", messageStartEvent{Type: "message_start", Message: start}) {
		return
	}
	if len(a.turn.Blocks) == 0 && !e.event("ping", typeOnlyEvent{Type: "ping"}) {
		return
	}
	for i, b := range a.turn.Blocks {
		var empty wireBlock
		switch b.Type {
		case "text":
			empty = wireBlock{Type: "text", Text: ptr("")}
		case "thinking":
			empty = wireBlock{Type: "thinking", Thinking: ptr(""), Signature: ptr("")}
		case "tool_use":
			empty = wireBlock{Type: "tool_use", ID: a.msg.Content[i].ID, Name: b.Name, Input: json.RawMessage("{}")}
		}
		if !e.event("content_block_start", blockStartEvent{Type: "content_block_start", Index: i, ContentBlock: empty}) {
			return
		}
		if i == 0 && !e.event("ping", typeOnlyEvent{Type: "ping"}) {
			return
		}
		breakOff := a.turn.StreamError != "" && i == 0
		if !streamBlock(e, a.turn, i, b, string(a.msg.Content[i].Input), breakOff) {
			return
		}
		if breakOff {
			e.errorEvent(a.turn.StreamError)
			return
		}
		if !e.event("content_block_stop", blockStopEvent{Type: "content_block_stop", Index: i}) {
			return
		}
	}
	if a.turn.StreamError != "" && len(a.turn.Blocks) == 0 {
		e.errorEvent(a.turn.StreamError)
		return
	}
	md := messageDeltaEvent{Type: "message_delta"}
	md.Delta.StopReason = a.stopReason
	md.Usage.OutputTokens = a.outputTokens
	if !e.event("message_delta", md) {
		return
	}
	e.event("message_stop", typeOnlyEvent{Type: "message_stop"})
}

// streamBlock writes the deltas of block i; with firstOnly, only the first.
func streamBlock(e *sse, turn Turn, i int, b Block, inputJSON string, firstOnly bool) bool {
	var deltas []wireDelta
	switch b.Type {
	case "text":
		for _, c := range jsonChunks(b.Text, turn) {
			deltas = append(deltas, wireDelta{Type: "text_delta", Text: c})
		}
	case "thinking":
		for _, c := range jsonChunks(b.Text, turn) {
			deltas = append(deltas, wireDelta{Type: "thinking_delta", Thinking: c})
		}
		deltas = append(deltas, wireDelta{Type: "signature_delta", Signature: ptr(signature(b.Text))})
	case "tool_use":
		size := turn.ChunkSize
		if size == 0 {
			size = defaultJSONChunk
		}
		// Like the real API: an empty partial_json first, then the input.
		deltas = append(deltas, wireDelta{Type: "input_json_delta", PartialJSON: ptr("")})
		for _, c := range byteChunks(inputJSON, size) {
			deltas = append(deltas, wireDelta{Type: "input_json_delta", PartialJSON: ptr(c)})
		}
	}
	for n, d := range deltas {
		if !e.delta(turn, i, d) {
			return false
		}
		if firstOnly && n == 0 {
			return true
		}
	}
	return true
}

// jsonChunks is the text of each delta of s, as a JSON string: cut by
// turn.ChunkUnits UTF-16 code units (utf16Chunks), else by textChunks.
func jsonChunks(s string, turn Turn) []json.RawMessage {
	if turn.ChunkUnits > 0 {
		return utf16Chunks(s, turn.ChunkUnits)
	}
	var out []json.RawMessage
	for _, c := range textChunks(s, turn.ChunkSize) {
		raw, _ := marshal(c) // a string always marshals
		out = append(out, raw)
	}
	return out
}

// utf16Chunks cuts s into pieces of size UTF-16 code units, each written
// as a JSON string the way the API writes it: a character past U+FFFF cut
// between its surrogates leaves each piece an escaped lone surrogate.
func utf16Chunks(s string, size int) []json.RawMessage {
	units := utf16.Encode([]rune(s))
	var out []json.RawMessage
	for len(units) > 0 {
		n := min(size, len(units))
		out = append(out, utf16JSON(units[:n]))
		units = units[n:]
	}
	return out
}

// utf16JSON writes code units as a JSON string: a surrogate pair as its
// character, a lone surrogate escaped.
func utf16JSON(units []uint16) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if utf16.IsSurrogate(u) {
			if u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] < 0xe000 {
				raw, _ := marshal(string(utf16.DecodeRune(u, rune(units[i+1]))))
				b.Write(raw[1 : len(raw)-1])
				i++
				continue
			}
			fmt.Fprintf(&b, `\u%04x`, u)
			continue
		}
		raw, _ := marshal(string(u))
		b.Write(raw[1 : len(raw)-1])
	}
	b.WriteByte('"')
	return b.Bytes()
}

// textChunks splits s into deltas: size bytes each (never splitting a UTF-8
// character), or with size 0 one word each, a word keeping the spaces after
// it ("Streaming ", "three ", "words. ").
func textChunks(s string, size int) []string {
	if size > 0 {
		return byteChunks(s, size)
	}
	var out []string
	start := 0
	inSpace := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if !space && inSpace && i > start {
			// A word starts after spaces: the chunk so far is complete,
			// unless it is only the text's leading spaces.
			if !isAllSpace(s[start:i]) {
				out = append(out, s[start:i])
				start = i
			}
		}
		inSpace = space
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func isAllSpace(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// byteChunks splits s into pieces of at most size bytes that end on UTF-8
// character boundaries (a character longer than size is a piece of its own).
func byteChunks(s string, size int) []string {
	var out []string
	for len(s) > 0 {
		n := size
		if n >= len(s) {
			out = append(out, s)
			break
		}
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			_, n = utf8.DecodeRuneInString(s)
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}
