package stream

import (
	"os"
	"strings"
	"testing"
)

const cliDelta = `{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Streaming "}},"session_id":"0421daf4-5419-455b-90d7-3bbeb5c362c5","parent_tool_use_id":null,"uuid":"cfc3e47b-5aad-4ec7-ae31-5e5cef61b0b6","api_message_id":"msg_0"}`

// decodedDelta is what Decode makes of a delta line, in ParseDelta's terms.
func decodedDelta(t *testing.T, line string) (Delta, bool) {
	t.Helper()
	l, err := Decode([]byte(line))
	if err != nil || l.Type != "stream_event" || l.Event == nil || l.Event.Type != "content_block_delta" || l.Event.Delta == nil {
		return Delta{}, false
	}
	switch l.Event.Delta.Type {
	case "text_delta":
		return Delta{Text: l.Event.Delta.Text, MessageID: l.APIMessageID}, true
	case "thinking_delta":
		return Delta{Thinking: true, Text: l.Event.Delta.Thinking, MessageID: l.APIMessageID}, true
	}
	return Delta{}, false
}

// Every delta line of the recorded transcripts takes the fast path, and
// reads as Decode reads it.
func TestParseDeltaReadsTheCLIsLines(t *testing.T) {
	n := 0
	for _, name := range []string{"print-partial-messages.jsonl"} {
		b, err := os.ReadFile("../../testdata/transcripts/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			want, isDelta := decodedDelta(t, line)
			got, ok := ParseDelta([]byte(line))
			if ok != isDelta || got != want {
				t.Errorf("ParseDelta(%.90s…) = %+v, %v; Decode reads %+v, %v", line, got, ok, want, isDelta)
			}
			if ok {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no delta line in the transcripts")
	}
}

func TestParseDelta(t *testing.T) {
	repl := func(old, new string) string { return strings.Replace(cliDelta, old, new, 1) }
	for _, tc := range []struct {
		name string
		line string
		ok   bool
		want Delta
	}{
		{"the CLI's line", cliDelta, true, Delta{Text: "Streaming ", MessageID: "msg_0"}},
		{"escapes", repl(`"Streaming "`, `"a \"quote\"\n\ttab \u00e9\ud83d\ude00 \\ \/"`), true, Delta{Text: "a \"quote\"\n\ttab é😀 \\ /", MessageID: "msg_0"}},
		{"utf-8", repl(`"Streaming "`, `"héllo 世界"`), true, Delta{Text: "héllo 世界", MessageID: "msg_0"}},
		{"thinking", strings.Replace(strings.Replace(cliDelta, `"text_delta","text"`, `"thinking_delta","thinking"`, 1), "Streaming ", "hmm", 1), true, Delta{Thinking: true, Text: "hmm", MessageID: "msg_0"}},
		{"no message id", repl(`,"api_message_id":"msg_0"`, ``), true, Delta{Text: "Streaming "}},
		{"subagent", repl(`"parent_tool_use_id":null`, `"parent_tool_use_id":"toolu_1"`), false, Delta{}},
		{"unknown flat field", repl(`}`+`}`+`,"session_id"`, `}`+`}`+`,"new_field":"x","session_id"`), true, Delta{Text: "Streaming ", MessageID: "msg_0"}},
		{"trailing newline", cliDelta + "\r\n", true, Delta{Text: "Streaming ", MessageID: "msg_0"}},
		{"index 12", repl(`"index":0`, `"index":12`), true, Delta{Text: "Streaming ", MessageID: "msg_0"}},

		{"input_json_delta", repl(`{"type":"text_delta","text":"Streaming "}`, `{"type":"input_json_delta","partial_json":"{"}`), false, Delta{}},
		{"other event", repl(`"content_block_delta"`, `"content_block_stop"`), false, Delta{}},
		{"index 01", repl(`"index":0`, `"index":01`), false, Delta{}},
		{"index -1", repl(`"index":0`, `"index":-1`), false, Delta{}},
		{"space", repl(`"index":0`, `"index": 0`), false, Delta{}},
		{"raw newline in text", repl(`"Streaming "`, "\"a\nb\""), false, Delta{}},
		{"bad escape", repl(`"Streaming "`, `"a\qb"`), false, Delta{}},
		{"unterminated", cliDelta[:len(cliDelta)-1], false, Delta{}},
		{"garbage after", cliDelta + "x", false, Delta{}},
		{"type again", repl(`,"uuid"`, `,"type":"other","uuid"`), false, Delta{}},
		{"Type again", repl(`,"uuid"`, `,"Type":"other","uuid"`), false, Delta{}},
		{"message id twice", repl(`,"uuid"`, `,"api_message_id":"msg_9","uuid"`), false, Delta{}},
		{"message id null", repl(`"api_message_id":"msg_0"`, `"api_message_id":null`), false, Delta{}},
		{"escaped key", repl(`"uuid"`, `"\u0074ype"`), false, Delta{}},
		{"object value", repl(`"parent_tool_use_id":null`, `"parent_tool_use_id":{}`), false, Delta{}},
		{"number value", repl(`"parent_tool_use_id":null`, `"parent_tool_use_id":1`), false, Delta{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseDelta([]byte(tc.line))
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseDelta = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
			if ok {
				if want, isDelta := decodedDelta(t, tc.line); !isDelta || want != got {
					t.Fatalf("Decode reads %+v, %v", want, isDelta)
				}
			}
		})
	}
}

// FuzzParseDelta: whatever ParseDelta accepts, Decode reads the same way.
func FuzzParseDelta(f *testing.F) {
	f.Add([]byte(cliDelta))
	f.Add([]byte(strings.Replace(cliDelta, `"Streaming "`, `"a\"b\\c\u00e9\ud800"`, 1)))
	f.Add([]byte(strings.Replace(cliDelta, `"text_delta","text"`, `"thinking_delta","thinking"`, 1)))
	f.Add([]byte(strings.Replace(cliDelta, `,"uuid"`, `,"TYPE":"x","uuid"`, 1)))
	f.Add([]byte(strings.Replace(cliDelta, "Streaming", "\xff\xfe", 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseDelta(b)
		if !ok {
			return
		}
		want, isDelta := decodedDelta(t, string(b))
		if !isDelta || want != got {
			t.Fatalf("ParseDelta(%q) = %+v; Decode reads %+v, %v", b, got, want, isDelta)
		}
	})
}

func BenchmarkDeltaLine(b *testing.B) {
	line := []byte(cliDelta)
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := Decode(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseDelta", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, ok := ParseDelta(line); !ok {
				b.Fatal("not a delta")
			}
		}
	})
}
