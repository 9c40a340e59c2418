// Package fakeapi is a loopback stand-in for the Anthropic Messages API, made
// for tests that run the real claude CLI (and for the offline demo).
//
// A Server answers POST /v1/messages from a script of Turns. The turn a request
// gets is the number of assistant messages in its "messages" array, so the
// same script serves a CLI that goes round its agent loop (each tool result
// adds an assistant message) and a follow-up user message in the same
// session (it continues where the script left off). Past the end of the
// script the server answers Config.Default (a text "Done." turn unless set).
//
// Answers stream as server-sent events in the shape of the real API
// (message_start, content_block_start, ping, content_block_delta with
// text_delta / input_json_delta / thinking_delta + signature_delta,
// content_block_stop, message_delta, message_stop), or as one JSON message
// when the request has "stream": false. Every request on any path is
// recorded. Keys are checked like the real API (X-Api-Key, else
// Authorization: Bearer) and a rejected key gets HTTP 401
// authentication_error.
//
// Keys: tests only ever compare keys for equality. Print KeyFingerprint(key),
// never a key; Request's String and GoString methods do that for you.
package fakeapi

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Block is one content block of a scripted assistant turn.
type Block struct {
	// Type is "text", "tool_use" or "thinking".
	Type string `json:"type"`
	// Text is the text of a text block or the thinking of a thinking block.
	Text string `json:"text,omitempty"`
	// Name is the tool of a tool_use block (Read, Edit, Write, Bash, ...).
	Name string `json:"name,omitempty"`
	// Input is the tool input of a tool_use block.
	Input map[string]any `json:"input,omitempty"`
}

// Turn is one scripted answer.
type Turn struct {
	// Blocks is the content of the assistant message.
	Blocks []Block
	// Delay is how long the server waits before it answers (headers included).
	Delay time.Duration
	// ChunkDelay is the pause between two content_block_delta events.
	ChunkDelay time.Duration
	// ChunkSize is the number of bytes of text (or tool input JSON) per delta.
	// Zero means one word per text delta and 24 bytes per input_json_delta.
	// Chunks never split a UTF-8 character.
	ChunkSize int
	// ChunkUnits, when not zero, cuts text (and thinking) into deltas of
	// this many UTF-16 code units instead, as the real API may: a character
	// past U+FFFF can be cut between its surrogates, each half then going
	// out as an escaped lone surrogate ("\ud83d" at the end of one delta,
	// "\ude00" at the start of the next).
	ChunkUnits int
	// HoldUntilFile, when set, makes the server hold its answer (after
	// Delay) until this file exists: the signal of a test that has seen
	// what it wanted to see while claude waited for the API (a message the
	// user sent shown as not yet read). While it holds, the file
	// HoldUntilFile+".held" exists (the server creates it when the hold
	// starts): the test's sign that the request is in flight. The
	// request's end (claude gave up, the server closed) ends the wait.
	HoldUntilFile string
	// Status, when not zero, makes the server answer with that HTTP status
	// and an Anthropic-shaped error body instead of the blocks.
	Status int
	// ErrorType is the error.type of that body (529 overloaded_error,
	// 500 api_error, ...). Empty: derived from Status.
	ErrorType string
	// StreamError, when set on a streaming request, makes the stream break
	// off after the first delta of the first block with an SSE "error"
	// event of this error type (e.g. overloaded_error), as the real API does
	// when it fails mid-stream. The HTTP status stays 200.
	StreamError string
}

// turnJSON is Turn on the wire: durations in milliseconds.
type turnJSON struct {
	Blocks       []Block `json:"blocks,omitempty"`
	DelayMs      float64 `json:"delayMs,omitempty"`
	ChunkDelayMs float64 `json:"chunkDelayMs,omitempty"`
	ChunkSize    int     `json:"chunkSize,omitempty"`
	ChunkUnits   int     `json:"chunkUnits,omitempty"`
	HoldUntil    string  `json:"holdUntilFile,omitempty"`
	Status       int     `json:"status,omitempty"`
	ErrorType    string  `json:"errorType,omitempty"`
	StreamError  string  `json:"streamError,omitempty"`
}

func durationToMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msToDuration(ms float64) (time.Duration, error) {
	if ms < 0 || math.IsNaN(ms) || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, fmt.Errorf("fakeapi: bad duration %v ms", ms)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// MarshalJSON writes the durations as milliseconds (delayMs, chunkDelayMs)
// and HoldUntilFile as holdUntilFile.
func (t Turn) MarshalJSON() ([]byte, error) {
	return json.Marshal(turnJSON{
		Blocks:       t.Blocks,
		DelayMs:      durationToMs(t.Delay),
		ChunkDelayMs: durationToMs(t.ChunkDelay),
		ChunkSize:    t.ChunkSize,
		ChunkUnits:   t.ChunkUnits,
		HoldUntil:    t.HoldUntilFile,
		Status:       t.Status,
		ErrorType:    t.ErrorType,
		StreamError:  t.StreamError,
	})
}

// UnmarshalJSON reads delayMs and chunkDelayMs as milliseconds.
func (t *Turn) UnmarshalJSON(data []byte) error {
	var j turnJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	delay, err := msToDuration(j.DelayMs)
	if err != nil {
		return err
	}
	chunkDelay, err := msToDuration(j.ChunkDelayMs)
	if err != nil {
		return err
	}
	if j.ChunkSize < 0 || j.ChunkUnits < 0 {
		return fmt.Errorf("fakeapi: negative chunkSize %d or chunkUnits %d", j.ChunkSize, j.ChunkUnits)
	}
	*t = Turn{
		Blocks:        j.Blocks,
		Delay:         delay,
		ChunkDelay:    chunkDelay,
		ChunkSize:     j.ChunkSize,
		ChunkUnits:    j.ChunkUnits,
		HoldUntilFile: j.HoldUntil,
		Status:        j.Status,
		ErrorType:     j.ErrorType,
		StreamError:   j.StreamError,
	}
	return nil
}

// Config is a Server's script and settings.
type Config struct {
	// Turns is the script: request k (k = number of assistant messages in
	// the request) gets Turns[k].
	Turns []Turn `json:"turns"`
	// Keys are the accepted API keys. Empty: any non-empty key is accepted.
	Keys []string `json:"keys,omitempty"`
	// Default is answered past the end of Turns. Nil: Text("Done.").
	Default *Turn `json:"default,omitempty"`
	// Conversations are scripts of their own for the conversations whose
	// prompt matches: a request whose first user message contains a
	// Conversation's Match (the first that matches, in order) is answered
	// from its Turns instead, so one server plays several scenarios (a
	// suite with one editor and one stand-in, such as the VS Code one).
	Conversations []Conversation `json:"conversations,omitempty"`
	// OnRequest, if set, is called once for every request after it has been
	// answered (Status set), from the request's goroutine. Close waits for
	// running calls.
	OnRequest func(Request) `json:"-"`
}

// Conversation is the script of the conversations whose first user message
// contains Match (claude puts the prompt there, after a <system-reminder>
// block of its own).
type Conversation struct {
	// Match is a piece of the prompt ("Pick a color for the button").
	Match string `json:"match"`
	// Turns is the script of such a conversation, as Config.Turns.
	Turns []Turn `json:"turns"`
	// Default is answered past the end of Turns. Nil: Text("Done.").
	Default *Turn `json:"default,omitempty"`
}

// Text is a turn that answers one text block.
func Text(s string) Turn {
	return Turn{Blocks: []Block{{Type: "text", Text: s}}}
}

// ToolUse is a turn that asks for one tool call.
func ToolUse(name string, input map[string]any) Turn {
	return Turn{Blocks: []Block{{Type: "tool_use", Name: name, Input: input}}}
}

// hasToolUse reports whether the turn asks for a tool (stop_reason tool_use).
func (t Turn) hasToolUse() bool {
	for _, b := range t.Blocks {
		if b.Type == "tool_use" {
			return true
		}
	}
	return false
}

// validate checks what the server needs to answer the turn.
func (t Turn) validate() error {
	if t.ChunkSize < 0 || t.ChunkUnits < 0 {
		return fmt.Errorf("fakeapi: negative ChunkSize %d or ChunkUnits %d", t.ChunkSize, t.ChunkUnits)
	}
	if t.Status != 0 && (t.Status < 400 || t.Status > 599) {
		return fmt.Errorf("fakeapi: Status %d is not an HTTP error status", t.Status)
	}
	for i, b := range t.Blocks {
		switch b.Type {
		case "text", "thinking":
		case "tool_use":
			if b.Name == "" {
				return fmt.Errorf("fakeapi: block %d: tool_use without a name", i)
			}
			if _, err := json.Marshal(b.Input); err != nil {
				return fmt.Errorf("fakeapi: block %d: input: %v", i, err)
			}
		default:
			return fmt.Errorf("fakeapi: block %d: unknown type %q", i, b.Type)
		}
	}
	return nil
}
