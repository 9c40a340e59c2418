package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	fastjson "github.com/segmentio/encoding/json"
)

// Line is one decoded stream-json message. Only the fields the bridge uses are
// decoded; Raw keeps the whole line so unknown messages can be passed on.
type Line struct {
	Type      string `json:"type"`
	Subtype   string `json:"subtype"`
	SessionID string `json:"session_id"`
	UUID      string `json:"uuid"`

	// system/init
	Cwd               string   `json:"cwd"`
	Model             string   `json:"model"`
	PermissionMode    string   `json:"permissionMode"`
	APIKeySource      string   `json:"apiKeySource"`
	ClaudeCodeVersion string   `json:"claude_code_version"`
	Tools             []string `json:"tools"`

	// system/status
	Status *string `json:"status"`

	// system/api_retry
	Attempt      Int    `json:"attempt"`
	MaxRetries   Int    `json:"max_retries"`
	RetryDelayMs Int    `json:"retry_delay_ms"`
	ErrorStatus  Int    `json:"error_status"`
	Error        String `json:"error"`

	// assistant and user
	Message         *APIMessage     `json:"message"`
	IsReplay        bool            `json:"isReplay"` // a user message of the host's, echoed (--replay-user-messages)
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	ToolUseResult   json.RawMessage `json:"tool_use_result"`

	// stream_event (--include-partial-messages)
	Event        *StreamEvent `json:"event"`
	APIMessageID string       `json:"api_message_id"`

	// command_lifecycle: a message sent with a uuid going through claude's
	// queue (queued, started, completed, cancelled, discarded, refused);
	// see runner.session (a prompt's turn) and runner/steer.go (messages
	// sent into a turn)
	CommandUUID string `json:"command_uuid"`
	State       string `json:"state"`

	// result
	IsError        bool    `json:"is_error"`
	Result         string  `json:"result"`
	NumTurns       Int     `json:"num_turns"`
	DurationMs     Int     `json:"duration_ms"`
	TotalCostUSD   Number  `json:"total_cost_usd"`
	TerminalReason string  `json:"terminal_reason"`
	APIErrorStatus *Int    `json:"api_error_status"`
	StopReason     *string `json:"stop_reason"`
	// Errors are claude's own messages of a result that ended in an error
	// without a model's answer (measured on 2.1.332: --resume of a
	// conversation it does not keep gives error_during_execution, no
	// result text and "errors": ["No conversation found with session ID:
	// …"], the line it also prints on stderr).
	Errors Strings `json:"errors"`

	// control_request (CLI → host) and control_response (CLI → host)
	RequestID string           `json:"request_id"`
	Request   *ControlRequest  `json:"request"`
	Response  *ControlResponse `json:"response"`

	Raw json.RawMessage `json:"-"`
}

// APIMessage is the Messages API message inside assistant and user lines.
type APIMessage struct {
	ID      string  `json:"id"`
	Role    string  `json:"role"`
	Model   string  `json:"model"`
	Content Content `json:"content"`
}

// Content is a message's content: a plain string or a list of blocks. A
// plain string decodes as one text block.
type Content []Block

// UnmarshalJSON accepts both shapes the CLI uses.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := fastjson.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = Content{{Type: "text", Text: s}}
		return nil
	}
	var blocks []Block
	if err := fastjson.Unmarshal(b, &blocks); err != nil {
		return err
	}
	*c = blocks
	return nil
}

// Block is one content block: text, thinking, tool_use or tool_result.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   Content         `json:"content"` // tool_result content
	IsError   bool            `json:"is_error"`
}

// PlainText joins the text of the blocks (for tool results).
func (c Content) PlainText() string {
	var b bytes.Buffer
	for _, blk := range c {
		if blk.Type == "text" || blk.Type == "" {
			b.WriteString(blk.Text)
		}
	}
	return b.String()
}

// StreamEvent is one Messages API server-sent event wrapped in a stream_event line.
type StreamEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID string `json:"id"`
	} `json:"message"`
	Delta *struct {
		Type        string    `json:"type"`
		Text        DeltaText `json:"text"`
		Thinking    DeltaText `json:"thinking"`
		PartialJSON string    `json:"partial_json"`
	} `json:"delta"`
	ContentBlock *Block `json:"content_block"`
}

// ControlRequest is the body of a control_request from the CLI.
type ControlRequest struct {
	Subtype     string          `json:"subtype"`
	ToolName    string          `json:"tool_name"`
	DisplayName string          `json:"display_name"`
	Input       json.RawMessage `json:"input"`
	ToolUseID   string          `json:"tool_use_id"`
	Description string          `json:"description"`
	// CallbackID names the hook of a hook_callback request (one of the
	// hookCallbackIds the host registered with initialize).
	CallbackID string `json:"callback_id"`
}

// ControlResponse is the body of a control_response from the CLI.
type ControlResponse struct {
	Subtype   string          `json:"subtype"`
	RequestID string          `json:"request_id"`
	Response  json.RawMessage `json:"response"`
	Error     string          `json:"error"`
}

// Int is an integer claude reports (a count, milliseconds, an HTTP
// status), decoded tolerantly: a number with a fraction or an exponent
// (1.5, 2e3) is rounded, and any other value (a string, null, an object)
// is 0. claude 2.1.332 writes integers; one odd number must not cost the
// whole line it is in (a result or a retry).
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f):
		*n = 0
	case f >= math.MaxInt64:
		*n = math.MaxInt64
	case f <= math.MinInt64:
		*n = math.MinInt64
	default:
		*n = Int(math.Round(f))
	}
	return nil
}

// Number is a number claude reports (a cost in US dollars), decoded as
// tolerantly as Int: a value that is not a number is 0.
type Number float64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	*n = Number(f)
	return nil
}

// String decodes a JSON string, and keeps any other JSON value as its text,
// because fields such as "error" are strings in some messages and objects in
// others.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	var str string
	if err := fastjson.Unmarshal(b, &str); err == nil {
		*s = String(str)
		return nil
	}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = ""
		return nil
	}
	*s = String(b)
	return nil
}

// Strings is a list of strings claude reports, decoded as tolerantly as
// String: each element that is not a string is kept as its JSON text, and
// a value that is not a list is one element (null: none).
type Strings []string

// UnmarshalJSON implements json.Unmarshaler.
func (ss *Strings) UnmarshalJSON(b []byte) error {
	var elems []String
	if err := fastjson.Unmarshal(b, &elems); err != nil {
		var one String
		_ = one.UnmarshalJSON(b)
		elems = []String{one}
	}
	*ss = nil
	for _, e := range elems {
		if e != "" {
			*ss = append(*ss, string(e))
		}
	}
	return nil
}

// knownTypes are the message types the bridge decodes into typed events;
// only lines of other types keep their raw bytes (to be passed on as they
// are), which spares a copy of every streamed delta.
var knownTypes = map[string]bool{
	"stream_event": true, "assistant": true, "user": true, "result": true,
	"control_request": true, "control_response": true,
}

// streamEventPrefix starts the lines claude prints most (one per streamed
// delta with --include-partial-messages); they get a small decoder.
var streamEventPrefix = []byte(`{"type":"stream_event",`)

// streamEventLine is the part of a stream_event line the bridge reads.
type streamEventLine struct {
	Type            string       `json:"type"`
	SessionID       string       `json:"session_id"`
	Event           *StreamEvent `json:"event"`
	APIMessageID    string       `json:"api_message_id"`
	ParentToolUseID *string      `json:"parent_tool_use_id"`
}

// Decode parses one stream line. The bytes are not retained, except as a
// copy in Raw for message types the bridge does not know (and system lines).
func Decode(b []byte) (*Line, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("not a JSON object: %q", preview(b))
	}
	if TooDeep(b, MaxDepth) {
		return nil, fmt.Errorf("%w (more than %d levels): %q", ErrTooDeep, MaxDepth, preview(b))
	}
	if bytes.HasPrefix(b, streamEventPrefix) {
		var se streamEventLine
		if err := fastjson.Unmarshal(b, &se); err != nil {
			return nil, fmt.Errorf("malformed stream line: %v", err)
		}
		return &Line{Type: se.Type, SessionID: se.SessionID, Event: se.Event, APIMessageID: se.APIMessageID, ParentToolUseID: se.ParentToolUseID}, nil
	}
	var l Line
	if err := fastjson.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("malformed stream line: %v", err)
	}
	if !knownTypes[l.Type] {
		l.Raw = append(json.RawMessage(nil), b...)
	}
	return &l, nil
}

func preview(b []byte) string {
	const n = 120
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
